//! Login sessions (the `session` dialect): the account's name and
//! password give a session key, which authenticates requests until it has
//! not been used for `session_idle_secs`.

use smsgate_core::{AccountId, KeyId, Timestamp};
use smsgate_store::AccountStatus;

use crate::accounts::{caller, hash_key, hash_password, random_token, verify_password};
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

impl Engine {
    /// A new session for the account named `username`, if `password` is
    /// its password; `None` for a wrong name or password (or an account
    /// without one).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Session>, EngineError> {
        let Some(account) = self.inner.store.account_by_name(username.trim()).await? else {
            // Spend the time a check takes, so that names cannot be probed.
            let _ = tokio::task::spawn_blocking(|| {
                let dummy = DUMMY_HASH.get_or_init(|| hash_password("dummy").unwrap_or_default());
                verify_password("x", dummy)
            })
            .await;
            return Ok(None);
        };
        let Some(hash) = account.password_hash.clone() else {
            return Ok(None);
        };
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false);
        if !ok || account.status == AccountStatus::Disabled {
            return Ok(None);
        }
        let key = random_token(24)?;
        self.inner
            .store
            .create_session(account.id, hash_key(&key), Timestamp::now())
            .await?;
        Ok(Some(Session {
            account: account.id,
            key,
        }))
    }

    /// The caller of a session: `user_key` must be the session's account.
    pub async fn authenticate_session(
        &self,
        user_key: &str,
        session_key: &str,
    ) -> Result<Result<Caller, AuthFailure>, EngineError> {
        let hash = hash_key(session_key.trim());
        let Some((account, last_used)) = self.inner.store.session(hash).await? else {
            return Ok(Err(AuthFailure::UnknownKey));
        };
        if user_key.trim() != account.0.to_string() {
            return Ok(Err(AuthFailure::UnknownKey));
        }
        let now = Timestamp::now();
        let idle = self.inner.session_idle.as_millis() as i64;
        if last_used.plus_millis(idle) < now {
            return Ok(Err(AuthFailure::Revoked));
        }
        if last_used.plus_millis(TOUCH_EVERY_MS) < now {
            self.inner.store.touch_session(hash, now).await?;
        }
        let Some(account) = self.inner.store.account(account).await? else {
            return Ok(Err(AuthFailure::UnknownKey));
        };
        if account.status == AccountStatus::Disabled {
            return Ok(Err(AuthFailure::AccountDisabled));
        }
        // A session has no API key of its own.
        Ok(Ok(caller(&account, KeyId(0))))
    }
}

/// A password hash checked against when the account does not exist.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
