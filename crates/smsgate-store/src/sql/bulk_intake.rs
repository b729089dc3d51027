//! PostgreSQL: a group commit's submissions in a few statements for the
//! whole group, not a few each. A round trip per statement is what the
//! intake costs there (~150 µs on one machine), so one-message requests
//! arriving together are locked, checked, charged and stored together:
//! their accounts locked once in id order (which also keeps two nodes'
//! groups from waiting on each other in a circle), their recipients checked
//! against the suppression list in one query, the balances debited in one
//! update, and the ledger entries, messages and `message.queued` events
//! inserted with one `UNNEST` each, in the submissions' order.
//!
//! The outcome is what `accept` one after the other gives: a submission is
//! charged against what the earlier ones left. Submissions this does not
//! cover (an idempotency key, a batch, tracked links or callbacks, an
//! account that keeps category balances) take the general path after the
//! others, in the same transaction.

use std::collections::{HashMap, HashSet};

use smsgate_core::send::{NewMessage, RejectReason, SendError};
use smsgate_core::{AccountId, Amount, BatchId, Category, Status, Timestamp};

use super::{Db, PgOnly, args};
use crate::{Acceptance, EventType, Refusal, Result, Submission};

/// Whether the group path covers `sub` (its account is checked later).
fn plain(sub: &Submission) -> bool {
    sub.idempotency.is_none()
        && sub.batch.is_none()
        && sub
            .plan
            .messages
            .iter()
            .all(|m| m.links.is_empty() && m.callback_url.is_none())
}

struct AccountRow {
    active: bool,
    split: bool,
    /// What is left after the submissions charged so far.
    balance: i64,
}

/// A submission charged, waiting for its rows to be written.
struct Charged {
    sub: Submission,
    statuses: Vec<Status>,
}

