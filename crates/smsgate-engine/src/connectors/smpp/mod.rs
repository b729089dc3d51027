//! The SMPP connector: messages to a carrier's SMSC over one or more binds,
//! receipts back.
//!
//! A submit is cut into parts (UDH, SAR or one `message_payload`, per
//! connector), each part paced by the connector's rate in segments per
//! second and sent over one bound transmitter (or transceiver). Throttling
//! answers slow the connector down (AIMD) and the same part is sent again;
//! other temporary errors are handed back to the dispatcher, which retries
//! the message later up to its validity; permanent errors reject it with
//! the SMPP status recorded. Binds reconnect on their own with backoff and
//! jitter ([`bind`]).

mod bind;
mod config;
mod pacer;
mod tls;

use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use smsgate_core::{Encoding, Timestamp, text};
use smsgate_smpp::client::{Client, RequestError};
use smsgate_smpp::coding;
use smsgate_smpp::concat::{Concatenation, mark_parts};
use smsgate_smpp::pdu::{Body, Sm};
use smsgate_store::Outbound;
use tokio_util::sync::CancellationToken;

pub use config::{BindMode, ReceiptIds, SmppConfig};

use super::{Connector, EventSink, SubmitAck, SubmitError};
use bind::BindSlot;
use pacer::Pacer;

/// How long one part may keep being throttled before the message goes back
/// to the queue (and the dispatcher's backoff takes over).
const MAX_THROTTLED: Duration = Duration::from_secs(30);

pub struct SmppConnector {
    config: Arc<SmppConfig>,
    slots: Vec<Arc<BindSlot>>,
    pacer: Mutex<Pacer>,
    next_reference: AtomicU16,
    next_slot: AtomicUsize,
    stop: CancellationToken,
    stats: Stats,
}

/// Counters for operators; the Prometheus handles are made once, not
/// looked up per submit.
struct Stats {
    submits: metrics::Counter,
    /// `smsgate_smpp_responses_total{status="ESME_ROK"}`; other statuses
    /// are labelled as they come.
    responses_ok: metrics::Counter,
    response_seconds: metrics::Histogram,
    submitted: AtomicU64,
    acknowledged: AtomicU64,
    refused: AtomicU64,
    throttled: AtomicU64,
    timed_out: AtomicU64,
    /// Submits whose answer was lost (timeout, connection gone): the
    /// carrier may have taken them, so a retry may duplicate them.
    possible_duplicates: AtomicU64,
}

impl Stats {
    fn new(connector: &str) -> Stats {
        let label = connector.to_string();
        Stats {
            submits: metrics::counter!("smsgate_smpp_submits_total", "connector" => label.clone()),
            responses_ok: metrics::counter!("smsgate_smpp_responses_total", "connector" => label.clone(), "status" => "ESME_ROK"),
            response_seconds: metrics::histogram!("smsgate_smpp_response_seconds", "connector" => label),
            submitted: AtomicU64::new(0),
            acknowledged: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            possible_duplicates: AtomicU64::new(0),
        }
    }
}

impl SmppConnector {
    /// Starts the connector's binds.
    pub fn start(config: SmppConfig, events: EventSink) -> SmppConnector {
        let config = Arc::new(config);
        let stop = CancellationToken::new();
        let slots = bind::start_all(&config, events, &stop);
        let stats = Stats::new(&config.name);
        SmppConnector {
            pacer: Mutex::new(Pacer::new(config.tps, Instant::now())),
            config,
            slots,
            next_reference: AtomicU16::new(fastrand::u16(..)),
            next_slot: AtomicUsize::new(0),
            stats,
            stop,
        }
    }

    pub fn config(&self) -> &SmppConfig {
        &self.config
    }

