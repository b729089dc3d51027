//! SQL for campaigns and the numbers subscribed to them.

use async_trait::async_trait;
use smsgate_core::{AccountId, Msisdn, Timestamp};

use super::{Backend, Db, SqlStore, args};
use crate::*;
use crate::{Campaign, ChangeCount, Result, StoreError};

fn campaign_id(conn: &impl Db, account: AccountId, reference: &str) -> Result<Option<i64>> {
    conn.one(
        "SELECT id FROM campaigns WHERE account_id = ?1 AND ref = ?2",
        args![account.0, reference],
        |r| r.get(0),
    )
}

pub(crate) fn create(
    conn: &impl Db,
    account: AccountId,
    reference: &str,
    name: Option<&str>,
    now: Timestamp,
) -> Result<Campaign> {
    super::accounts::require_account(conn, account)?;
    let inserted = conn.exec(
        "INSERT INTO campaigns (account_id, ref, name, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
        args![account.0, reference, name, now.0],
    )?;
    if inserted == 0 {
        return Err(StoreError::Duplicate(format!(
            "campaign {reference:?} already exists"
        )));
    }
    Ok(Campaign {
        reference: reference.to_string(),
        name: name.map(str::to_string),
        subscribers: 0,
        created_at: now,
    })
}

pub(crate) fn list(conn: &impl Db, account: AccountId) -> Result<Vec<Campaign>> {
    conn.all(
        "SELECT c.ref, c.name, c.created_at,
                (SELECT count(*) FROM campaign_subscribers s WHERE s.campaign_id = c.id)
           FROM campaigns c WHERE c.account_id = ?1 ORDER BY c.id",
        args![account.0],
        |r| {
            Ok(Campaign {
                reference: r.get(0)?,
                name: r.get(1)?,
                created_at: Timestamp(r.get(2)?),
                subscribers: r.get::<i64>(3)? as u64,
            })
        },
    )
}

/// Subscribes (or, `subscribe` false, unsubscribes) numbers; `None` when
/// the campaign does not exist.
pub(crate) fn change(
    conn: &impl Db,
    account: AccountId,
    reference: &str,
    numbers: &[Msisdn],
    subscribe: bool,
    now: Timestamp,
) -> Result<Option<ChangeCount>> {
    let Some(id) = campaign_id(conn, account, reference)? else {
        return Ok(None);
    };
    let mut count = ChangeCount::default();
    for n in numbers {
        let changed = if subscribe {
            conn.exec("INSERT INTO campaign_subscribers (campaign_id, number, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING", args![id, n.as_str(), now.0])?
        } else {
            conn.exec(
                "DELETE FROM campaign_subscribers WHERE campaign_id = ?1 AND number = ?2",
                args![id, n.as_str()],
            )?
        };
        if changed > 0 {
            count.changed += 1;
        } else {
            count.unchanged += 1;
        }
    }
    Ok(Some(count))
}

/// The campaign's subscribers in number order, after `after`; `None` when
/// the campaign does not exist.
pub(crate) fn subscribers(
    conn: &impl Db,
    account: AccountId,
    reference: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Option<Vec<String>>> {
    let Some(id) = campaign_id(conn, account, reference)? else {
        return Ok(None);
    };
    let rows = conn.all(
        "SELECT number FROM campaign_subscribers WHERE campaign_id = ?1 AND number > ?2
              ORDER BY number LIMIT ?3",
        args![id, after.unwrap_or(""), limit as i64],
        |r| r.get(0),
    )?;
    Ok(Some(rows))
}

/// Which of `numbers` are subscribed to the campaign; `None` when it does
/// not exist.
pub(crate) fn subscribed(
    conn: &impl Db,
    account: AccountId,
    reference: &str,
    numbers: &[String],
) -> Result<Option<Vec<String>>> {
    let Some(id) = campaign_id(conn, account, reference)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for n in numbers {
        let found = conn.one(
            "SELECT 1 FROM campaign_subscribers WHERE campaign_id = ?1 AND number = ?2",
            args![id, n],
            |_| Ok(()),
        )?;
        if found.is_some() {
            out.push(n.clone());
        }
    }
    Ok(Some(out))
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> AudienceStore for SqlStore<B> {
    async fn click(&self, code: &str, now: Timestamp) -> Result<Option<String>> {
        let code = code.to_string();
        self.write(move |c| super::links::click(c, &code, now))
            .await
    }
    async fn link_target(&self, code: &str) -> Result<Option<String>> {
        let code = code.to_string();
        self.read(move |c| super::links::target(c, &code)).await
    }
    async fn create_campaign(
        &self,
        account: AccountId,
        reference: &str,
        name: Option<String>,
        now: Timestamp,
    ) -> Result<Campaign> {
        let reference = reference.to_string();
        self.write(move |c| super::campaigns::create(c, account, &reference, name.as_deref(), now))
            .await
    }
    async fn campaigns(&self, account: AccountId) -> Result<Vec<Campaign>> {
        self.read(move |c| super::campaigns::list(c, account)).await
    }
    async fn change_subscribers(
        &self,
        account: AccountId,
        reference: &str,
        numbers: Vec<Msisdn>,
        subscribe: bool,
        now: Timestamp,
    ) -> Result<Option<ChangeCount>> {
        let reference = reference.to_string();
        self.write(move |c| {
            super::campaigns::change(c, account, &reference, &numbers, subscribe, now)
        })
        .await
    }
    async fn subscribers(
        &self,
        account: AccountId,
        reference: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<Option<Vec<String>>> {
        let reference = reference.to_string();
        self.read(move |c| {
            super::campaigns::subscribers(c, account, &reference, after.as_deref(), limit)
        })
        .await
    }
    async fn subscribed(
        &self,
        account: AccountId,
        reference: &str,
        numbers: Vec<String>,
    ) -> Result<Option<Vec<String>>> {
        let reference = reference.to_string();
        self.read(move |c| super::campaigns::subscribed(c, account, &reference, &numbers))
            .await
    }
    async fn change_suppressions(
        &self,
        account: AccountId,
        numbers: Vec<Msisdn>,
        action: OptOutAction,
        source: SuppressionSource,
        by: &Audit,
    ) -> Result<ChangeCount> {
        let by = *by;
        self.write(move |c| {
            super::suppressions::change_many(c, account, &numbers, action, source, &by)
        })
        .await
    }
    async fn suppressions(
        &self,
        account: AccountId,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<Suppression>> {
        self.read(move |c| super::suppressions::list(c, account, after.as_deref(), limit))
            .await
    }
    async fn suppressed(&self, account: AccountId, numbers: Vec<String>) -> Result<Vec<String>> {
        self.read(move |c| super::suppressions::suppressed(c, account, &numbers))
            .await
    }
    async fn erase_number(&self, account: AccountId, number: Msisdn, by: &Audit) -> Result<Erased> {
        let by = *by;
        self.write(move |c| super::suppressions::erase_number(c, account, &number, &by))
            .await
    }
}
