//! One bind of an SMPP connector, kept alive: connect, bind, serve until
//! the connection ends, then reconnect after a backoff with jitter. What
//! the SMSC sends (receipts, mobile-originated messages) is turned into
//! [`Event`]s and answered only once they are committed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smsgate_core::{Status, Timestamp};
use smsgate_smpp::CommandStatus;
use smsgate_smpp::client::{self, Client, ClientConfig, ClientError, Inbound};
use smsgate_smpp::coding::{self, TextCoding};
use smsgate_smpp::concat;
use smsgate_smpp::pdu::tlv::{self, Param, tag};
use smsgate_smpp::pdu::{Bind, Body, Sm};
use smsgate_smpp::receipt::{MessageState, parse_receipt};
use smsgate_smpp::session::{BindKind, SessionConfig};
use smsgate_store::{InboundPart, InboundPartOf};
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::SmppConfig;
use super::tls::{Tls, TlsError};
use crate::connectors::{Event, EventSink, Receipt};

/// Where a bind is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindState {
    Connecting,
    Bound,
    /// Waiting to reconnect.
    Backoff,
    Stopped,
}

impl BindState {
    fn as_str(self) -> &'static str {
        match self {
            BindState::Connecting => "connecting",
            BindState::Bound => "bound",
            BindState::Backoff => "backoff",
            BindState::Stopped => "stopped",
        }
    }
}

/// A bind's shared face: its client while bound, and what operators see.
pub struct BindSlot {
    /// The connector's name (the label of its bind-state gauge).
    connector: String,
    pub index: usize,
    pub kind: BindKind,
    inner: Mutex<SlotInner>,
    reconnects: AtomicU64,
    receipts: AtomicU64,
    stopped: watch::Sender<bool>,
}

struct SlotInner {
    state: BindState,
    client: Option<Client>,
    last_error: Option<String>,
    bound_since: Option<Timestamp>,
}

