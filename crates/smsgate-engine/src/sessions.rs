//! Login sessions (the `session` dialect): the account's name and
//! password give a session key, which authenticates requests until it has
//! not been used for `session_idle_secs`, and at most `session_max_secs`
//! after the login. A session ends when the account's password changes or
//! is removed and when the account is disabled (the store deletes it in
//! that transaction), and it obeys the account's address restrictions: a
//! password is no way around the networks its keys are limited to.

use std::net::IpAddr;

use smsgate_core::net::IpNetwork;
use smsgate_core::{AccountId, KeyId};
use smsgate_store::AccountStatus;

use crate::accounts::{caller, hash_key, random_token};
use crate::passwords::Attempt;
use crate::{AuthFailure, Caller, Engine, EngineError};

/// A session's last use is written at most this often (not on every
/// request).
const TOUCH_EVERY_MS: i64 = 60_000;

/// What a login gives: the account (the user key) and the session key.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: AccountId,
    pub key: String,
}

/// The label of the API keys `GET /token` issues.
pub const TOKEN_LABEL: &str = "session dialect token";
/// Token keys an account keeps valid at once.
pub const MAX_TOKENS: usize = 10;

/// Why a login gave no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// A wrong name or password, an account without a password, or a
    /// disabled account: all alike, so none can be told from the others.
    WrongCredentials,
    /// The right password from an address the account's keys may not be
    /// used from.
    AddressNotAllowed,
}

impl Engine {
    /// A new session for the account named `username`, if `password` is
    /// its password and `client` may log in. Wrong passwords lock the
    /// name and the address out for a while (`RateLimited`); when too many
    /// checks wait, `Overloaded`.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Result<Session, LoginRefusal>, EngineError> {
        let account = match self.check_password(username, password, client).await? {
            Ok(account) => account,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let key = random_token(24)?;
        self.inner
            .store
            .create_session(account, hash_key(&key), self.now())
            .await?;
        Ok(Ok(Session { account, key }))
    }

