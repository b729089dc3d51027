//! The scheduler: moves scheduled messages to the queue when their time
//! comes, expires waiting messages whose validity ended, forgets old
//! idempotency keys, receipts that never matched, events past their
//! retention, idle login sessions and (by each account's retention) old
//! message texts and numbers, ends acknowledged messages whose
//! receipt is overdue, and publishes queue depth.

use std::sync::Arc;
use std::time::Duration;

use smsgate_core::Timestamp;
use smsgate_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const TICK: Duration = Duration::from_millis(250);
const CHUNK: usize = 2_000;
const IDEMPOTENCY_KEEP_MS: i64 = 24 * 3600 * 1000;
/// A receipt whose carrier id matched nothing for this long is tried in the
/// id's other forms (hex for decimal and back); its acknowledgement, if it
/// was merely overtaken, has come by then.
const PENDING_RECEIPT_GRACE_MS: i64 = 5_000;
/// A receipt whose carrier id no connector reported in this long is
/// noise: no acknowledgement is coming for it any more.
const PENDING_RECEIPT_KEEP_MS: i64 = 24 * 3600 * 1000;

/// How long what the scheduler forgets is kept.
pub(crate) struct Retention {
    pub events: Duration,
    /// Login sessions unused for this long.
    pub sessions: Duration,
    /// Message texts and numbers, unless an account says.
    pub messages: crate::retention::RetentionConfig,
}

/// Where acknowledged messages learn how long to wait for a receipt.
pub(crate) struct Receipts {
    pub routing: Arc<crate::routing::Routing>,
    pub default_timeout_secs: u64,
}

pub(crate) async fn run(
    store: Arc<dyn Store>,
    wake_dispatcher: Arc<Notify>,
    retention: Retention,
    receipts: Receipts,
    clock: Arc<dyn smsgate_core::clock::Clock>,
    stop: CancellationToken,
) {
    let mut ticks: u64 = 0;
    while !stop.is_cancelled() {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.cancelled() => break,
        }
        ticks += 1;
        let now = clock.now();
        if let Err(e) = tick(store.as_ref(), &wake_dispatcher, &retention, ticks, now).await {
            tracing::warn!(error = %e, "scheduler tick failed");
        }
        // Once a minute: receipts that are not coming.
        if ticks % 240 == 3
            && let Err(e) = crate::unreceipted::sweep(
                store.as_ref(),
                &receipts.routing,
                receipts.default_timeout_secs,
                now,
            )
            .await
        {
            tracing::warn!(error = %e, "the sweep of overdue receipts failed");
        }
    }
}

async fn tick(
    store: &dyn Store,
    wake_dispatcher: &Notify,
    retention: &Retention,
    ticks: u64,
    now: Timestamp,
) -> smsgate_store::Result<()> {
    loop {
        let promoted = store.promote_scheduled(now, CHUNK).await?;
        for id in &promoted {
            tracing::debug!(message_id = %id, from = "scheduled", to = "queued", detail = "scheduled time reached", "message status changed");
        }
        if !promoted.is_empty() {
            metrics::counter!("smsgate_message_transitions_total", "status" => "queued")
                .increment(promoted.len() as u64);
            wake_dispatcher.notify_one();
        }
        if promoted.len() < CHUNK {
            break;
        }
    }
    loop {
        let expired = store.expire_overdue(now, CHUNK).await?;
        for id in &expired {
            tracing::debug!(message_id = %id, to = "expired", detail = "validity ended before sending", "message status changed");
        }
        metrics::counter!("smsgate_message_transitions_total", "status" => "expired")
            .increment(expired.len() as u64);
        if expired.len() < CHUNK {
            break;
        }
    }
    if ticks.is_multiple_of(4) {
        let matched = store
            .match_pending_receipts(now.plus_millis(-PENDING_RECEIPT_GRACE_MS))
            .await?;
        if matched > 0 {
            metrics::counter!("smsgate_receipts_matched_late_total").increment(matched as u64);
        }
    }
    // Every 5 s: queue depth; once an hour: old idempotency keys and
    // receipts that never found their message.
    if ticks.is_multiple_of(20) {
        let depth = store.queue_depth().await?;
        metrics::gauge!("smsgate_queue_depth", "status" => "scheduled").set(depth.scheduled as f64);
        metrics::gauge!("smsgate_queue_depth", "status" => "queued").set(depth.queued as f64);
        metrics::gauge!("smsgate_queue_depth", "status" => "submitting")
            .set(depth.submitting as f64);
    }
    if ticks % (4 * 3600) == 1 {
        store
            .purge_idempotency(now.plus_millis(-IDEMPOTENCY_KEEP_MS))
            .await?;
        let dropped = store
            .purge_pending_receipts(now.plus_millis(-PENDING_RECEIPT_KEEP_MS))
            .await?;
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "dropped receipts whose carrier id no message ever had"
            );
        }
        // In chunks, so that other writes get their turn in between.
        let before = now.plus_millis(-(retention.events.as_millis() as i64));
        while store.purge_events(before, CHUNK).await? >= CHUNK {}
        store
            .purge_sessions(now.plus_millis(-(retention.sessions.as_millis() as i64)))
            .await?;
        let done = crate::retention::sweep(store, retention.messages, now).await?;
        if done != smsgate_store::Retained::default() {
            tracing::info!(
                texts = done.texts,
                numbers = done.numbers,
                inbound_texts = done.inbound_texts,
                inbound_numbers = done.inbound_numbers,
                "retention removed old texts and masked old numbers"
            );
        }
    }
    Ok(())
}
