//! The dispatcher: claims due messages from the store, routes each to a
//! connector and records what happened; and the updater, which writes
//! those outcomes and the connectors' receipts to the store in batches.
//!
//! The queue is the store: the dispatcher holds at most `max_in_flight`
//! messages in memory, each leased in the store; a crash lets the lease
//! expire and the message is claimed again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use smsgate_core::clock::Clock;
use smsgate_core::{Status, Timestamp};
use smsgate_store::{
    ApplyOutcome, Change, DeliveryStore, InboundOutcome, InboundPart, Outbound, Placement, Placer,
    StatusUpdate, Target,
};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::Membership;
use crate::connectors::{Event, Receipt, SubmitAck, SubmitError};
use crate::pricing::SharedPrices;
use crate::router::Router;
use crate::routing::Routing;

/// How the dispatcher paces itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// Messages claimed per store round trip. Default 512.
    pub batch: usize,
    /// Messages handed to connectors and not yet answered. Default 4096.
    pub max_in_flight: usize,
    /// How long a claim is held before another worker may retake it.
    /// Default 60 s.
    pub lease_secs: u64,
    /// Poll interval when the queue is empty (new messages also wake the
    /// dispatcher at once). Default 200 ms.
    pub poll_ms: u64,
    /// First retry delay after a temporary failure; doubles each attempt.
    /// Default 2 s.
    pub retry_base_ms: u64,
    /// Longest retry delay. Default 300 s.
    pub retry_max_ms: u64,
    /// Attempts before a message fails. Default 10.
    pub max_attempts: u32,
    /// A message acknowledged and not receipted for this long ends
    /// `expired`, unless its connector says otherwise. Default 259 200
    /// (72 h); 0: never.
    pub receipt_timeout_secs: u64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            batch: 512,
            max_in_flight: 4096,
            lease_secs: 60,
            poll_ms: 200,
            retry_base_ms: 2_000,
            retry_max_ms: 300_000,
            max_attempts: 10,
            receipt_timeout_secs: 72 * 3600,
        }
    }
}

const UPDATE_BATCH: usize = 4_096;

/// What the dispatcher works with.
pub(crate) struct Dispatcher {
    pub(crate) store: Arc<dyn DeliveryStore>,
    /// This node: claims are made in its name.
    pub(crate) membership: Arc<Membership>,
    pub(crate) routing: Arc<Routing>,
    pub(crate) config: DispatchConfig,
    /// Messages to claim (the intake, other nodes' hand-offs).
    pub(crate) wake: Arc<Notify>,
    pub(crate) clock: Arc<dyn Clock>,
    /// What each connector's carrier charges, recorded with each message
    /// sent.
    pub(crate) prices: SharedPrices,
}

pub(crate) fn start(
    dispatcher: Dispatcher,
    events: mpsc::UnboundedReceiver<Event>,
    (tracker, stop): (&TaskTracker, CancellationToken),
) {
    let (updates_tx, updates_rx) = mpsc::unbounded_channel();
    let dispatcher_done = CancellationToken::new();
    tracker.spawn(updater(
        dispatcher.store.clone(),
        updates_rx,
        events,
        dispatcher.clock.clone(),
        dispatcher_done.clone(),
    ));
    tracker.spawn(async move {
        dispatch(dispatcher, updates_tx, stop).await;
        dispatcher_done.cancel();
    });
}

