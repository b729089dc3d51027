//! The built-in carrier simulator: a real connector, used on a fresh
//! install, in demos and in tests.
//!
//! It acknowledges each submit with a carrier id after `latency_ms`, then
//! reports a final status after `delivery_delay_ms`. Ratios decide how many
//! messages are rejected at submit, refused temporarily (so the dispatcher
//! retries), end undelivered or expired, or never get a receipt at all;
//! and how many recipients answer (inbound messages, e.g. STOP).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use smsgate_core::{Status, Timestamp};
use smsgate_store::{InboundPart, Outbound};

use super::{Connector, Event, EventSink, Inbound, Receipt, SubmitAck, SubmitError};

/// How the simulator behaves. Ratios are between 0 and 1 and are drawn in
/// this order: rejected, temporary failure, then (for accepted messages)
/// undelivered, expired, dropped; the rest are delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Added before each submit is acknowledged. Default 0.
    pub latency_ms: u64,
    /// Time from acknowledgement to receipt. Default 200.
    pub delivery_delay_ms: u64,
    /// Refused at submit: ends `rejected` (and is refunded). Default 0.
    pub rejected_ratio: f64,
    /// Refused temporarily at submit: retried later. Default 0.
    pub temporary_failure_ratio: f64,
    /// Receipt says undelivered. Default 0.
    pub undelivered_ratio: f64,
    /// Receipt says expired. Default 0.
    pub expired_ratio: f64,
    /// Acknowledged but never receipted. Default 0.
    pub drop_ratio: f64,
    /// Delivered messages from a number (not from an alphanumeric sender)
    /// that the recipient answers, an inbound message to that number a
    /// `delivery_delay_ms` after the receipt. Default 0.
    pub reply_ratio: f64,
    /// What recipients answer, one picked at random per reply. Default
    /// `["OK", "STOP"]`.
    pub reply_texts: Vec<String>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            latency_ms: 0,
            delivery_delay_ms: 200,
            rejected_ratio: 0.0,
            temporary_failure_ratio: 0.0,
            undelivered_ratio: 0.0,
            expired_ratio: 0.0,
            drop_ratio: 0.0,
            reply_ratio: 0.0,
            reply_texts: vec!["OK".into(), "STOP".into()],
        }
    }
}

impl SimulatorConfig {
    /// Checks that every ratio is between 0 and 1.
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        use crate::config::ConfigError;
        for (name, v) in [
            ("rejected_ratio", self.rejected_ratio),
            ("temporary_failure_ratio", self.temporary_failure_ratio),
            ("undelivered_ratio", self.undelivered_ratio),
            ("expired_ratio", self.expired_ratio),
            ("drop_ratio", self.drop_ratio),
            ("reply_ratio", self.reply_ratio),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(ConfigError::Ratio { name, value: v });
            }
        }
        if self.reply_ratio > 0.0 && self.reply_texts.iter().all(|t| t.is_empty()) {
            return Err(ConfigError::NoReplyText);
        }
        Ok(())
    }
}

pub struct Simulator {
    name: String,
    config: SimulatorConfig,
    events: EventSink,
    /// Differs per process, so carrier ids stay unique across restarts.
    run: u32,
    next_id: Arc<AtomicU64>,
}

impl Simulator {
    pub fn new(name: impl Into<String>, config: SimulatorConfig, events: EventSink) -> Simulator {
        Simulator {
            name: name.into(),
            config,
            events,
            run: fastrand::u32(..),
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }
}

#[async_trait]
impl Connector for Simulator {
    fn name(&self) -> &str {
        &self.name
    }

    fn status(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "kind": "simulator",
            "submitted": self.next_id.load(Ordering::Relaxed) - 1,
        })
    }

    async fn submit(&self, message: &Outbound) -> Result<SubmitAck, SubmitError> {
        let c = &self.config;
        if c.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(c.latency_ms)).await;
        }
        let draw = fastrand::f64();
        if draw < c.rejected_ratio {
            return Err(SubmitError::permanent("simulator: rejected by the carrier"));
        }
        if draw < c.rejected_ratio + c.temporary_failure_ratio {
            return Err(SubmitError::transient(
                "simulator: carrier temporarily unavailable",
            ));
        }
        // Carrier ids look like real SMSC ids: hex, with the counter in them.
        let carrier_id = format!(
            "sim{:08x}{:010x}",
            self.run,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let replier = (message.from.bytes().all(|b| b.is_ascii_digit())
            && fastrand::f64() < c.reply_ratio)
            .then(|| {
                (
                    message.to.trim_start_matches('+').to_string(),
                    message.from.clone(),
                )
            });
        self.schedule_receipt(carrier_id.clone(), replier);
        Ok(SubmitAck {
            carrier_ids: vec![carrier_id],
        })
    }

    async fn resume_receipts(&self, carrier_ids: Vec<String>) {
        for id in carrier_ids {
            self.schedule_receipt(id, None);
        }
    }
}