    /// A user token for the account named `username` (the session
    /// dialect's `GET /token`): a new API key, answered once, for
    /// `Access_token` authentication. Only the newest
    /// [`MAX_TOKENS`] such keys of an account stay valid.
    pub async fn issue_token(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Result<(AccountId, String), LoginRefusal>, EngineError> {
        let account = match self.check_password(username, password, client).await? {
            Ok(account) => account,
            Err(refusal) => return Ok(Err(refusal)),
        };
        // A login's tokens are the gateway's doing: sessions have their
        // own records, and the audit log would fill with logins.
        let by = crate::By::gateway();
        let issued = self
            .issue_key(&by, account, Some(TOKEN_LABEL.into()), None)
            .await?;
        let mut tokens: Vec<_> = self
            .inner
            .store
            .keys(account)
            .await?
            .into_iter()
            .filter(|k| k.revoked_at.is_none() && k.label.as_deref() == Some(TOKEN_LABEL))
            .collect();
        // Newest first; the oldest past the limit are revoked.
        tokens.sort_by_key(|k| std::cmp::Reverse(k.id.0));
        for old in tokens.into_iter().skip(MAX_TOKENS) {
            self.end_key(&by, old.id).await?;
        }
        Ok(Ok((account, issued.secret)))
    }

    /// The account named `username` if `password` is its password and
    /// `client` may use it; wrong passwords count towards the lockouts.
    async fn check_password(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Result<AccountId, LoginRefusal>, EngineError> {
        let account = self.inner.store.account_by_name(username.trim()).await?;
        let attempt = Attempt {
            name: username,
            client,
            password,
            hash: account.as_ref().and_then(|a| a.password_hash.clone()),
        };
        let right = self.inner.passwords.verify(attempt, self.now()).await?;
        let Some(account) = account.filter(|a| right && a.status == AccountStatus::Active) else {
            return Ok(Err(LoginRefusal::WrongCredentials));
        };
        if !self.account_allows(account.id, client).await? {
            tracing::warn!(account = %account.id, client = ?client, "login from an address the account's keys may not be used from");
            return Ok(Err(LoginRefusal::AddressNotAllowed));
        }
        Ok(Ok(account.id))
    }

    /// The caller of a session: `user_key` must be the session's account;
    /// the request counts against the account's limit.
    pub async fn authenticate_session(
        &self,
        user_key: &str,
        session_key: &str,
        client: Option<IpAddr>,
    ) -> Result<Result<Caller, AuthFailure>, EngineError> {
        Ok(
            match self.identify_session(user_key, session_key, client).await? {
                Ok(caller) => self.count(&caller).map(|()| caller),
                Err(e) => Err(e),
            },
        )
    }

    /// Who a session is, without counting a request.
    pub async fn identify_session(
        &self,
        user_key: &str,
        session_key: &str,
        client: Option<IpAddr>,
    ) -> Result<Result<Caller, AuthFailure>, EngineError> {
        let hash = hash_key(session_key.trim());
        let Some(session) = self.inner.store.session(hash).await? else {
            return Ok(Err(AuthFailure::UnknownKey));
        };
        if user_key.trim() != session.account.0.to_string() {
            return Ok(Err(AuthFailure::UnknownKey));
        }
        let now = self.now();
        let idle = self.inner.session_idle.as_millis() as i64;
        let max = self.inner.session_max.as_millis() as i64;
        if session.last_used_at.plus_millis(idle) < now || session.created_at.plus_millis(max) < now
        {
            return Ok(Err(AuthFailure::Revoked));
        }
        let Some(account) = self.inner.store.account(session.account).await? else {
            return Ok(Err(AuthFailure::UnknownKey));
        };
        if account.status == AccountStatus::Disabled {
            return Ok(Err(AuthFailure::AccountDisabled));
        }
        if !self.account_allows(account.id, client).await? {
            return Ok(Err(AuthFailure::AddressNotAllowed));
        }
        if session.last_used_at.plus_millis(TOUCH_EVERY_MS) < now {
            self.inner.store.touch_session(hash, now).await?;
        }
        // A session has no API key of its own.
        Ok(Ok(caller(&account, KeyId(0))))
    }

    /// Whether `client` may act for the account without a key: the
    /// account is limited when every key it has in use is, to the networks
    /// of those keys.
    async fn account_allows(
        &self,
        account: AccountId,
        client: Option<IpAddr>,
    ) -> Result<bool, EngineError> {
        let keys = self.inner.store.keys(account).await?;
        let networks = account_networks(
            keys.iter()
                .filter(|k| k.revoked_at.is_none())
                .map(|k| k.allowed_ips.as_deref()),
        );
        Ok(match (networks, client) {
            (None, _) => true,
            (Some(nets), Some(ip)) => nets.iter().any(|n| n.contains(ip)),
            (Some(_), None) => false,
        })
    }
}

/// The networks an account is limited to, from those of its keys in use
/// (`None` for a key usable anywhere): `None` when any key is unlimited or
/// there is none.
pub(crate) fn account_networks<'a>(
    keys: impl Iterator<Item = Option<&'a [IpNetwork]>>,
) -> Option<Vec<IpNetwork>> {
    let mut all = Vec::new();
    let mut any = false;
    for nets in keys {
        any = true;
        all.extend_from_slice(nets?);
    }
    any.then_some(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_only_when_every_key_in_use_is() {
        let office: IpNetwork = "192.0.2.0/24".parse().unwrap();
        let home: IpNetwork = "198.51.100.7".parse().unwrap();
        assert_eq!(account_networks(std::iter::empty()), None);
        assert_eq!(
            account_networks([Some(&[office][..]), None].into_iter()),
            None
        );
        assert_eq!(
            account_networks([Some(&[office][..]), Some(&[home][..])].into_iter()),
            Some(vec![office, home])
        );
    }
}