impl BindSlot {
    pub fn client(&self) -> Option<Client> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.client.clone().filter(|c| !c.is_closed())
    }

    pub fn receipts(&self) -> u64 {
        self.receipts.load(Ordering::Relaxed)
    }

    fn set(&self, state: BindState, client: Option<Client>, error: Option<String>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.state != state {
            // Binds per connector and state; stopped ones are not counted.
            let binds = |s: BindState| metrics::gauge!("smsgate_smpp_binds", "connector" => self.connector.clone(), "state" => s.as_str());
            binds(inner.state).decrement(1.0);
            if state != BindState::Stopped {
                binds(state).increment(1.0);
            }
        }
        inner.state = state;
        inner.bound_since = (state == BindState::Bound).then(Timestamp::now);
        inner.client = client;
        if error.is_some() {
            inner.last_error = error;
        }
    }

    pub fn status(&self, window: usize) -> serde_json::Value {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        serde_json::json!({
            "index": self.index,
            "kind": match self.kind {
                BindKind::Transmitter => "transmitter",
                BindKind::Receiver => "receiver",
                BindKind::Transceiver => "transceiver",
            },
            "state": inner.state.as_str(),
            "bound_since": inner.bound_since.map(Timestamp::to_rfc3339),
            "in_flight": inner.client.as_ref().map_or(0, Client::in_flight),
            "window": window,
            "last_error": inner.last_error,
            "reconnects": self.reconnects.load(Ordering::Relaxed),
            "receipts": self.receipts.load(Ordering::Relaxed),
        })
    }

    /// Waits until the bind's task has ended.
    pub async fn closed(&self) {
        let mut rx = self.stopped.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

/// Starts every bind of a connector.
pub fn start_all(
    config: &Arc<SmppConfig>,
    events: EventSink,
    stop: &CancellationToken,
) -> Vec<Arc<BindSlot>> {
    // Built once; a bad CA file shows on every bind as its last error.
    let tls = Arc::new(Tls::from_config(config));
    let mut slots = Vec::new();
    for _ in 0..config.binds {
        for &kind in config.bind.kinds() {
            metrics::gauge!("smsgate_smpp_binds", "connector" => config.name.clone(), "state" => BindState::Connecting.as_str())
                .increment(1.0);
            for state in [BindState::Bound, BindState::Backoff] {
                metrics::gauge!("smsgate_smpp_binds", "connector" => config.name.clone(), "state" => state.as_str())
                    .increment(0.0);
            }
            let slot = Arc::new(BindSlot {
                connector: config.name.clone(),
                index: slots.len(),
                kind,
                inner: Mutex::new(SlotInner {
                    state: BindState::Connecting,
                    client: None,
                    last_error: None,
                    bound_since: None,
                }),
                reconnects: AtomicU64::new(0),
                receipts: AtomicU64::new(0),
                stopped: watch::channel(false).0,
            });
            tokio::spawn(keep_bound(
                slot.clone(),
                config.clone(),
                tls.clone(),
                events.clone(),
                stop.clone(),
            ));
            slots.push(slot);
        }
    }
    slots
}

async fn keep_bound(
    slot: Arc<BindSlot>,
    config: Arc<SmppConfig>,
    tls: Arc<Result<Option<Tls>, TlsError>>,
    events: EventSink,
    stop: CancellationToken,
) {
    let name = config.name.clone();
    let mut failures: u32 = 0;
    while !stop.is_cancelled() {
        slot.set(BindState::Connecting, None, None);
        let attempt = tokio::select! {
            r = connect(&config, &tls, slot.kind) => r,
            _ = stop.cancelled() => break,
        };
        match attempt {
            Ok(bound) => {
                failures = 0;
                tracing::info!(connector = %name, bind = slot.index, "bound");
                slot.set(BindState::Bound, Some(bound.client.clone()), None);
                tokio::spawn(serve_inbound(
                    bound.inbound,
                    config.clone(),
                    events.clone(),
                    slot.clone(),
                ));
                let mut closed = bound.closed;
                let why = tokio::select! {
                    why = &mut closed => why.ok(),
                    _ = stop.cancelled() => {
                        bound.client.unbind().await;
                        tokio::time::timeout(Duration::from_secs(5), closed).await.ok().and_then(Result::ok)
                    }
                };
                let error = why.map(|e| e.to_string());
                let reconnecting = !stop.is_cancelled();
                if reconnecting {
                    tracing::warn!(connector = %name, bind = slot.index, error = ?error, "connection ended; reconnecting");
                }
                // The reason first: whoever reads the status and sees the
                // reconnect also sees why (it was read in between once).
                slot.set(BindState::Backoff, None, error);
                if reconnecting {
                    slot.reconnects.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("smsgate_smpp_reconnects_total", "connector" => name.clone())
                        .increment(1);
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(connector = %name, bind = slot.index, error = %e, "bind failed");
                slot.set(BindState::Backoff, None, Some(e.to_string()));
            }
        }
        let delay = backoff(&config, failures);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.cancelled() => break,
        }
    }
    slot.set(BindState::Stopped, None, None);
    // send_replace: the value must change even if nobody waits yet.
    slot.stopped.send_replace(true);
}

/// The wait before the next attempt: doubling from the minimum after each
/// failure in a row, capped, with jitter so binds do not reconnect in step.
fn backoff(config: &SmppConfig, failures: u32) -> Duration {
    let base = config
        .reconnect_min_ms
        .saturating_mul(1u64 << failures.saturating_sub(1).min(16))
        .min(config.reconnect_max_ms);
    Duration::from_millis(base / 2 + fastrand::u64(0..=base / 2))
}

/// Why a bind attempt failed (the connector's `last_error`).
#[derive(Debug, thiserror::Error)]
enum BindError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("connecting to {host}:{port} timed out")]
    ConnectTimeout { host: String, port: u16 },
    #[error("connecting to {host}:{port}: {error}")]
    Connect {
        host: String,
        port: u16,
        error: std::io::Error,
    },
    #[error("bind refused: {0}")]
    Refused(smsgate_smpp::CommandStatus),
    #[error(transparent)]
    Session(ClientError),
    #[error("no answer to the bind")]
    NoAnswer,
}

impl From<ClientError> for BindError {
    fn from(e: ClientError) -> BindError {
        match e {
            ClientError::BindRefused(status) => BindError::Refused(status),
            e => BindError::Session(e),
        }
    }
}

