//! SQL for accounts, API keys, the credit ledger, sessions and settings.

use async_trait::async_trait;
use smsgate_core::limits::Rate;
use smsgate_core::net::IpNetwork;
use smsgate_core::optout::OptOutKeywords;
use smsgate_core::reach::{self, Reach};
use smsgate_core::{AccountId, Amount, BatchId, Category, KeyId, MessageId, PlanId, Timestamp};

use super::audit::{self, Change};
use super::{Backend, Db, Rec, SqlStore, args};
use crate::*;
use crate::{
    Account, AccountPatch, AccountStatus, ApiKeyInfo, LedgerEntry, NewAccount, NewApiKey, Result,
    SessionRecord, StoreError,
};

const ACCOUNT_COLUMNS: &str = "id, name, status, password_hash, default_country, timezone, max_parts, balance, created_at, \
     optout_keywords, optin_keywords, require_approved_sender, default_sender, enforce_campaign_check, \
     postback_url, split_balances, rate_burst, rate_per_minute, allowed_countries, allowed_number_types, velocity, number_check, \
     plan_id, parent_id, keep_texts_days, keep_numbers_days";

fn account_row(r: &Rec<'_>) -> Result<Account> {
    let status: String = r.get(2)?;
    Ok(Account {
        id: AccountId(r.get(0)?),
        name: r.get(1)?,
        status: if status == "disabled" {
            AccountStatus::Disabled
        } else {
            AccountStatus::Active
        },
        password_hash: r.get(3)?,
        default_country: r.get(4)?,
        timezone: r.get(5)?,
        max_parts: r.get(6)?,
        balance: Amount::from_minor(r.get(7)?),
        created_at: Timestamp(r.get(8)?),
        // Lists were checked when set; a list that no longer parses (a
        // hand-edited row) falls back to the defaults rather than hiding
        // the account.
        optout_keywords: OptOutKeywords::from_stored(
            r.get::<Option<String>>(9)?.as_deref(),
            r.get::<Option<String>>(10)?.as_deref(),
        )
        .unwrap_or_default(),
        require_approved_sender: r.get(11)?,
        default_sender: r.get(12)?,
        enforce_campaign_check: r.get(13)?,
        postback_url: r.get(14)?,
        split_balances: r.get(15)?,
        rate_limit: match (r.get::<Option<u32>>(16)?, r.get::<Option<u32>>(17)?) {
            (Some(burst), Some(per_minute)) => Some(Rate::new(burst, per_minute)),
            _ => None,
        },
        reach: Reach::from_stored(
            r.get::<Option<String>>(18)?.as_deref(),
            r.get::<Option<String>>(19)?.as_deref(),
        ),
        // Checked when set; a value that no longer parses is the server's
        // default.
        velocity: r
            .get::<Option<String>>(20)?
            .and_then(|v| serde_json::from_str(&v).ok()),
        number_check: r
            .get::<Option<String>>(21)?
            .and_then(|c| smsgate_core::NumberCheck::parse(&c)),
        plan: r.get::<Option<i64>>(22)?.map(PlanId),
        parent: r.get::<Option<i64>>(23)?.map(AccountId),
        retention: Retention {
            texts_days: r.get(24)?,
            numbers_days: r.get(25)?,
        },
    })
}

const KEY_COLUMNS: &str = "id, account_id, prefix, label, created_at, revoked_at, allowed_ips";

fn key_row(r: &Rec<'_>) -> Result<ApiKeyInfo> {
    Ok(ApiKeyInfo {
        id: KeyId(r.get(0)?),
        account_id: AccountId(r.get(1)?),
        prefix: r.get(2)?,
        label: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        revoked_at: r.get::<Option<i64>>(5)?.map(Timestamp),
        // Checked when set; an entry that no longer parses allows nothing.
        allowed_ips: r.get::<Option<String>>(6)?.map(|s| {
            s.split_whitespace()
                .filter_map(|n| n.parse::<IpNetwork>().ok())
                .collect()
        }),
    })
}

pub(crate) fn uuid_col(v: Option<Vec<u8>>) -> Option<[u8; 16]> {
    v.and_then(|b| b.try_into().ok())
}

