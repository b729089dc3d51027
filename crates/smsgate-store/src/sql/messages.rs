//! SQL for messages: intake, queries, the queue and status changes.

use crate::BatchHistoryEntry;
use async_trait::async_trait;
use smsgate_core::send::{RejectReason, SendError};
use smsgate_core::{
    AccountId, Amount, BatchId, CallbackFormat, Category, Encoding, InboundId, MessageId, Status,
    Timestamp,
};

use super::accounts::{LedgerLine, insert_ledger, uuid_col};
use super::usage::Counted;
use super::{Arg, Backend, Db, Dialect, Rec, SqlStore, args, refs};
use crate::LedgerKind;
use crate::*;
use crate::{
    Acceptance, AcceptedMessage, ApplyOutcome, BatchSummary, CancelOutcome, EventType,
    MessageDetail, MessageFilter, MessageRecord, Outbound, Refusal, RejectedRecipient, Result,
    StatusUpdate, StoreError, Submission, Target, TransitionRecord,
};

/// Idempotency keys are honoured for this long.
const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 3600 * 1000;

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(crate) fn status_col(s: &str) -> Result<Status> {
    Status::parse(s).ok_or_else(|| corrupt("status", s))
}

fn insert_transition(
    conn: &impl Db,
    id: MessageId,
    status: Status,
    at: Timestamp,
    detail: Option<&str>,
    applied: bool,
) -> Result<()> {
    conn.exec("INSERT INTO transitions (message_id, status, at, detail, applied) VALUES (?1, ?2, ?3, ?4, ?5)", args![&id.as_bytes()[..], status.as_str(), at.0, detail, applied])?;
    Ok(())
}

// --- intake ---------------------------------------------------------------------------

/// Submissions all or none (see `Store::accept_together`), in a savepoint
/// of their own inside the writer's job.
pub(crate) fn accept_together(
    conn: &impl Db,
    submissions: Vec<Submission>,
    now: Timestamp,
) -> Result<Result<Vec<Result<Acceptance, Refusal>>, Refusal>> {
    conn.exec("SAVEPOINT together", args![])?;
    let mut out = Vec::with_capacity(submissions.len());
    for sub in submissions {
        match accept(conn, sub, now) {
            Ok(Err(r @ Refusal::NoValidRecipient(_))) => out.push(Err(r)),
            Ok(Err(refusal)) => {
                conn.exec("ROLLBACK TO together", args![])?;
                conn.exec("RELEASE together", args![])?;
                return Ok(Err(refusal));
            }
            Ok(Ok(a)) => out.push(Ok(a)),
            // The writer's job savepoint undoes everything on an error.
            Err(e) => return Err(e),
        }
    }
    conn.exec("RELEASE together", args![])?;
    Ok(Ok(out))
}

