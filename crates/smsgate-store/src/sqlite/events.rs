//! SQL for the outbox: events written in the same transaction as the
//! change they report, and read back in order for the event feed and the
//! webhook deliverer.

use rusqlite::{Connection, OptionalExtension, params};
use smsgate_core::{AccountId, InboundId, MessageId, Timestamp};

use super::accounts::uuid_col;
use super::messages::{MESSAGE_COLUMNS, corrupt, message_row};
use crate::{EventRecord, EventType, InboundRecord, Result};

/// Records that `message` moved, as its `seq`-th event.
pub(crate) fn message_event(
    conn: &Connection,
    account: AccountId,
    event: EventType,
    message: MessageId,
    seq: u32,
    detail: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (account_id, type, message_id, seq, detail, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        account.0,
        event.as_str(),
        &message.as_bytes()[..],
        seq,
        detail,
        at.0
    ])?;
    Ok(())
}

pub(crate) fn inbound_event(conn: &Connection, m: &InboundRecord) -> Result<()> {
    let Some(account) = m.account_id else {
        return Ok(());
    };
    conn.prepare_cached(
        "INSERT INTO events (account_id, type, inbound_id, seq, created_at)
         VALUES (?1, ?2, ?3, 1, ?4)",
    )?
    .execute(params![
        account.0,
        EventType::InboundReceived.as_str(),
        &m.id.as_bytes()[..],
        m.received_at.0
    ])?;
    Ok(())
}

/// An account's events after `after` (an event id), oldest first.
pub(crate) fn list(
    conn: &Connection,
    account: AccountId,
    after: i64,
    limit: usize,
) -> Result<Vec<EventRecord>> {
    let rows = conn
        .prepare_cached(
            "SELECT id, type, message_id, inbound_id, seq, detail, created_at
               FROM events WHERE account_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?
        .query_map(params![account.0, after, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<Vec<u8>>>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
                r.get::<_, u32>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let message_sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    let mut out = Vec::with_capacity(rows.len());
    for (id, kind, message_id, inbound_id, seq, detail, created_at) in rows {
        let message = match uuid_col(message_id) {
            Some(mid) => conn
                .prepare_cached(&message_sql)?
                .query_row([&mid[..]], message_row)
                .optional()?
                .transpose()?,
            None => None,
        };
        let inbound = match uuid_col(inbound_id) {
            Some(iid) => super::inbound::by_id(conn, InboundId::from_bytes(iid))?,
            None => None,
        };
        out.push(EventRecord {
            id,
            account_id: account,
            event_type: EventType::parse(&kind).ok_or_else(|| corrupt("event type", &kind))?,
            seq,
            detail,
            created_at: Timestamp(created_at),
            message,
            inbound,
        });
    }
    Ok(out)
}
