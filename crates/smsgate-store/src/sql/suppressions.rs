//! SQL for opt-out: the suppression list of each account, changed by
//! inbound keywords and through the API, each change an `optout.changed`
//! event in the same transaction.

use smsgate_core::optout::OptOutAction;
use smsgate_core::{AccountId, InboundId, Msisdn, Timestamp};

use super::messages::{WAITING, corrupt};
use super::{Db, Dialect, PgOnly, args};
use crate::{
    Audit, AuditAction, ChangeCount, Erased, EventType, OptOutChange, Result, StoreError,
    Suppression, SuppressionSource,
};

/// Puts `number` on (or takes it off) the account's list; returns whether
/// that changed anything. A change is an event.
pub(crate) fn change(
    conn: &impl Db,
    account: AccountId,
    change: &OptOutChange,
    inbound: Option<InboundId>,
    now: Timestamp,
) -> Result<bool> {
    let changed = match change.action {
        OptOutAction::OptOut => conn.exec(
            "INSERT INTO suppressions (account_id, number, source, keyword, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            args![
                account.0,
                change.number,
                change.source.as_str(),
                change.keyword,
                now.0
            ],
        )?,
        OptOutAction::OptIn => conn.exec(
            "DELETE FROM suppressions WHERE account_id = ?1 AND number = ?2",
            args![account.0, change.number],
        )?,
    } > 0;
    if changed {
        let detail = serde_json::to_string(change)
            .map_err(|e| StoreError::Corrupt(format!("opt-out change: {e}")))?;
        conn.exec(
            "INSERT INTO events (account_id, type, inbound_id, number, seq, detail, created_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)",
            args![
                account.0,
                EventType::OptoutChanged.as_str(),
                inbound.map(|i| i.as_bytes().to_vec()),
                change.number,
                detail,
                now.0
            ],
        )?;
    }
    Ok(changed)
}

/// The change an `optout.changed` event row records.
pub(crate) fn parse_detail(number: Option<String>, detail: Option<&str>) -> Result<OptOutChange> {
    let detail = detail.unwrap_or_default();
    let mut change: OptOutChange =
        serde_json::from_str(detail).map_err(|_| corrupt("opt-out detail", detail))?;
    if let Some(n) = number {
        change.number = n;
    }
    Ok(change)
}

/// Applies one change to many numbers (an API call or an import).
pub(crate) fn change_many(
    conn: &impl Db,
    account: AccountId,
    numbers: &[Msisdn],
    action: OptOutAction,
    source: SuppressionSource,
    by: &Audit,
) -> Result<ChangeCount> {
    let now = by.at;
    super::accounts::require_account(conn, account)?;
    let mut count = ChangeCount::default();
    for n in numbers {
        let c = OptOutChange {
            number: n.to_string(),
            action,
            source,
            keyword: None,
        };
        if change(conn, account, &c, None, now)? {
            count.changed += 1;
        } else {
            count.unchanged += 1;
        }
    }
    // The numbers are not repeated here: the log is kept for ever, and a
    // number's data may have to be erased.
    let change = super::audit::Change::new(AuditAction::SuppressionsChange)
        .account(account)
        .subject("suppressions")
        .after(&serde_json::json!({
            "action": action,
            "source": source.as_str(),
            "changed": count.changed,
            "unchanged": count.unchanged,
        }));
    super::audit::record(conn, by, change)?;
    Ok(count)
}

fn is_suppressed(conn: &impl Db, account: AccountId, number: &str) -> Result<bool> {
    let found = conn.one(
        "SELECT 1 FROM suppressions WHERE account_id = ?1 AND number = ?2",
        args![account.0, number],
        |_| Ok(()),
    )?;
    Ok(found.is_some())
}