pub(crate) fn create_account(conn: &impl Db, new: NewAccount, by: &Audit) -> Result<Account> {
    let now = by.at;
    if let Some(parent) = new.parent {
        require_account(conn, parent)?;
    }
    let inserted = conn.insert_id(
        "INSERT INTO accounts (name, password_hash, default_country, max_parts, balance, created_at, parent_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![new.name, new.password_hash, new.default_country, new.max_parts, new.credits.minor(), now.0, new.parent.map(|p| p.0)],
    );
    let id = match inserted {
        Err(e) if e.is_unique_violation() => return Err(StoreError::NameTaken(new.name)),
        other => AccountId(other?),
    };
    if new.credits != Amount::ZERO {
        let line = LedgerLine {
            note: Some("opening balance"),
            ..LedgerLine::new(id, new.credits, LedgerKind::Topup)
        };
        insert_ledger(conn, line, now)?;
    }
    let made = account(conn, id)?.ok_or(StoreError::NoSuchAccount(id))?;
    audit::record(
        conn,
        by,
        Change::new(AuditAction::AccountCreate)
            .account(id)
            .subject(format!("account {id}"))
            .after(&made),
    )?;
    Ok(made)
}

pub(crate) fn account(conn: &impl Db, id: AccountId) -> Result<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1");
    conn.one(&sql, args![id.0], account_row)
}

pub(crate) fn account_by_name(conn: &impl Db, name: &str) -> Result<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = ?1");
    conn.one(&sql, args![name], account_row)
}

pub(crate) fn accounts(conn: &impl Db) -> Result<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id");
    conn.all(&sql, args![], account_row)
}

pub(crate) fn children(conn: &impl Db, parent: AccountId) -> Result<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE parent_id = ?1 ORDER BY id");
    conn.all(&sql, args![parent.0], account_row)
}

