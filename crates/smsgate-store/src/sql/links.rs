//! SQL for tracked short links: stored with their message at intake,
//! counted (and evented as `message.clicked`) on each click.

use smsgate_core::send::ShortLink;
use smsgate_core::{AccountId, MessageId, Timestamp};

use super::accounts::uuid_col;
use super::messages::corrupt;
use super::{Db, args};
use crate::{EventType, LinkRecord, Result};

pub(crate) fn insert(
    conn: &impl Db,
    account: AccountId,
    message: MessageId,
    links: &[ShortLink],
) -> Result<()> {
    for l in links {
        conn.exec(
            "INSERT INTO links (code, message_id, account_id, url) VALUES (?1, ?2, ?3, ?4)",
            args![l.code, &message.as_bytes()[..], account.0, l.url],
        )?;
    }
    Ok(())
}

/// Counts a click and records `message.clicked`; the link's target, or
/// `None` for an unknown code.
pub(crate) fn click(conn: &impl Db, code: &str, now: Timestamp) -> Result<Option<String>> {
    let found: Option<(String, Vec<u8>, i64)> = conn.one(
        "SELECT url, message_id, account_id FROM links WHERE code = ?1 AND url <> ''",
        args![code],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let Some((url, message, account)) = found else {
        return Ok(None);
    };
    conn.exec(
        "UPDATE links SET clicks = clicks + 1, last_click_at = ?1 WHERE code = ?2",
        args![now.0, code],
    )?;
    let message = MessageId::from_bytes(
        uuid_col(Some(message)).ok_or_else(|| corrupt("link message", code))?,
    );
    conn.exec(
        "UPDATE messages SET event_seq = event_seq + 1 WHERE id = ?1",
        args![&message.as_bytes()[..]],
    )?;
    let seq: u32 = conn.single(
        "SELECT event_seq FROM messages WHERE id = ?1",
        args![&message.as_bytes()[..]],
        |r| r.get(0),
    )?;
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

pub(crate) fn target(conn: &impl Db, code: &str) -> Result<Option<String>> {
    conn.one(
        "SELECT url FROM links WHERE code = ?1 AND url <> ''",
        args![code],
        |r| r.get(0),
    )
}

pub(crate) fn of_message(conn: &impl Db, message: MessageId) -> Result<Vec<LinkRecord>> {
    conn.all(
        "SELECT code, url, clicks, last_click_at FROM links WHERE message_id = ?1 ORDER BY rowid",
        args![&message.as_bytes()[..]],
        |r| {
            Ok(LinkRecord {
                code: r.get(0)?,
                url: r.get(1)?,
                clicks: r.get::<i64>(2)? as u64,
                last_click_at: r.get::<Option<i64>>(3)?.map(Timestamp),
            })
        },
    )
}
