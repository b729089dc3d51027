//! This node among the nodes serving one database: its registration and
//! heartbeat, which connectors it holds, and hearing of changes made on
//! other nodes.
//!
//! Each carrier connector is held by one live node at a time, through a
//! lease in the database renewed by every heartbeat. A node whose
//! heartbeats fail stops using its connectors before its leases can run
//! out, so two nodes never bind one connector at once; a node that stops
//! beating is found dead by the others, which retake its claims and its
//! connectors. One node (SQLite, or PostgreSQL alone) holds every
//! connector from its first heartbeat, before the dispatcher starts.
//!
//! Leases and heartbeats are compared in wall-clock time across nodes:
//! their clocks must agree to well within [`FENCE_MARGIN`] (NTP does).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use smsgate_core::Timestamp;
use smsgate_core::clock::Clock;
use smsgate_store::{Beat, BeatOutcome, Change, ClusterStore, NodeId, Store};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::ConfigError;
use crate::routing::{Holding, Routing};

/// How this node takes part in a cluster (`[engine.cluster]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// This node's name, one per node of a database. Default: the host
    /// name.
    pub node: Option<String>,
    /// A node that has not beaten for this long is dead: its claims are
    /// retaken and its connectors taken over. Default 10.
    pub dead_after_secs: u64,
    /// Between heartbeats. Default 1,000.
    pub beat_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            node: None,
            dead_after_secs: 10,
            beat_ms: 1_000,
        }
    }
}

/// A node stops using its connectors this long before its leases end.
const FENCE_MARGIN: Duration = Duration::from_secs(2);

impl ClusterConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(name) = &self.node
            && (name.is_empty() || name.len() > 64)
        {
            return Err(ConfigError::NodeName);
        }
        if self.beat_ms == 0 {
            return Err(ConfigError::NotPositive("cluster.beat_ms"));
        }
        // Room for a missed beat before the fence, and the fence before
        // the lease ends.
        if Duration::from_millis(self.beat_ms * 2) + FENCE_MARGIN > self.dead_after() {
            return Err(ConfigError::DeadAfter);
        }
        Ok(())
    }

    fn dead_after(&self) -> Duration {
        Duration::from_secs(self.dead_after_secs)
    }

    fn name(&self) -> String {
        self.node.clone().unwrap_or_else(host_name)
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "smsgate".into())
}

/// The nodes serving the database, as an operator sees them.
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub this_node: Option<NodeId>,
    /// Newest first.
    pub nodes: Vec<smsgate_store::NodeRecord>,
    pub leases: Vec<smsgate_store::ConnectorLease>,
}

/// This node's registration.
pub(crate) struct Membership {
    name: String,
    address: String,
    config: ClusterConfig,
    id: AtomicI64,
    /// Beat now rather than at the next tick (the connectors changed).
    beat_now: Notify,
}

impl Membership {
    /// Registers this node and takes its first leases: the connectors it
    /// holds before anything is dispatched.
    pub(crate) async fn join(
        store: &dyn Store,
        config: &ClusterConfig,
        address: &str,
        wanted: Vec<String>,
        now: Timestamp,
    ) -> Result<(Arc<Membership>, Holding), smsgate_store::StoreError> {
        let name = config.name();
        let id = store.join(&name, address, now).await?;
        tracing::info!(node = %name, id = %id, "joined the nodes serving the database");
        let membership = Arc::new(Membership {
            name,
            address: address.to_string(),
            config: config.clone(),
            id: AtomicI64::new(id.0),
            beat_now: Notify::new(),
        });
        let holding = match store.beat(membership.beat(wanted, Vec::new(), now)).await? {
            BeatOutcome::Alive { held, leases, .. } => Holding::new(held, &leases),
            // Found dead within its first beat: it holds nothing until the
            // next one joins again.
            BeatOutcome::Ended => Holding::default(),
        };
        Ok((membership, holding))
    }

    pub(crate) fn id(&self) -> NodeId {
        NodeId(self.id.load(Ordering::Acquire))
    }

    /// Beats at once: the connectors changed.
    pub(crate) fn beat_soon(&self) {
        self.beat_now.notify_one();
    }

