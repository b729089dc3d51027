//! Webhook delivery: the relay turns outbox events into deliveries for the
//! endpoints that want them; the deliverer POSTs each, signed, and records
//! every attempt; failures are retried with exponential backoff and jitter
//! for `retry_hours`, then the delivery is dead-lettered.
//!
//! Nothing here runs on the message path: a slow or dead endpoint only
//! holds its own slots (`max_concurrency` per endpoint), and deliveries wait
//! on disk, leased while in flight, so a crash retries them.
//!
//! Every request carries:
//!
//! ```text
//! content-type: application/json
//! smsgate-event-id: 42
//! smsgate-event-type: message.delivered
//! smsgate-signature: t=1763892000,v1=<hex HMAC-SHA256(secret, "1763892000." + body)>
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use smsgate_core::Timestamp;
use smsgate_store::{AttemptResult, DeliveryNext, DueDelivery, EndpointKind, Store};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How webhooks are delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// A delivery not answered 2xx within this is a failure. Default 10 000.
    pub timeout_ms: u64,
    /// First retry delay; doubles per attempt up to `retry_max_ms`, with
    /// jitter. Defaults 1 000 and 3 600 000.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Retries go on this long after the event, then the delivery is
    /// dead-lettered. Default 25.
    pub retry_hours: u64,
    /// Deliveries in flight over all endpoints. Default 256.
    pub max_in_flight: usize,
    /// Events (`GET /v1/events`, replays) and the delivery log are kept
    /// this long; an event is only forgotten once every enabled endpoint
    /// has been given it. Must outlast the retries. Default 30.
    pub event_retention_days: u64,
}

impl WebhookConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.event_retention_days * 24 <= self.retry_hours {
            return Err(format!(
                "webhooks.event_retention_days ({}) must be longer than retry_hours ({} h): \
                 events are kept while their deliveries may still be retried",
                self.event_retention_days, self.retry_hours
            ));
        }
        if self.timeout_ms == 0 || self.max_in_flight == 0 {
            return Err("webhooks.timeout_ms and max_in_flight must be above zero".into());
        }
        Ok(())
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout_ms: 10_000,
            retry_base_ms: 1_000,
            retry_max_ms: 3_600_000,
            retry_hours: 25,
            max_in_flight: 256,
            event_retention_days: 30,
        }
    }
}

/// The `smsgate-signature` header for `body` sent at `t` (Unix seconds).
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// What follows a failed attempt: the next one, or the dead letter.
pub(crate) fn after_failure(
    config: &WebhookConfig,
    attempts: u32,
    created_at: Timestamp,
    now: Timestamp,
) -> DeliveryNext {
    let shift = attempts.saturating_sub(1).min(30);
    let delay = config
        .retry_base_ms
        .saturating_mul(1u64 << shift)
        .min(config.retry_max_ms);
    let delay = delay / 2 + fastrand::u64(0..=delay / 2);
    let retry_at = now.plus_millis(delay as i64);
    let deadline = created_at.plus_millis((config.retry_hours * 3_600_000) as i64);
    if retry_at.0 > deadline.0 {
        DeliveryNext::Dead
    } else {
        DeliveryNext::RetryAt(retry_at)
    }
}

const RELAY_BATCH: usize = 1_000;
const CLAIM_BATCH: usize = 128;
const LEASE: Duration = Duration::from_secs(120);
const IDLE: Duration = Duration::from_millis(200);

pub(crate) fn start(
    store: Arc<dyn Store>,
    config: WebhookConfig,
    tracker: &TaskTracker,
    stop: CancellationToken,
) {
    tracker.spawn(relay(store.clone(), stop.clone()));
    tracker.spawn(deliver(store, config, stop));
}

/// Turns outbox events into deliveries, as they come.
async fn relay(store: Arc<dyn Store>, stop: CancellationToken) {
    while !stop.is_cancelled() {
        match store.relay_events(RELAY_BATCH, Timestamp::now()).await {
            Ok(n) if n == RELAY_BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "relaying events to webhooks failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(IDLE) => {}
            _ = stop.cancelled() => {}
        }
    }
}

