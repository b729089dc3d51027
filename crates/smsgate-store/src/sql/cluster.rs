//! The nodes serving one database: registration, heartbeats, connector
//! leases, and releasing what a dead node had claimed.
//!
//! A lease is a row per connector naming its node and until when it
//! holds; a node takes a lease only when it has run out (or is free), in
//! one upsert, so two nodes taking the same connector at once leave one
//! holder.

use async_trait::async_trait;
use smsgate_core::Timestamp;

use super::{Backend, Db, Dialect, Rec, SqlStore, args};
use crate::*;

/// The first key of the advisory lock a running node holds on its name
/// (the second is the name's hash).
const NODE_NAME_LOCK: i32 = 0x736d_7367;

pub(crate) fn join(conn: &impl Db, name: &str, address: &str, now: Timestamp) -> Result<NodeId> {
    // The lock is the session's: it lasts while the node's writer is
    // connected and ends when the process does, however it ends.
    if conn.dialect() == Dialect::Postgres {
        let locked: bool = conn.single(
            &format!("SELECT pg_try_advisory_lock({NODE_NAME_LOCK}, hashtext(?1))"),
            args![name],
            |r| r.get(0),
        )?;
        if !locked {
            return Err(StoreError::NodeRunning(name.to_string()));
        }
    }
    let earlier: Vec<i64> = conn.all(
        "SELECT id FROM nodes WHERE name = ?1 AND ended_at IS NULL",
        args![name],
        |r| r.get(0),
    )?;
    for id in earlier {
        bury(conn, NodeId(id), now)?;
    }
    let id = conn.insert_id(
        "INSERT INTO nodes (name, address, started_at, beat_at) VALUES (?1, ?2, ?3, ?3)",
        args![name, address, now.0],
    )?;
    Ok(NodeId(id))
}

/// Ends a node: what it had claimed is claimable at once, its connectors
/// are free. Returns how many messages and deliveries it had claimed.
fn bury(conn: &impl Db, node: NodeId, now: Timestamp) -> Result<(usize, usize)> {
    conn.exec(
        "UPDATE nodes SET ended_at = ?1 WHERE id = ?2 AND ended_at IS NULL",
        args![now.0, node.0],
    )?;
    let messages = conn.exec(
        "UPDATE messages SET lease_until = 0
          WHERE status = 'submitting' AND claimed_by = ?1 AND lease_until > 0",
        args![node.0],
    )?;
    let deliveries = conn.exec(
        "UPDATE webhook_deliveries SET lease_until = NULL
          WHERE status = 'pending' AND claimed_by = ?1 AND lease_until IS NOT NULL",
        args![node.0],
    )?;
    conn.exec(
        "DELETE FROM connector_leases WHERE node_id = ?1",
        args![node.0],
    )?;
    Ok((messages, deliveries))
}

pub(crate) fn beat(conn: &impl Db, beat: &Beat) -> Result<BeatOutcome> {
    let alive = conn.exec(
        "UPDATE nodes SET beat_at = ?1 WHERE id = ?2 AND ended_at IS NULL",
        args![beat.now.0, beat.node.0],
    )?;
    if alive == 0 {
        return Ok(BeatOutcome::Ended);
    }
    // Nodes another node is burying at once are left to it.
    let dead: Vec<i64> = conn.all(
        &format!(
            "SELECT id FROM nodes WHERE ended_at IS NULL AND beat_at < ?1 AND id <> ?2{}",
            conn.skip_locked()
        ),
        args![beat.dead_before.0, beat.node.0],
        |r| r.get(0),
    )?;
    let mut buried = Vec::with_capacity(dead.len());
    for id in dead {
        let (messages, deliveries) = bury(conn, NodeId(id), beat.now)?;
        buried.push((NodeId(id), messages, deliveries));
    }
    let held: Vec<String> = conn.all(
        "SELECT connector FROM connector_leases WHERE node_id = ?1",
        args![beat.node.0],
        |r| r.get(0),
    )?;
    // Every node locks lease rows in one order (the connectors' names), so
    // two heartbeats never wait for each other in a circle.
    let mut connectors: Vec<&String> = held.iter().chain(&beat.wanted).collect();
    connectors.sort();
    connectors.dedup();
    for connector in connectors {
        let wanted = beat.wanted.contains(connector);
        if !held.contains(connector) {
            conn.exec(
                "INSERT INTO connector_leases (connector, node_id, taken_at, expires_at, available)
                      VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (connector) DO UPDATE
                      SET node_id = excluded.node_id, taken_at = excluded.taken_at,
                          expires_at = excluded.expires_at, available = excluded.available
                    WHERE connector_leases.expires_at < ?3",
                args![
                    connector.as_str(),
                    beat.node.0,
                    beat.now.0,
                    beat.lease_until.0,
                    false
                ],
            )?;
        } else if wanted {
            conn.exec(
                "UPDATE connector_leases SET expires_at = ?1, available = ?2
                  WHERE connector = ?3 AND node_id = ?4",
                args![
                    beat.lease_until.0,
                    beat.available.contains(connector),
                    connector.as_str(),
                    beat.node.0
                ],
            )?;
        } else {
            conn.exec(
                "DELETE FROM connector_leases WHERE connector = ?1 AND node_id = ?2",
                args![connector.as_str(), beat.node.0],
            )?;
        }
    }
    let leases = leases(conn)?;
    let held = leases
        .iter()
        .filter(|l| l.node == beat.node)
        .map(|l| l.connector.clone())
        .collect();
    Ok(BeatOutcome::Alive {
        held,
        leases,
        buried,
    })
}

