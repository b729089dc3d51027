//! SQL for the parts a connector acknowledged and the receipts that come
//! back for them.
//!
//! A receipt names a carrier id. It is matched in normalized form (case
//! and leading zeros do not matter); the part it names records it; the
//! message moves when the parts say so (delivered when all parts are, at
//! once for any final failure). A receipt that matches nothing is kept in
//! `pending_receipts` and applied when a connector acknowledges that id:
//! SMSCs may send the receipt before the submit_sm_resp. Only once no
//! acknowledgement came for a while is a kept receipt tried in its other
//! forms (hex for decimal and back): tried at once, a receipt that overtook
//! its acknowledgement could match another message's id in the other base.

use async_trait::async_trait;
use smsgate_core::carrier_id::{alternative_ids, normalize_id};
use smsgate_core::{MessageId, Status, Timestamp};

use super::accounts::uuid_col;
use super::messages::{apply_to_message, corrupt, status_col};
use super::{Backend, Db, SqlStore, args};
use crate::*;
use crate::{ApplyOutcome, PartRecord, Result, StatusUpdate, Target};

/// A receipt's part, by connector and normalized carrier id. No join with
/// `messages`: its partial indexes would make SQLite recompile the
/// statement for every new binding.
pub(crate) const FIND_PART: &str = "SELECT message_id, part, parts FROM message_parts
      WHERE connector = ?1 AND carrier_key = ?2";

struct Found {
    id: MessageId,
    part: u32,
    parts: u32,
}

/// The part a carrier id names. Carriers reuse ids over time: a part of a
/// message still waiting for receipts wins, then the newest message.
fn find_part(conn: &impl Db, connector: &str, key: &str) -> Result<Option<Found>> {
    let rows = conn.all(FIND_PART, args![connector, key], |r| {
        Ok((r.get::<Vec<u8>>(0)?, r.get::<u32>(1)?, r.get::<u32>(2)?))
    })?;
    let found = |(id, part, parts): (Vec<u8>, u32, u32)| -> Result<Found> {
        Ok(Found {
            id: MessageId::from_bytes(uuid_col(Some(id)).ok_or_else(|| corrupt("message id", ""))?),
            part,
            parts,
        })
    };
    if rows.len() <= 1 {
        return rows.into_iter().next().map(found).transpose();
    }
    let mut ranked = Vec::with_capacity(rows.len());
    for row in rows {
        let waiting = conn
            .one(
                "SELECT status = 'sent' FROM messages WHERE id = ?1",
                args![&row.0],
                |r| r.get::<bool>(0),
            )?
            .unwrap_or(false);
        ranked.push((waiting, row));
    }
    ranked
        .into_iter()
        .max_by(|a, b| (a.0, &a.1.0).cmp(&(b.0, &b.1.0)))
        .map(|(_, row)| found(row))
        .transpose()
}

/// A receipt: recorded on its part, rolled up to the message, or kept
/// until its message is known.
pub(crate) fn apply_receipt(
    conn: &impl Db,
    connector: &str,
    carrier_id: &str,
    u: &StatusUpdate,
) -> Result<ApplyOutcome> {
    let key = normalize_id(carrier_id);
    let Some(part) = find_part(conn, connector, &key)? else {
        conn.exec(
            "INSERT INTO pending_receipts (connector, carrier_key, status, at, detail, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            args![
                connector,
                key,
                u.status.as_str(),
                u.at.0,
                u.detail,
                // When it arrived: the engine stamps receipts on its clock.
                u.at.0
            ],
        )?;
        return Ok(ApplyOutcome::Deferred);
    };
    apply_to_part(conn, part, u)
}

fn apply_to_part(conn: &impl Db, part: Found, u: &StatusUpdate) -> Result<ApplyOutcome> {
    conn.exec(
        "UPDATE message_parts SET status = ?1, updated_at = ?2, detail = ?3
          WHERE message_id = ?4 AND part = ?5",
        args![
            u.status.as_str(),
            u.at.0,
            u.detail,
            &part.id.as_bytes()[..],
            part.part
        ],
    )?;
    let mut to_message = StatusUpdate::new(Target::Message(part.id), u.status, u.at);
    if part.parts > 1 {
        if u.status == Status::Delivered {
            let delivered: u32 = conn.single(
                "SELECT count(*) FROM message_parts WHERE message_id = ?1 AND status = 'delivered'",
                args![&part.id.as_bytes()[..]],
                |r| r.get(0),
            )?;
            if delivered < part.parts {
                return Ok(ApplyOutcome::PartRecorded { id: part.id });
            }
        }
        to_message.detail = Some(match &u.detail {
            Some(d) => format!("part {} of {}: {d}", part.part, part.parts),
            None => format!("part {} of {}", part.part, part.parts),
        });
    } else {
        to_message.detail = u.detail.clone();
    }
    apply_to_message(conn, part.id, to_message)
}