/// Claims due deliveries and sends them, each endpoint within its own
/// concurrency; outcomes are recorded in batches.
async fn deliver(store: Arc<dyn Store>, config: WebhookConfig, stop: CancellationToken) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_millis(config.timeout_ms))
        .user_agent(concat!("smsgate/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks are off: no HTTP client");
            return;
        }
    };
    let config = Arc::new(config);
    let in_flight: Arc<Mutex<HashMap<i64, Slots>>> = Arc::default();
    let (results_tx, mut results) = mpsc::unbounded_channel::<AttemptResult>();
    let recorder = tokio::spawn({
        let store = store.clone();
        async move {
            while let Some(first) = results.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = results.try_recv() {
                    batch.push(more);
                }
                while let Err(e) = store.record_attempts(batch.clone()).await {
                    tracing::error!(error = %e, "recording webhook attempts failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    });
    while !stop.is_cancelled() {
        let (full, total) = {
            let map = in_flight.lock().unwrap_or_else(|p| p.into_inner());
            let full: Vec<i64> = map
                .iter()
                .filter(|(_, s)| s.used >= s.limit)
                .map(|(e, _)| *e)
                .collect();
            (full, map.values().map(|s| s.used as usize).sum::<usize>())
        };
        let room = config.max_in_flight.saturating_sub(total).min(CLAIM_BATCH);
        let now = Timestamp::now();
        let claimed = if room == 0 {
            Vec::new()
        } else {
            let lease_until = now.plus_millis(LEASE.as_millis() as i64);
            store
                .claim_deliveries(now, lease_until, room, full)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed");
                    Vec::new()
                })
        };
        let idle = claimed.is_empty();
        for d in claimed {
            let endpoint = d.endpoint.id;
            {
                let mut map = in_flight.lock().unwrap_or_else(|p| p.into_inner());
                let slots = map.entry(endpoint).or_default();
                slots.used += 1;
                slots.limit = d.endpoint.max_concurrency.max(1);
            }
            let (client, config, results, in_flight) = (
                client.clone(),
                config.clone(),
                results_tx.clone(),
                in_flight.clone(),
            );
            tokio::spawn(async move {
                let result = attempt(&client, &config, d).await;
                let _ = results.send(result);
                let mut map = in_flight.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(s) = map.get_mut(&endpoint) {
                    s.used = s.used.saturating_sub(1);
                }
            });
        }
        if idle {
            tokio::select! {
                _ = tokio::time::sleep(IDLE) => {}
                _ = stop.cancelled() => {}
            }
        }
    }
    drop(results_tx);
    let _ = recorder.await;
}

/// An endpoint's deliveries in flight and its limit.
#[derive(Default)]
struct Slots {
    used: u32,
    limit: u32,
}

/// One POST of one delivery.
async fn attempt(
    client: &reqwest::Client,
    config: &WebhookConfig,
    d: DueDelivery,
) -> AttemptResult {
    let json = match d.endpoint.kind {
        EndpointKind::Callbacks => crate::events::callback_json(&d.event),
        EndpointKind::Endpoint => crate::events::event_json(&d.event),
    };
    let body = serde_json::to_vec(&json).unwrap_or_default();
    let now = Timestamp::now();
    let t = now.0 / 1000;
    let started = Instant::now();
    let answer = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("smsgate-event-id", d.event.id.to_string())
        .header("smsgate-event-type", d.event.event_type.as_str())
        .header("smsgate-signature", signature(&d.endpoint.secret, t, &body))
        .body(body)
        .send()
        .await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let (status_code, error) = match answer {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
        Ok(r) => (
            Some(r.status().as_u16()),
            Some(format!("answered {}", r.status())),
        ),
        Err(e) if e.is_timeout() => (
            None,
            Some(format!("no answer within {} ms", config.timeout_ms)),
        ),
        Err(e) => (None, Some(format!("{e}"))),
    };
    let next = if error.is_none() {
        DeliveryNext::Delivered
    } else {
        after_failure(config, d.attempts + 1, d.created_at, Timestamp::now())
    };
    metrics::counter!("smsgate_webhook_attempts_total", "outcome" => match next {
        DeliveryNext::Delivered => "delivered",
        DeliveryNext::RetryAt(_) => "retry",
        DeliveryNext::Dead => "dead",
    })
    .increment(1);
    AttemptResult {
        delivery: d.id,
        at: now,
        status_code,
        latency_ms,
        error,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_and_body() {
        // Checked with: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn failures_back_off_then_die_after_the_window() {
        let c = WebhookConfig::default();
        let t0 = Timestamp(0);
        let DeliveryNext::RetryAt(first) = after_failure(&c, 1, t0, t0) else {
            panic!()
        };
        assert!((500..=1_000).contains(&first.0), "{first:?}");
        let DeliveryNext::RetryAt(fifth) = after_failure(&c, 5, t0, t0) else {
            panic!()
        };
        assert!((8_000..=16_000).contains(&fifth.0));
        let late = Timestamp(25 * 3_600_000 - 100);
        assert_eq!(after_failure(&c, 30, t0, late), DeliveryNext::Dead);
    }
}
