//! Messages a carrier acknowledged and never receipted. A receipt that
//! has not come after the connector's receipt timeout (72 h by default)
//! is not coming: the message ends `expired`, with the reason in its
//! history, not refunded (the carrier took it). Without this it would
//! stay `sent` for ever.
//!
//! The sweep walks the message history in the order it was written, with
//! one cursor per distinct timeout kept in the settings, so every change
//! is read once and the write path keeps no index for it.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use smsgate_core::{Status, Timestamp};
use smsgate_store::{ApplyOutcome, StatusUpdate, Store, Target};

use crate::SIMULATOR;
use crate::routing::{ConnectorConfig, Routing};

/// History rows read per store round trip.
const CHUNK: usize = 5_000;

/// Each connector's receipt timeout (`None`: it waits for ever).
#[derive(Debug, Clone, Default)]
pub(crate) struct ReceiptTimeouts {
    default: Option<Duration>,
    connectors: HashMap<String, Option<Duration>>,
}

fn secs(s: u64) -> Option<Duration> {
    (s > 0).then(|| Duration::from_secs(s))
}

impl ReceiptTimeouts {
    pub(crate) fn new(default_secs: u64, connectors: &[ConnectorConfig]) -> ReceiptTimeouts {
        let mut map: HashMap<String, Option<Duration>> = connectors
            .iter()
            .map(|c| {
                (
                    c.name().to_string(),
                    secs(c.receipt_timeout_secs(default_secs)),
                )
            })
            .collect();
        map.entry(SIMULATOR.to_string())
            .or_insert(secs(default_secs));
        ReceiptTimeouts {
            default: secs(default_secs),
            connectors: map,
        }
    }

    /// The timeout of a message sent through `connector` (one no longer
    /// configured gets the default).
    fn of(&self, connector: Option<&str>) -> Option<Duration> {
        connector
            .and_then(|c| self.connectors.get(c).copied())
            .unwrap_or(self.default)
    }

    fn distinct(&self) -> BTreeSet<Duration> {
        self.connectors
            .values()
            .copied()
            .chain([self.default])
            .flatten()
            .collect()
    }
}

/// Ends the messages whose receipt is overdue at `now`, with the
/// connectors as `routing` has them now; how many.
pub(crate) async fn sweep(
    store: &dyn Store,
    routing: &Routing,
    default_secs: u64,
    now: Timestamp,
) -> smsgate_store::Result<usize> {
    let timeouts = ReceiptTimeouts::new(default_secs, &routing.config().await.connectors);
    let mut ended = 0;
    for timeout in timeouts.distinct() {
        let key = format!("receipt_sweep_cursor_{}", timeout.as_secs());
        let mut cursor: i64 = store
            .setting(&key)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let before = now.plus_millis(-(timeout.as_millis() as i64));
        loop {
            let page = store.acknowledged(cursor, before, CHUNK).await?;
            let updates: Vec<StatusUpdate> = page
                .messages
                .iter()
                .filter(|(_, connector)| timeouts.of(connector.as_deref()) == Some(timeout))
                .map(|(id, connector)| {
                    tracing::debug!(
                        message_id = %id,
                        connector = connector.as_deref().unwrap_or_default(),
                        from = "sent",
                        to = "expired",
                        detail = "no receipt within the receipt timeout",
                        "message status changed"
                    );
                    StatusUpdate {
                        detail: Some(format!(
                            "no receipt within the receipt timeout ({} s)",
                            timeout.as_secs()
                        )),
                        ..StatusUpdate::new(Target::Message(*id), Status::Expired, now)
                    }
                })
                .collect();
            if !updates.is_empty() {
                let applied = store.apply(updates).await?;
                ended += applied
                    .iter()
                    .filter(|o| matches!(o, ApplyOutcome::Applied { .. }))
                    .count();
            }
            if page.cursor != cursor {
                cursor = page.cursor;
                let by = smsgate_store::Audit::gateway(now);
                store.set_setting(&key, &cursor.to_string(), &by).await?;
            }
            if !page.more {
                break;
            }
        }
    }
    if ended > 0 {
        metrics::counter!("smsgate_message_transitions_total", "status" => "expired")
            .increment(ended as u64);
        tracing::info!(ended, "messages without a receipt ended expired");
    }
    Ok(ended)
}
