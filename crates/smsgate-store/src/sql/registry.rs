//! SQL for the registry of an account's sender IDs and content templates.

use async_trait::async_trait;
use smsgate_core::{AccountId, Category, PublicId, Timestamp};

use super::audit::{self, Change};
use super::messages::corrupt;
use super::{Backend, Db, Rec, SqlStore, args};
use crate::*;
use crate::{Approval, NewSender, NewTemplate, Result, SenderRecord, StoreError, TemplateRecord};

fn approval(s: &str) -> Result<Approval> {
    match s {
        "pending" => Ok(Approval::Pending),
        "approved" => Ok(Approval::Approved),
        other => Err(corrupt("approval", other)),
    }
}

fn category(s: &str) -> Result<Category> {
    Category::parse(s).ok_or_else(|| corrupt("category", s))
}

pub(crate) fn public_id(s: &str) -> Result<PublicId> {
    PublicId::parse(s).ok_or_else(|| corrupt("public id", s))
}

const SENDER_COLUMNS: &str =
    "uid, account_id, sender_id, category, purpose, status, created_at, approved_at";

fn sender_row(r: &Rec<'_>) -> Result<SenderRecord> {
    let (cat, status, id): (String, String, String) = (r.get(3)?, r.get(5)?, r.get(0)?);
    let (account, sender_id, purpose, created_at, approved_at) = (
        r.get(1)?,
        r.get(2)?,
        r.get(4)?,
        r.get(6)?,
        r.get::<Option<i64>>(7)?,
    );
    (|| {
        Ok(SenderRecord {
            id: public_id(&id)?,
            account_id: AccountId(account),
            sender_id,
            category: category(&cat)?,
            purpose,
            status: approval(&status)?,
            created_at: Timestamp(created_at),
            approved_at: approved_at.map(Timestamp),
        })
    })()
}

const TEMPLATE_COLUMNS: &str = "uid, account_id, name, template_id, category, sender_id, body, status, created_at, approved_at";

fn template_row(r: &Rec<'_>) -> Result<TemplateRecord> {
    let (cat, status, id): (String, String, String) = (r.get(4)?, r.get(7)?, r.get(0)?);
    let (account, name, template_id, sender_id, body, created_at, approved_at) = (
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(5)?,
        r.get(6)?,
        r.get(8)?,
        r.get::<Option<i64>>(9)?,
    );
    (|| {
        Ok(TemplateRecord {
            id: public_id(&id)?,
            account_id: AccountId(account),
            name,
            template_id,
            category: category(&cat)?,
            sender_id,
            text: body,
            status: approval(&status)?,
            created_at: Timestamp(created_at),
            approved_at: approved_at.map(Timestamp),
        })
    })()
}

