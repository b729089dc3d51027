//! SQL for tracked short links: stored with their message at intake,
//! counted (and evented as `message.clicked`) on each click.

use rusqlite::{Connection, OptionalExtension, params};
use smsgate_core::send::ShortLink;
use smsgate_core::{AccountId, MessageId, Timestamp};

use super::accounts::uuid_col;
use super::messages::corrupt;
use crate::{EventType, LinkRecord, Result};

pub(crate) fn insert(
    conn: &Connection,
    account: AccountId,
    message: MessageId,
    links: &[ShortLink],
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO links (code, message_id, account_id, url) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for l in links {
        stmt.execute(params![l.code, &message.as_bytes()[..], account.0, l.url])?;
    }
    Ok(())
}

/// Counts a click and records `message.clicked`; the link's target, or
/// `None` for an unknown code.
pub(crate) fn click(conn: &Connection, code: &str, now: Timestamp) -> Result<Option<String>> {
    let found: Option<(String, Vec<u8>, i64)> = conn
        .prepare_cached("SELECT url, message_id, account_id FROM links WHERE code = ?1")?
        .query_row([code], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((url, message, account)) = found else {
        return Ok(None);
    };
    conn.prepare_cached(
        "UPDATE links SET clicks = clicks + 1, last_click_at = ?1 WHERE code = ?2",
    )?
    .execute(params![now.0, code])?;
    let message = MessageId::from_bytes(
        uuid_col(Some(message)).ok_or_else(|| corrupt("link message", code))?,
    );
    conn.prepare_cached("UPDATE messages SET event_seq = event_seq + 1 WHERE id = ?1")?
        .execute([&message.as_bytes()[..]])?;
    let seq: u32 = conn
        .prepare_cached("SELECT event_seq FROM messages WHERE id = ?1")?
        .query_row([&message.as_bytes()[..]], |r| r.get(0))?;
    super::events::message_event(
        conn,
        AccountId(account),
        EventType::MessageClicked,
        message,
        seq,
        Some(&url),
        now,
    )?;
    Ok(Some(url))
}

pub(crate) fn target(conn: &Connection, code: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT url FROM links WHERE code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()?)
}

pub(crate) fn of_message(conn: &Connection, message: MessageId) -> Result<Vec<LinkRecord>> {
    conn.prepare_cached(
        "SELECT code, url, clicks, last_click_at FROM links WHERE message_id = ?1 ORDER BY rowid",
    )?
    .query_map([&message.as_bytes()[..]], |r| {
        Ok(LinkRecord {
            code: r.get(0)?,
            url: r.get(1)?,
            clicks: r.get::<_, i64>(2)? as u64,
            last_click_at: r.get::<_, Option<i64>>(3)?.map(Timestamp),
        })
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}