async fn dispatch(
    Dispatcher {
        store,
        membership,
        routing,
        config,
        wake,
        clock,
        prices,
    }: Dispatcher,
    updates: mpsc::UnboundedSender<StatusUpdate>,
    stop: CancellationToken,
) {
    let config = Arc::new(config);
    let in_flight = Arc::new(Semaphore::new(config.max_in_flight));
    let lease = Duration::from_secs(config.lease_secs);
    let poll = Duration::from_millis(config.poll_ms);
    while !stop.is_cancelled() {
        let room = in_flight.available_permits().min(config.batch);
        if room == 0 {
            // Wait until some submit finishes.
            let _ = in_flight.acquire().await;
            continue;
        }
        let now = clock.now();
        let router = routing.router();
        let handed = Arc::new(AtomicBool::new(false));
        let place = placer(&router, &handed);
        let claimed = match store
            .claim(
                membership.id(),
                now,
                now.plus_millis(lease.as_millis() as i64),
                room,
                place,
            )
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "claiming messages failed; retrying");
                tokio::select! { _ = tokio::time::sleep(Duration::from_secs(1)) => {}, _ = stop.cancelled() => {} }
                continue;
            }
        };
        if handed.load(Ordering::Relaxed) {
            // The nodes holding their connectors take them now.
            let store = store.clone();
            tokio::spawn(async move { store.announce(Change::Queued).await });
        }
        metrics::histogram!("smsgate_dispatch_claimed").record(claimed.len() as f64);
        for m in &claimed {
            tracing::debug!(message_id = %m.id, account = %m.account_id, to = "submitting", attempt = m.attempts, "message status changed");
        }
        if claimed.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = wake.notified() => {}
                _ = stop.cancelled() => {}
            }
            continue;
        }
        for message in claimed {
            let Ok(permit) = in_flight.clone().acquire_owned().await else {
                break;
            };
            let Some(connector) = router.route(&message).cloned() else {
                let mut u =
                    StatusUpdate::new(Target::Message(message.id), Status::Failed, clock.now());
                u.detail = Some(format!("no route to {}", message.to));
                let _ = updates.send(u);
                continue;
            };
            let updates = updates.clone();
            let config = config.clone();
            let clock = clock.clone();
            let prices = prices.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let result = connector.submit(&message).await;
                metrics::histogram!("smsgate_connector_submit_seconds", "connector" => connector.name().to_string())
                    .record(started.elapsed().as_secs_f64());
                let mut update = outcome(&message, connector.name(), result, &config, clock.now());
                if update.status == Status::Sent {
                    let book = prices.read().unwrap_or_else(|p| p.into_inner()).clone();
                    update.carrier_cost = Some(book.carrier_cost(
                        connector.name(),
                        message.to.trim_start_matches('+'),
                        message.segments,
                    ));
                }
                let _ = updates.send(update);
                drop(permit);
            });
        }
    }
    // Let every submit in flight finish and report before stopping.
    let _ = in_flight.acquire_many(config.max_in_flight as u32).await;
}

/// Decides, inside a claim, which messages this node carries: those whose
/// connector another node holds wait for that node (`handed` tells).
/// `None` when this node holds every connector.
fn placer(router: &Arc<Router>, handed: &Arc<AtomicBool>) -> Option<Placer> {
    if router.holds_all() {
        return None;
    }
    let (router, handed) = (router.clone(), handed.clone());
    Some(Box::new(move |m: &Outbound| match router.route(m) {
        Some(c) if c.is_elsewhere() => {
            handed.store(true, Ordering::Relaxed);
            Placement::HandTo(c.name().to_string())
        }
        _ => Placement::Here,
    }))
}