pub(crate) fn update_account(
    conn: &impl Db,
    id: AccountId,
    patch: AccountPatch,
    by: &Audit,
) -> Result<Account> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1{}",
        conn.for_update()
    );
    let before = conn
        .one(&sql, args![id.0], account_row)?
        .ok_or(StoreError::NoSuchAccount(id))?;
    let password_changed = patch.password_hash.is_some();
    // A login session rests on the password and an account in use: it
    // ends, in this transaction, when either changes.
    if patch.password_hash.is_some() || patch.status == Some(AccountStatus::Disabled) {
        conn.exec("DELETE FROM sessions WHERE account_id = ?1", args![id.0])?;
    }
    if let Some(status) = patch.status {
        conn.exec(
            "UPDATE accounts SET status = ?1 WHERE id = ?2",
            args![status.as_str(), id.0],
        )?;
    }
    if let Some(country) = patch.default_country {
        conn.exec(
            "UPDATE accounts SET default_country = ?1 WHERE id = ?2",
            args![country, id.0],
        )?;
    }
    if let Some(tz) = patch.timezone {
        conn.exec(
            "UPDATE accounts SET timezone = ?1 WHERE id = ?2",
            args![tz, id.0],
        )?;
    }
    if let Some(max) = patch.max_parts {
        conn.exec(
            "UPDATE accounts SET max_parts = ?1 WHERE id = ?2",
            args![max, id.0],
        )?;
    }
    if let Some(hash) = patch.password_hash {
        conn.exec(
            "UPDATE accounts SET password_hash = ?1 WHERE id = ?2",
            args![hash, id.0],
        )?;
    }
    if let Some(sender) = patch.default_sender {
        conn.exec(
            "UPDATE accounts SET default_sender = ?1 WHERE id = ?2",
            args![sender, id.0],
        )?;
    }
    if let Some(rate) = patch.rate_limit {
        conn.exec(
            "UPDATE accounts SET rate_burst = ?1, rate_per_minute = ?2 WHERE id = ?3",
            args![rate.map(|r| r.burst), rate.map(|r| r.per_minute), id.0],
        )?;
    }
    if let Some(countries) = patch.allowed_countries {
        conn.exec(
            "UPDATE accounts SET allowed_countries = ?1 WHERE id = ?2",
            args![countries.as_deref().map(reach::store_countries), id.0],
        )?;
    }
    if let Some(types) = patch.allowed_number_types {
        conn.exec(
            "UPDATE accounts SET allowed_number_types = ?1 WHERE id = ?2",
            args![reach::store_types(&types), id.0],
        )?;
    }
    if let Some(check) = patch.number_check {
        conn.exec(
            "UPDATE accounts SET number_check = ?1 WHERE id = ?2",
            args![check.map(smsgate_core::NumberCheck::as_str), id.0],
        )?;
    }
    if let Some(velocity) = patch.velocity {
        let json = velocity.map(|v| serde_json::to_string(&v).expect("plain numbers"));
        conn.exec(
            "UPDATE accounts SET velocity = ?1 WHERE id = ?2",
            args![json, id.0],
        )?;
    }
    if let Some(days) = patch.keep_texts_days {
        conn.exec(
            "UPDATE accounts SET keep_texts_days = ?1 WHERE id = ?2",
            args![days, id.0],
        )?;
    }
    if let Some(days) = patch.keep_numbers_days {
        conn.exec(
            "UPDATE accounts SET keep_numbers_days = ?1 WHERE id = ?2",
            args![days, id.0],
        )?;
    }
    if let Some(split) = patch.split_balances {
        conn.exec(
            "UPDATE accounts SET split_balances = ?1 WHERE id = ?2",
            args![split, id.0],
        )?;
    }
    if let Some(enforce) = patch.enforce_campaign_check {
        conn.exec(
            "UPDATE accounts SET enforce_campaign_check = ?1 WHERE id = ?2",
            args![enforce, id.0],
        )?;
    }
    if let Some(url) = patch.postback_url {
        conn.exec(
            "UPDATE accounts SET postback_url = ?1 WHERE id = ?2",
            args![url, id.0],
        )?;
    }
    if let Some(required) = patch.require_approved_sender {
        conn.exec(
            "UPDATE accounts SET require_approved_sender = ?1 WHERE id = ?2",
            args![required, id.0],
        )?;
    }
    if let Some(plan) = patch.plan {
        if let Some(p) = plan
            && super::plans::plan(conn, p)?.is_none()
        {
            return Err(StoreError::NoSuchPlan(p));
        }
        conn.exec(
            "UPDATE accounts SET plan_id = ?1 WHERE id = ?2",
            args![plan.map(|p| p.0), id.0],
        )?;
    }
    if let Some(keywords) = patch.optout_keywords {
        let (stop, start) = match keywords {
            Some(k) => (Some(k.stop().join(" ")), Some(k.start().join(" "))),
            None => (None, None),
        };
        conn.exec(
            "UPDATE accounts SET optout_keywords = ?1, optin_keywords = ?2 WHERE id = ?3",
            args![stop, start, id.0],
        )?;
    }
    let after = account(conn, id)?.ok_or(StoreError::NoSuchAccount(id))?;
    let mut change = Change::new(AuditAction::AccountUpdate)
        .account(id)
        .subject(format!("account {id}"))
        .before(&before)
        .after(&after);
    if password_changed {
        change = change.secret_changed("password");
    }
    audit::record(conn, by, change)?;
    Ok(after)
}

/// `NoSuchAccount` unless the account exists.
pub(crate) fn require_account(conn: &impl Db, id: AccountId) -> Result<()> {
    match account(conn, id)? {
        Some(_) => Ok(()),
        None => Err(StoreError::NoSuchAccount(id)),
    }
}

pub(crate) fn create_key(
    conn: &impl Db,
    account_id: AccountId,
    key: NewApiKey,
    by: &Audit,
) -> Result<ApiKeyInfo> {
    let made = insert_key(conn, account_id, key, by.at)?;
    audit::record(
        conn,
        by,
        Change::new(AuditAction::KeyCreate)
            .account(account_id)
            .subject(format!("key {}", made.id))
            .after(&made),
    )?;
    Ok(made)
}

fn insert_key(
    conn: &impl Db,
    account_id: AccountId,
    key: NewApiKey,
    now: Timestamp,
) -> Result<ApiKeyInfo> {
    require_account(conn, account_id)?;
    let id = conn.insert_id("INSERT INTO api_keys (account_id, hash, prefix, label, created_at, allowed_ips) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", args![account_id.0, &key.hash[..], key.prefix, key.label, now.0, networks_text(key.allowed_ips)])?;
    let id = KeyId(id);
    key_by_id(conn, id)?.ok_or(StoreError::NoSuchKey(id))
}