    /// A bound client that may send, taking turns.
    fn transmitter(&self) -> Option<Client> {
        let n = self.slots.len();
        let start = self.next_slot.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.slots[(start + i) % n])
            .filter(|s| s.kind.can_send())
            .find_map(|s| s.client())
    }

    /// The submit_sm PDUs of a message, and the segments each carries.
    fn parts(&self, m: &Outbound) -> Vec<(Body, u32)> {
        let c = &self.config;
        let mode = c.concatenation;
        let data_coding = match m.encoding {
            Encoding::Gsm7 => c.data_coding_gsm7.unwrap_or(c.gsm7_coding.data_coding()),
            Encoding::Ucs2 => c.data_coding_ucs2.unwrap_or(coding::data_coding::UCS2),
        };
        let encode = |text: &str, udh_len: usize| match m.encoding {
            Encoding::Gsm7 => c.gsm7_coding.encode(text, udh_len),
            Encoding::Ucs2 => coding::encode_ucs2(text),
        };
        let chunks: Vec<Vec<u8>> = if mode == Concatenation::Payload {
            vec![encode(&m.text, 0)]
        } else {
            text::split(&m.text, m.encoding)
                .into_iter()
                .map(|part| encode(part, mode.udh_len()))
                .collect()
        };
        let reference = self.next_reference.fetch_add(1, Ordering::Relaxed);
        let marked = mark_parts(chunks, mode, reference);
        // Payload mode sends every segment in one PDU; count them all.
        let per_pdu = if marked.len() == 1 {
            m.segments.max(1) as u32
        } else {
            1
        };
        let (source_ton, source_npi, source) = c.source_address(&m.from);
        marked
            .into_iter()
            .map(|p| {
                let sm = Sm {
                    service_type: c.service_type.as_bytes().to_vec(),
                    source_addr_ton: source_ton,
                    source_addr_npi: source_npi,
                    source_addr: source.as_bytes().to_vec(),
                    dest_addr_ton: c.dest_ton,
                    dest_addr_npi: c.dest_npi,
                    destination_addr: m.to.trim_start_matches('+').as_bytes().to_vec(),
                    esm_class: p.esm_class,
                    registered_delivery: u8::from(c.registered_delivery),
                    data_coding,
                    validity_period: m.expires_at.map(smpp_time).unwrap_or_default(),
                    short_message: p.short_message,
                    tlvs: p.tlvs,
                    ..Sm::default()
                };
                (Body::SubmitSm(sm), per_pdu)
            })
            .collect()
    }

    /// Sends one part, sending it again while the SMSC throttles.
    async fn submit_part(
        &self,
        client: &Client,
        body: Body,
        segments: u32,
    ) -> Result<String, SubmitError> {
        let first_try = Instant::now();
        loop {
            let at = self
                .pacer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .reserve(segments, Instant::now());
            tokio::time::sleep_until(at.into()).await;
            self.stats.submitted.fetch_add(1, Ordering::Relaxed);
            self.stats.submits.increment(1);
            let started = Instant::now();
            let answer = client.request(body.clone()).await;
            self.stats
                .response_seconds
                .record(started.elapsed().as_secs_f64());
            let pdu = match answer {
                Ok(pdu) => pdu,
                Err(e) => {
                    if e != RequestError::ReceiverOnly {
                        self.stats
                            .possible_duplicates
                            .fetch_add(1, Ordering::Relaxed);
                        metrics::counter!("smsgate_smpp_possible_duplicates_total", "connector" => self.config.name.clone())
                            .increment(1);
                    }
                    if e == RequestError::TimedOut {
                        self.stats.timed_out.fetch_add(1, Ordering::Relaxed);
                    }
                    return Err(SubmitError::transient(format!("{}: {e}", self.config.name)));
                }
            };
            let status = pdu.status;
            if status.is_ok() {
                self.stats.responses_ok.increment(1);
            } else {
                metrics::counter!("smsgate_smpp_responses_total", "connector" => self.config.name.clone(), "status" => status_label(status))
                    .increment(1);
            }
            if status.is_ok() {
                self.pacer
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .on_success();
                self.stats.acknowledged.fetch_add(1, Ordering::Relaxed);
                let id = match pdu.body {
                    Body::SubmitSmResp(r) => String::from_utf8_lossy(&r.message_id).into_owned(),
                    _ => String::new(),
                };
                return Ok(id);
            }
            if status.is_throttling() {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                self.pacer
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .on_throttle(started, Instant::now());
                if first_try.elapsed() < MAX_THROTTLED && !client.is_closed() {
                    continue;
                }
            }
            let detail = format!("{}: {status}", self.config.name);
            return Err(if status.is_transient() {
                SubmitError::transient(detail)
            } else {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                SubmitError::permanent(detail)
            });
        }
    }
}

fn status_label(s: smsgate_smpp::CommandStatus) -> String {
    s.name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("0x{:08X}", s.0))
}

/// SMPP absolute time (§7.1.1), in UTC: `YYMMDDhhmmss000+`.
fn smpp_time(t: Timestamp) -> Vec<u8> {
    let d = t.to_datetime();
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}000+",
        d.year() % 100,
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
    .into_bytes()
}

#[async_trait]
impl Connector for SmppConnector {
    fn name(&self) -> &str {
        &self.config.name
    }

    async fn submit(&self, message: &Outbound) -> Result<SubmitAck, SubmitError> {
        let Some(client) = self.transmitter() else {
            return Err(SubmitError::transient(format!(
                "{}: no bound transmitter",
                self.config.name
            )));
        };
        let mut carrier_ids = Vec::new();
        // All parts of one message go over the same bind.
        for (body, segments) in self.parts(message) {
            carrier_ids.push(self.submit_part(&client, body, segments).await?);
        }
        Ok(SubmitAck { carrier_ids })
    }