pub(crate) fn accept(
    conn: &impl Db,
    mut sub: Submission,
    now: Timestamp,
) -> Result<Result<Acceptance, Refusal>> {
    if let Some(idem) = &sub.idempotency {
        let found: Option<(Vec<u8>, String, i64)> = conn.one("SELECT fingerprint, response, created_at FROM idempotency WHERE account_id = ?1 AND key = ?2", args![sub.account.0, idem.key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if let Some((fingerprint, response, created_at)) = found {
            if created_at >= now.0 - IDEMPOTENCY_WINDOW_MS {
                if fingerprint != idem.fingerprint {
                    return Ok(Err(Refusal::IdempotencyConflict));
                }
                let mut acceptance: Acceptance = serde_json::from_str(&response)
                    .map_err(|e| StoreError::Corrupt(format!("idempotent response: {e}")))?;
                acceptance.replayed = true;
                return Ok(Ok(acceptance));
            }
            conn.exec(
                "DELETE FROM idempotency WHERE account_id = ?1 AND key = ?2",
                args![sub.account.0, idem.key],
            )?;
        }
    }

    // Checked here, in the transaction that stores the messages, so that a
    // STOP committed before this send is never missed.
    // Whether to refuse them is core's rule (`SendPlan::refuse`).
    let suppressed = super::suppressions::suppressed_messages(conn, sub.account, &sub.plan)?;
    if !suppressed.is_empty() {
        let refused = sub.plan.refuse(|m| {
            suppressed
                .contains(&m.id)
                .then_some(RejectReason::Suppressed)
        });
        if let Err(SendError::NoValidRecipient(rejected)) = refused {
            return Ok(Err(Refusal::NoValidRecipient(rejected)));
        }
    }

    // Where the charge is taken from: the account's balance, or the
    // category's when the account keeps them apart.
    let (status, split, main): (String, bool, i64) = conn
        .one(
            "SELECT status, split_balances, balance FROM accounts WHERE id = ?1",
            args![sub.account.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .ok_or(StoreError::NoSuchAccount(sub.account))?;
    if status != "active" {
        return Ok(Err(Refusal::AccountDisabled));
    }
    let pool = split.then(|| sub.plan.messages[0].category);
    // The conditional debit is what makes overspending impossible: it
    // matches no row unless the balance covers the whole request. (No
    // RETURNING: SQLite builds a temporary table for it on every call.)
    let debited = super::balances::debit(conn, sub.account, pool, sub.plan.total_cost)?;
    let balance = match pool {
        // Known without another read: what it was, less this charge.
        None if debited => Amount::from_minor(main - sub.plan.total_cost.minor()),
        None => Amount::from_minor(main),
        Some(_) => super::balances::balance(conn, sub.account, pool)?,
    };
    if !debited {
        return Ok(Err(Refusal::InsufficientCredits {
            balance,
            needed: sub.plan.total_cost,
        }));
    }

    let batch_id = sub.batch.as_ref().map(|b| b.id);
    if let Some(batch) = &sub.batch {
        conn.exec(
            "INSERT INTO batches (id, account_id, reference, accepted, rejected, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            args![
                &batch.id.as_bytes()[..],
                sub.account.0,
                batch.reference,
                sub.plan.messages.len() as i64,
                sub.plan.rejected.len() as i64,
                now.0
            ],
        )?;
    }
    let single = (sub.plan.messages.len() == 1).then(|| sub.plan.messages[0].id);
    let note = format!("{} message(s)", sub.plan.messages.len());
    let line = LedgerLine {
        message: single,
        batch: batch_id,
        note: Some(&note),
        pool,
        ..LedgerLine::new(
            sub.account,
            Amount::from_minor(-sub.plan.total_cost.minor()),
            LedgerKind::Debit,
        )
    };
    insert_ledger(conn, line, now)?;

    if sub.plan.messages.iter().any(|m| m.callback_url.is_some()) {
        super::webhooks::ensure_callbacks_endpoint(conn, sub.account, now)?;
    }
    let statuses = initial_statuses(&sub.plan, now);
    if conn.dialect() == Dialect::Postgres && sub.plan.messages.len() > 1 {
        let rows: Vec<_> = sub
            .plan
            .messages
            .iter()
            .zip(&statuses)
            .map(|(m, &status)| super::bulk_intake::Row {
                account: sub.account,
                batch: batch_id,
                pool,
                message: m,
                status,
            })
            .collect();
        super::bulk_intake::insert_messages(conn, &rows, now)?;
    } else {
        for (m, status) in sub.plan.messages.iter().zip(&statuses) {
            insert_message(conn, &sub, m, batch_id, pool, *status, now)?;
        }
    }
    for m in sub.plan.messages.iter().filter(|m| !m.links.is_empty()) {
        super::links::insert(conn, sub.account, m.id, &m.links)?;
    }
    let acceptance = acceptance(batch_id, &mut sub.plan, &statuses, balance, now);
    if let Some(idem) = &sub.idempotency {
        let response = serde_json::to_string(&acceptance)
            .map_err(|e| StoreError::Corrupt(format!("idempotent response: {e}")))?;
        conn.exec("INSERT INTO idempotency (account_id, key, fingerprint, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5)", args![sub.account.0, idem.key, &idem.fingerprint[..], response, now.0])?;
    }
    Ok(Ok(acceptance))
}

/// Where each accepted message starts: scheduled for later, or queued.
pub(crate) fn initial_statuses(plan: &smsgate_core::SendPlan, now: Timestamp) -> Vec<Status> {
    plan.messages
        .iter()
        .map(|m| {
            if m.schedule_at.is_some_and(|at| at > now) {
                Status::Scheduled
            } else {
                Status::Queued
            }
        })
        .collect()
}

/// What the client is told of an accepted request (its refused recipients
/// taken from the plan).
pub(crate) fn acceptance(
    batch_id: Option<BatchId>,
    plan: &mut smsgate_core::SendPlan,
    statuses: &[Status],
    balance: Amount,
    now: Timestamp,
) -> Acceptance {
    // The first two steps (accepted, then queued or scheduled) are
    // implied by created_at and schedule_at; see `initial_history`.
    let messages = plan
        .messages
        .iter()
        .zip(statuses)
        .map(|(m, &status)| AcceptedMessage {
            id: m.id,
            to: m.to.to_string(),
            status,
            segments: m.segments.parts,
            encoding: m.segments.encoding,
            cost: m.cost,
            item: m.item,
        })
        .collect();
    Acceptance {
        batch_id,
        messages,
        rejected: std::mem::take(&mut plan.rejected)
            .into_iter()
            .map(|r| RejectedRecipient {
                to: r.to,
                code: r.reason.code().into(),
                reason: r.reason.to_string(),
            })
            .collect(),
        balance,
        accepted_at: Some(now),
        replayed: false,
    }
}

/// One accepted message, and its `message.queued` event when it is.
fn insert_message(
    conn: &impl Db,
    sub: &Submission,
    m: &smsgate_core::send::NewMessage,
    batch_id: Option<BatchId>,
    pool: Option<Category>,
    status: Status,
    now: Timestamp,
) -> Result<()> {
    // How it counts; its country's code bound once for both.
    let counted = Counted::new_message(sub.account, m, status, now);
    conn.exec(
        "INSERT INTO messages (id, account_id, batch_id, recipient, sender, body, encoding, segments, cost,
             category, route_class, reference, priority, status, created_at, updated_at, schedule_at, due_at, expires_at,
             event_seq, in_reply_to, callback_url, item, payload, callback_format, pool, campaign_ref, country)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                 ?22, ?23, ?24, ?25, ?26, ?27)",
        args![
            &m.id.as_bytes()[..],
            sub.account.0,
            batch_id.map(|b| b.as_bytes().to_vec()),
            m.to.as_str(),
            m.from.as_str(),
            m.text,
            m.segments.encoding.as_str(),
            m.segments.parts as i64,
            m.cost.minor(),
            m.category.as_str(),
            m.route_class,
            m.reference,
            m.priority,
            status.as_str(),
            now.0,
            m.schedule_at.map(|t| t.0),
            m.schedule_at.unwrap_or(now).0,
            m.expires_at.map(|t| t.0),
            i64::from(status == Status::Queued),
            m.in_reply_to.map(|i| i.as_bytes().to_vec()),
            m.callback_url,
            m.item,
            m.payload,
            m.callback_url.as_ref().map(|_| m.callback_format.as_str()),
            pool.map(Category::as_str),
            m.campaign_ref,
            counted.country,
        ],
    )?;
    super::usage::count(conn, &counted)?;
    if status == Status::Queued {
        super::events::message_event(
            conn,
            sub.account,
            EventType::MessageQueued,
            m.id,
            1,
            None,
            now,
        )?;
    }
    Ok(())
}

pub(crate) fn purge_idempotency(conn: &impl Db, before: Timestamp) -> Result<usize> {
    conn.exec(
        "DELETE FROM idempotency WHERE created_at < ?1",
        args![before.0],
    )
}

// --- queries --------------------------------------------------------------------------

pub(crate) const MESSAGE_COLUMNS: &str = "id, account_id, batch_id, recipient, sender, body, encoding, segments, cost, \
     category, route_class, reference, priority, status, created_at, updated_at, schedule_at, expires_at, \
     attempts, connector, carrier_id, error, refunded, in_reply_to, callback_url, item, payload, callback_format, campaign_ref, \
     (SELECT reference FROM batches WHERE batches.id = messages.batch_id), carrier_cost";

pub(crate) fn message_row(r: &Rec<'_>) -> Result<MessageRecord> {
    let encoding: String = r.get(6)?;
    let category: String = r.get(9)?;
    let status: String = r.get(13)?;
    let build = || -> Result<MessageRecord> {
        Ok(MessageRecord {
            id: message_id(r, 0)?,
            account_id: AccountId(r.get(1)?),
            batch_id: uuid_col(r.get(2)?).map(BatchId::from_bytes),
            to: r.get(3)?,
            from: r.get(4)?,
            text: r.get(5)?,
            encoding: Encoding::parse(&encoding).ok_or_else(|| corrupt("encoding", &encoding))?,
            segments: r.get::<i64>(7)? as usize,
            cost: Amount::from_minor(r.get(8)?),
            category: Category::parse(&category).ok_or_else(|| corrupt("category", &category))?,
            route_class: r.get(10)?,
            reference: r.get(11)?,
            priority: r.get(12)?,
            status: status_col(&status)?,
            created_at: Timestamp(r.get(14)?),
            updated_at: Timestamp(r.get(15)?),
            schedule_at: r.get::<Option<i64>>(16)?.map(Timestamp),
            expires_at: r.get::<Option<i64>>(17)?.map(Timestamp),
            attempts: r.get(18)?,
            connector: r.get(19)?,
            carrier_id: r.get(20)?,
            error: r.get(21)?,
            refunded: r.get(22)?,
            in_reply_to: uuid_col(r.get(23)?).map(InboundId::from_bytes),
            callback_url: r.get(24)?,
            item: r.get(25)?,
            payload: r.get(26)?,
            callback_format: match r.get::<Option<String>>(27)? {
                None => CallbackFormat::Native,
                Some(f) => {
                    CallbackFormat::parse(&f).ok_or_else(|| corrupt("callback format", &f))?
                }
            },
            campaign_ref: r.get(28)?,
            batch_reference: r.get(29)?,
            carrier_cost: r.get::<Option<i64>>(30)?.map(Amount::from_minor),
        })
    };
    build()
}

/// The steps every message takes at intake, which are not stored as rows
/// (two rows per message would be a third of the intake's writes).
fn initial_history(m: &MessageRecord) -> Vec<TransitionRecord> {
    let first = if m.schedule_at.is_some_and(|at| at > m.created_at) {
        Status::Scheduled
    } else {
        Status::Queued
    };
    [Status::Accepted, first]
        .into_iter()
        .map(|status| TransitionRecord {
            status,
            at: m.created_at,
            detail: None,
            applied: true,
        })
        .collect()
}

pub(crate) fn message(
    conn: &impl Db,
    account: Option<AccountId>,
    id: MessageId,
) -> Result<Option<MessageDetail>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    let Some(message) = conn.one(&sql, args![&id.as_bytes()[..]], message_row)? else {
        return Ok(None);
    };
    if account.is_some_and(|a| a != message.account_id) {
        return Ok(None);
    }
    let mut history = initial_history(&message);
    let stored = conn.all(
        "SELECT status, at, detail, applied FROM transitions WHERE message_id = ?1 ORDER BY rowid",
        args![&id.as_bytes()[..]],
        |r| {
            Ok(TransitionRecord {
                status: status_col(&r.get::<String>(0)?)?,
                at: Timestamp(r.get(1)?),
                detail: r.get(2)?,
                applied: r.get(3)?,
            })
        },
    )?;
    history.extend(stored);
    let parts = super::receipts::parts(conn, id)?;
    let links = super::links::of_message(conn, id)?;
    Ok(Some(MessageDetail {
        message,
        history,
        parts,
        links,
    }))
}