/// Networks as the `allowed_ips` column keeps them: separated by spaces.
fn networks_text(networks: Option<Vec<IpNetwork>>) -> Option<String> {
    networks.map(|n| {
        n.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    })
}

fn key_by_id(conn: &impl Db, id: KeyId) -> Result<Option<ApiKeyInfo>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1");
    conn.one(&sql, args![id.0], key_row)
}

/// Limits a key to client networks (`None`: from anywhere).
pub(crate) fn set_key_networks(
    conn: &impl Db,
    id: KeyId,
    networks: Option<Vec<IpNetwork>>,
    by: &Audit,
) -> Result<ApiKeyInfo> {
    let before = key_by_id(conn, id)?.ok_or(StoreError::NoSuchKey(id))?;
    conn.exec(
        "UPDATE api_keys SET allowed_ips = ?1 WHERE id = ?2",
        args![networks_text(networks), id.0],
    )?;
    let after = key_by_id(conn, id)?.ok_or(StoreError::NoSuchKey(id))?;
    audit::record(
        conn,
        by,
        key_change(AuditAction::KeyNetworks, &before, &after),
    )?;
    Ok(after)
}

fn key_change(action: AuditAction, before: &ApiKeyInfo, after: &ApiKeyInfo) -> Change {
    Change::new(action)
        .account(after.account_id)
        .subject(format!("key {}", after.id))
        .before(before)
        .after(after)
}

/// Ends the key at `at` (now, or later for a rotation's overlap), unless
/// it ends sooner already.
pub(crate) fn revoke_key(
    conn: &impl Db,
    id: KeyId,
    at: Timestamp,
    by: &Audit,
) -> Result<ApiKeyInfo> {
    let before = key_by_id(conn, id)?.ok_or(StoreError::NoSuchKey(id))?;
    let after = end_key(conn, id, at)?;
    if after != before {
        audit::record(
            conn,
            by,
            key_change(AuditAction::KeyRevoke, &before, &after),
        )?;
    }
    Ok(after)
}

fn end_key(conn: &impl Db, id: KeyId, at: Timestamp) -> Result<ApiKeyInfo> {
    conn.exec(
        "UPDATE api_keys SET revoked_at = CASE WHEN revoked_at IS NULL OR revoked_at > ?1 THEN ?1 ELSE revoked_at END
          WHERE id = ?2",
        args![at.0, id.0],
    )?;
    key_by_id(conn, id)?.ok_or(StoreError::NoSuchKey(id))
}

/// A new key for the old one's account, with its label and networks;
/// the old one ends at `old_ends_at`. One transaction.
pub(crate) fn rotate_key(
    conn: &impl Db,
    old: KeyId,
    mut new: NewApiKey,
    old_ends_at: Timestamp,
    by: &Audit,
) -> Result<ApiKeyInfo> {
    let current = key_by_id(conn, old)?.ok_or(StoreError::NoSuchKey(old))?;
    new.label = current.label.clone();
    new.allowed_ips = current.allowed_ips.clone();
    let created = insert_key(conn, current.account_id, new, by.at)?;
    let ended = end_key(conn, old, old_ends_at)?;
    audit::record(
        conn,
        by,
        key_change(AuditAction::KeyRotate, &current, &ended).after(&serde_json::json!({
            "old": super::audit::snapshot(&ended),
            "new": super::audit::snapshot(&created),
        })),
    )?;
    Ok(created)
}

pub(crate) fn keys(conn: &impl Db, account_id: AccountId) -> Result<Vec<ApiKeyInfo>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = ?1 ORDER BY id");
    conn.all(&sql, args![account_id.0], key_row)
}

pub(crate) fn key_by_hash(conn: &impl Db, hash: [u8; 32]) -> Result<Option<(ApiKeyInfo, Account)>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE hash = ?1");
    let Some(key) = conn.one(&sql, args![&hash[..]], key_row)? else {
        return Ok(None);
    };
    let account =
        account(conn, key.account_id)?.ok_or(StoreError::NoSuchAccount(key.account_id))?;
    Ok(Some((key, account)))
}

/// One ledger entry to write: what moved, why, and what caused it.
pub(crate) struct LedgerLine<'a> {
    pub(crate) account: AccountId,
    pub(crate) amount: Amount,
    pub(crate) kind: LedgerKind,
    pub(crate) message: Option<MessageId>,
    pub(crate) batch: Option<BatchId>,
    pub(crate) note: Option<&'a str>,
    /// The category's balance it moved (split balances).
    pub(crate) pool: Option<Category>,
    /// The other account of a transfer.
    pub(crate) counterparty: Option<AccountId>,
}

