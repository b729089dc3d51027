//! Operators, their tokens and roles, and who asks for each change:
//! every change the engine makes for someone takes a [`By`], checked
//! against the role here and recorded by the store in the audit log in
//! the change's own transaction.

use std::net::IpAddr;

use smsgate_core::operators::{Actor, Permission, Role};
use smsgate_core::refusal::{Field, FieldErrorKind};
use smsgate_core::{OperatorId, OperatorTokenId, Timestamp};
use smsgate_store::{
    Audit, AuditEntry, AuditFilter, NewOperator, NewOperatorToken, Operator, OperatorPatch,
    OperatorToken, StoreError,
};

use crate::accounts::{Caller, hash_key, hash_password, random_token};
use crate::passwords::Attempt;
use crate::sessions::LoginRefusal;
use crate::{Engine, EngineError};

/// Prefix of every operator token, so that leaked ones are easy to tell
/// from customers' keys.
pub const OPERATOR_TOKEN_PREFIX: &str = "sgo_";

/// The longest an operator token may be made for: a year.
pub const MAX_TOKEN_SECS: u64 = 366 * 24 * 3600;

/// Who asks for a change, from where, and (operators) with which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct By {
    pub actor: Actor,
    pub address: Option<IpAddr>,
    /// `None`: a customer, who may change only what it owns (the faces
    /// pass its own account), and no operator's endpoint.
    pub role: Option<Role>,
}

impl By {
    /// The command line on the server's machine: everything.
    pub fn cli() -> By {
        By {
            actor: Actor::Cli,
            address: None,
            role: Some(Role::Owner),
        }
    }

    /// The configuration's admin token: everything, recorded as itself.
    pub fn admin_token(address: Option<IpAddr>) -> By {
        By {
            actor: Actor::AdminToken,
            address,
            role: Some(Role::Owner),
        }
    }

    /// A customer, by the key it authenticated with.
    pub fn customer(caller: &Caller) -> By {
        By {
            actor: Actor::Account {
                account: caller.account,
                key: caller.key,
            },
            address: caller.address,
            role: None,
        }
    }

    /// The gateway itself on a client's behalf: not audited.
    pub fn gateway() -> By {
        By {
            actor: Actor::Gateway,
            address: None,
            role: None,
        }
    }

    /// The operator it is, if one.
    pub fn operator(&self) -> Option<OperatorId> {
        match self.actor {
            Actor::Operator(id) => Some(id),
            _ => None,
        }
    }
}

/// A new operator token: the secret is only ever in this value.
#[derive(Debug, Clone)]
pub struct IssuedOperatorToken {
    pub token: OperatorToken,
    pub secret: String,
}

/// A new operator, as asked.
#[derive(Debug, Clone)]
pub struct OperatorRequest {
    pub name: String,
    pub password: Option<String>,
    pub role: Role,
}

/// Changes to an operator; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OperatorChanges {
    pub role: Option<Role>,
    /// `Some(None)`: no password (tokens only).
    pub password: Option<Option<String>>,
    pub disabled: Option<bool>,
}

impl Engine {
    /// What the store records of a change `by` makes now.
    pub(crate) fn audit(&self, by: &By) -> Audit {
        Audit {
            actor: by.actor,
            address: by.address,
            at: self.now(),
        }
    }

    /// Refuses what `by`'s role may not do; customers are refused every
    /// operator's permission.
    pub fn allow(&self, by: &By, what: Permission) -> Result<(), EngineError> {
        let limit = self.inner.support_credit_limit;
        match by.role {
            Some(role) if role.allows(what, limit) => Ok(()),
            role => Err(EngineError::Forbidden { role, what }),
        }
    }

    /// The operator of an operator token used from `peer`, or `None`
    /// when the token is unknown, ended, or its operator disabled.
    pub async fn authenticate_operator(
        &self,
        secret: &str,
        peer: Option<IpAddr>,
    ) -> Result<Option<By>, EngineError> {
        if !secret.starts_with(OPERATOR_TOKEN_PREFIX) {
            return Ok(None);
        }
        let found = self
            .inner
            .store
            .operator_token_by_hash(hash_key(secret))
            .await?;
        Ok(found
            .filter(|(token, op)| !token.has_ended(self.now()) && !op.disabled)
            .map(|(_, op)| By {
                actor: Actor::Operator(op.id),
                address: peer,
                role: Some(op.role),
            }))
    }

