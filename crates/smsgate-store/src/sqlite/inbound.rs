//! SQL for inbound messages: storing them (parts of long ones kept until
//! the message is whole), the numbers that route them to accounts, and
//! listing them.

use rusqlite::{Connection, OptionalExtension, Row, params};
use smsgate_core::{AccountId, InboundId, Timestamp};

use super::accounts::uuid_col;
use super::messages::corrupt;
use crate::{InboundOutcome, InboundPart, InboundRecord, NumberAssignment, Result};

fn owner(conn: &Connection, number: &str) -> Result<Option<AccountId>> {
    Ok(conn
        .prepare_cached("SELECT account_id FROM numbers WHERE number = ?1")?
        .query_row([number], |r| r.get(0))
        .optional()?
        .map(AccountId))
}

pub(crate) fn receive(conn: &Connection, p: InboundPart) -> Result<InboundOutcome> {
    let (text, parts) = match p.part {
        None => (p.text.clone(), 1),
        Some(part) => {
            let key = params![p.connector, p.from, p.to, part.reference, part.total];
            conn.prepare_cached(
                "INSERT OR IGNORE INTO inbound_parts
                 (connector, sender, recipient, reference, total, seq, body, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                p.connector,
                p.from,
                p.to,
                part.reference,
                part.total,
                part.seq,
                p.text,
                p.received_at.0
            ])?;
            let bodies: Vec<String> = conn
                .prepare_cached(
                    "SELECT body FROM inbound_parts
                      WHERE connector = ?1 AND sender = ?2 AND recipient = ?3
                        AND reference = ?4 AND total = ?5 ORDER BY seq",
                )?
                .query_map(key, |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let have = bodies.len() as u32;
            if have < u32::from(part.total) {
                return Ok(InboundOutcome::PartKept {
                    have,
                    total: u32::from(part.total),
                });
            }
            conn.prepare_cached(
                "DELETE FROM inbound_parts
                  WHERE connector = ?1 AND sender = ?2 AND recipient = ?3
                    AND reference = ?4 AND total = ?5",
            )?
            .execute(key)?;
            (bodies.concat(), have)
        }
    };
    let record = InboundRecord {
        id: InboundId::generate(),
        account_id: owner(conn, &p.to)?,
        connector: p.connector,
        from: p.from,
        to: p.to,
        text,
        parts,
        received_at: p.received_at,
    };
    conn.prepare_cached(
        "INSERT INTO inbound_messages
         (id, account_id, connector, sender, recipient, body, parts, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        &record.id.as_bytes()[..],
        record.account_id.map(|a| a.0),
        record.connector,
        record.from,
        record.to,
        record.text,
        record.parts,
        record.received_at.0
    ])?;
    super::events::inbound_event(conn, &record)?;
    Ok(InboundOutcome::Stored(record))
}

fn record_row(r: &Row<'_>) -> rusqlite::Result<Result<InboundRecord>> {
    let id: Vec<u8> = r.get(0)?;
    let Some(id) = uuid_col(Some(id)) else {
        return Ok(Err(corrupt("inbound id", "")));
    };
    Ok(Ok(InboundRecord {
        id: InboundId::from_bytes(id),
        account_id: r.get::<_, Option<i64>>(1)?.map(AccountId),
        connector: r.get(2)?,
        from: r.get(3)?,
        to: r.get(4)?,
        text: r.get(5)?,
        parts: r.get(6)?,
        received_at: Timestamp(r.get(7)?),
    }))
}

pub(crate) fn by_id(conn: &Connection, id: InboundId) -> Result<Option<InboundRecord>> {
    conn.prepare_cached(
        "SELECT id, account_id, connector, sender, recipient, body, parts, received_at
           FROM inbound_messages WHERE id = ?1",
    )?
    .query_row([&id.as_bytes()[..]], record_row)
    .optional()?
    .transpose()
}

/// An account's inbound messages, newest first, older than `before`.
pub(crate) fn list(
    conn: &Connection,
    account: AccountId,
    before: Option<InboundId>,
    limit: usize,
) -> Result<Vec<InboundRecord>> {
    let before = before.map_or([0xFFu8; 16], |b| *b.as_bytes());
    conn.prepare_cached(
        "SELECT id, account_id, connector, sender, recipient, body, parts, received_at
           FROM inbound_messages WHERE account_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
    )?
    .query_map(params![account.0, &before[..], limit as i64], record_row)?
    .map(|r| r?)
    .collect()
}

pub(crate) fn assign(
    conn: &Connection,
    number: &str,
    account: AccountId,
    now: Timestamp,
) -> Result<NumberAssignment> {
    super::accounts::require_account(conn, account)?;
    conn.prepare_cached(
        "INSERT INTO numbers (number, account_id, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (number) DO UPDATE SET account_id = excluded.account_id, created_at = excluded.created_at",
    )?
    .execute(params![number, account.0, now.0])?;
    Ok(NumberAssignment {
        number: number.to_string(),
        account_id: account,
        created_at: now,
    })
}

pub(crate) fn unassign(conn: &Connection, number: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM numbers WHERE number = ?1")?
        .execute([number])?
        > 0)
}

pub(crate) fn numbers(conn: &Connection) -> Result<Vec<NumberAssignment>> {
    conn.prepare_cached("SELECT number, account_id, created_at FROM numbers ORDER BY number")?
        .query_map([], |r| {
            Ok(NumberAssignment {
                number: r.get(0)?,
                account_id: AccountId(r.get(1)?),
                created_at: Timestamp(r.get(2)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()
        .map_err(Into::into)
}

/// Drops parts whose siblings never came, received before `before`.
pub(crate) fn purge_parts(conn: &Connection, before: Timestamp) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM inbound_parts WHERE received_at < ?1")?
        .execute([before.0])?)
}