/// How many messages the account has.
pub(crate) fn count_messages(conn: &impl Db, account: AccountId) -> Result<u64> {
    Ok(conn.single(
        "SELECT count(*) FROM messages WHERE account_id = ?1",
        args![account.0],
        |r| r.get::<i64>(0),
    )? as u64)
}

pub(crate) fn messages(
    conn: &impl Db,
    account: AccountId,
    f: MessageFilter,
) -> Result<Vec<MessageRecord>> {
    let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE account_id = ?");
    let mut args: Vec<Box<dyn Arg>> = vec![Box::new(account.0)];
    if let Some(s) = f.status {
        sql.push_str(" AND status = ?");
        args.push(Box::new(s.as_str()));
    }
    if let Some(to) = f.to {
        sql.push_str(" AND recipient = ?");
        args.push(Box::new(to));
    }
    if let Some(b) = f.batch {
        sql.push_str(" AND batch_id = ?");
        args.push(Box::new(b.as_bytes().to_vec()));
    }
    if let Some(r) = f.reference {
        sql.push_str(" AND reference = ?");
        args.push(Box::new(r));
    }
    if let Some(t) = f.since {
        sql.push_str(" AND created_at >= ?");
        args.push(Box::new(t.0));
    }
    if let Some(t) = f.until {
        sql.push_str(" AND created_at < ?");
        args.push(Box::new(t.0));
    }
    if let Some(c) = f.before {
        sql.push_str(" AND id < ?");
        args.push(Box::new(c.as_bytes().to_vec()));
    }
    sql.push_str(" ORDER BY id DESC LIMIT ? OFFSET ?");
    args.push(Box::new(f.limit as i64));
    args.push(Box::new(f.offset as i64));
    conn.all(&sql, &refs(&args), message_row)
}