/// The messages of `plan` to numbers on the account's suppression list
/// (one indexed lookup each; nothing allocated when there are none).
pub(crate) fn suppressed_messages(
    conn: &impl Db,
    account: AccountId,
    plan: &smsgate_core::SendPlan,
) -> Result<Vec<smsgate_core::MessageId>> {
    let mut found = Vec::new();
    if conn.dialect() == Dialect::Postgres && plan.messages.len() > 1 {
        // One round trip for the whole request.
        let numbers: Vec<String> = plan.messages.iter().map(|m| m.to.to_string()).collect();
        let listed: Vec<String> = conn.all(
            "SELECT number FROM suppressions WHERE account_id = ?1 AND number = ANY(?2::text[])",
            args![account.0, PgOnly(numbers)],
            |r| r.get(0),
        )?;
        if !listed.is_empty() {
            found.extend(
                plan.messages
                    .iter()
                    .filter(|m| listed.iter().any(|n| *n == m.to.as_str()))
                    .map(|m| m.id),
            );
        }
        return Ok(found);
    }
    for m in &plan.messages {
        if is_suppressed(conn, account, m.to.as_str())? {
            found.push(m.id);
        }
    }
    Ok(found)
}

/// Which of `numbers` (E.164) the account must not send to.
pub(crate) fn suppressed(
    conn: &impl Db,
    account: AccountId,
    numbers: &[String],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for n in numbers {
        if is_suppressed(conn, account, n)? {
            out.push(n.clone());
        }
    }
    Ok(out)
}

/// The account's list in number order, after `after`.
pub(crate) fn list(
    conn: &impl Db,
    account: AccountId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Suppression>> {
    conn.all(
        "SELECT number, source, keyword, created_at FROM suppressions
          WHERE account_id = ?1 AND number > ?2 ORDER BY number LIMIT ?3",
        args![account.0, after.unwrap_or(""), limit as i64],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get(2)?,
                r.get(3)?,
            ))
        },
    )?
    .into_iter()
    .map(|row| {
        let (number, source, keyword, created_at) = row;
        Ok(Suppression {
            number,
            source: SuppressionSource::parse(&source)
                .ok_or_else(|| corrupt("suppression source", &source))?,
            keyword,
            created_at: Timestamp(created_at),
        })
    })
    .collect()
}

/// Erases the account's texts of `number` (see `AudienceStore::erase_number`),
/// recorded with the number masked: the log is kept for ever.
pub(crate) fn erase_number(
    conn: &impl Db,
    account: AccountId,
    number: &Msisdn,
    by: &Audit,
) -> Result<Erased> {
    super::accounts::require_account(conn, account)?;
    let e164 = number.as_str();
    // Inbound senders are kept as the carrier gave them: with or without `+`.
    let digits = e164.trim_start_matches('+');
    let count = |n: usize| n as u64;
    conn.exec(
        &format!(
            "UPDATE links SET url = '' WHERE account_id = ?1 AND url <> '' AND message_id IN
               (SELECT id FROM messages WHERE account_id = ?1 AND recipient = ?2
                   AND status NOT IN {WAITING})"
        ),
        args![account.0, e164],
    )?;
    let messages = count(conn.exec(
        &format!(
            "UPDATE messages SET body = '', payload = NULL
              WHERE account_id = ?1 AND recipient = ?2 AND status NOT IN {WAITING}
                AND (body <> '' OR payload IS NOT NULL)"
        ),
        args![account.0, e164],
    )?);
    let pending: i64 = conn.single(
        &format!(
            "SELECT count(*) FROM messages WHERE account_id = ?1 AND recipient = ?2
                AND status IN {WAITING}"
        ),
        args![account.0, e164],
        |r| r.get(0),
    )?;
    let inbound = count(conn.exec(
        "UPDATE inbound_messages SET body = ''
          WHERE account_id = ?1 AND sender IN (?2, ?3) AND body <> ''",
        args![account.0, e164, digits],
    )?);
    let erased = Erased {
        messages,
        pending: pending as u64,
        inbound,
    };
    let masked: String = e164
        .char_indices()
        .map(|(i, c)| if i > 3 && i + 3 < e164.len() { '*' } else { c })
        .collect();
    super::audit::record(
        conn,
        by,
        super::audit::Change::new(AuditAction::NumberErase)
            .account(account)
            .subject(format!("number {masked}"))
            .after(&erased),
    )?;
    Ok(erased)
}