impl LedgerLine<'_> {
    pub(crate) fn new(account: AccountId, amount: Amount, kind: LedgerKind) -> Self {
        LedgerLine {
            account,
            amount,
            kind,
            message: None,
            batch: None,
            note: None,
            pool: None,
            counterparty: None,
        }
    }
}

pub(crate) fn insert_ledger(conn: &impl Db, line: LedgerLine<'_>, now: Timestamp) -> Result<()> {
    conn.exec(
        "INSERT INTO ledger (account_id, amount, kind, message_id, batch_id, note, created_at, category, counterparty_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        args![
            line.account.0,
            line.amount.minor(),
            line.kind.as_str(),
            line.message.map(|m| m.as_bytes().to_vec()),
            line.batch.map(|b| b.as_bytes().to_vec()),
            line.note,
            now.0,
            line.pool.map(Category::as_str),
            line.counterparty.map(|c| c.0)
        ],
    )?;
    Ok(())
}

pub(crate) fn adjust_credits(
    conn: &impl Db,
    id: AccountId,
    amount: Amount,
    note: Option<String>,
    by: &Audit,
) -> Result<Amount> {
    adjust(conn, id, None, amount, note, by)
}

/// Adds (or, negative, removes) credits to one category's balance of an
/// account; never below zero.
pub(crate) fn adjust_category_credits(
    conn: &impl Db,
    id: AccountId,
    category: Category,
    amount: Amount,
    note: Option<String>,
    by: &Audit,
) -> Result<Amount> {
    adjust(conn, id, Some(category), amount, note, by)
}

/// A top-up or adjustment of the account's balance or of a category's,
/// with its ledger entry; never below zero.
fn adjust(
    conn: &impl Db,
    id: AccountId,
    pool: Option<Category>,
    amount: Amount,
    note: Option<String>,
    by: &Audit,
) -> Result<Amount> {
    require_account(conn, id)?;
    let current = super::balances::balance(conn, id, pool)?;
    let short = || StoreError::InsufficientCredits {
        balance: current,
        needed: Amount::from_minor(amount.minor().saturating_neg()),
    };
    let too_large = || StoreError::BalanceTooLarge {
        balance: current,
        max: Amount::MAX_BALANCE,
    };
    let balance = match current.checked_add(amount) {
        Some(b) if b >= Amount::ZERO => b,
        None if amount > Amount::ZERO => return Err(too_large()),
        _ => return Err(short()),
    };
    if balance > Amount::MAX_BALANCE {
        return Err(StoreError::BalanceTooLarge {
            balance: current,
            max: Amount::MAX_BALANCE,
        });
    }
    let kind = if amount >= Amount::ZERO {
        super::balances::credit(conn, id, pool, amount)?;
        LedgerKind::Topup
    } else {
        if !super::balances::debit(conn, id, pool, Amount::from_minor(-amount.minor()))? {
            return Err(short());
        }
        LedgerKind::Adjustment
    };
    let line = LedgerLine {
        note: note.as_deref(),
        pool,
        ..LedgerLine::new(id, amount, kind)
    };
    insert_ledger(conn, line, by.at)?;
    audit::record(
        conn,
        by,
        Change::new(AuditAction::CreditsAdjust)
            .account(id)
            .subject(match pool {
                Some(c) => format!("account {id} {} balance", c.as_str()),
                None => format!("account {id} balance"),
            })
            .before(&serde_json::json!({"balance": current}))
            .after(&serde_json::json!({"balance": balance, "amount": amount, "note": note})),
    )?;
    Ok(balance)
}