    /// A token for the operator named `name` if `password` is its
    /// password; wrong passwords lock the name and the address out as
    /// customers' logins do.
    pub async fn operator_login(
        &self,
        name: &str,
        password: &str,
        label: Option<String>,
        expires_in_secs: Option<u64>,
        client: Option<IpAddr>,
    ) -> Result<Result<IssuedOperatorToken, LoginRefusal>, EngineError> {
        // Bad input is refused before any password work.
        let label = token_label(label.or_else(|| Some("login".into())))?;
        let expires_at = token_end(self.now(), expires_in_secs)?;
        let operator = self.inner.store.operator_by_name(name.trim()).await?;
        // Lockouts are per name: an operator's apart from an account's.
        let locked_name = format!("operator:{}", name.trim());
        let attempt = Attempt {
            name: &locked_name,
            client,
            password,
            hash: operator.as_ref().and_then(|o| o.password_hash.clone()),
        };
        let right = self.inner.passwords.verify(attempt, self.now()).await?;
        let Some(operator) = operator.filter(|o| right && !o.disabled) else {
            return Ok(Err(LoginRefusal::WrongCredentials));
        };
        let by = By {
            actor: Actor::Operator(operator.id),
            address: client,
            role: Some(operator.role),
        };
        let label = label.or_else(|| Some("login".into()));
        self.issue_operator_token(&by, operator.id, label, expires_at)
            .await
            .map(Ok)
    }

    async fn issue_operator_token(
        &self,
        by: &By,
        operator: OperatorId,
        label: Option<String>,
        expires_at: Option<Timestamp>,
    ) -> Result<IssuedOperatorToken, EngineError> {
        let secret = format!("{OPERATOR_TOKEN_PREFIX}{}", random_token(32)?);
        let new = NewOperatorToken {
            hash: hash_key(&secret),
            prefix: secret[..OPERATOR_TOKEN_PREFIX.len() + 6].to_string(),
            label,
            expires_at,
        };
        let token = self
            .inner
            .store
            .create_operator_token(operator, new, &self.audit(by))
            .await
            .map_err(operator_error)?;
        Ok(IssuedOperatorToken { token, secret })
    }