/// Records the parts of a message that was just sent, then applies any
/// receipt that arrived for them before.
pub(crate) fn record_parts(
    conn: &impl Db,
    id: MessageId,
    connector: &str,
    carrier_ids: &[String],
) -> Result<()> {
    let parts = carrier_ids.len() as u32;
    let mut keys = Vec::with_capacity(carrier_ids.len());
    for (i, carrier_id) in carrier_ids.iter().enumerate() {
        let key = normalize_id(carrier_id);
        // A part sent again replaces the earlier one, receipt and all.
        conn.exec(
            "INSERT INTO message_parts (message_id, part, parts, connector, carrier_key, carrier_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (message_id, part) DO UPDATE SET parts = excluded.parts,
                 connector = excluded.connector, carrier_key = excluded.carrier_key,
                 carrier_id = excluded.carrier_id, status = NULL, updated_at = NULL, detail = NULL",
            args![
            &id.as_bytes()[..],
            i as u32 + 1,
            parts,
            connector,
            key,
            carrier_id
        ])?;
        keys.push((key, carrier_id));
    }
    for (key, carrier_id) in keys {
        for update in take_pending(conn, connector, &key)? {
            apply_receipt(conn, connector, carrier_id, &update)?;
        }
    }
    Ok(())
}

/// Tries receipts kept since before `received_before` in the other forms
/// of their ids; returns how many found their message.
pub(crate) fn match_pending(conn: &impl Db, received_before: Timestamp) -> Result<usize> {
    let rows = conn.all(
        "SELECT rowid, connector, carrier_key, status, at, detail FROM pending_receipts
              WHERE received_at < ?1 LIMIT 1000",
        args![received_before.0],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<i64>(4)?,
                r.get::<Option<String>>(5)?,
            ))
        },
    )?;
    let mut matched = 0;
    for (rowid, connector, key, status, at, detail) in rows {
        for alt in alternative_ids(&key) {
            let Some(part) = find_part(conn, &connector, &alt)? else {
                continue;
            };
            // A guess in another base only fills a part still waiting for
            // its receipt: a stray receipt must not overwrite a real one.
            let waiting: bool = conn.single(
                "SELECT status IS NULL FROM message_parts WHERE message_id = ?1 AND part = ?2",
                args![&part.id.as_bytes()[..], part.part],
                |r| r.get(0),
            )?;
            if !waiting {
                continue;
            }
            conn.exec(
                "DELETE FROM pending_receipts WHERE rowid = ?1",
                args![rowid],
            )?;
            let mut u = StatusUpdate::new(
                Target::Carrier {
                    connector: connector.clone(),
                    carrier_id: alt,
                },
                status_col(&status)?,
                Timestamp(at),
            );
            u.detail = detail.clone();
            apply_to_part(conn, part, &u)?;
            matched += 1;
            break;
        }
    }
    Ok(matched)
}

/// Removes and returns the receipts waiting for `key`.
pub(crate) fn take_pending(
    conn: &impl Db,
    connector: &str,
    key: &str,
) -> Result<Vec<StatusUpdate>> {
    let rows = conn.all("SELECT rowid, status, at, detail FROM pending_receipts WHERE connector = ?1 AND carrier_key = ?2", args![connector, key], |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<i64>(2)?,
                r.get::<Option<String>>(3)?,
            ))
        })?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(rows.len());
    for (rowid, status, at, detail) in rows {
        conn.exec(
            "DELETE FROM pending_receipts WHERE rowid = ?1",
            args![rowid],
        )?;
        let mut u = StatusUpdate::new(
            Target::Carrier {
                connector: connector.to_string(),
                carrier_id: key.to_string(),
            },
            status_col(&status)?,
            Timestamp(at),
        );
        u.detail = detail;
        out.push(u);
    }
    Ok(out)
}

/// Drops pending receipts received before `before`.
pub(crate) fn purge_pending(conn: &impl Db, before: Timestamp) -> Result<usize> {
    conn.exec(
        "DELETE FROM pending_receipts WHERE received_at < ?1",
        args![before.0],
    )
}