/// Moves `amount` (above zero) from one account's main balance to
/// another's: two `transfer` entries in this transaction, each naming the
/// other account. Refused whole when `from` holds less or `to` would pass
/// its maximum. Returns both balances after.
pub(crate) fn transfer(
    conn: &impl Db,
    from: AccountId,
    to: AccountId,
    amount: Amount,
    note: Option<String>,
    by: &Audit,
) -> Result<(Amount, Amount)> {
    // Both rows locked in id order, so that two transfers between the
    // same accounts wait for each other instead of deadlocking.
    let locked: Vec<i64> = conn.all(
        &format!(
            "SELECT id FROM accounts WHERE id IN (?1, ?2) ORDER BY id{}",
            conn.for_update()
        ),
        args![from.0, to.0],
        |r| r.get(0),
    )?;
    for id in [from, to] {
        if !locked.contains(&id.0) {
            return Err(StoreError::NoSuchAccount(id));
        }
    }
    let (giver, taker) = (
        super::balances::balance(conn, from, None)?,
        super::balances::balance(conn, to, None)?,
    );
    match taker.checked_add(amount) {
        Some(b) if b <= Amount::MAX_BALANCE => {}
        _ => {
            return Err(StoreError::BalanceTooLarge {
                balance: taker,
                max: Amount::MAX_BALANCE,
            });
        }
    }
    if !super::balances::debit(conn, from, None, amount)? {
        return Err(StoreError::InsufficientCredits {
            balance: giver,
            needed: amount,
        });
    }
    super::balances::credit(conn, to, None, amount)?;
    let negative = Amount::from_minor(-amount.minor());
    for (account, moved, other) in [(from, negative, to), (to, amount, from)] {
        let line = LedgerLine {
            note: note.as_deref(),
            counterparty: Some(other),
            ..LedgerLine::new(account, moved, LedgerKind::Transfer)
        };
        insert_ledger(conn, line, by.at)?;
    }
    let after = (
        super::balances::balance(conn, from, None)?,
        super::balances::balance(conn, to, None)?,
    );
    audit::record(
        conn,
        by,
        Change::new(AuditAction::CreditsTransfer)
            .account(from)
            .subject(format!("account {from} to account {to}"))
            .before(&serde_json::json!({"from": giver, "to": taker}))
            .after(&serde_json::json!({
                "from": after.0, "to": after.1, "amount": amount, "note": note,
            })),
    )?;
    Ok(after)
}

/// The ledger summed by kind over `[from, to)` (transfers in and out
/// apart), the balance before and after, and the messages made in the
/// period by category and country.
pub(crate) fn statement(
    conn: &impl Db,
    account: AccountId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Statement> {
    require_account(conn, account)?;
    let opening = Amount::from_minor(conn.single(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger WHERE account_id = ?1 AND created_at < ?2",
        args![account.0, from.0],
        |r| r.get(0),
    )?);
    let mut s = Statement {
        from,
        to,
        opening,
        topups: Amount::ZERO,
        adjustments: Amount::ZERO,
        transfers_in: Amount::ZERO,
        transfers_out: Amount::ZERO,
        debits: Amount::ZERO,
        refunds: Amount::ZERO,
        closing: opening,
        usage: Vec::new(),
    };
    let sums: Vec<(String, i64, i64)> = conn.all(
        "SELECT kind, CAST(CASE WHEN amount > 0 THEN 1 ELSE 0 END AS BIGINT), CAST(SUM(amount) AS BIGINT) FROM ledger
          WHERE account_id = ?1 AND created_at >= ?2 AND created_at < ?3
          GROUP BY kind, CASE WHEN amount > 0 THEN 1 ELSE 0 END",
        args![account.0, from.0, to.0],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let overflow = || StoreError::Corrupt("a statement's sum passes the largest amount".into());
    for (kind, incoming, sum) in sums {
        let kind = LedgerKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("ledger kind {kind:?}")))?;
        let slot = match (kind, incoming == 1) {
            (LedgerKind::Topup, _) => &mut s.topups,
            (LedgerKind::Adjustment, _) => &mut s.adjustments,
            (LedgerKind::Debit, _) => &mut s.debits,
            (LedgerKind::Refund, _) => &mut s.refunds,
            (LedgerKind::Transfer, true) => &mut s.transfers_in,
            (LedgerKind::Transfer, false) => &mut s.transfers_out,
        };
        let sum = Amount::from_minor(sum);
        *slot = slot.checked_add(sum).ok_or_else(overflow)?;
        s.closing = s.closing.checked_add(sum).ok_or_else(overflow)?;
    }
    // The usage counters by category and country, as the usage reports
    // read them.
    let usage = super::usage::usage(
        conn,
        &UsageQuery {
            from,
            to,
            accounts: Some(vec![account]),
            interval: UsageInterval::Whole,
            groups: UsageGroups {
                category: true,
                country: true,
                ..UsageGroups::default()
            },
        },
    )?;
    s.usage = usage
        .into_iter()
        .map(|r| UsageLine {
            category: r.category.unwrap_or_default(),
            country: r.country.flatten(),
            messages: r.counts.messages,
            segments: r.counts.segments,
            amount: r.counts.price,
        })
        .collect();
    Ok(s)
}

