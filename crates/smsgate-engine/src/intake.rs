//! Intake: one task turns many concurrent send requests into one store
//! transaction (group commit) and answers each request after the commit.
//!
//! While one group is being committed the next one gathers in the
//! channel, so under load a commit (and its fsync) is shared by hundreds
//! of requests; with a single client the latency is one commit.

use std::sync::Arc;

use smsgate_store::{Acceptance, IntakeStore, Refusal, Submission};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::EngineError;

/// Requests that may wait for the writer; beyond this, senders wait too
/// (back-pressure reaches the HTTP clients).
const QUEUE: usize = 16_384;
/// Bounds of one group commit.
const MAX_SUBMISSIONS: usize = 2_048;
const MAX_MESSAGES: usize = 20_000;

type Reply = oneshot::Sender<Result<Result<Acceptance, Refusal>, EngineError>>;

#[derive(Clone)]
pub(crate) struct Intake {
    queue: mpsc::Sender<(Submission, Reply)>,
    wake_dispatcher: Arc<Notify>,
}

impl Intake {
    pub(crate) fn start(
        store: Arc<dyn IntakeStore>,
        wake_dispatcher: Arc<Notify>,
        clock: Arc<dyn smsgate_core::clock::Clock>,
        tracker: &TaskTracker,
        stop: CancellationToken,
    ) -> Intake {
        let (tx, rx) = mpsc::channel(QUEUE);
        tracker.spawn(run(store, rx, wake_dispatcher.clone(), clock, stop));
        Intake {
            queue: tx,
            wake_dispatcher,
        }
    }

    /// Tells the dispatcher that messages were stored past the intake.
    pub(crate) fn wake(&self) {
        self.wake_dispatcher.notify_one();
    }

    /// Commits one submission; returns after it is durable (or refused).
    pub(crate) async fn submit(
        &self,
        s: Submission,
    ) -> Result<Result<Acceptance, Refusal>, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((s, tx))
            .await
            .map_err(|_| EngineError::ShuttingDown)?;
        rx.await.map_err(|_| EngineError::ShuttingDown)?
    }
}

async fn run(
    store: Arc<dyn IntakeStore>,
    mut rx: mpsc::Receiver<(Submission, Reply)>,
    wake_dispatcher: Arc<Notify>,
    clock: Arc<dyn smsgate_core::clock::Clock>,
    stop: CancellationToken,
) {
    let mut submissions = Vec::with_capacity(MAX_SUBMISSIONS);
    let mut replies: Vec<Reply> = Vec::with_capacity(MAX_SUBMISSIONS);
    loop {
        let first = tokio::select! {
            biased;
            next = rx.recv() => next,
            _ = stop.cancelled(), if !rx.is_closed() => {
                // Take no new requests, but commit every one already queued.
                rx.close();
                continue;
            }
        };
        let Some((s, reply)) = first else { break };
        let mut messages = s.plan.messages.len();
        submissions.push(s);
        replies.push(reply);
        while submissions.len() < MAX_SUBMISSIONS && messages < MAX_MESSAGES {
            let Ok((s, reply)) = rx.try_recv() else { break };
            messages += s.plan.messages.len();
            submissions.push(s);
            replies.push(reply);
        }
        metrics::histogram!("smsgate_intake_group_requests").record(submissions.len() as f64);
        metrics::histogram!("smsgate_intake_group_messages").record(messages as f64);
        let batch = std::mem::take(&mut submissions);
        match store.accept(batch, clock.now()).await {
            Ok(results) => {
                let accepted: usize = results
                    .iter()
                    .filter_map(|r| r.as_ref().ok())
                    .filter(|a| !a.replayed)
                    .map(|a| a.messages.len())
                    .sum();
                metrics::counter!("smsgate_messages_accepted_total").increment(accepted as u64);
                if tracing::enabled!(tracing::Level::DEBUG) {
                    for a in results.iter().filter_map(|r| r.as_ref().ok()) {
                        for m in a.messages.iter().filter(|_| !a.replayed) {
                            tracing::debug!(message_id = %m.id, to = m.status.as_str(), cost = %m.cost, detail = "accepted", "message status changed");
                        }
                    }
                }
                for (reply, result) in replies.drain(..).zip(results) {
                    let _ = reply.send(Ok(result));
                }
                if accepted > 0 {
                    wake_dispatcher.notify_one();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "intake commit failed; answering every request in the group with an error");
                let e = EngineError::from(e);
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(e.clone_for_reply()));
                }
            }
        }
    }
}