pub(crate) fn parts(conn: &impl Db, id: MessageId) -> Result<Vec<PartRecord>> {
    conn.all(
        "SELECT part, connector, carrier_id, status, updated_at, detail
           FROM message_parts WHERE message_id = ?1 ORDER BY part",
        args![&id.as_bytes()[..]],
        |r| {
            Ok((
                r.get::<u32>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<Option<String>>(3)?,
                r.get::<Option<i64>>(4)?,
                r.get::<Option<String>>(5)?,
            ))
        },
    )?
    .into_iter()
    .map(|row| {
        let (part, connector, carrier_id, status, updated_at, detail) = row;
        Ok(PartRecord {
            part,
            connector,
            carrier_id,
            status: status.as_deref().map(status_col).transpose()?,
            updated_at: updated_at.map(Timestamp),
            detail,
        })
    })
    .collect()
}

/// See `Store::acknowledged`: a range of the history by row id (its
/// primary key), then the current state of the messages acknowledged in it.
pub(crate) fn acknowledged(
    conn: &impl Db,
    after: i64,
    before: Timestamp,
    limit: usize,
) -> Result<crate::AcknowledgedPage> {
    let rows = conn.all(
        "SELECT rowid, status, at, message_id, applied FROM transitions
          WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        args![after, limit as i64],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<i64>(2)?,
                r.get::<Vec<u8>>(3)?,
                r.get::<bool>(4)?,
            ))
        },
    )?;
    let mut page = crate::AcknowledgedPage {
        cursor: after,
        messages: Vec::new(),
        more: rows.len() == limit,
    };
    for (row, status, at, id, applied) in rows {
        if at > before.0 {
            page.more = false;
            break;
        }
        page.cursor = row;
        if status != Status::Sent.as_str() || !applied {
            continue;
        }
        let connector: Option<Option<String>> = conn.one(
            "SELECT connector FROM messages WHERE id = ?1 AND status = 'sent'",
            args![id],
            |r| r.get(0),
        )?;
        if let Some(connector) = connector {
            let id = uuid_col(Some(id)).ok_or_else(|| corrupt("message id", ""))?;
            page.messages.push((MessageId::from_bytes(id), connector));
        }
    }
    Ok(page)
}

/// Carrier ids of parts `connector` acknowledged that have no final
/// receipt, of messages still `sent`.
pub(crate) fn awaiting_receipt(conn: &impl Db, connector: &str) -> Result<Vec<String>> {
    conn.all("SELECT p.carrier_id FROM message_parts p JOIN messages m ON m.id = p.message_id
          WHERE p.connector = ?1 AND m.status = 'sent'
            AND (p.status IS NULL OR p.status NOT IN ('delivered', 'undelivered', 'expired', 'rejected'))", args![connector], |r| r.get(0))
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> QueueStore for SqlStore<B> {
    async fn match_pending_receipts(&self, received_before: Timestamp) -> Result<usize> {
        self.write(move |c| super::receipts::match_pending(c, received_before))
            .await
    }
    async fn purge_pending_receipts(&self, before: Timestamp) -> Result<usize> {
        self.write(move |c| super::receipts::purge_pending(c, before))
            .await
    }
    async fn cancel(
        &self,
        account: AccountId,
        id: MessageId,
        now: Timestamp,
    ) -> Result<CancelOutcome> {
        self.write(move |c| super::messages::cancel(c, account, id, now))
            .await
    }
    async fn promote_scheduled(&self, now: Timestamp, limit: usize) -> Result<Vec<MessageId>> {
        self.write(move |c| super::messages::promote_scheduled(c, now, limit))
            .await
    }
    async fn expire_overdue(&self, now: Timestamp, limit: usize) -> Result<Vec<MessageId>> {
        self.write(move |c| super::messages::expire_overdue(c, now, limit))
            .await
    }
    async fn claim(
        &self,
        by: NodeId,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
        place: Option<Placer>,
    ) -> Result<Vec<Outbound>> {
        self.write(move |c| super::messages::claim(c, by, now, lease_until, limit, place.as_ref()))
            .await
    }
    async fn awaiting_receipt(&self, connector: &str) -> Result<Vec<String>> {
        let connector = connector.to_string();
        self.read(move |c| super::receipts::awaiting_receipt(c, &connector))
            .await
    }
    async fn apply(&self, updates: Vec<StatusUpdate>) -> Result<Vec<ApplyOutcome>> {
        self.write(move |c| {
            if c.dialect() == super::Dialect::Postgres && updates.len() > 1 {
                return super::bulk_apply::apply_all(c, updates);
            }
            updates
                .into_iter()
                .map(|u| super::messages::apply(c, u))
                .collect()
        })
        .await
    }
    async fn acknowledged(
        &self,
        after: i64,
        before: Timestamp,
        limit: usize,
    ) -> Result<crate::AcknowledgedPage> {
        self.read(move |c| super::receipts::acknowledged(c, after, before, limit))
            .await
    }
}