pub(crate) fn accept_all(
    conn: &impl Db,
    submissions: Vec<Submission>,
    now: Timestamp,
) -> Result<Vec<Result<Acceptance, Refusal>>> {
    let mut ids: Vec<i64> = submissions.iter().map(|s| s.account.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut accounts: HashMap<i64, AccountRow> = conn
        .all(
            // The lock a balance update takes (not FOR UPDATE: that one
            // would also wait for, and deadlock with, other nodes' inserts
            // of rows naming the account, which hold KEY SHARE on it).
            "SELECT id, status, split_balances, balance FROM accounts
              WHERE id = ANY(?1::bigint[]) ORDER BY id FOR NO KEY UPDATE",
            args![PgOnly(ids)],
            |r| {
                Ok((
                    r.get::<i64>(0)?,
                    AccountRow {
                        active: r.get::<String>(1)? == "active",
                        split: r.get(2)?,
                        balance: r.get(3)?,
                    },
                ))
            },
        )?
        .into_iter()
        .collect();
    let suppressed = suppressed(conn, &submissions)?;
    let is_listed =
        |account: AccountId, m: &NewMessage| suppressed.contains(&(account.0, m.to.to_string()));

    let mut results = Vec::with_capacity(submissions.len());
    let mut charged: Vec<Charged> = Vec::new();
    for mut sub in submissions {
        let Some(account) = accounts
            .get_mut(&sub.account.0)
            .filter(|a| !a.split && plain(&sub))
        else {
            // The general path, in its place in the order: what was
            // charged before it is written first. (An unknown account
            // fails there, as it does alone.)
            write_charged(conn, std::mem::take(&mut charged), now)?;
            let id = sub.account;
            results.push(super::messages::accept(conn, sub, now)?);
            if let Some(a) = accounts.get_mut(&id.0) {
                a.balance = super::balances::balance(conn, id, None)?.minor();
            }
            continue;
        };
        // Suppressed recipients are refused as `accept` refuses them.
        if sub.plan.messages.iter().any(|m| is_listed(sub.account, m)) {
            let id = sub.account;
            let refused = sub
                .plan
                .refuse(|m| is_listed(id, m).then_some(RejectReason::Suppressed));
            if let Err(SendError::NoValidRecipient(rejected)) = refused {
                results.push(Err(Refusal::NoValidRecipient(rejected)));
                continue;
            }
        }
        if !account.active {
            results.push(Err(Refusal::AccountDisabled));
            continue;
        }
        let cost = sub.plan.total_cost;
        if account.balance < cost.minor() {
            results.push(Err(Refusal::InsufficientCredits {
                balance: Amount::from_minor(account.balance),
                needed: cost,
            }));
            continue;
        }
        account.balance -= cost.minor();
        let statuses = super::messages::initial_statuses(&sub.plan, now);
        let balance = Amount::from_minor(account.balance);
        results.push(Ok(super::messages::acceptance(
            None,
            &mut sub.plan,
            &statuses,
            balance,
            now,
        )));
        charged.push(Charged { sub, statuses });
    }
    write_charged(conn, charged, now)?;
    Ok(results)
}

/// The (account, number) pairs of the group on their account's list.
fn suppressed(conn: &impl Db, subs: &[Submission]) -> Result<HashSet<(i64, String)>> {
    let (mut accounts, mut numbers) = (Vec::new(), Vec::new());
    for sub in subs.iter().filter(|s| plain(s)) {
        for m in &sub.plan.messages {
            accounts.push(sub.account.0);
            numbers.push(m.to.to_string());
        }
    }
    if accounts.is_empty() {
        return Ok(HashSet::new());
    }
    let listed = conn.all(
        "SELECT s.account_id, s.number FROM suppressions s
           JOIN UNNEST(?1::bigint[], ?2::text[]) AS u(account_id, number)
             ON s.account_id = u.account_id AND s.number = u.number",
        args![PgOnly(accounts), PgOnly(numbers)],
        |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
    )?;
    Ok(listed.into_iter().collect())
}

/// Debits, ledger entries, messages and events of the charged
/// submissions: a statement each.
fn write_charged(conn: &impl Db, charged: Vec<Charged>, now: Timestamp) -> Result<()> {
    if charged.is_empty() {
        return Ok(());
    }
    let mut debits: HashMap<i64, i64> = HashMap::new();
    for c in &charged {
        *debits.entry(c.sub.account.0).or_default() += c.sub.plan.total_cost.minor();
    }
    let (accounts, amounts): (Vec<i64>, Vec<i64>) = debits.into_iter().unzip();
    conn.exec(
        "UPDATE accounts SET balance = balance - d.amount
           FROM UNNEST(?1::bigint[], ?2::bigint[]) AS d(id, amount) WHERE accounts.id = d.id",
        args![PgOnly(accounts), PgOnly(amounts)],
    )?;
    // Ledger rows in the submissions' order (their ids order them).
    let ledger_accounts: Vec<i64> = charged.iter().map(|c| c.sub.account.0).collect();
    let ledger_amounts: Vec<i64> = charged
        .iter()
        .map(|c| -c.sub.plan.total_cost.minor())
        .collect();
    let ledger_messages: Vec<Option<Vec<u8>>> = charged
        .iter()
        .map(|c| match c.sub.plan.messages.as_slice() {
            [one] => Some(one.id.as_bytes().to_vec()),
            _ => None,
        })
        .collect();
    let notes: Vec<String> = charged
        .iter()
        .map(|c| format!("{} message(s)", c.sub.plan.messages.len()))
        .collect();
    conn.exec(
        "INSERT INTO ledger (account_id, amount, kind, message_id, note, created_at)
         SELECT account_id, amount, ?5, message_id, note, ?6
           FROM UNNEST(?1::bigint[], ?2::bigint[], ?3::bytea[], ?4::text[]) WITH ORDINALITY
             AS u(account_id, amount, message_id, note, n)
          ORDER BY n",
        args![
            PgOnly(ledger_accounts),
            PgOnly(ledger_amounts),
            PgOnly(ledger_messages),
            PgOnly(notes),
            crate::LedgerKind::Debit.as_str(),
            now.0
        ],
    )?;
    let rows: Vec<Row<'_>> = charged
        .iter()
        .flat_map(|c| {
            c.sub
                .plan
                .messages
                .iter()
                .zip(&c.statuses)
                .map(|(m, &status)| Row {
                    account: c.sub.account,
                    batch: None,
                    pool: None,
                    message: m,
                    status,
                })
        })
        .collect();
    insert_messages(conn, &rows, now)
}

/// One message to insert, with what it takes from its submission.
pub(crate) struct Row<'a> {
    pub(crate) account: AccountId,
    pub(crate) batch: Option<BatchId>,
    pub(crate) pool: Option<Category>,
    pub(crate) message: &'a NewMessage,
    pub(crate) status: Status,
}