    fn is_available(&self) -> bool {
        self.slots
            .iter()
            .any(|s| s.kind.can_send() && s.client().is_some())
    }

    fn status(&self) -> serde_json::Value {
        let pacer = self.pacer.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let s = &self.stats;
        serde_json::json!({
            "name": self.config.name,
            "kind": "smpp",
            "host": self.config.host,
            "port": self.config.port,
            "system_id": self.config.system_id,
            "available": self.is_available(),
            "binds": self.slots.iter().map(|b| b.status(self.config.window)).collect::<Vec<_>>(),
            "tps_limit": self.config.tps,
            "throughput_per_s": pacer.measured(Instant::now()).round(),
            "rate_in_force": pacer.rate(),
            "backing_off": pacer.is_backing_off(),
            "submitted": s.submitted.load(Ordering::Relaxed),
            "acknowledged": s.acknowledged.load(Ordering::Relaxed),
            "refused": s.refused.load(Ordering::Relaxed),
            "throttled": s.throttled.load(Ordering::Relaxed),
            "timed_out": s.timed_out.load(Ordering::Relaxed),
            "possible_duplicates": s.possible_duplicates.load(Ordering::Relaxed),
            "receipts": self.slots.iter().map(|b| b.receipts()).sum::<u64>(),
        })
    }

    async fn shutdown(&self) {
        self.stop.cancel();
        for slot in &self.slots {
            slot.closed().await;
        }
    }
}

impl Drop for SmppConnector {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smsgate_smpp::concat::received;

    fn connector(edit: impl FnOnce(&mut SmppConfig)) -> SmppConnector {
        let mut c: SmppConfig = toml::from_str(
            "name = \"c\"\nhost = \"127.0.0.1\"\nport = 1\nsystem_id = \"x\"\npassword = \"y\"",
        )
        .unwrap();
        edit(&mut c);
        // Not started: the binds are not needed to build PDUs.
        SmppConnector {
            pacer: Mutex::new(Pacer::new(0, Instant::now())),
            config: Arc::new(c),
            slots: Vec::new(),
            next_reference: AtomicU16::new(7),
            next_slot: AtomicUsize::new(0),
            stop: CancellationToken::new(),
            stats: Stats::new("c"),
        }
    }

    fn message(text: &str) -> Outbound {
        let mut m = crate::testing::outbound(1, None);
        let seg = text::measure(text, smsgate_core::EncodingChoice::Auto, 255).unwrap();
        m.text = text.into();
        m.encoding = seg.encoding;
        m.segments = seg.parts;
        m
    }

    fn sm(b: &Body) -> &Sm {
        match b {
            Body::SubmitSm(sm) => sm,
            _ => panic!(),
        }
    }

    #[test]
    fn a_long_gsm_text_goes_in_udh_parts() {
        let text = "x".repeat(200);
        let parts = connector(|_| {}).parts(&message(&text));
        assert_eq!(parts.len(), 2);
        let first = sm(&parts[0].0);
        assert_eq!(first.short_message.len(), 6 + 153);
        assert_eq!(first.destination_addr, b"31612345678");
        assert_eq!((first.source_addr_ton, first.source_addr_npi), (5, 0));
        assert_eq!(first.registered_delivery, 1);
        let r = received(first);
        assert_eq!(
            r.part.map(|p| (p.reference, p.total, p.seq)),
            Some((7, 2, 1))
        );
    }

    #[test]
    fn ucs2_sar_payload_and_coding_overrides() {
        let c = connector(|c| c.concatenation = Concatenation::Sar);
        let parts = c.parts(&message(&"я".repeat(100)));
        assert_eq!(parts.len(), 2);
        assert_eq!(sm(&parts[0].0).data_coding, 8);
        assert_eq!(sm(&parts[0].0).short_message.len(), 134);
        let c = connector(|c| c.concatenation = Concatenation::Payload);
        let parts = c.parts(&message(&"y".repeat(400)));
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].1, 3, "one PDU, three segments paced");
        let c = connector(|c| {
            c.gsm7_coding = coding::TextCoding::Latin1;
            c.data_coding_ucs2 = Some(0x18);
        });
        let p = c.parts(&message("é"));
        assert_eq!(
            (sm(&p[0].0).data_coding, &sm(&p[0].0).short_message[..]),
            (3, &[0xE9][..])
        );
        assert_eq!(sm(&c.parts(&message("я"))[0].0).data_coding, 0x18);
    }

    #[test]
    fn validity_is_an_absolute_utc_time() {
        assert_eq!(
            smpp_time(Timestamp::parse_rfc3339("2026-11-23T10:15:30Z").unwrap()),
            b"261123101530000+"
        );
    }
}
