//! A customer's own API keys: made with a label and networks, listed,
//! revoked, and rotated with an overlap in which both keys work.

use smsgate_core::KeyId;
use smsgate_core::send::{Field, FieldErrorKind};
use smsgate_store::{ApiKeyInfo, Change, StoreError};

use crate::accounts::IssuedKey;
use crate::{Caller, Engine, EngineError};

/// The longest overlap of a rotation: 30 days.
pub const MAX_OVERLAP_SECS: u64 = 30 * 24 * 3600;

impl Engine {
    /// The caller's account's keys, revoked ones too.
    pub async fn own_keys(&self, caller: &Caller) -> Result<Vec<ApiKeyInfo>, EngineError> {
        Ok(self.inner.store.keys(caller.account).await?)
    }

    /// One of the caller's account's keys; another's is not found.
    async fn own_key(&self, caller: &Caller, id: KeyId) -> Result<ApiKeyInfo, EngineError> {
        self.own_keys(caller)
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or(EngineError::NotFound("API key"))
    }

    pub async fn create_own_key(
        &self,
        caller: &Caller,
        label: Option<String>,
        networks: Option<Vec<String>>,
    ) -> Result<IssuedKey, EngineError> {
        if label.as_ref().is_some_and(|l| l.chars().count() > 64) {
            return Err(EngineError::field(
                Field::Label,
                FieldErrorKind::TooLong { max: 64 },
            ));
        }
        self.issue_key(
            &crate::By::customer(caller),
            caller.account,
            label,
            networks,
        )
        .await
    }

    /// Revokes one of the caller's keys at once (the key of the request
    /// too: its next request is refused).
    pub async fn revoke_own_key(
        &self,
        caller: &Caller,
        id: KeyId,
    ) -> Result<ApiKeyInfo, EngineError> {
        self.own_key(caller, id).await?;
        self.end_key(&crate::By::customer(caller), id).await
    }

    /// A new key with the old one's label and networks; the old one keeps
    /// working for `overlap_secs` (0 to 30 days), so that clients can move
    /// to the new one without a gap.
    pub async fn rotate_own_key(
        &self,
        caller: &Caller,
        id: KeyId,
        overlap_secs: u64,
    ) -> Result<(ApiKeyInfo, IssuedKey), EngineError> {
        if overlap_secs > MAX_OVERLAP_SECS {
            return Err(EngineError::field(
                Field::OverlapSecs,
                FieldErrorKind::Seconds {
                    min: 0,
                    max: MAX_OVERLAP_SECS as i64,
                },
            ));
        }
        let old = self.own_key(caller, id).await?;
        let now = self.now();
        if old.revoked_at.is_some_and(|t| t <= now) {
            return Err(EngineError::NotFound("API key"));
        }
        let (secret, key) = crate::accounts::new_api_key(None, None)?;
        let new = self
            .inner
            .store
            .rotate_key(
                id,
                key,
                now.plus_secs(overlap_secs as i64),
                &self.audit(&crate::By::customer(caller)),
            )
            .await
            .map_err(|e| match e {
                StoreError::NoSuchKey(_) => EngineError::NotFound("API key"),
                e => e.into(),
            })?;
        self.inner.auth.clear();
        self.announce(Change::Keys).await;
        Ok((new.clone(), IssuedKey { id: new.id, secret }))
    }
}
