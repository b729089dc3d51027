//! Retention: old messages lose their texts and click targets, and their
//! numbers are masked, in steps that walk each account's messages in id
//! order (ids are UUIDv7: time order) from where the last step stopped,
//! along the `(account_id, id)` indexes the tables have anyway.
//!
//! A step stops at the first row made at or after the cut, so the walk
//! follows the store's own times (the engine's clock), not the ids'. A
//! message still waiting to be sent is passed and noted as a straggler,
//! taken again by every step until it no longer waits.

use async_trait::async_trait;
use smsgate_core::{AccountId, Timestamp};

use super::messages::WAITING;
use super::{Backend, Db, SqlStore, args};
use crate::{Result, Retained, RetentionCut, RetentionStore};

/// `+31612345678` → `+316*****678`, the form the audit log masks numbers
/// in; the same SQL on both backends.
fn masked(column: &str) -> String {
    format!(
        "substr({column}, 1, 4) || substr('****************', 1, length({column}) - 7) \
         || substr({column}, length({column}) - 2)"
    )
}

/// What one sweep removes, and from which table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sweep {
    Texts,
    Numbers,
    InboundTexts,
    InboundNumbers,
}

impl Sweep {
    const fn name(self) -> &'static str {
        match self {
            Sweep::Texts => "texts",
            Sweep::Numbers => "numbers",
            Sweep::InboundTexts => "inbound_texts",
            Sweep::InboundNumbers => "inbound_numbers",
        }
    }

    const fn outbound(self) -> bool {
        matches!(self, Sweep::Texts | Sweep::Numbers)
    }

    /// The statements that do the sweep's work on the rows `where_` picks
    /// (`?1` the account, then its own placeholders); the last one's
    /// count is the rows done.
    fn work(self, where_: &str) -> Vec<String> {
        match self {
            Sweep::Texts => vec![
                format!(
                    "UPDATE links SET url = '' WHERE account_id = ?1 AND url <> ''
                        AND message_id IN (SELECT id FROM messages WHERE {where_})"
                ),
                format!(
                    "UPDATE messages SET body = '', payload = NULL
                      WHERE {where_} AND (body <> '' OR payload IS NOT NULL)"
                ),
            ],
            Sweep::Numbers => vec![format!(
                "UPDATE messages SET recipient = {}
                  WHERE {where_} AND length(recipient) >= 8 AND recipient NOT LIKE '%*%'",
                masked("recipient")
            )],
            Sweep::InboundTexts => vec![format!(
                "UPDATE inbound_messages SET body = '' WHERE {where_} AND body <> ''"
            )],
            Sweep::InboundNumbers => vec![format!(
                "UPDATE inbound_messages SET sender = {}
                  WHERE {where_} AND length(sender) >= 8 AND sender NOT LIKE '%*%'",
                masked("sender")
            )],
        }
    }
}

/// One step of one sweep: the rows done and whether the step was full.
fn sweep(
    conn: &impl Db,
    account: AccountId,
    sweep: Sweep,
    before: Timestamp,
    limit: usize,
) -> Result<(u64, bool)> {
    let name = sweep.name();
    let mut done = 0;
    let run = |where_: &str, range: &[&dyn super::Arg]| -> Result<u64> {
        let mut n = 0;
        for sql in sweep.work(where_) {
            n = conn.exec(&sql, range)? as u64;
        }
        Ok(n)
    };
    if sweep.outbound() {
        // Stragglers that no longer wait.
        let ready: Vec<Vec<u8>> = conn.all(
            &format!(
                "SELECT s.message_id FROM retention_stragglers s JOIN messages m ON m.id = s.message_id
                  WHERE s.account_id = ?1 AND s.sweep = ?2 AND m.status NOT IN {WAITING}"
            ),
            args![account.0, name],
            |r| r.get(0),
        )?;
        for id in ready {
            done += run("account_id = ?1 AND id = ?2", args![account.0, &id[..]])?;
            conn.exec(
                "DELETE FROM retention_stragglers WHERE account_id = ?1 AND sweep = ?2 AND message_id = ?3",
                args![account.0, name, &id[..]],
            )?;
        }
    }
    // Locked on PostgreSQL: another node's scheduler may sweep this
    // account at the same moment.
    let mark: Vec<u8> = conn
        .one(
            &format!(
                "SELECT upto FROM retention_marks WHERE account_id = ?1 AND sweep = ?2{}",
                conn.for_update()
            ),
            args![account.0, name],
            |r| r.get(0),
        )?
        .unwrap_or_default();
    let (table, made) = if sweep.outbound() {
        ("messages", "created_at")
    } else {
        ("inbound_messages", "received_at")
    };
    let rows: Vec<(Vec<u8>, i64, bool)> = conn.all(
        &format!(
            "SELECT id, {made}, {} FROM {table}
              WHERE account_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            if sweep.outbound() {
                format!("status IN {WAITING}")
            } else {
                "FALSE".into()
            }
        ),
        args![account.0, &mark[..], limit as i64],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let taken: Vec<_> = rows
        .iter()
        .take_while(|(_, at, _)| *at < before.0)
        .collect();
    let Some((last, _, _)) = taken.last() else {
        return Ok((done, false));
    };
    for (id, _, waiting) in &taken {
        if *waiting {
            conn.exec(
                "INSERT INTO retention_stragglers (account_id, sweep, message_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                args![account.0, name, &id[..]],
            )?;
        }
    }
    let range = if sweep.outbound() {
        format!("account_id = ?1 AND id > ?2 AND id <= ?3 AND status NOT IN {WAITING}")
    } else {
        "account_id = ?1 AND id > ?2 AND id <= ?3".to_string()
    };
    done += run(&range, args![account.0, &mark[..], &last[..]])?;
    conn.exec(
        "INSERT INTO retention_marks (account_id, sweep, upto) VALUES (?1, ?2, ?3)
         ON CONFLICT (account_id, sweep) DO UPDATE SET upto = excluded.upto",
        args![account.0, name, &last[..]],
    )?;
    Ok((done, taken.len() == limit))
}

pub(crate) fn retain(conn: &impl Db, cut: RetentionCut, limit: usize) -> Result<Retained> {
    let mut out = Retained::default();
    let steps = [
        (cut.texts_before, Sweep::Texts, &mut out.texts),
        (cut.numbers_before, Sweep::Numbers, &mut out.numbers),
        (
            cut.texts_before,
            Sweep::InboundTexts,
            &mut out.inbound_texts,
        ),
        (
            cut.numbers_before,
            Sweep::InboundNumbers,
            &mut out.inbound_numbers,
        ),
    ];
    let mut more = false;
    for (before, which, count) in steps {
        if let Some(before) = before {
            let (done, full) = sweep(conn, cut.account, which, before, limit)?;
            *count = done;
            more |= full;
        }
    }
    out.more = more;
    Ok(out)
}

#[async_trait]
impl<B: Backend> RetentionStore for SqlStore<B> {
    async fn retain(&self, cut: RetentionCut, limit: usize) -> Result<Retained> {
        self.write(move |c| retain(c, cut, limit)).await
    }
}