async fn connect(
    config: &SmppConfig,
    tls: &Result<Option<Tls>, TlsError>,
    kind: BindKind,
) -> Result<client::Bound, BindError> {
    let tls = tls.as_ref().map_err(|e| BindError::Tls(e.clone()))?;
    let timeout = Duration::from_millis(config.connect_timeout_ms);
    let addr = (config.host.as_str(), config.port);
    let tcp = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| BindError::ConnectTimeout {
            host: config.host.clone(),
            port: config.port,
        })?
        .map_err(|error| BindError::Connect {
            host: config.host.clone(),
            port: config.port,
            error,
        })?;
    let _ = tcp.set_nodelay(true);
    let client_config = ClientConfig {
        session: SessionConfig {
            kind,
            bind: Bind {
                system_id: config.system_id.as_bytes().to_vec(),
                password: config.password().into_bytes(),
                system_type: config.system_type.as_bytes().to_vec(),
                interface_version: 0x34,
                ..Bind::default()
            },
            window: config.window,
            response_timeout: Duration::from_millis(config.response_timeout_ms),
            enquire_link_interval: Duration::from_secs(config.enquire_link_secs),
        },
        max_pdu: config.max_pdu,
    };
    let bind = async {
        match tls {
            Some(tls) => Ok(client::bind(tls.connect(tcp).await?, client_config).await?),
            None => Ok(client::bind(tcp, client_config).await?),
        }
    };
    tokio::time::timeout(timeout, bind)
        .await
        .map_err(|_| BindError::NoAnswer)?
}

/// What the SMSC sends: receipts and mobile-originated messages. Each is
/// handed to the engine and answered only once committed (an answer lost
/// to a crash makes the SMSC send it again).
async fn serve_inbound(
    mut inbound: tokio::sync::mpsc::UnboundedReceiver<Inbound>,
    config: Arc<SmppConfig>,
    events: EventSink,
    slot: Arc<BindSlot>,
) {
    let connector = config.name.as_str();
    while let Some(Inbound { pdu, responder }) = inbound.recv().await {
        let sm = match pdu.body {
            Body::DeliverSm(sm) => sm,
            Body::DataSm(d) => data_sm_as_sm(d),
            _ => continue,
        };
        let (tx, committed) = oneshot::channel();
        let event = if sm.is_receipt() {
            let payload = tlv::find(&sm.tlvs, tag::MESSAGE_PAYLOAD);
            let text = payload.unwrap_or(&sm.short_message);
            let Some(Parsed { receipt, is_final }) = receipt_of(&config, text, &sm.tlvs) else {
                tracing::warn!(connector = %connector, "receipt without a message id; acknowledged and dropped");
                responder.respond(CommandStatus::ROK);
                continue;
            };
            slot.receipts.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("smsgate_smpp_receipts_total", "connector" => connector.to_string())
                .increment(1);
            if !is_final {
                // ENROUTE, ACCEPTD, UNKNOWN: nothing to record on the message.
                responder.respond(CommandStatus::ROK);
                continue;
            }
            Event::Receipt(Receipt {
                committed: Some(tx),
                ..receipt
            })
        } else {
            metrics::counter!("smsgate_smpp_inbound_total", "connector" => connector.to_string())
                .increment(1);
            Event::Inbound(crate::connectors::Inbound {
                part: inbound_part(&config, &sm),
                committed: Some(tx),
            })
        };
        if events.send(event).is_err() {
            continue; // shutting down: the responder answers a temporary error
        }
        tokio::spawn(async move {
            if committed.await.is_ok() {
                responder.respond(CommandStatus::ROK);
            }
        });
    }
}

/// data_sm carries the fields of deliver_sm that matter here; its content
/// is in `message_payload`.
fn data_sm_as_sm(d: smsgate_smpp::pdu::DataSm) -> Sm {
    Sm {
        source_addr_ton: d.source_addr_ton,
        source_addr_npi: d.source_addr_npi,
        source_addr: d.source_addr,
        dest_addr_ton: d.dest_addr_ton,
        dest_addr_npi: d.dest_addr_npi,
        destination_addr: d.destination_addr,
        esm_class: d.esm_class,
        data_coding: d.data_coding,
        tlvs: d.tlvs,
        ..Sm::default()
    }
}

/// A mobile-originated message (or part), its text decoded.
fn inbound_part(config: &SmppConfig, sm: &Sm) -> InboundPart {
    let content = concat::received(sm);
    let packed = config.gsm7_coding == TextCoding::Gsm7Packed;
    let text = coding::decode_text(sm.data_coding, content.content, packed, content.udh_len);
    let address = |a: &[u8]| {
        String::from_utf8_lossy(a)
            .trim_start_matches('+')
            .to_string()
    };
    InboundPart {
        connector: config.name.clone(),
        from: address(&sm.source_addr),
        to: address(&sm.destination_addr),
        text,
        part: content.part.map(|p| InboundPartOf {
            reference: p.reference,
            total: p.total,
            seq: p.seq,
        }),
        received_at: Timestamp::now(),
    }
}