    fn beat(&self, wanted: Vec<String>, available: Vec<String>, now: Timestamp) -> Beat {
        let dead_after = self.config.dead_after().as_millis() as i64;
        Beat {
            node: self.id(),
            now,
            dead_before: now.plus_millis(-dead_after),
            lease_until: now.plus_millis(dead_after),
            wanted,
            available,
        }
    }

    /// At shutdown, once the connectors are unbound: the others take them
    /// over at once.
    pub(crate) async fn leave(&self, store: &dyn ClusterStore, now: Timestamp) {
        if let Err(e) = store.leave(self.id(), now).await {
            tracing::warn!(error = %e, "could not leave the cluster; the others find this node dead");
        }
    }
}

/// Beats until `stop`: renews, takes and gives up connector leases and
/// puts them in force; buries nodes found dead (`wake` the dispatcher for
/// their claims).
pub(crate) async fn beat(
    store: Arc<dyn Store>,
    membership: Arc<Membership>,
    routing: Arc<Routing>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    stop: CancellationToken,
) {
    let every = Duration::from_millis(membership.config.beat_ms);
    // The leases run out `dead_after` after the last heartbeat that
    // renewed them: by the wall clock of the database's nodes, measured
    // here on this process's monotonic one.
    let fence_after = membership.config.dead_after() - FENCE_MARGIN;
    let mut renewed = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = membership.beat_now.notified() => {}
            _ = stop.cancelled() => return,
        }
        let now = clock.now();
        let beat = membership.beat(routing.wanted().await, routing.available(), now);
        let started = Instant::now();
        // A slow heartbeat (a busy database) is waited for, but not past
        // the moment this node must let its connectors go.
        let budget = fence_after.saturating_sub(renewed.elapsed()).max(every);
        let outcome = tokio::time::timeout(budget, store.beat(beat)).await;
        match outcome {
            Ok(Ok(BeatOutcome::Alive {
                held,
                leases,
                buried,
            })) => {
                renewed = started;
                for (node, messages, deliveries) in &buried {
                    tracing::warn!(node = %node, messages, deliveries, "a node stopped beating: its claims and connectors are retaken");
                }
                if !buried.is_empty() {
                    wake.notify_one();
                }
                routing.hold(Holding::new(held, &leases)).await;
            }
            Ok(Ok(BeatOutcome::Ended)) => {
                tracing::error!(node = %membership.name, "another node found this one dead (no heartbeat in time): its connectors stop, and it joins again");
                routing.hold(Holding::default()).await;
                match store
                    .join(&membership.name, &membership.address, clock.now())
                    .await
                {
                    Ok(id) => {
                        membership.id.store(id.0, Ordering::Release);
                        membership.beat_soon();
                    }
                    Err(e) => tracing::warn!(error = %e, "joining again failed; retrying"),
                }
            }
            Ok(Err(e)) => fence(&e.to_string(), renewed, fence_after, &routing).await,
            Err(_) => fence("timed out", renewed, fence_after, &routing).await,
        }
    }
}

/// After a failed heartbeat: once the leases may be about to run out,
/// this node lets its connectors go, before another can take them.
async fn fence(why: &str, renewed: Instant, fence_after: Duration, routing: &Routing) {
    if renewed.elapsed() >= fence_after {
        tracing::error!(
            error = why,
            "heartbeats failed for too long: stopping this node's connectors before their leases end"
        );
        routing.hold(Holding::default()).await;
    } else {
        tracing::warn!(error = why, "a heartbeat failed; retrying");
    }
}

/// Hears of changes made on any node (this one included) until `stop`:
/// caches dropped, routing reread, the dispatcher woken.
pub(crate) async fn listen(
    engine: std::sync::Weak<crate::Inner>,
    mut changes: tokio::sync::broadcast::Receiver<Change>,
    stop: CancellationToken,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let heard = tokio::select! {
            heard = changes.recv() => heard,
            _ = stop.cancelled() => return,
        };
        let heard: Vec<Change> = match heard {
            Ok(change) => vec![change],
            // Fell behind: whatever was missed, every kind once.
            Err(RecvError::Lagged(_)) => Change::ALL.to_vec(),
            Err(RecvError::Closed) => return,
        };
        let Some(inner) = engine.upgrade() else {
            return;
        };
        let engine = crate::Engine { inner };
        for change in heard {
            engine.heard(change).await;
        }
    }
}