/// Messages in one statement and their `message.queued` events in
/// another, in the rows' order.
pub(crate) fn insert_messages(conn: &impl Db, rows: &[Row<'_>], now: Timestamp) -> Result<()> {
    let text = |f: &dyn Fn(&Row<'_>) -> Option<String>| -> PgOnly<Vec<Option<String>>> {
        PgOnly(rows.iter().map(f).collect())
    };
    let int = |f: &dyn Fn(&Row<'_>) -> Option<i64>| -> PgOnly<Vec<Option<i64>>> {
        PgOnly(rows.iter().map(f).collect())
    };
    let bytes = |f: &dyn Fn(&Row<'_>) -> Option<Vec<u8>>| -> PgOnly<Vec<Option<Vec<u8>>>> {
        PgOnly(rows.iter().map(f).collect())
    };
    conn.exec(
        "INSERT INTO messages (id, account_id, batch_id, recipient, sender, body, encoding, segments, cost,
             category, route_class, reference, priority, status, created_at, updated_at, schedule_at, due_at, expires_at,
             event_seq, in_reply_to, callback_url, item, payload, callback_format, pool, campaign_ref, country)
         SELECT id, account_id, batch_id, recipient, sender, body, encoding, segments, cost, category, route_class,
                reference, priority, status, ?4, ?4, schedule_at, due_at, expires_at, event_seq, in_reply_to,
                callback_url, item, payload, callback_format, pool, campaign_ref, country
           FROM UNNEST(?1::bytea[], ?2::bigint[], ?3::bytea[], ?5::text[], ?6::text[], ?7::text[], ?8::text[],
                       ?9::bigint[], ?10::bigint[], ?11::text[], ?12::text[], ?13::text[], ?14::bigint[],
                       ?15::text[], ?16::bigint[], ?17::bigint[], ?18::bigint[], ?19::bigint[], ?20::bytea[],
                       ?21::text[], ?22::bigint[], ?23::text[], ?24::text[], ?25::text[], ?26::text[],
                       ?27::text[])
             AS u(id, account_id, batch_id, recipient, sender, body, encoding, segments, cost, category,
                  route_class, reference, priority, status, schedule_at, due_at, expires_at, event_seq,
                  in_reply_to, callback_url, item, payload, callback_format, pool, campaign_ref, country)",
        args![
            bytes(&|r| Some(r.message.id.as_bytes().to_vec())),
            int(&|r| Some(r.account.0)),
            bytes(&|r| r.batch.map(|b| b.as_bytes().to_vec())),
            now.0,
            text(&|r| Some(r.message.to.to_string())),
            text(&|r| Some(r.message.from.as_str().to_string())),
            text(&|r| Some(r.message.text.clone())),
            text(&|r| Some(r.message.segments.encoding.as_str().to_string())),
            int(&|r| Some(r.message.segments.parts as i64)),
            int(&|r| Some(r.message.cost.minor())),
            text(&|r| Some(r.message.category.as_str().to_string())),
            text(&|r| Some(r.message.route_class.clone())),
            text(&|r| r.message.reference.clone()),
            int(&|r| Some(i64::from(r.message.priority))),
            text(&|r| Some(r.status.as_str().to_string())),
            int(&|r| r.message.schedule_at.map(|t| t.0)),
            int(&|r| Some(r.message.schedule_at.unwrap_or(now).0)),
            int(&|r| r.message.expires_at.map(|t| t.0)),
            int(&|r| Some(i64::from(r.status == Status::Queued))),
            bytes(&|r| r.message.in_reply_to.map(|i| i.as_bytes().to_vec())),
            text(&|r| r.message.callback_url.clone()),
            int(&|r| Some(i64::from(r.message.item))),
            text(&|r| r.message.payload.clone()),
            text(&|r| r
                .message
                .callback_url
                .as_ref()
                .map(|_| r.message.callback_format.as_str().to_string())),
            text(&|r| r.pool.map(|p| p.as_str().to_string())),
            text(&|r| r.message.campaign_ref.clone()),
            text(&|r| r.message.country.map(|c| c.code())),
        ],
    )?;
    for r in rows {
        super::usage::count(
            conn,
            &super::usage::Counted::new_message(r.account, r.message, r.status, now),
        )?;
    }
    // Event ids order the outbox: in the messages' order.
    let queued: Vec<&Row<'_>> = rows.iter().filter(|r| r.status == Status::Queued).collect();
    if !queued.is_empty() {
        let ids: Vec<Vec<u8>> = queued
            .iter()
            .map(|r| r.message.id.as_bytes().to_vec())
            .collect();
        let accounts: Vec<i64> = queued.iter().map(|r| r.account.0).collect();
        conn.exec(
            "INSERT INTO events (account_id, type, message_id, seq, detail, created_at)
             SELECT account_id, ?3, id, 1, NULL, ?4
               FROM UNNEST(?1::bytea[], ?2::bigint[]) WITH ORDINALITY AS u(id, account_id, n) ORDER BY n",
            args![
                PgOnly(ids),
                PgOnly(accounts),
                EventType::MessageQueued.as_str(),
                now.0
            ],
        )?;
    }
    Ok(())
}