pub(crate) fn ledger(
    conn: &impl Db,
    account: AccountId,
    filter: &LedgerFilter,
) -> Result<Vec<LedgerEntry>> {
    // One text per shape of filter; the kinds are a closed set of words.
    let mut sql = String::from(
        "SELECT id, amount, kind, message_id, batch_id, note, created_at, category, counterparty_id
         FROM ledger WHERE account_id = ?1 AND id < ?2 AND created_at >= ?3 AND created_at < ?4",
    );
    if !filter.kinds.is_empty() {
        let kinds: Vec<String> = filter
            .kinds
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        sql.push_str(&format!(" AND kind IN ({})", kinds.join(", ")));
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?5");
    conn.all(
        &sql,
        args![
            account.0,
            filter.before.unwrap_or(i64::MAX),
            filter.since.map_or(i64::MIN, |t| t.0),
            filter.until.map_or(i64::MAX, |t| t.0),
            filter.limit as i64
        ],
        |r| {
            let kind: String = r.get(2)?;
            Ok(LedgerEntry {
                id: r.get(0)?,
                amount: Amount::from_minor(r.get(1)?),
                kind: LedgerKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("ledger kind {kind:?}")))?,
                message_id: uuid_col(r.get(3)?).map(MessageId::from_bytes),
                batch_id: uuid_col(r.get(4)?).map(BatchId::from_bytes),
                note: r.get(5)?,
                created_at: Timestamp(r.get(6)?),
                category: r
                    .get::<Option<String>>(7)?
                    .and_then(|c| Category::parse(&c)),
                counterparty: r.get::<Option<i64>>(8)?.map(AccountId),
            })
        },
    )
}

pub(crate) fn setting(conn: &impl Db, key: &str) -> Result<Option<String>> {
    conn.one(
        "SELECT value FROM settings WHERE key = ?1",
        args![key],
        |r| r.get(0),
    )
}

pub(crate) fn set_setting(conn: &impl Db, key: &str, value: &str, by: &Audit) -> Result<()> {
    if by.actor.is_audited() {
        // Settings that are JSON (stored routing) are shown as JSON, so
        // that their secrets are redacted field by field.
        let shown = |v: &str| {
            serde_json::from_str::<serde_json::Value>(v)
                .unwrap_or_else(|_| serde_json::Value::String(v.into()))
        };
        let before = setting(conn, key)?;
        let mut change = Change::new(AuditAction::SettingSet)
            .subject(key)
            .after(&shown(value));
        if let Some(b) = before {
            change = change.before(&shown(&b));
        }
        audit::record(conn, by, change)?;
    }
    conn.exec(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        args![key, value],
    )?;
    Ok(())
}

pub(crate) fn create_session(
    conn: &impl Db,
    account: AccountId,
    key_hash: [u8; 32],
    now: Timestamp,
) -> Result<()> {
    require_account(conn, account)?;
    conn.exec("INSERT INTO sessions (key_hash, account_id, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3)", args![&key_hash[..], account.0, now.0])?;
    Ok(())
}

/// A session: its account, when it was made and last used.
pub(crate) fn session(conn: &impl Db, key_hash: [u8; 32]) -> Result<Option<SessionRecord>> {
    conn.one(
        "SELECT account_id, created_at, last_used_at FROM sessions WHERE key_hash = ?1",
        args![&key_hash[..]],
        |r| {
            Ok(SessionRecord {
                account: AccountId(r.get(0)?),
                created_at: Timestamp(r.get(1)?),
                last_used_at: Timestamp(r.get(2)?),
            })
        },
    )
}

pub(crate) fn touch_session(conn: &impl Db, key_hash: [u8; 32], now: Timestamp) -> Result<()> {
    conn.exec(
        "UPDATE sessions SET last_used_at = ?1 WHERE key_hash = ?2",
        args![now.0, &key_hash[..]],
    )?;
    Ok(())
}