pub(crate) fn batch_history(
    conn: &impl Db,
    account: AccountId,
    from: Timestamp,
    to: Timestamp,
    offset: usize,
    limit: usize,
) -> Result<(u64, Vec<BatchHistoryEntry>)> {
    let total: i64 = conn.single("SELECT COUNT(*) FROM batches WHERE account_id = ?1 AND created_at >= ?2 AND created_at < ?3", args![account.0, from.0, to.0], |r| r.get(0))?;
    let rows = conn.all("SELECT b.id, b.reference, b.accepted, b.created_at, m.sender, m.route_class, m.schedule_at
         FROM batches b
         LEFT JOIN messages m ON m.id = (SELECT id FROM messages WHERE batch_id = b.id LIMIT 1)
         WHERE b.account_id = ?1 AND b.created_at >= ?2 AND b.created_at < ?3
         ORDER BY b.created_at DESC, b.id
         LIMIT ?4 OFFSET ?5", args![account.0, from.0, to.0, limit as i64, offset as i64], |r| {
                Ok((
                    r.get::<Vec<u8>>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<i64>(3)?,
                    r.get::<Option<String>>(4)?,
                    r.get::<Option<String>>(5)?,
                    r.get::<Option<i64>>(6)?,
                ))
            })?.into_iter()
        .map(|row| {
            let (id, reference, accepted, created_at, sender, route_class, schedule_at) = row;
            Ok(BatchHistoryEntry {
                id: BatchId::from_bytes(uuid_col(Some(id)).ok_or_else(|| corrupt("batch id", ""))?),
                reference,
                accepted: accepted as u64,
                created_at: Timestamp(created_at),
                sender,
                route_class,
                schedule_at: schedule_at.map(Timestamp),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((total as u64, rows))
}

pub(crate) fn batch(
    conn: &impl Db,
    account: AccountId,
    id: BatchId,
) -> Result<Option<BatchSummary>> {
    let found = conn.one("SELECT reference, accepted, rejected, created_at FROM batches WHERE id = ?1 AND account_id = ?2", args![&id.as_bytes()[..], account.0], |r| {
            Ok((r.get(0)?, r.get::<i64>(1)? as u64, r.get::<i64>(2)? as u64, Timestamp(r.get(3)?)))
        })?;
    let Some((reference, accepted, rejected, created_at)) = found else {
        return Ok(None);
    };
    let statuses = conn.all("SELECT status, COUNT(*) FROM messages WHERE batch_id = ?1 GROUP BY status ORDER BY status", args![&id.as_bytes()[..]], |r| {
            Ok((r.get::<String>(0)?, r.get::<i64>(1)?))
        })?.into_iter()
        .map(|row| {
            let (s, n) = row;
            Ok((status_col(&s)?, n as u64))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(BatchSummary {
        id,
        reference,
        accepted,
        rejected,
        created_at,
        statuses,
    }))
}

pub(crate) fn batch_by_reference(
    conn: &impl Db,
    account: AccountId,
    reference: &str,
) -> Result<Option<BatchSummary>> {
    let id: Option<Vec<u8>> = conn.one(
        "SELECT id FROM batches WHERE account_id = ?1 AND reference = ?2
              ORDER BY created_at DESC LIMIT 1",
        args![account.0, reference],
        |r| r.get(0),
    )?;
    match uuid_col(id) {
        Some(id) => batch(conn, account, BatchId::from_bytes(id)),
        None => Ok(None),
    }
}

/// Waiting messages, counted through the partial queue indexes.
pub(crate) fn queue_depth(conn: &impl Db) -> Result<crate::QueueDepth> {
    let count = |status: &str| -> Result<u64> {
        let n: i64 = conn.single(
            "SELECT COUNT(*) FROM messages WHERE status = ?1",
            args![status],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    };
    Ok(crate::QueueDepth {
        scheduled: count("scheduled")?,
        queued: count("queued")?,
        submitting: count("submitting")?,
    })
}

// --- status changes -------------------------------------------------------------------

/// The statuses of a message still to be sent, as an SQL list: such a
/// message keeps its text and number through erasure and retention.
pub(crate) const WAITING: &str = "('accepted', 'scheduled', 'queued', 'submitting')";

pub(crate) struct Current {
    pub(crate) id: MessageId,
    pub(crate) account: AccountId,
    pub(crate) status: Status,
    pub(crate) cost: Amount,
    pub(crate) refunded: bool,
    pub(crate) event_seq: u32,
    /// The balance it was charged to (`None`: the account's).
    pub(crate) pool: Option<Category>,
}

impl Current {
    /// Whether becoming `to` gives the charge back.
    pub(crate) fn refunds(&self, to: Status) -> bool {
        to.refunds_from(self.status) && !self.refunded && self.cost > Amount::ZERO
    }

    /// Whether `to` moves the message without a refund: what a batch may
    /// apply together (see `bulk_apply`).
    pub(crate) fn moves_plainly(&self, to: Status) -> bool {
        self.status.can_become(to) && !self.refunds(to)
    }
}

/// The columns `current_row` reads, after the id.
pub(crate) const CURRENT_COLUMNS: &str = "account_id, status, cost, refunded, event_seq, pool";

/// A message's state from a row of [`CURRENT_COLUMNS`] starting at `at`.
pub(crate) fn current_row(r: &Rec<'_>, id: MessageId, at: usize) -> Result<Current> {
    let status: String = r.get(at + 1)?;
    let pool: Option<String> = r.get(at + 5)?;
    Ok(Current {
        id,
        account: AccountId(r.get(at)?),
        status: status_col(&status)?,
        cost: Amount::from_minor(r.get(at + 2)?),
        refunded: r.get(at + 3)?,
        event_seq: r.get(at + 4)?,
        pool: match pool {
            None => None,
            Some(p) => Some(Category::parse(&p).ok_or_else(|| corrupt("pool", &p))?),
        },
    })
}

/// Every status change of a message.
pub(crate) const UPDATE_STATUS: &str =
    "UPDATE messages SET status = ?1, updated_at = ?2, lease_until = NULL,
         connector = COALESCE(?3, connector), carrier_id = COALESCE(?4, carrier_id),
         error = COALESCE(?5, error), due_at = COALESCE(?6, due_at), event_seq = ?8,
         carrier_cost = COALESCE(?9, carrier_cost)
     WHERE id = ?7";

fn current(conn: &impl Db, id: MessageId) -> Result<Option<(Current, Counted)>> {
    // Locked until the change is written: another node may be changing
    // the same message (a receipt on one, a cancel on another).
    // Both texts whole: this runs for every status change.
    const SQL: &str = "SELECT account_id, status, cost, refunded, event_seq, pool,
            created_at, category, country, segments, connector, carrier_cost, updated_at
       FROM messages WHERE id = ?1";
    const LOCKED: &str = "SELECT account_id, status, cost, refunded, event_seq, pool,
            created_at, category, country, segments, connector, carrier_cost, updated_at
       FROM messages WHERE id = ?1 FOR NO KEY UPDATE";
    // (CURRENT_COLUMNS and COUNTED_COLUMNS, written out so that the texts
    // are constants.)
    let sql = if conn.for_update().is_empty() {
        SQL
    } else {
        LOCKED
    };
    conn.one(sql, args![&id.as_bytes()[..]], |r| {
        let cur = current_row(r, id, 0)?;
        let counted = Counted::from_row(r, &cur, 6)?;
        Ok((cur, counted))
    })
}

pub(crate) fn apply(conn: &impl Db, u: StatusUpdate) -> Result<ApplyOutcome> {
    match &u.target {
        Target::Message(id) => apply_to_message(conn, *id, u),
        Target::Carrier {
            connector,
            carrier_id,
        } => super::receipts::apply_receipt(conn, connector, carrier_id, &u),
    }
}

/// A status change of one message: legal ones move it (refunding where
/// the lifecycle says), others are recorded in its history only.
pub(crate) fn apply_to_message(
    conn: &impl Db,
    id: MessageId,
    u: StatusUpdate,
) -> Result<ApplyOutcome> {
    let Some((cur, counted)) = current(conn, id)? else {
        return Ok(ApplyOutcome::NotFound);
    };
    if !cur.status.can_become(u.status) {
        let detail = match &u.detail {
            Some(d) => format!("ignored, message was {}: {d}", cur.status),
            None => format!("ignored, message was {}", cur.status),
        };
        insert_transition(conn, cur.id, u.status, u.at, Some(&detail), false)?;
        return Ok(ApplyOutcome::Ignored {
            id: cur.id,
            current: cur.status,
        });
    }
    let error = u.detail.as_deref().filter(|_| u.status.is_error());
    let event = EventType::of_status(u.status);
    let event_seq = cur.event_seq + u32::from(event.is_some());
    conn.exec(
        UPDATE_STATUS,
        args![
            u.status.as_str(),
            u.at.0,
            u.connector,
            u.carrier_ids.first(),
            error,
            u.retry_at.map(|t| t.0),
            &cur.id.as_bytes()[..],
            event_seq,
            u.carrier_cost.map(Amount::minor)
        ],
    )?;
    insert_transition(conn, cur.id, u.status, u.at, u.detail.as_deref(), true)?;
    if let Some(event) = event {
        super::events::message_event(
            conn,
            cur.account,
            event,
            cur.id,
            event_seq,
            u.detail.as_deref(),
            u.at,
        )?;
    }
    if let (Some(connector), false) = (&u.connector, u.carrier_ids.is_empty()) {
        super::receipts::record_parts(conn, cur.id, connector, &u.carrier_ids)?;
    }
    let mut refunded = Amount::ZERO;
    if cur.refunds(u.status) {
        super::balances::credit(conn, cur.account, cur.pool, cur.cost)?;
        conn.exec(
            "UPDATE messages SET refunded = TRUE WHERE id = ?1",
            args![&cur.id.as_bytes()[..]],
        )?;
        let note = format!("message {}", u.status);
        let line = LedgerLine {
            message: Some(cur.id),
            note: Some(&note),
            pool: cur.pool,
            ..LedgerLine::new(cur.account, cur.cost, LedgerKind::Refund)
        };
        insert_ledger(conn, line, u.at)?;
        refunded = cur.cost;
    }
    super::usage::moved(conn, &counted, &counted.after(&u, refunded > Amount::ZERO))?;
    Ok(ApplyOutcome::Applied {
        id: cur.id,
        account: cur.account,
        from: cur.status,
        to: u.status,
        refunded,
    })
}

pub(crate) fn cancel(
    conn: &impl Db,
    account: AccountId,
    id: MessageId,
    now: Timestamp,
) -> Result<CancelOutcome> {
    let found: Option<(i64, String, Option<String>)> = conn.one(
        "SELECT account_id, status, pool FROM messages WHERE id = ?1",
        args![&id.as_bytes()[..]],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let Some((_, status, pool)) = found.filter(|(owner, _, _)| *owner == account.0) else {
        return Ok(CancelOutcome::NotFound);
    };
    // The refund goes back to the balance the message was charged to.
    let pool = match pool.as_deref() {
        None => None,
        Some(p) => Some(Category::parse(p).ok_or_else(|| corrupt("message pool", p))?),
    };
    let status = status_col(&status)?;
    if !status.is_cancelable() {
        return Ok(CancelOutcome::NotCancelable(status));
    }
    let mut update = StatusUpdate::new(Target::Message(id), Status::Canceled, now);
    update.detail = Some("canceled by the client".into());
    match apply_to_message(conn, id, update)? {
        ApplyOutcome::Applied { refunded, .. } => Ok(CancelOutcome::Canceled {
            refunded,
            balance: super::balances::balance(conn, account, pool)?,
        }),
        ApplyOutcome::Ignored { current, .. } => Ok(CancelOutcome::NotCancelable(current)),
        _ => Ok(CancelOutcome::NotFound),
    }
}

// --- the queue --------------------------------------------------------------------------

/// A message id column.
pub(crate) fn message_id(r: &Rec<'_>, i: usize) -> Result<MessageId> {
    uuid_col(Some(r.get(i)?))
        .map(MessageId::from_bytes)
        .ok_or_else(|| corrupt("message id", ""))
}

pub(crate) fn promote_scheduled(
    conn: &impl Db,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<MessageId>> {
    let sql = format!(
        "UPDATE messages SET status = 'queued', updated_at = ?1, event_seq = event_seq + 1
          WHERE status = 'scheduled' AND id IN (
                SELECT id FROM messages WHERE status = 'scheduled' AND due_at <= ?1
                 ORDER BY due_at LIMIT ?2{})
          RETURNING id, account_id, event_seq",
        conn.skip_locked()
    );
    let promoted = conn.all(&sql, args![now.0, limit as i64], |r| {
        Ok((message_id(r, 0)?, r.get::<i64>(1)?, r.get::<u32>(2)?))
    })?;
    let mut ids = Vec::with_capacity(promoted.len());
    for &(id, account, seq) in &promoted {
        ids.push(id);
        insert_transition(
            conn,
            id,
            Status::Queued,
            now,
            Some("scheduled time reached"),
            true,
        )?;
        super::events::message_event(
            conn,
            AccountId(account),
            EventType::MessageQueued,
            id,
            seq,
            None,
            now,
        )?;
    }
    Ok(ids)
}

pub(crate) fn expire_overdue(
    conn: &impl Db,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<MessageId>> {
    let sql = format!(
        "SELECT id FROM messages WHERE expires_at < ?1 AND status IN ('scheduled', 'queued')
         AND expires_at IS NOT NULL LIMIT ?2{}",
        conn.skip_locked()
    );
    let ids = conn.all(&sql, args![now.0, limit as i64], |r| message_id(r, 0))?;
    for id in &ids {
        let mut u = StatusUpdate::new(Target::Message(*id), Status::Expired, now);
        u.detail = Some("validity ended before the message could be sent".into());
        apply(conn, u)?;
    }
    Ok(ids)
}

fn outbound_row(r: &Rec<'_>) -> Result<Outbound> {
    let encoding: String = r.get(5)?;
    let category: String = r.get(7)?;
    let build = || -> Result<Outbound> {
        Ok(Outbound {
            id: message_id(r, 0)?,
            account_id: AccountId(r.get(1)?),
            to: r.get(2)?,
            from: r.get(3)?,
            text: r.get(4)?,
            encoding: Encoding::parse(&encoding).ok_or_else(|| corrupt("encoding", &encoding))?,
            segments: r.get::<i64>(6)? as usize,
            category: Category::parse(&category).ok_or_else(|| corrupt("category", &category))?,
            route_class: r.get(8)?,
            priority: r.get(9)?,
            attempts: r.get(10)?,
            expires_at: r.get::<Option<i64>>(11)?.map(Timestamp),
        })
    };
    build()
}

const OUTBOUND_COLUMNS: &str = "id, account_id, recipient, sender, body, encoding, segments, category, route_class, priority, attempts, expires_at";

/// A claim's `LIMIT`. Bound as it is, SQLite compiles the statement again
/// whenever the bound values change (its planner reads a bare `LIMIT ?`),
/// which for a claim was ~3,000 instructions a message; through a cast
/// it does not.
const CLAIM_LIMIT: &str = "CAST(?3 AS BIGINT)";

/// Messages a claim may take: not those handed to a connector that
/// another live node holds.
const CLAIMABLE: &str = "(via IS NULL OR NOT EXISTS (
    SELECT 1 FROM connector_leases l
     WHERE l.connector = messages.via AND l.node_id <> ?4 AND l.expires_at >= ?2))";

/// A claim's statement: of messages a crashed or stalled worker left
/// behind (`retaken`), or of the queue. Arguments: lease end, now, how
/// many, the claiming node.
pub(crate) fn claim_sql(conn: &impl Db, retaken: bool) -> String {
    let (set_status, picked) = if retaken {
        ("", "status = 'submitting' AND lease_until < ?2")
    } else {
        (
            "status = 'submitting', ",
            "status = 'queued' AND due_at <= ?2",
        )
    };
    let order = if retaken {
        ""
    } else {
        "ORDER BY priority DESC, due_at"
    };
    format!(
        "UPDATE messages SET {set_status}lease_until = ?1, attempts = attempts + 1, updated_at = ?2,
                claimed_by = ?4, via = NULL
          WHERE id IN (SELECT id FROM messages WHERE {picked} AND {CLAIMABLE}
                        {order} LIMIT {CLAIM_LIMIT}{})
          RETURNING {OUTBOUND_COLUMNS}",
        conn.skip_locked()
    )
}

pub(crate) fn claim(
    conn: &impl Db,
    by: NodeId,
    now: Timestamp,
    lease_until: Timestamp,
    limit: usize,
    place: Option<&Placer>,
) -> Result<Vec<Outbound>> {
    // First what a crashed or stalled worker left behind, then the queue.
    // Rows another node is claiming are skipped, not waited for.
    let retaken = conn.all(
        &claim_sql(conn, true),
        args![lease_until.0, now.0, limit as i64, by.0],
        outbound_row,
    )?;
    let mut out = hand_off(conn, retaken, place, "submitting", now)?;
    claimed_transitions(conn, &out, now, Some("lease expired, claimed again"))?;
    let retaken = out.len();
    if out.len() < limit {
        let fresh = conn.all(
            &claim_sql(conn, false),
            args![lease_until.0, now.0, (limit - out.len()) as i64, by.0],
            outbound_row,
        )?;
        let fresh = hand_off(conn, fresh, place, "queued", now)?;
        claimed_transitions(conn, &fresh, now, None)?;
        out.extend(fresh);
    }
    // RETURNING gives no order; dispatch in priority order.
    out[retaken..].sort_by_key(|m| std::cmp::Reverse(m.priority));
    Ok(out)
}

/// The `submitting` step of each message claimed: on PostgreSQL in one
/// statement (a round trip each was most of a claim's cost there).
fn claimed_transitions(
    conn: &impl Db,
    claimed: &[Outbound],
    now: Timestamp,
    detail: Option<&str>,
) -> Result<()> {
    if conn.dialect() == Dialect::Postgres && claimed.len() > 1 {
        let ids: Vec<Vec<u8>> = claimed.iter().map(|m| m.id.as_bytes().to_vec()).collect();
        conn.exec(
            "INSERT INTO transitions (message_id, status, at, detail, applied)
             SELECT id, ?2::text, ?3::bigint, ?4::text, TRUE
               FROM UNNEST(?1::bytea[]) WITH ORDINALITY AS u(id, n) ORDER BY n",
            args![
                super::PgOnly(ids),
                Status::Submitting.as_str(),
                now.0,
                detail
            ],
        )?;
        return Ok(());
    }
    for m in claimed {
        insert_transition(conn, m.id, Status::Submitting, now, detail, true)?;
    }
    Ok(())
}

/// Of messages just claimed, keeps those `place` says this node carries;
/// the others go back as they were (`status`, unclaimed, the attempt not
/// counted), waiting for the connector another node holds.
fn hand_off(
    conn: &impl Db,
    claimed: Vec<Outbound>,
    place: Option<&Placer>,
    status: &str,
    now: Timestamp,
) -> Result<Vec<Outbound>> {
    let Some(place) = place else {
        return Ok(claimed);
    };
    let mut kept = Vec::with_capacity(claimed.len());
    for m in claimed {
        match place(&m) {
            Placement::Here => kept.push(m),
            Placement::HandTo(connector) => {
                // A lease in the past: claimable again at once by the
                // holder (a message retaken stays `submitting`).
                let lease = if status == "queued" { None } else { Some(0i64) };
                conn.exec(
                    "UPDATE messages SET status = ?1, via = ?2, lease_until = ?3,
                            attempts = attempts - 1, claimed_by = NULL, updated_at = ?4
                      WHERE id = ?5",
                    args![status, connector, lease, now.0, &m.id.as_bytes()[..]],
                )?;
            }
        }
    }
    Ok(kept)
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> IntakeStore for SqlStore<B> {
    async fn accept(
        &self,
        submissions: Vec<Submission>,
        now: Timestamp,
    ) -> Result<Vec<Result<Acceptance, Refusal>>> {
        self.write(move |c| {
            if c.dialect() == Dialect::Postgres && submissions.len() > 1 {
                return super::bulk_intake::accept_all(c, submissions, now);
            }
            submissions
                .into_iter()
                .map(|s| super::messages::accept(c, s, now))
                .collect()
        })
        .await
    }
    async fn accept_together(
        &self,
        submissions: Vec<Submission>,
        now: Timestamp,
    ) -> Result<Result<Vec<Result<Acceptance, Refusal>>, Refusal>> {
        self.write(move |c| super::messages::accept_together(c, submissions, now))
            .await
    }
    async fn purge_idempotency(&self, before: Timestamp) -> Result<usize> {
        self.write(move |c| super::messages::purge_idempotency(c, before))
            .await
    }
}

#[async_trait]
impl<B: Backend> MessageReads for SqlStore<B> {
    async fn batch_by_reference(
        &self,
        account: AccountId,
        reference: &str,
    ) -> Result<Option<BatchSummary>> {
        let reference = reference.to_string();
        self.read(move |c| super::messages::batch_by_reference(c, account, &reference))
            .await
    }
    async fn message(
        &self,
        account: Option<AccountId>,
        id: MessageId,
    ) -> Result<Option<MessageDetail>> {
        self.read(move |c| super::messages::message(c, account, id))
            .await
    }
    async fn count_messages(&self, account: AccountId) -> Result<u64> {
        self.read(move |c| super::messages::count_messages(c, account))
            .await
    }
    async fn messages(
        &self,
        account: AccountId,
        filter: MessageFilter,
    ) -> Result<Vec<MessageRecord>> {
        self.read(move |c| super::messages::messages(c, account, filter))
            .await
    }
    async fn batch(&self, account: AccountId, id: BatchId) -> Result<Option<BatchSummary>> {
        self.read(move |c| super::messages::batch(c, account, id))
            .await
    }
    async fn batch_history(
        &self,
        account: AccountId,
        from: Timestamp,
        to: Timestamp,
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<BatchHistoryEntry>)> {
        self.read(move |c| super::messages::batch_history(c, account, from, to, offset, limit))
            .await
    }
    async fn queue_depth(&self) -> Result<QueueDepth> {
        self.read(super::messages::queue_depth).await
    }
}
