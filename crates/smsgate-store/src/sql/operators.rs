//! SQL for operators, their tokens and the audit log's reads.

use async_trait::async_trait;
use smsgate_core::operators::Role;
use smsgate_core::{OperatorId, OperatorTokenId, Timestamp};

use super::audit::{self, Change};
use super::{Backend, Db, Rec, SqlStore, args};
use crate::{
    Audit, AuditAction, AuditEntry, AuditFilter, AuditStore, NewOperator, NewOperatorToken,
    Operator, OperatorPatch, OperatorStore, OperatorToken, Result, StoreError,
};

const OPERATOR_COLUMNS: &str = "id, name, role, password_hash, disabled, created_at";

fn operator_row(r: &Rec<'_>) -> Result<Operator> {
    let role: String = r.get(2)?;
    Ok(Operator {
        id: OperatorId(r.get(0)?),
        name: r.get(1)?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("operator role {role:?}")))?,
        password_hash: r.get(3)?,
        disabled: r.get(4)?,
        created_at: Timestamp(r.get(5)?),
    })
}

const TOKEN_COLUMNS: &str = "id, operator_id, prefix, label, created_at, expires_at, revoked_at";

fn token_row(r: &Rec<'_>) -> Result<OperatorToken> {
    Ok(OperatorToken {
        id: OperatorTokenId(r.get(0)?),
        operator: OperatorId(r.get(1)?),
        prefix: r.get(2)?,
        label: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        expires_at: r.get::<Option<i64>>(5)?.map(Timestamp),
        revoked_at: r.get::<Option<i64>>(6)?.map(Timestamp),
    })
}

fn operator(conn: &impl Db, id: OperatorId) -> Result<Option<Operator>> {
    let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE id = ?1");
    conn.one(&sql, args![id.0], operator_row)
}

fn operator_by_name(conn: &impl Db, name: &str) -> Result<Option<Operator>> {
    let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE name = ?1");
    conn.one(&sql, args![name], operator_row)
}

fn create_operator(conn: &impl Db, new: NewOperator, by: &Audit) -> Result<Operator> {
    if operator_by_name(conn, &new.name)?.is_some() {
        return Err(StoreError::OperatorNameTaken(new.name));
    }
    let id = conn.insert_id(
        "INSERT INTO operators (name, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        args![new.name, new.password_hash, new.role.as_str(), by.at.0],
    )?;
    let id = OperatorId(id);
    let made = operator(conn, id)?.ok_or(StoreError::NoSuchOperator(id))?;
    audit::record(
        conn,
        by,
        Change::new(AuditAction::OperatorCreate)
            .subject(format!("operator {id}"))
            .after(&made),
    )?;
    Ok(made)
}

fn update_operator(
    conn: &impl Db,
    id: OperatorId,
    patch: OperatorPatch,
    by: &Audit,
) -> Result<Operator> {
    let sql = format!(
        "SELECT {OPERATOR_COLUMNS} FROM operators WHERE id = ?1{}",
        conn.for_update()
    );
    let before = conn
        .one(&sql, args![id.0], operator_row)?
        .ok_or(StoreError::NoSuchOperator(id))?;
    if let Some(role) = patch.role {
        conn.exec(
            "UPDATE operators SET role = ?1 WHERE id = ?2",
            args![role.as_str(), id.0],
        )?;
    }
    if let Some(hash) = &patch.password_hash {
        conn.exec(
            "UPDATE operators SET password_hash = ?1 WHERE id = ?2",
            args![hash, id.0],
        )?;
    }
    if let Some(disabled) = patch.disabled {
        conn.exec(
            "UPDATE operators SET disabled = ?1 WHERE id = ?2",
            args![disabled, id.0],
        )?;
    }
    let after = operator(conn, id)?.ok_or(StoreError::NoSuchOperator(id))?;
    let active_owner = |o: &Operator| o.role == Role::Owner && !o.disabled;
    if active_owner(&before) && !active_owner(&after) {
        // Locked so that concurrent demotions on PostgreSQL see each other.
        let owners: Vec<i64> = conn.all(
            &format!(
                "SELECT id FROM operators WHERE role = ?1 AND NOT disabled{}",
                conn.for_update()
            ),
            args![Role::Owner.as_str()],
            |r| r.get(0),
        )?;
        if owners.is_empty() {
            return Err(StoreError::LastOwner);
        }
    }
    let mut change = Change::new(AuditAction::OperatorUpdate)
        .subject(format!("operator {id}"))
        .before(&before)
        .after(&after);
    if patch.password_hash.is_some() {
        change = change.secret_changed("password");
    }
    audit::record(conn, by, change)?;
    Ok(after)
}