/// Forgets sessions unused since before `before`.
pub(crate) fn purge_sessions(conn: &impl Db, before: Timestamp) -> Result<usize> {
    conn.exec(
        "DELETE FROM sessions WHERE last_used_at < ?1",
        args![before.0],
    )
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> AccountStore for SqlStore<B> {
    async fn create_account(&self, new: NewAccount, by: &Audit) -> Result<Account> {
        let by = *by;
        self.write(move |c| super::accounts::create_account(c, new, &by))
            .await
    }
    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        self.read(move |c| super::accounts::account(c, id)).await
    }
    async fn account_by_name(&self, name: &str) -> Result<Option<Account>> {
        let name = name.to_string();
        self.read(move |c| super::accounts::account_by_name(c, &name))
            .await
    }
    async fn accounts(&self) -> Result<Vec<Account>> {
        self.read(super::accounts::accounts).await
    }
    async fn children(&self, parent: AccountId) -> Result<Vec<Account>> {
        self.read(move |c| super::accounts::children(c, parent))
            .await
    }
    async fn update_account(
        &self,
        id: AccountId,
        patch: AccountPatch,
        by: &Audit,
    ) -> Result<Account> {
        let by = *by;
        self.write(move |c| super::accounts::update_account(c, id, patch, &by))
            .await
    }
    async fn create_key(
        &self,
        account: AccountId,
        key: NewApiKey,
        by: &Audit,
    ) -> Result<ApiKeyInfo> {
        let by = *by;
        self.write(move |c| super::accounts::create_key(c, account, key, &by))
            .await
    }
    async fn set_key_networks(
        &self,
        key: KeyId,
        networks: Option<Vec<smsgate_core::net::IpNetwork>>,
        by: &Audit,
    ) -> Result<ApiKeyInfo> {
        let by = *by;
        self.write(move |c| super::accounts::set_key_networks(c, key, networks, &by))
            .await
    }
    async fn revoke_key(&self, key: KeyId, at: Timestamp, by: &Audit) -> Result<ApiKeyInfo> {
        let by = *by;
        self.write(move |c| super::accounts::revoke_key(c, key, at, &by))
            .await
    }
    async fn rotate_key(
        &self,
        old: KeyId,
        new: NewApiKey,
        old_ends_at: Timestamp,
        by: &Audit,
    ) -> Result<ApiKeyInfo> {
        let by = *by;
        self.write(move |c| super::accounts::rotate_key(c, old, new, old_ends_at, &by))
            .await
    }
    async fn keys(&self, account: AccountId) -> Result<Vec<ApiKeyInfo>> {
        self.read(move |c| super::accounts::keys(c, account)).await
    }
    async fn key_by_hash(&self, hash: [u8; 32]) -> Result<Option<(ApiKeyInfo, Account)>> {
        self.read(move |c| super::accounts::key_by_hash(c, hash))
            .await
    }
}

#[async_trait]
impl<B: Backend> SessionStore for SqlStore<B> {
    async fn create_session(
        &self,
        account: AccountId,
        key_hash: [u8; 32],
        now: Timestamp,
    ) -> Result<()> {
        self.write(move |c| super::accounts::create_session(c, account, key_hash, now))
            .await
    }
    async fn session(&self, key_hash: [u8; 32]) -> Result<Option<SessionRecord>> {
        self.read(move |c| super::accounts::session(c, key_hash))
            .await
    }
    async fn touch_session(&self, key_hash: [u8; 32], now: Timestamp) -> Result<()> {
        self.write(move |c| super::accounts::touch_session(c, key_hash, now))
            .await
    }
    async fn purge_sessions(&self, before: Timestamp) -> Result<usize> {
        self.write(move |c| super::accounts::purge_sessions(c, before))
            .await
    }
}

#[async_trait]
impl<B: Backend> SettingStore for SqlStore<B> {
    async fn setting(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_string();
        self.read(move |c| super::accounts::setting(c, &key)).await
    }
    async fn set_setting(&self, key: &str, value: &str, by: &Audit) -> Result<()> {
        let (key, value, by) = (key.to_string(), value.to_string(), *by);
        self.write(move |c| super::accounts::set_setting(c, &key, &value, &by))
            .await
    }
}