    pub async fn create_operator(
        &self,
        by: &By,
        req: OperatorRequest,
    ) -> Result<Operator, EngineError> {
        self.allow(by, Permission::Operators)?;
        let name = req.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(EngineError::field(
                Field::Name,
                FieldErrorKind::Chars { max: 64 },
            ));
        }
        let password_hash = operator_password(req.password)?;
        self.inner
            .store
            .create_operator(
                NewOperator {
                    name,
                    password_hash,
                    role: req.role,
                },
                &self.audit(by),
            )
            .await
            .map_err(operator_error)
    }

    pub async fn operators(&self, by: &By) -> Result<Vec<Operator>, EngineError> {
        self.allow(by, Permission::Operators)?;
        Ok(self.inner.store.operators().await?)
    }

    /// An operator: any operator's for those who manage them, one's own
    /// for the others.
    pub async fn operator(&self, by: &By, id: OperatorId) -> Result<Operator, EngineError> {
        if by.operator() != Some(id) {
            self.allow(by, Permission::Operators)?;
        }
        self.inner
            .store
            .operator(id)
            .await?
            .ok_or(EngineError::NotFound("operator"))
    }

    /// Changes an operator. The last active owner cannot be demoted or
    /// disabled (the admin token would be the only way back in).
    pub async fn update_operator(
        &self,
        by: &By,
        id: OperatorId,
        changes: OperatorChanges,
    ) -> Result<Operator, EngineError> {
        self.allow(by, Permission::Operators)?;
        let patch = OperatorPatch {
            role: changes.role,
            password_hash: changes.password.map(operator_password).transpose()?,
            disabled: changes.disabled,
        };
        self.inner
            .store
            .update_operator(id, patch, &self.audit(by))
            .await
            .map_err(operator_error)
    }

    /// A new token for `operator`: one's own, or anyone's for those who
    /// manage operators.
    pub async fn create_operator_token(
        &self,
        by: &By,
        operator: OperatorId,
        label: Option<String>,
        expires_in_secs: Option<u64>,
    ) -> Result<IssuedOperatorToken, EngineError> {
        if by.operator() != Some(operator) {
            self.allow(by, Permission::Operators)?;
        }
        let label = token_label(label)?;
        let expires_at = token_end(self.now(), expires_in_secs)?;
        self.issue_operator_token(by, operator, label, expires_at)
            .await
    }

    pub async fn operator_tokens(
        &self,
        by: &By,
        operator: OperatorId,
    ) -> Result<Vec<OperatorToken>, EngineError> {
        if by.operator() != Some(operator) {
            self.allow(by, Permission::Operators)?;
        }
        Ok(self.inner.store.operator_tokens(operator).await?)
    }

    /// Revokes one of `operator`'s tokens: one's own, or anyone's for
    /// those who manage operators. A token of another operator is not
    /// found under this one.
    pub async fn revoke_operator_token(
        &self,
        by: &By,
        operator: OperatorId,
        id: OperatorTokenId,
    ) -> Result<OperatorToken, EngineError> {
        if by.operator() != Some(operator) {
            self.allow(by, Permission::Operators)?;
        }
        let token = self
            .inner
            .store
            .operator_token(id)
            .await?
            .filter(|t| t.operator == operator)
            .ok_or(EngineError::NotFound("operator token"))?;
        self.inner
            .store
            .revoke_operator_token(token.id, &self.audit(by))
            .await
            .map_err(operator_error)
    }

    /// The audit log, newest first; every operator may read it.
    pub async fn audit_log(
        &self,
        by: &By,
        filter: AuditFilter,
    ) -> Result<Vec<AuditEntry>, EngineError> {
        self.allow(by, Permission::Read)?;
        Ok(self.inner.store.audit_log(filter).await?)
    }
}

/// A token's label: 1 to 64 characters, or none.
fn token_label(label: Option<String>) -> Result<Option<String>, EngineError> {
    match label {
        Some(l) if l.is_empty() || l.chars().count() > 64 => Err(EngineError::field(
            Field::Label,
            FieldErrorKind::Chars { max: 64 },
        )),
        l => Ok(l),
    }
}

/// When a token made now for `secs` ends; `None`: when revoked.
fn token_end(now: Timestamp, secs: Option<u64>) -> Result<Option<Timestamp>, EngineError> {
    match secs {
        None => Ok(None),
        Some(s) if (1..=MAX_TOKEN_SECS).contains(&s) => {
            Ok(Some(Timestamp(now.0 + s as i64 * 1000)))
        }
        Some(_) => Err(EngineError::field(
            Field::ExpiresInSecs,
            FieldErrorKind::Seconds {
                min: 1,
                max: MAX_TOKEN_SECS as i64,
            },
        )),
    }
}

/// An operator's password, hashed; at least 12 characters.
fn operator_password(password: Option<String>) -> Result<Option<String>, EngineError> {
    match password {
        Some(p) if p.chars().count() < 12 => Err(EngineError::field(
            Field::Password,
            FieldErrorKind::TooShort { min: 12 },
        )),
        Some(p) => Ok(Some(hash_password(&p)?)),
        None => Ok(None),
    }
}

fn operator_error(e: StoreError) -> EngineError {
    match e {
        StoreError::OperatorNameTaken(n) => {
            EngineError::Conflict(format!("an operator named {n:?} already exists"))
        }
        StoreError::NoSuchOperator(_) => EngineError::NotFound("operator"),
        StoreError::NoSuchOperatorToken(_) => EngineError::NotFound("operator token"),
        StoreError::LastOwner => EngineError::Conflict(
            "the last active owner cannot be demoted or disabled; make another owner first".into(),
        ),
        e => e.into(),
    }
}