impl Simulator {
    /// Draws the message's fate and sends its receipt after the delay;
    /// a delivered message's recipient (`replier`: recipient and sender
    /// numbers) answers after another delay.
    fn schedule_receipt(&self, carrier_id: String, replier: Option<(String, String)>) {
        let c = &self.config;
        let fate = fastrand::f64();
        let status = if fate < c.undelivered_ratio {
            Status::Undelivered
        } else if fate < c.undelivered_ratio + c.expired_ratio {
            Status::Expired
        } else if fate < c.undelivered_ratio + c.expired_ratio + c.drop_ratio {
            return;
        } else {
            Status::Delivered
        };
        let connector = self.name.clone();
        let sink = self.events.clone();
        let delay = Duration::from_millis(c.delivery_delay_ms);
        let reply = replier
            .filter(|_| status == Status::Delivered)
            .and_then(|(from, to)| {
                let texts: Vec<&String> = c.reply_texts.iter().filter(|t| !t.is_empty()).collect();
                let text = (*texts.get(fastrand::usize(..texts.len().max(1)))?).clone();
                Some(InboundPart {
                    connector: connector.clone(),
                    from,
                    to,
                    text,
                    part: None,
                    received_at: Timestamp::now(),
                })
            });
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = sink.send(Event::Receipt(Receipt {
                connector,
                carrier_id,
                status,
                detail: Some(format!("simulator: {status}")),
                committed: None,
            }));
            if let Some(mut part) = reply {
                tokio::time::sleep(delay).await;
                part.received_at = Timestamp::now();
                let _ = sink.send(Event::Inbound(Inbound {
                    part,
                    committed: None,
                }));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbound() -> Outbound {
        crate::testing::outbound(1, None)
    }

    #[tokio::test]
    async fn acknowledges_then_receipts_delivered() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let config = SimulatorConfig {
            delivery_delay_ms: 1,
            ..SimulatorConfig::default()
        };
        let sim = Simulator::new("sim", config, tx);
        let ack = sim.submit(&outbound()).await.unwrap();
        let Some(Event::Receipt(receipt)) = rx.recv().await else {
            panic!("a receipt")
        };
        assert_eq!(ack.carrier_ids, [receipt.carrier_id]);
        assert_eq!(receipt.status, Status::Delivered);
        assert_eq!(receipt.connector, "sim");
    }

    #[tokio::test]
    async fn ratios_of_one_force_the_outcome() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let reject = Simulator::new(
            "s",
            SimulatorConfig {
                rejected_ratio: 1.0,
                ..Default::default()
            },
            tx.clone(),
        );
        assert!(reject.submit(&outbound()).await.unwrap_err().is_permanent());
        let flaky = Simulator::new(
            "s",
            SimulatorConfig {
                temporary_failure_ratio: 1.0,
                ..Default::default()
            },
            tx.clone(),
        );
        assert!(flaky.submit(&outbound()).await.unwrap_err().is_transient());
        let config = SimulatorConfig {
            undelivered_ratio: 1.0,
            delivery_delay_ms: 0,
            ..Default::default()
        };
        let undelivered = Simulator::new("s", config, tx);
        undelivered.submit(&outbound()).await.unwrap();
        assert!(matches!(
            rx.recv().await,
            Some(Event::Receipt(Receipt {
                status: Status::Undelivered,
                ..
            }))
        ));
    }

    #[test]
    fn ratios_outside_zero_to_one_are_refused() {
        let bad = SimulatorConfig {
            drop_ratio: 1.5,
            ..Default::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(crate::config::ConfigError::Ratio {
                name: "drop_ratio",
                ..
            })
        ));
    }
}
