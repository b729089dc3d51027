//! Accounts as the faces see them: API keys (random, shown once, stored as
//! SHA-256), password hashes (argon2; checked in `passwords`), and authentication with a short cache so
//! that a request costs no database read.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use sha2::{Digest, Sha256};
use smsgate_core::net::IpNetwork;
use smsgate_core::zone::Zone;
use smsgate_core::{AccountId, Country, KeyId, Timestamp};
use smsgate_store::{Account, AccountStatus, NewApiKey, Store};

use crate::EngineError;

/// How long an authentication result is trusted without asking the store.
/// Revocations through this process take effect at once (the cache is
/// cleared); through another node, within this time.
const AUTH_CACHE_TTL: Duration = Duration::from_secs(5);
const AUTH_CACHE_MAX: usize = 100_000;

/// Prefix of every API key, so that leaked keys are easy to recognise.
pub const KEY_PREFIX: &str = "sg_";

/// A newly created key: the secret is only ever in this value.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub id: KeyId,
    pub secret: String,
}

/// A caller the API authenticated, with what validation needs.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
    pub key: KeyId,
    pub default_country: Option<Country>,
    pub max_parts: usize,
    /// Where the account's local times are read (dialects' dates without
    /// an offset).
    pub zone: Zone,
    /// Only registered, approved sender IDs may be used.
    pub require_approved_sender: bool,
    /// Sends must name a campaign the recipients are subscribed to.
    pub enforce_campaign_check: bool,
    /// The networks the key may be used from; `None`: anywhere.
    pub allowed_ips: Option<Arc<Vec<IpNetwork>>>,
    /// Where the action dialect's postbacks go.
    pub postback_url: Option<String>,
    /// The account's own request limit; `None`: the server's default.
    pub rate_limit: Option<smsgate_core::limits::Rate>,
    /// Destination countries and restricted number types it may send to.
    pub reach: Arc<smsgate_core::reach::Reach>,
    /// Its own velocity limits; `None`: the server's.
    pub velocity: Option<smsgate_core::limits::VelocityLimits>,
    /// The sender of sends that name none.
    pub default_sender: Option<String>,
    /// How strictly its recipients are checked; `None`: the server's.
    pub number_check: Option<smsgate_core::NumberCheck>,
    /// When its key ends (a rotated key's overlap); `None`: never.
    pub key_ends_at: Option<Timestamp>,
    /// The client's address, for the audit log of its changes; the face
    /// sets it per request.
    pub address: Option<std::net::IpAddr>,
}

impl Caller {
    /// Whether a request from `peer` may use this key (an unknown peer
    /// may not, when the key is limited).
    pub fn allows(&self, peer: Option<std::net::IpAddr>) -> bool {
        match (&self.allowed_ips, peer) {
            (None, _) => true,
            (Some(nets), Some(ip)) => nets.iter().any(|n| n.contains(ip)),
            (Some(_), None) => false,
        }
    }
}

pub fn hash_key(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub(crate) fn random_token(bytes: usize) -> Result<String, EngineError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|_| EngineError::Randomness)?;
    Ok(hex::encode(buf))
}

pub(crate) fn new_api_key(
    label: Option<String>,
    allowed_ips: Option<Vec<smsgate_core::net::IpNetwork>>,
) -> Result<(String, NewApiKey), EngineError> {
    let secret = format!("{KEY_PREFIX}{}", random_token(32)?);
    let key = NewApiKey {
        hash: hash_key(&secret),
        prefix: secret[..KEY_PREFIX.len() + 6].to_string(),
        label,
        allowed_ips,
    };
    Ok((secret, key))
}

pub fn hash_password(password: &str) -> Result<String, EngineError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| EngineError::Randomness)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| EngineError::Randomness)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| EngineError::Randomness)
}

/// Why a key was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    UnknownKey,
    Revoked,
    AccountDisabled,
    /// The key is limited to networks the client is not in.
    AddressNotAllowed,
    /// The key's or the account's requests are over their limit.
    RateLimited(smsgate_core::limits::Exhausted),
}

type CacheEntry = (Result<Caller, AuthFailure>, Instant);

#[derive(Clone, Default)]
pub(crate) struct AuthCache {
    entries: Arc<RwLock<HashMap<[u8; 32], CacheEntry>>>,
}

impl AuthCache {
    pub(crate) fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn cached(&self, hash: &[u8; 32]) -> Option<Result<Caller, AuthFailure>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let (result, at) = entries.get(hash)?;
        (at.elapsed() < AUTH_CACHE_TTL).then(|| result.clone())
    }

    /// The caller of a key at `now` (a key ending later, a rotated one,
    /// is good until then, cached or not).
    pub(crate) async fn authenticate(
        &self,
        store: &dyn Store,
        secret: &str,
        now: Timestamp,
    ) -> Result<Result<Caller, AuthFailure>, EngineError> {
        let ended = |c: Result<Caller, AuthFailure>| match c {
            Ok(c) if c.key_ends_at.is_some_and(|end| end <= now) => Err(AuthFailure::Revoked),
            other => other,
        };
        let hash = hash_key(secret);
        if let Some(result) = self.cached(&hash) {
            return Ok(ended(result));
        }
        let result = match store.key_by_hash(hash).await? {
            None => Err(AuthFailure::UnknownKey),
            Some((_, account)) if account.status == AccountStatus::Disabled => {
                Err(AuthFailure::AccountDisabled)
            }
            Some((key, account)) => {
                let mut c = caller(&account, key.id);
                c.allowed_ips = key.allowed_ips.map(Arc::new);
                c.key_ends_at = key.revoked_at;
                Ok(c)
            }
        };
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= AUTH_CACHE_MAX {
            entries.clear();
        }
        entries.insert(hash, (result.clone(), Instant::now()));
        Ok(ended(result))
    }
}

pub(crate) fn caller(account: &Account, key: KeyId) -> Caller {
    Caller {
        account: account.id,
        key,
        default_country: account
            .default_country
            .as_deref()
            .and_then(|c| Country::parse(c).ok()),
        max_parts: account.max_parts as usize,
        zone: Zone::parse(&account.timezone).unwrap_or_else(|_| Zone::utc()),
        require_approved_sender: account.require_approved_sender,
        enforce_campaign_check: account.enforce_campaign_check,
        allowed_ips: None,
        postback_url: account.postback_url.clone(),
        rate_limit: account.rate_limit,
        reach: Arc::new(account.reach.clone()),
        velocity: account.velocity,
        default_sender: account.default_sender.clone(),
        number_check: account.number_check,
        key_ends_at: None,
        address: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_only_their_hash_is_kept() {
        let (a, ka) = new_api_key(None, None).unwrap();
        let (b, _) = new_api_key(None, None).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX) && a.len() == KEY_PREFIX.len() + 64);
        assert_eq!(ka.hash, hash_key(&a));
        assert!(a.starts_with(&ka.prefix));
    }
}
