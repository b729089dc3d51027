//! Password checks, bounded. Argon2 is memory-hard on purpose: each check
//! here (argon2id, m = 19 MiB, t = 2, p = 1: the `argon2` crate's
//! defaults, OWASP's minimum) holds 19 MiB for tens of milliseconds, so
//! unbounded wrong logins are a memory exhaustion anyone can trigger. At
//! most `password_checks` run at once and `password_queue` wait; the rest
//! are refused at once. Failed logins lock out their user name and their
//! client address, exponentially; an unknown user costs what a known one
//! costs, so names cannot be probed.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use smsgate_core::Timestamp;
use smsgate_core::limits::Lockout;

use crate::EngineError;
use crate::accounts::hash_password;

/// How logins are checked and throttled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Password checks at once (19 MiB each). Default 2.
    pub password_checks: usize,
    /// Logins waiting for a check at most (beyond those being checked);
    /// more are refused (503) at once. Default 16.
    pub password_queue: usize,
    /// Wrong passwords for one user name before it is locked. Default 5.
    pub name_failures: u32,
    /// Failed logins from one client address before it is locked.
    /// Default 20.
    pub address_failures: u32,
    /// The first lockout; each further failure doubles it, up to
    /// `lockout_max_secs`. Defaults 1 and 900.
    pub lockout_base_secs: u64,
    pub lockout_max_secs: u64,
    /// The largest credit change (either way) an operator of the
    /// `support` role may make at once. Default 100.
    pub support_credit_limit: smsgate_core::Amount,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            password_checks: 2,
            password_queue: 16,
            name_failures: 5,
            address_failures: 20,
            lockout_base_secs: 1,
            lockout_max_secs: 900,
            support_credit_limit: smsgate_core::Amount::credits(100),
        }
    }
}

impl AuthConfig {
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        use crate::config::ConfigError;
        if self.password_checks == 0 {
            return Err(ConfigError::NotPositive("auth.password_checks"));
        }
        if self.lockout_base_secs == 0 {
            return Err(ConfigError::NotPositive("auth.lockout_base_secs"));
        }
        if self.lockout_max_secs < self.lockout_base_secs {
            return Err(ConfigError::Order {
                low: "auth.lockout_base_secs",
                high: "auth.lockout_max_secs",
            });
        }
        Ok(())
    }
}

/// Names and addresses remembered at most (each a few dozen bytes).
const MAX_TRACKED: usize = 100_000;

/// One check: the password, the hash (`None`: the dummy), the answer.
type Job = (String, Option<String>, tokio::sync::oneshot::Sender<bool>);

pub(crate) struct PasswordGate {
    /// To the checking threads; bounded: a full queue refuses at once.
    jobs: std::sync::mpsc::SyncSender<Job>,
    names: Mutex<Lockout<String>>,
    addresses: Mutex<Lockout<IpAddr>>,
}

/// What a login attempt is about.
pub(crate) struct Attempt<'a> {
    pub name: &'a str,
    pub client: Option<IpAddr>,
    pub password: &'a str,
    /// The account's hash; `None` (no such account, or no password): the
    /// same work against a dummy, then a failure.
    pub hash: Option<String>,
}

impl PasswordGate {
    /// Starts `password_checks` threads of its own. Not tokio's blocking
    /// pool: each of its many threads would keep a malloc arena holding
    /// the last 19 MiB it checked with (128 wrong logins measured 400 MB
    /// with two checks at a time); a few long-lived threads keep a few.
    pub(crate) fn new(config: &AuthConfig) -> PasswordGate {
        let (base, max) = (
            (config.lockout_base_secs * 1000) as i64,
            (config.lockout_max_secs * 1000) as i64,
        );
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(config.password_queue);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..config.password_checks {
            let queue = queue.clone();
            let started = std::thread::Builder::new()
                .name(format!("smsgate-password-{n}"))
                .spawn(move || {
                    // Argon2's working memory, kept and reused: allocated
                    // afresh per check, the 19 MiB blocks fragmented the
                    // heap under load (128 concurrent wrong logins left
                    // 300 MB resident even on two threads).
                    let mut memory: Vec<argon2::Block> = Vec::new();
                    loop {
                        // The lock is held only while waiting for a job.
                        let job = lock(&queue).recv();
                        let Ok((password, hash, answer)) = job else {
                            return; // the gate is gone
                        };
                        let ok = match hash {
                            Some(h) => verify_in(&mut memory, &password, &h),
                            None => {
                                let _ = verify_in(&mut memory, &password, dummy_hash());
                                false
                            }
                        };
                        let _ = answer.send(ok);
                    }
                });
            if let Err(e) = started {
                tracing::error!(error = %e, "cannot start a password check thread");
            }
        }
        PasswordGate {
            jobs,
            names: Mutex::new(Lockout::new(config.name_failures, base, max, MAX_TRACKED)),
            addresses: Mutex::new(Lockout::new(
                config.address_failures,
                base,
                max,
                MAX_TRACKED,
            )),
        }
    }