pub(crate) fn create_sender(
    conn: &impl Db,
    account: AccountId,
    new: NewSender,
    by: &Audit,
) -> Result<SenderRecord> {
    let now = by.at;
    super::accounts::require_account(conn, account)?;
    let uid = super::random_id("sd_", 16);
    let inserted = conn.exec(
        "INSERT INTO senders (uid, account_id, sender_id, category, purpose, created_at)
             VALUES (?6, ?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        args![
            account.0,
            new.sender_id,
            new.category.as_str(),
            new.purpose,
            now.0,
            uid
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::Duplicate(format!(
            "sender ID {:?} is already registered for this account",
            new.sender_id
        )));
    }
    let made = conn.single(
        &format!("SELECT {SENDER_COLUMNS} FROM senders WHERE uid = ?1"),
        args![uid],
        sender_row,
    )?;
    audit::record(
        conn,
        by,
        sender_change(AuditAction::SenderCreate, &made).after(&made),
    )?;
    Ok(made)
}

fn sender_change(action: AuditAction, s: &SenderRecord) -> Change {
    Change::new(action)
        .account(s.account_id)
        .subject(format!("sender {}", s.id))
}

fn template_change(action: AuditAction, t: &TemplateRecord) -> Change {
    Change::new(action)
        .account(t.account_id)
        .subject(format!("template {}", t.id))
}

/// A sender by its public id: the account's own, or (`None`) any
/// account's, for operators.
pub(crate) fn sender(
    conn: &impl Db,
    account: Option<AccountId>,
    id: &PublicId,
) -> Result<Option<SenderRecord>> {
    conn.one(&format!(
        "SELECT {SENDER_COLUMNS} FROM senders WHERE uid = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR account_id = ?2)"
    ), args![id.as_str(), account.map(|a| a.0)], sender_row)
}

pub(crate) fn delete_sender(
    conn: &impl Db,
    account: AccountId,
    id: &PublicId,
    by: &Audit,
) -> Result<bool> {
    let Some(before) = sender(conn, Some(account), id)? else {
        return Ok(false);
    };
    conn.exec(
        "DELETE FROM senders WHERE uid = ?1 AND account_id = ?2",
        args![id.as_str(), account.0],
    )?;
    audit::record(
        conn,
        by,
        sender_change(AuditAction::SenderDelete, &before).before(&before),
    )?;
    Ok(true)
}

pub(crate) fn sender_by_name(
    conn: &impl Db,
    account: AccountId,
    sender_id: &str,
) -> Result<Option<SenderRecord>> {
    conn.one(
        &format!("SELECT {SENDER_COLUMNS} FROM senders WHERE account_id = ?1 AND sender_id = ?2"),
        args![account.0, sender_id],
        sender_row,
    )
}

pub(crate) fn senders(conn: &impl Db, account: AccountId) -> Result<Vec<SenderRecord>> {
    conn.all(
        &format!("SELECT {SENDER_COLUMNS} FROM senders WHERE account_id = ?1 ORDER BY id"),
        args![account.0],
        sender_row,
    )
}

pub(crate) fn approve_sender(
    conn: &impl Db,
    id: &PublicId,
    by: &Audit,
) -> Result<Option<SenderRecord>> {
    let Some(before) = sender(conn, None, id)? else {
        return Ok(None);
    };
    conn.exec("UPDATE senders SET status = 'approved', approved_at = COALESCE(approved_at, ?1) WHERE uid = ?2", args![by.at.0, id.as_str()])?;
    let after = sender(conn, None, id)?;
    if let Some(a) = after.as_ref().filter(|a| **a != before) {
        let change = sender_change(AuditAction::SenderApprove, a)
            .before(&before)
            .after(a);
        audit::record(conn, by, change)?;
    }
    Ok(after)
}

pub(crate) fn create_template(
    conn: &impl Db,
    account: AccountId,
    new: NewTemplate,
    by: &Audit,
) -> Result<TemplateRecord> {
    let now = by.at;
    super::accounts::require_account(conn, account)?;
    let uid = super::random_id("tp_", 16);
    let inserted = conn.exec("INSERT INTO templates (uid, account_id, name, template_id, category, sender_id, body, created_at)
             VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING", args![
            account.0,
            new.name,
            new.template_id,
            new.category.as_str(),
            new.sender_id,
            new.text,
            now.0,
            uid
        ])?;
    if inserted == 0 {
        return Err(StoreError::Duplicate(format!(
            "template id {:?} is already registered for this account",
            new.template_id
        )));
    }
    let made = conn.single(
        &format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE uid = ?1"),
        args![uid],
        template_row,
    )?;
    audit::record(
        conn,
        by,
        template_change(AuditAction::TemplateCreate, &made).after(&made),
    )?;
    Ok(made)
}

/// A template by its public id: the account's own, or (`None`) any
/// account's, for operators.
pub(crate) fn template(
    conn: &impl Db,
    account: Option<AccountId>,
    id: &PublicId,
) -> Result<Option<TemplateRecord>> {
    conn.one(&format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE uid = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR account_id = ?2)"
    ), args![id.as_str(), account.map(|a| a.0)], template_row)
}

