//! SQL for the outbox: events written in the same transaction as the
//! change they report, and read back in order for the event feed and the
//! webhook deliverer.

use async_trait::async_trait;
use smsgate_core::{AccountId, InboundId, MessageId, Timestamp};

use super::accounts::uuid_col;
use super::messages::{MESSAGE_COLUMNS, corrupt, message_row};
use super::{Backend, Db, Rec, SqlStore, args};
use crate::*;
use crate::{EventRecord, EventType, InboundRecord, Result};

/// Records that `message` moved, as its `seq`-th event.
pub(crate) fn message_event(
    conn: &impl Db,
    account: AccountId,
    event: EventType,
    message: MessageId,
    seq: u32,
    detail: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    conn.exec(
        "INSERT INTO events (account_id, type, message_id, seq, detail, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![
            account.0,
            event.as_str(),
            &message.as_bytes()[..],
            seq,
            detail,
            at.0
        ],
    )?;
    Ok(())
}

pub(crate) fn inbound_event(conn: &impl Db, m: &InboundRecord) -> Result<()> {
    let Some(account) = m.account_id else {
        return Ok(());
    };
    conn.exec(
        "INSERT INTO events (account_id, type, inbound_id, seq, created_at)
         VALUES (?1, ?2, ?3, 1, ?4)",
        args![
            account.0,
            EventType::InboundReceived.as_str(),
            &m.id.as_bytes()[..],
            m.received_at.0
        ],
    )?;
    Ok(())
}

/// An events row as stored.
struct EventRow {
    id: i64,
    account: i64,
    kind: String,
    message_id: Option<Vec<u8>>,
    inbound_id: Option<Vec<u8>>,
    seq: u32,
    detail: Option<String>,
    created_at: i64,
    number: Option<String>,
}

const EVENT_COLUMNS: &str =
    "id, account_id, type, message_id, inbound_id, seq, detail, created_at, number";

fn event_row(r: &Rec<'_>) -> Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        account: r.get(1)?,
        kind: r.get(2)?,
        message_id: r.get(3)?,
        inbound_id: r.get(4)?,
        seq: r.get(5)?,
        detail: r.get(6)?,
        created_at: r.get(7)?,
        number: r.get(8)?,
    })
}

/// An event with the message or inbound message it is about.
fn record(conn: &impl Db, row: EventRow) -> Result<EventRecord> {
    let EventRow {
        id,
        account,
        kind,
        message_id,
        inbound_id,
        seq,
        detail,
        created_at,
        number,
    } = row;
    let event_type = EventType::parse(&kind).ok_or_else(|| corrupt("event type", &kind))?;
    let (optout, detail) = if event_type == EventType::OptoutChanged {
        let change = super::suppressions::parse_detail(number, detail.as_deref())?;
        (Some(change), None)
    } else {
        (None, detail)
    };
    let message = match uuid_col(message_id) {
        Some(mid) => conn.one(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"),
            args![&mid[..]],
            message_row,
        )?,
        None => None,
    };
    let inbound = match uuid_col(inbound_id) {
        Some(iid) => super::inbound::by_id(conn, InboundId::from_bytes(iid))?,
        None => None,
    };
    Ok(EventRecord {
        id,
        account_id: AccountId(account),
        event_type,
        seq,
        detail,
        created_at: Timestamp(created_at),
        message,
        inbound,
        optout,
    })
}

pub(crate) fn by_id(conn: &impl Db, id: i64) -> Result<Option<EventRecord>> {
    let row = conn.one(
        &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"),
        args![id],
        event_row,
    )?;
    row.map(|row| record(conn, row)).transpose()
}

/// An account's events after `after` (an event id), oldest first.
pub(crate) fn list(
    conn: &impl Db,
    account: AccountId,
    after: i64,
    limit: usize,
) -> Result<Vec<EventRecord>> {
    let rows = conn.all(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE account_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        ), args![account.0, after, limit as i64], event_row)?;
    rows.into_iter().map(|row| record(conn, row)).collect()
}

/// Deletes up to `limit` events created before `before` that every enabled
/// webhook endpoint has relayed, and the finished deliveries (with their
/// attempts) done before `before`; returns how many rows went.
pub(crate) fn purge(conn: &impl Db, before: Timestamp, limit: usize) -> Result<usize> {
    let relayed: i64 = conn.single("SELECT COALESCE(MIN(relay_cursor), 9223372036854775807) FROM webhook_endpoints WHERE enabled", args![], |r| r.get(0))?;
    let events = conn.exec(
        // The newest event always stays: SQLite numbers the next one
        // after the largest id left, and cursors (the endpoints', the
        // clients' of GET /v1/events) must never see an id again.
        "DELETE FROM events WHERE id IN (
                 SELECT id FROM events WHERE created_at < ?1 AND id <= ?2
                    AND id < (SELECT MAX(id) FROM events) ORDER BY id LIMIT ?3)",
        args![before.0, relayed, limit as i64],
    )?;
    let finished = "SELECT id FROM webhook_deliveries
                     WHERE status <> 'pending' AND done_at < ?1 ORDER BY id LIMIT ?2";
    conn.exec(
        &format!("DELETE FROM webhook_attempts WHERE delivery_id IN ({finished})"),
        args![before.0, limit as i64],
    )?;
    let deliveries = conn.exec(
        &format!("DELETE FROM webhook_deliveries WHERE id IN ({finished})"),
        args![before.0, limit as i64],
    )?;
    Ok(events + deliveries)
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> OutboxStore for SqlStore<B> {
    async fn purge_events(&self, before: Timestamp, limit: usize) -> Result<usize> {
        self.write(move |c| super::events::purge(c, before, limit))
            .await
    }
    async fn events(
        &self,
        account: AccountId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<EventRecord>> {
        self.read(move |c| super::events::list(c, account, after, limit))
            .await
    }
    async fn relay_events(&self, limit: usize, now: Timestamp) -> Result<usize> {
        self.write(move |c| super::webhooks::relay(c, limit, now))
            .await
    }
    async fn delivery_load(&self, now: Timestamp) -> Result<DeliveryLoad> {
        self.read(move |c| super::webhooks::load(c, now)).await
    }
    async fn claim_deliveries(
        &self,
        by: NodeId,
        now: Timestamp,
        lease_until: Timestamp,
        take: Vec<(PublicId, usize)>,
    ) -> Result<Vec<DueDelivery>> {
        self.write(move |c| super::webhooks::claim(c, by, now, lease_until, &take))
            .await
    }
    async fn record_attempts(&self, attempts: Vec<AttemptResult>) -> Result<()> {
        self.write(move |c| {
            attempts
                .into_iter()
                .try_for_each(|a| super::webhooks::record(c, a))
        })
        .await
    }
    async fn deliveries(
        &self,
        account: AccountId,
        endpoint: PublicId,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>> {
        self.read(move |c| super::webhooks::deliveries(c, account, &endpoint, limit))
            .await
    }
    async fn replay_deliveries(
        &self,
        endpoint: WebhookEndpoint,
        which: Replay,
        now: Timestamp,
    ) -> Result<usize> {
        self.write(move |c| super::webhooks::replay(c, &endpoint, which, now))
            .await
    }
    async fn test_webhook(&self, endpoint: WebhookEndpoint, now: Timestamp) -> Result<Option<i64>> {
        self.write(move |c| super::webhooks::test_event(c, &endpoint, now))
            .await
    }
}