    /// Whether the password is right: refused while the name or the
    /// address is locked (429), or when too many checks wait (503).
    pub(crate) async fn verify(
        &self,
        attempt: Attempt<'_>,
        now: Timestamp,
    ) -> Result<bool, EngineError> {
        let name = attempt.name.trim().to_lowercase();
        let locked = |retry_after_secs| EngineError::RateLimited {
            what: "failed logins",
            retry_after_secs,
        };
        lock(&self.names).check(&name, now).map_err(locked)?;
        if let Some(ip) = attempt.client {
            lock(&self.addresses).check(&ip, now).map_err(locked)?;
        }
        let ok = self.check(attempt.password, attempt.hash).await?;
        if ok {
            lock(&self.names).succeed(&name);
            return Ok(true);
        }
        let by_name = lock(&self.names).fail(&name, now);
        let by_address = attempt
            .client
            .and_then(|ip| lock(&self.addresses).fail(&ip, now));
        metrics::counter!("smsgate_login_failures_total").increment(1);
        if by_name.or(by_address).is_some() {
            metrics::counter!("smsgate_login_lockouts_total").increment(1);
        }
        tracing::warn!(
            user = %name,
            client = ?attempt.client,
            locked_secs = ?by_name.max(by_address),
            "failed login"
        );
        Ok(false)
    }

    /// One argon2 check on the checking threads, or `Overloaded` at once
    /// when the queue is full.
    async fn check(&self, password: &str, hash: Option<String>) -> Result<bool, EngineError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        match self.jobs.try_send((password.to_string(), hash, answer)) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                metrics::counter!("smsgate_login_overloaded_total").increment(1);
                return Err(EngineError::Overloaded("password checks"));
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                return Err(EngineError::ShuttingDown);
            }
        }
        answered.await.map_err(|_| EngineError::ShuttingDown)
    }
}

/// Stored hashes needing more memory than this are refused, not run.
const MAX_MEMORY_KIB: u32 = 64 * 1024;

/// Checks `password` against a PHC argon2 hash, in `memory` (grown to the
/// hash's cost and kept).
fn verify_in(memory: &mut Vec<argon2::Block>, password: &str, hash: &str) -> bool {
    use argon2::password_hash::{Output, PasswordHash};
    use argon2::{Algorithm, Argon2, Params, Version};
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    if params.m_cost() > MAX_MEMORY_KIB {
        tracing::error!(
            m_cost = params.m_cost(),
            "a stored password hash asks for too much memory"
        );
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let hasher = Argon2::new(algorithm, version, params);
    if hasher
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks])
        .is_err()
    {
        return false;
    }
    // `Output` compares in constant time.
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A hash of the same parameters, for users that do not exist.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_memory_checks_what_hash_password_made() {
        let hash = hash_password("correct horse").unwrap();
        let mut memory = Vec::new();
        assert!(verify_in(&mut memory, "correct horse", &hash));
        assert!(!verify_in(&mut memory, "correct horsf", &hash));
        assert!(!verify_in(&mut memory, "correct horse", "not a hash"));
        // 19 MiB: argon2id's m = 19456 KiB in 1 KiB blocks, kept.
        assert_eq!(memory.len(), 19 * 1024);
        // A hash asking for a gigabyte is not run.
        let greedy = hash.replace("m=19456", "m=1048576");
        assert!(!verify_in(&mut memory, "correct horse", &greedy));
        assert_eq!(memory.len(), 19 * 1024);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn past_the_queue_checks_are_refused_at_once() {
        let gate = Arc::new(PasswordGate::new(&AuthConfig {
            password_checks: 1,
            password_queue: 1,
            ..AuthConfig::default()
        }));
        // All started before any ends: one is checked, one waits.
        let checks: Vec<_> = (0..6)
            .map(|n| {
                let gate = gate.clone();
                tokio::spawn(async move {
                    let attempt = Attempt {
                        name: if n == 0 { "a" } else { "b" },
                        client: None,
                        password: "x",
                        hash: None,
                    };
                    gate.verify(attempt, Timestamp(0)).await
                })
            })
            .collect();
        let mut results = Vec::new();
        for c in checks {
            results.push(c.await.unwrap());
        }
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(EngineError::Overloaded(_))))
            .count();
        assert!(refused >= 3, "one checking, one waiting: {results:?}");
        assert!(results.iter().any(|r| matches!(r, Ok(false))));
    }
}