pub(crate) fn leave(conn: &impl Db, node: NodeId, now: Timestamp) -> Result<()> {
    bury(conn, node, now)?;
    if conn.dialect() == Dialect::Postgres {
        // The name is free for a new run at once (the session may last).
        conn.exec(
            &format!(
                "SELECT pg_advisory_unlock({NODE_NAME_LOCK}, hashtext(name)) FROM nodes WHERE id = ?1"
            ),
            args![node.0],
        )?;
    }
    Ok(())
}

fn leases(conn: &impl Db) -> Result<Vec<ConnectorLease>> {
    conn.all(
        "SELECT l.connector, l.node_id, COALESCE(n.name, ''), l.taken_at, l.expires_at, l.available
           FROM connector_leases l LEFT JOIN nodes n ON n.id = l.node_id
          ORDER BY l.connector",
        args![],
        |r| {
            Ok(ConnectorLease {
                connector: r.get(0)?,
                node: NodeId(r.get(1)?),
                node_name: r.get(2)?,
                taken_at: Timestamp(r.get(3)?),
                expires_at: Timestamp(r.get(4)?),
                available: r.get(5)?,
            })
        },
    )
}

fn node_row(r: &Rec<'_>) -> Result<NodeRecord> {
    Ok(NodeRecord {
        id: NodeId(r.get(0)?),
        name: r.get(1)?,
        address: r.get(2)?,
        started_at: Timestamp(r.get(3)?),
        beat_at: Timestamp(r.get(4)?),
        ended_at: r.get::<Option<i64>>(5)?.map(Timestamp),
    })
}

#[async_trait]
impl<B: Backend> ClusterStore for SqlStore<B> {
    async fn join(&self, name: &str, address: &str, now: Timestamp) -> Result<NodeId> {
        let (name, address) = (name.to_string(), address.to_string());
        self.write_alone(move |c| join(c, &name, &address, now))
            .await
    }
    async fn beat(&self, b: Beat) -> Result<BeatOutcome> {
        self.write_alone(move |c| beat(c, &b)).await
    }
    async fn leave(&self, node: NodeId, now: Timestamp) -> Result<()> {
        self.write_alone(move |c| leave(c, node, now)).await
    }
    async fn nodes(&self, since: Timestamp) -> Result<Vec<NodeRecord>> {
        self.read(move |c| {
            c.all(
                "SELECT id, name, address, started_at, beat_at, ended_at FROM nodes
                  WHERE ended_at IS NULL OR ended_at >= ?1 ORDER BY id DESC",
                args![since.0],
                node_row,
            )
        })
        .await
    }
    async fn connector_leases(&self) -> Result<Vec<ConnectorLease>> {
        self.read(leases).await
    }
}

#[async_trait]
impl<B: Backend> ChangeFeed for SqlStore<B> {
    async fn announce(&self, change: Change) -> Result<()> {
        self.backend.announce(change).await
    }
    fn changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.backend.changes()
    }
}