/// What a submit result means for the message.
pub(crate) fn outcome(
    m: &Outbound,
    connector: &str,
    result: Result<SubmitAck, SubmitError>,
    config: &DispatchConfig,
    now: Timestamp,
) -> StatusUpdate {
    let target = Target::Message(m.id);
    match result {
        Ok(ack) => {
            let mut u = StatusUpdate::new(target, Status::Sent, now);
            u.connector = Some(connector.to_string());
            u.carrier_ids = ack.carrier_ids;
            u
        }
        Err(e) if e.is_permanent() => {
            let mut u = StatusUpdate::new(target, Status::Rejected, now);
            u.connector = Some(connector.to_string());
            u.detail = Some(e.to_string());
            u
        }
        Err(e) => {
            let shift = m.attempts.saturating_sub(1).min(20);
            let delay = config
                .retry_base_ms
                .saturating_mul(1 << shift)
                .min(config.retry_max_ms);
            // Jitter spreads retries of a burst over time.
            let delay = delay / 2 + fastrand::u64(0..=delay / 2);
            let retry_at = now.plus_millis(delay as i64);
            let (status, detail) = if m.expires_at.is_some_and(|exp| retry_at >= exp) {
                (
                    Status::Expired,
                    format!("{e}; validity ends before the next attempt"),
                )
            } else if m.attempts >= config.max_attempts {
                (
                    Status::Failed,
                    format!("{e}; gave up after {} attempts", m.attempts),
                )
            } else {
                (Status::Queued, format!("{e}; retrying"))
            };
            let mut u = StatusUpdate::new(target, status, now);
            u.detail = Some(detail);
            if status == Status::Queued {
                u.retry_at = Some(retry_at);
            }
            u
        }
    }
}

/// Writes submit outcomes, receipts and inbound messages in batches, one
/// transaction each. A connector is told once what it reported is
/// committed. Receipts for carrier ids not known yet are kept by the store
/// until the acknowledgement that names them arrives.
async fn updater(
    store: Arc<dyn DeliveryStore>,
    mut updates: mpsc::UnboundedReceiver<StatusUpdate>,
    mut events: mpsc::UnboundedReceiver<Event>,
    clock: Arc<dyn Clock>,
    dispatcher_done: CancellationToken,
) {
    let mut pending = Pending::default();
    loop {
        tokio::select! {
            u = updates.recv() => match u {
                Some(u) => pending.updates.push(u),
                None => break,
            },
            Some(e) = events.recv() => pending.add(e, clock.now()),
            _ = dispatcher_done.cancelled(), if updates.is_empty() && !dispatcher_done.is_cancelled() => {}
        }
        while pending.updates.len() < UPDATE_BATCH {
            match updates.try_recv() {
                Ok(u) => pending.updates.push(u),
                Err(_) => break,
            }
        }
        while pending.len() < UPDATE_BATCH {
            match events.try_recv() {
                Ok(e) => pending.add(e, clock.now()),
                Err(_) => break,
            }
        }
        if pending.is_empty() {
            if dispatcher_done.is_cancelled() && updates.is_empty() {
                break;
            }
            continue;
        }
        pending.commit(store.as_ref()).await;
    }
}

/// What the updater commits next.
#[derive(Default)]
struct Pending {
    updates: Vec<StatusUpdate>,
    inbound: Vec<InboundPart>,
    committed: Vec<oneshot::Sender<()>>,
}

impl Pending {
    /// Takes what a connector reported, stamped as received `now` (the
    /// engine's clock: receipts kept for their message age by it).
    fn add(&mut self, e: Event, now: Timestamp) {
        match e {
            Event::Receipt(r) => {
                let (u, ack) = receipt_update(r, now);
                self.updates.push(u);
                self.committed.extend(ack);
            }
            Event::Inbound(mut i) => {
                i.part.received_at = now;
                self.inbound.push(i.part);
                self.committed.extend(i.committed);
            }
        }
    }

