//! Who runs the gateway and what each may do: operators' roles, the
//! permissions an admin request needs, and the actor every recorded
//! change names.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::OperatorId;
use crate::{AccountId, Amount, KeyId};

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Owner,
    /// Everything but managing operators.
    Admin,
    /// Reads everything, adds or removes credits up to a limit, approves
    /// sender IDs and templates.
    Support,
    /// Reads everything.
    Readonly,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Support, Role::Readonly];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Readonly => "readonly",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role may do `what`; `support_credit_limit` is the
    /// largest credit change (either way) support may make at once.
    pub fn allows(self, what: Permission, support_credit_limit: Amount) -> bool {
        match (self, what) {
            (Role::Owner, _) => true,
            (Role::Admin, Permission::Operators) => false,
            (Role::Admin, _) => true,
            (Role::Support, Permission::Read | Permission::Approve) => true,
            (Role::Support, Permission::Credits(amount)) => {
                amount.minor().unsigned_abs() <= support_credit_limit.minor().unsigned_abs()
            }
            (Role::Support, _) => false,
            (Role::Readonly, Permission::Read) => true,
            (Role::Readonly, _) => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an admin request does, as far as roles tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Reads anything: accounts, ledgers, prices, the audit log.
    Read,
    /// Changes accounts, keys, prices, routing, connectors, numbers.
    Change,
    /// Adds (or removes) this much credit.
    Credits(Amount),
    /// Approves sender IDs and templates.
    Approve,
    /// Manages operators.
    Operators,
}

impl Permission {
    pub fn describe(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Change => "make changes",
            Permission::Credits(_) => "change credits by this much",
            Permission::Approve => "approve senders and templates",
            Permission::Operators => "manage operators",
        }
    }
}

/// Who made a change, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The bootstrap admin token of the configuration (automation).
    AdminToken,
    /// An operator, by one of its tokens.
    Operator(OperatorId),
    /// A customer, by one of its API keys (or a login session's key).
    Account { account: AccountId, key: KeyId },
    /// The command line, on the server's machine.
    Cli,
    /// The gateway itself on a client's behalf (a STOP reply, a dialect's
    /// login session): such changes have their own records and are not
    /// in the audit log.
    Gateway,
}

impl Actor {
    /// The kind, as stored and shown: `admin-token`, `operator`,
    /// `account`, `cli`, `gateway`.
    pub fn kind(self) -> &'static str {
        match self {
            Actor::AdminToken => "admin-token",
            Actor::Operator(_) => "operator",
            Actor::Account { .. } => "account",
            Actor::Cli => "cli",
            Actor::Gateway => "gateway",
        }
    }

    /// The operator's or account's id.
    pub fn id(self) -> Option<i64> {
        match self {
            Actor::Operator(id) => Some(id.0),
            Actor::Account { account, .. } => Some(account.0),
            _ => None,
        }
    }

    /// The customer's key.
    pub fn key(self) -> Option<KeyId> {
        match self {
            Actor::Account { key, .. } => Some(key),
            _ => None,
        }
    }

    /// Reads what [`kind`](Self::kind), [`id`](Self::id) and
    /// [`key`](Self::key) gave.
    pub fn from_parts(kind: &str, id: Option<i64>, key: Option<i64>) -> Option<Actor> {
        Some(match (kind, id, key) {
            ("admin-token", None, None) => Actor::AdminToken,
            ("operator", Some(id), None) => Actor::Operator(OperatorId(id)),
            ("account", Some(id), Some(key)) => Actor::Account {
                account: AccountId(id),
                key: KeyId(key),
            },
            ("cli", None, None) => Actor::Cli,
            ("gateway", None, None) => Actor::Gateway,
            _ => return None,
        })
    }

    /// Whether its changes go to the audit log.
    pub fn is_audited(self) -> bool {
        self != Actor::Gateway
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_allows_what_it_says() {
        let limit = Amount::credits(100);
        let all = [
            Permission::Read,
            Permission::Change,
            Permission::Credits(Amount::credits(100)),
            Permission::Credits(Amount::credits(-100)),
            Permission::Credits(Amount::from_minor(1_000_001)),
            Permission::Credits(Amount::from_minor(i64::MIN)),
            Permission::Approve,
            Permission::Operators,
        ];
        let allowed = |r: Role| -> Vec<bool> { all.iter().map(|p| r.allows(*p, limit)).collect() };
        assert_eq!(allowed(Role::Owner), [true; 8]);
        assert_eq!(
            allowed(Role::Admin),
            [true, true, true, true, true, true, true, false]
        );
        assert_eq!(
            allowed(Role::Support),
            [true, false, true, true, false, false, true, false]
        );
        assert_eq!(
            allowed(Role::Readonly),
            [true, false, false, false, false, false, false, false]
        );
    }

    #[test]
    fn actors_read_back_from_their_parts() {
        let actors = [
            Actor::AdminToken,
            Actor::Operator(OperatorId(7)),
            Actor::Account {
                account: AccountId(3),
                key: KeyId(9),
            },
            Actor::Cli,
            Actor::Gateway,
        ];
        for a in actors {
            let back = Actor::from_parts(a.kind(), a.id(), a.key().map(|k| k.0));
            assert_eq!(back, Some(a));
        }
        assert_eq!(Actor::from_parts("operator", None, None), None);
        assert_eq!(Actor::from_parts("root", None, None), None);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("Owner"), None);
    }
}
