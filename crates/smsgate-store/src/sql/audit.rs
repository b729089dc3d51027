//! The audit log: a row written by every audited change in the change's
//! own transaction (so a change that fails leaves none), read newest
//! first. The tables refuse updates and deletes (triggers).

use serde::Serialize;
use serde_json::Value;
use smsgate_core::operators::Actor;
use smsgate_core::{AccountId, Timestamp};

use super::{Arg, Db, Rec, args, refs};
use crate::{Audit, AuditAction, AuditEntry, AuditFilter, Result, StoreError};

/// What is shown instead of a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// Fields whose values are never written to the log, at any depth.
const SECRET_FIELDS: &[&str] = &[
    "secret",
    "password",
    "password_hash",
    "hash",
    "token",
    "api_key",
];

/// One change, as recorded.
pub(crate) struct Change {
    pub action: AuditAction,
    pub account: Option<AccountId>,
    pub subject: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    pub fn new(action: AuditAction) -> Change {
        Change {
            action,
            account: None,
            subject: None,
            before: None,
            after: None,
        }
    }

    pub fn account(mut self, account: AccountId) -> Change {
        self.account = Some(account);
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Change {
        self.subject = Some(subject.into());
        self
    }

    pub fn before(mut self, v: &impl Serialize) -> Change {
        self.before = Some(snapshot(v));
        self
    }

    pub fn after(mut self, v: &impl Serialize) -> Change {
        self.after = Some(snapshot(v));
        self
    }

    /// Notes in `after` that a secret the snapshots leave out (a
    /// password's hash) was changed.
    pub fn secret_changed(mut self, field: &str) -> Change {
        if let Some(Value::Object(m)) = self.after.as_mut() {
            m.insert(field.into(), REDACTED.into());
        }
        self
    }
}

/// `v` as JSON with its secrets redacted.
pub(crate) fn snapshot(v: &impl Serialize) -> Value {
    let mut v = serde_json::to_value(v).unwrap_or(Value::Null);
    redact(&mut v);
    v
}

fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, field) in map.iter_mut() {
                if SECRET_FIELDS.contains(&k.as_str()) && !field.is_null() {
                    *field = Value::String(REDACTED.into());
                } else {
                    redact(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Records `change` made `by`, unless the gateway made it itself.
pub(crate) fn record(conn: &impl Db, by: &Audit, change: Change) -> Result<()> {
    if !by.actor.is_audited() {
        return Ok(());
    }
    let text = |v: Option<Value>| v.map(|v| v.to_string());
    conn.exec(
        "INSERT INTO audit_log (at, actor, actor_id, key_id, address, action, account_id, subject, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        args![
            by.at.0,
            by.actor.kind(),
            by.actor.id(),
            by.actor.key().map(|k| k.0),
            by.address.map(|a| a.to_string()),
            change.action.as_str(),
            change.account.map(|a| a.0),
            change.subject,
            text(change.before),
            text(change.after)
        ],
    )?;
    Ok(())
}

fn entry_row(r: &Rec<'_>) -> Result<AuditEntry> {
    let kind: String = r.get(2)?;
    let actor = Actor::from_parts(&kind, r.get(3)?, r.get(4)?)
        .ok_or_else(|| StoreError::Corrupt(format!("audit actor {kind:?}")))?;
    let action: String = r.get(6)?;
    let json = |i: usize| -> Result<Option<Value>> {
        r.get::<Option<String>>(i)?
            .map(|t| {
                serde_json::from_str(&t)
                    .map_err(|e| StoreError::Corrupt(format!("audit JSON: {e}")))
            })
            .transpose()
    };
    Ok(AuditEntry {
        id: r.get(0)?,
        at: Timestamp(r.get(1)?),
        actor,
        address: r.get(5)?,
        action: AuditAction::parse(&action)
            .ok_or_else(|| StoreError::Corrupt(format!("audit action {action:?}")))?,
        account: r.get::<Option<i64>>(7)?.map(AccountId),
        subject: r.get(8)?,
        before: json(9)?,
        after: json(10)?,
    })
}

pub(crate) fn entries(conn: &impl Db, filter: AuditFilter) -> Result<Vec<AuditEntry>> {
    let mut sql = String::from(
        "SELECT id, at, actor, actor_id, key_id, address, action, account_id, subject, before, after
           FROM audit_log WHERE 1 = 1",
    );
    let mut values: Vec<Box<dyn Arg>> = Vec::new();
    let mut and = |clause: &str, v: Box<dyn Arg>| {
        values.push(v);
        sql.push_str(&clause.replace("?", &format!("?{}", values.len())));
    };
    if let Some(before) = filter.before {
        and(" AND id < ?", Box::new(before));
    }
    if let Some(since) = filter.since {
        and(" AND at >= ?", Box::new(since.0));
    }
    if let Some(until) = filter.until {
        and(" AND at < ?", Box::new(until.0));
    }
    if let Some(kind) = filter.actor_kind {
        and(" AND actor = ?", Box::new(kind.to_string()));
    }
    if let Some(id) = filter.actor_id {
        and(" AND actor_id = ?", Box::new(id));
    }
    if let Some(account) = filter.account {
        and(" AND account_id = ?", Box::new(account.0));
    }
    if !filter.actions.is_empty() {
        let mut list = Vec::new();
        for a in &filter.actions {
            values.push(Box::new(a.as_str().to_string()));
            list.push(format!("?{}", values.len()));
        }
        sql.push_str(&format!(" AND action IN ({})", list.join(", ")));
    }
    values.push(Box::new(filter.limit as i64));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", values.len()));
    conn.all(&sql, &refs(&values), entry_row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let v = serde_json::json!({
            "url": "https://example.com",
            "secret": "whsec_1",
            "connectors": [{"name": "a", "password": "p", "system_id": "u"}],
            "nested": {"token": "t", "hash": null},
        });
        let out = snapshot(&v);
        assert_eq!(out["secret"], REDACTED);
        assert_eq!(out["connectors"][0]["password"], REDACTED);
        assert_eq!(out["connectors"][0]["system_id"], "u");
        assert_eq!(out["nested"]["token"], REDACTED);
        assert_eq!(out["nested"]["hash"], Value::Null);
        assert_eq!(out["url"], "https://example.com");
    }
}