fn token(conn: &impl Db, id: OperatorTokenId) -> Result<Option<OperatorToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM operator_tokens WHERE id = ?1");
    conn.one(&sql, args![id.0], token_row)
}

fn create_token(
    conn: &impl Db,
    operator_id: OperatorId,
    new: NewOperatorToken,
    by: &Audit,
) -> Result<OperatorToken> {
    if operator(conn, operator_id)?.is_none() {
        return Err(StoreError::NoSuchOperator(operator_id));
    }
    let id = conn.insert_id(
        "INSERT INTO operator_tokens (operator_id, hash, prefix, label, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![
            operator_id.0,
            &new.hash[..],
            new.prefix,
            new.label,
            by.at.0,
            new.expires_at.map(|t| t.0)
        ],
    )?;
    let id = OperatorTokenId(id);
    let made = token(conn, id)?.ok_or(StoreError::NoSuchOperatorToken(id))?;
    audit::record(
        conn,
        by,
        Change::new(AuditAction::OperatorTokenCreate)
            .subject(format!("operator {operator_id} token {id}"))
            .after(&made),
    )?;
    Ok(made)
}

fn revoke_token(conn: &impl Db, id: OperatorTokenId, by: &Audit) -> Result<OperatorToken> {
    let before = token(conn, id)?.ok_or(StoreError::NoSuchOperatorToken(id))?;
    conn.exec(
        "UPDATE operator_tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
        args![by.at.0, id.0],
    )?;
    let after = token(conn, id)?.ok_or(StoreError::NoSuchOperatorToken(id))?;
    if after != before {
        audit::record(
            conn,
            by,
            Change::new(AuditAction::OperatorTokenRevoke)
                .subject(format!("operator {} token {id}", after.operator))
                .before(&before)
                .after(&after),
        )?;
    }
    Ok(after)
}

fn token_by_hash(conn: &impl Db, hash: [u8; 32]) -> Result<Option<(OperatorToken, Operator)>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM operator_tokens WHERE hash = ?1");
    let Some(token) = conn.one(&sql, args![&hash[..]], token_row)? else {
        return Ok(None);
    };
    let op = operator(conn, token.operator)?.ok_or(StoreError::NoSuchOperator(token.operator))?;
    Ok(Some((token, op)))
}

#[async_trait]
impl<B: Backend> OperatorStore for SqlStore<B> {
    async fn create_operator(&self, new: NewOperator, by: &Audit) -> Result<Operator> {
        let by = *by;
        self.write(move |c| create_operator(c, new, &by)).await
    }
    async fn operators(&self) -> Result<Vec<Operator>> {
        self.read(|c| {
            let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY id");
            c.all(&sql, args![], operator_row)
        })
        .await
    }
    async fn operator(&self, id: OperatorId) -> Result<Option<Operator>> {
        self.read(move |c| operator(c, id)).await
    }
    async fn operator_by_name(&self, name: &str) -> Result<Option<Operator>> {
        let name = name.to_string();
        self.read(move |c| operator_by_name(c, &name)).await
    }
    async fn update_operator(
        &self,
        id: OperatorId,
        patch: OperatorPatch,
        by: &Audit,
    ) -> Result<Operator> {
        let by = *by;
        self.write(move |c| update_operator(c, id, patch, &by))
            .await
    }
    async fn create_operator_token(
        &self,
        operator: OperatorId,
        new: NewOperatorToken,
        by: &Audit,
    ) -> Result<OperatorToken> {
        let by = *by;
        self.write(move |c| create_token(c, operator, new, &by))
            .await
    }
    async fn operator_tokens(&self, operator: OperatorId) -> Result<Vec<OperatorToken>> {
        self.read(move |c| {
            let sql = format!(
                "SELECT {TOKEN_COLUMNS} FROM operator_tokens WHERE operator_id = ?1 ORDER BY id"
            );
            c.all(&sql, args![operator.0], token_row)
        })
        .await
    }
    async fn operator_token(&self, id: OperatorTokenId) -> Result<Option<OperatorToken>> {
        self.read(move |c| token(c, id)).await
    }
    async fn revoke_operator_token(
        &self,
        id: OperatorTokenId,
        by: &Audit,
    ) -> Result<OperatorToken> {
        let by = *by;
        self.write(move |c| revoke_token(c, id, &by)).await
    }
    async fn operator_token_by_hash(
        &self,
        hash: [u8; 32],
    ) -> Result<Option<(OperatorToken, Operator)>> {
        self.read(move |c| token_by_hash(c, hash)).await
    }
}

#[async_trait]
impl<B: Backend> AuditStore for SqlStore<B> {
    async fn audit_log(&self, filter: AuditFilter) -> Result<Vec<AuditEntry>> {
        self.read(move |c| audit::entries(c, filter)).await
    }
}