pub(crate) fn template_by_template_id(
    conn: &impl Db,
    account: AccountId,
    template_id: &str,
) -> Result<Option<TemplateRecord>> {
    conn.one(
        &format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE account_id = ?1 AND template_id = ?2"
        ),
        args![account.0, template_id],
        template_row,
    )
}

pub(crate) fn templates(conn: &impl Db, account: AccountId) -> Result<Vec<TemplateRecord>> {
    conn.all(
        &format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE account_id = ?1 ORDER BY id"),
        args![account.0],
        template_row,
    )
}

pub(crate) fn approve_template(
    conn: &impl Db,
    id: &PublicId,
    by: &Audit,
) -> Result<Option<TemplateRecord>> {
    let Some(before) = template(conn, None, id)? else {
        return Ok(None);
    };
    conn.exec("UPDATE templates SET status = 'approved', approved_at = COALESCE(approved_at, ?1) WHERE uid = ?2", args![by.at.0, id.as_str()])?;
    let after = template(conn, None, id)?;
    if let Some(a) = after.as_ref().filter(|a| **a != before) {
        let change = template_change(AuditAction::TemplateApprove, a)
            .before(&before)
            .after(a);
        audit::record(conn, by, change)?;
    }
    Ok(after)
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> RegistryStore for SqlStore<B> {
    async fn create_sender(
        &self,
        account: AccountId,
        new: NewSender,
        by: &Audit,
    ) -> Result<SenderRecord> {
        let by = *by;
        self.write(move |c| super::registry::create_sender(c, account, new, &by))
            .await
    }
    async fn sender(&self, account: AccountId, id: PublicId) -> Result<Option<SenderRecord>> {
        self.read(move |c| super::registry::sender(c, Some(account), &id))
            .await
    }
    async fn sender_by_name(
        &self,
        account: AccountId,
        sender_id: &str,
    ) -> Result<Option<SenderRecord>> {
        let sender_id = sender_id.to_string();
        self.read(move |c| super::registry::sender_by_name(c, account, &sender_id))
            .await
    }
    async fn senders(&self, account: AccountId) -> Result<Vec<SenderRecord>> {
        self.read(move |c| super::registry::senders(c, account))
            .await
    }
    async fn delete_sender(&self, account: AccountId, id: PublicId, by: &Audit) -> Result<bool> {
        let by = *by;
        self.write(move |c| super::registry::delete_sender(c, account, &id, &by))
            .await
    }
    async fn approve_sender(&self, id: PublicId, by: &Audit) -> Result<Option<SenderRecord>> {
        let by = *by;
        self.write(move |c| super::registry::approve_sender(c, &id, &by))
            .await
    }
    async fn create_template(
        &self,
        account: AccountId,
        new: NewTemplate,
        by: &Audit,
    ) -> Result<TemplateRecord> {
        let by = *by;
        self.write(move |c| super::registry::create_template(c, account, new, &by))
            .await
    }
    async fn template(&self, account: AccountId, id: PublicId) -> Result<Option<TemplateRecord>> {
        self.read(move |c| super::registry::template(c, Some(account), &id))
            .await
    }
    async fn template_by_template_id(
        &self,
        account: AccountId,
        template_id: &str,
    ) -> Result<Option<TemplateRecord>> {
        let template_id = template_id.to_string();
        self.read(move |c| super::registry::template_by_template_id(c, account, &template_id))
            .await
    }
    async fn templates(&self, account: AccountId) -> Result<Vec<TemplateRecord>> {
        self.read(move |c| super::registry::templates(c, account))
            .await
    }
    async fn approve_template(&self, id: PublicId, by: &Audit) -> Result<Option<TemplateRecord>> {
        let by = *by;
        self.write(move |c| super::registry::approve_template(c, &id, &by))
            .await
    }
}