    fn len(&self) -> usize {
        self.updates.len() + self.inbound.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Commits everything, retrying until the store takes it (an outcome is
    /// all we know of a submit; a receipt or inbound message unanswered is
    /// sent again by the carrier, but only once we say so).
    async fn commit(&mut self, store: &dyn DeliveryStore) {
        if !self.updates.is_empty() {
            let applied = loop {
                match store.apply(self.updates.clone()).await {
                    Ok(outcomes) => break outcomes,
                    Err(e) => {
                        tracing::error!(error = %e, "recording status changes failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            };
            for (update, result) in self.updates.drain(..).zip(applied) {
                record_outcome(&update, &result);
            }
        }
        if !self.inbound.is_empty() {
            let stored = loop {
                match store.receive_inbound(self.inbound.clone()).await {
                    Ok(outcomes) => break outcomes,
                    Err(e) => {
                        tracing::error!(error = %e, "storing inbound messages failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            };
            self.inbound.clear();
            for outcome in stored {
                if let InboundOutcome::Stored(m) = outcome {
                    metrics::counter!("smsgate_inbound_stored_total").increment(1);
                    if m.account_id.is_none() {
                        tracing::warn!(to = %m.to, "inbound message to a number no account owns");
                    }
                }
            }
        }
        for ack in self.committed.drain(..) {
            let _ = ack.send(());
        }
    }
}

fn record_outcome(update: &StatusUpdate, result: &ApplyOutcome) {
    match result {
        ApplyOutcome::Applied {
            id,
            account,
            from,
            to,
            ..
        } => {
            metrics::counter!("smsgate_message_transitions_total", "status" => to.as_str())
                .increment(1);
            tracing::debug!(
                message_id = %id,
                account = %account,
                from = from.as_str(),
                to = to.as_str(),
                detail = update.detail.as_deref(),
                "message status changed"
            );
        }
        ApplyOutcome::Ignored { .. } => {
            metrics::counter!("smsgate_status_updates_ignored_total").increment(1);
        }
        ApplyOutcome::PartRecorded { .. } => {
            metrics::counter!("smsgate_part_receipts_total").increment(1);
        }
        ApplyOutcome::Deferred => {
            metrics::counter!("smsgate_receipts_deferred_total").increment(1);
        }
        ApplyOutcome::NotFound => {
            tracing::warn!(?update, "status change for an unknown message");
        }
    }
}

fn receipt_update(r: Receipt, at: Timestamp) -> (StatusUpdate, Option<oneshot::Sender<()>>) {
    metrics::counter!("smsgate_receipts_total", "connector" => r.connector.clone(), "status" => r.status.as_str())
        .increment(1);
    let mut u = StatusUpdate::new(
        Target::Carrier {
            connector: r.connector,
            carrier_id: r.carrier_id,
        },
        r.status,
        at,
    );
    u.detail = r.detail;
    (u, r.committed)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::outbound as message;

    #[test]
    fn acknowledgement_records_the_carrier_id() {
        let ack = Ok(SubmitAck {
            carrier_ids: vec!["abc".into()],
        });
        let u = outcome(
            &message(1, None),
            "sim",
            ack,
            &DispatchConfig::default(),
            Timestamp(0),
        );
        assert_eq!(
            (u.status, u.carrier_ids.as_slice(), u.connector.as_deref()),
            (Status::Sent, &["abc".to_string()][..], Some("sim"))
        );
    }

    #[test]
    fn temporary_failures_back_off_then_give_up() {
        let c = DispatchConfig::default();
        let err = || Err(SubmitError::transient("busy"));
        let u = outcome(&message(1, None), "sim", err(), &c, Timestamp(0));
        assert_eq!(u.status, Status::Queued);
        let retry = u.retry_at.unwrap().0;
        assert!((1_000..=2_000).contains(&retry), "{retry}");
        let u = outcome(&message(4, None), "sim", err(), &c, Timestamp(0));
        assert!((8_000..=16_000).contains(&u.retry_at.unwrap().0));
        assert_eq!(
            outcome(&message(10, None), "sim", err(), &c, Timestamp(0)).status,
            Status::Failed
        );
        let soon = Some(Timestamp(500));
        assert_eq!(
            outcome(&message(1, soon), "sim", err(), &c, Timestamp(0)).status,
            Status::Expired
        );
    }

    #[test]
    fn permanent_failures_are_rejections() {
        let u = outcome(
            &message(1, None),
            "sim",
            Err(SubmitError::permanent("no")),
            &DispatchConfig::default(),
            Timestamp(0),
        );
        assert_eq!(u.status, Status::Rejected);
        assert_eq!(u.detail.as_deref(), Some("no"));
    }
}