struct Parsed {
    receipt: Receipt,
    is_final: bool,
}

/// A receipt from its text and TLVs; the TLVs win where both speak.
fn receipt_of(config: &SmppConfig, text: &[u8], tlvs: &[smsgate_smpp::Tlv]) -> Option<Parsed> {
    let parsed = parse_receipt(&String::from_utf8_lossy(text));
    let id = match tlv::find_param(tlvs, tag::RECEIPTED_MESSAGE_ID) {
        Some(Param::ReceiptedMessageId(id)) if !id.is_empty() => {
            String::from_utf8_lossy(&id).into_owned()
        }
        _ => parsed.id.clone()?,
    };
    let id = config.receipt_ids.to_response_form(&id);
    let state = match tlv::find_param(tlvs, tag::MESSAGE_STATE) {
        Some(Param::MessageState(s)) => MessageState::from_tlv(s),
        _ => None,
    }
    .or(parsed.state)
    .unwrap_or(MessageState::Unknown);
    let status = match state {
        MessageState::Delivered => Status::Delivered,
        MessageState::Expired => Status::Expired,
        MessageState::Rejected => Status::Rejected,
        MessageState::Undeliverable | MessageState::Deleted => Status::Undelivered,
        MessageState::Enroute | MessageState::Accepted | MessageState::Unknown => Status::Sent,
    };
    let mut detail = format!("receipt: {state:?}");
    if let Some(err) = &parsed.err {
        detail.push_str(&format!(", err {err}"));
    }
    if let Some(Param::NetworkErrorCode {
        network_type,
        error_code,
    }) = tlv::find_param(tlvs, tag::NETWORK_ERROR_CODE)
    {
        detail.push_str(&format!(", network error {network_type}/{error_code}"));
    }
    Some(Parsed {
        is_final: state.is_final(),
        receipt: Receipt {
            connector: config.name.clone(),
            carrier_id: id,
            status,
            detail: Some(detail),
            committed: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use smsgate_smpp::Tlv;

    fn config() -> SmppConfig {
        toml::from_str("name = \"c\"\nhost = \"h\"\nport = 1\nsystem_id = \"s\"\npassword = \"p\"")
            .unwrap()
    }

    #[test]
    fn receipts_read_tlvs_before_text() {
        let c = config();
        let text = b"id:0000000A sub:001 dlvrd:001 submit date:2611221337 done date:2611221338 stat:DELIVRD err:000 text:";
        let p = receipt_of(&c, text, &[]).unwrap();
        assert_eq!(
            (p.receipt.carrier_id.as_str(), p.receipt.status, p.is_final),
            ("0000000A", Status::Delivered, true)
        );
        let tlvs = [
            Tlv {
                tag: tag::RECEIPTED_MESSAGE_ID,
                value: b"abc\0".to_vec(),
            },
            Tlv {
                tag: tag::MESSAGE_STATE,
                value: vec![5],
            },
        ];
        let p = receipt_of(&c, text, &tlvs).unwrap();
        assert_eq!(
            (p.receipt.carrier_id.as_str(), p.receipt.status),
            ("abc", Status::Undelivered)
        );
        let p = receipt_of(&c, b"id:1 stat:ENROUTE", &[]).unwrap();
        assert!(!p.is_final);
        assert!(receipt_of(&c, b"stat:DELIVRD", &[]).is_none());
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let c: SmppConfig = toml::from_str(
            "name = \"a\"\nhost = \"h\"\nport = 1\nsystem_id = \"s\"\npassword = \"p\"\nreconnect_min_ms = 100\nreconnect_max_ms = 1000",
        )
        .unwrap();
        for (failures, lo, hi) in [
            (0, 50, 100),
            (1, 50, 100),
            (2, 100, 200),
            (3, 200, 400),
            (9, 500, 1000),
        ] {
            let d = backoff(&c, failures).as_millis() as u64;
            assert!((lo..=hi).contains(&d), "{failures}: {d}");
        }
    }
}
