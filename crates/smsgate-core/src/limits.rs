//! Rate limits: token buckets, one per key (an API key, an account, a
//! client address, a user name), with time as a parameter so they are
//! tested without sleeping. No I/O and no clock of its own; callers hold a
//! [`Limiter`] behind their own lock.

use std::collections::HashMap;
use std::hash::Hash;

use crate::Timestamp;

/// So many requests in a burst, refilled at so many per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rate {
    pub burst: u32,
    pub per_minute: u32,
}

impl Rate {
    pub const fn new(burst: u32, per_minute: u32) -> Rate {
        Rate { burst, per_minute }
    }
}

/// The state of a bucket after a take, for `RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

/// A refusal: try again after this many seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    pub retry_after_secs: u64,
    pub quota: Quota,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Tokens, in thousandths, so refills are exact integers.
    milli: u64,
    at: Timestamp,
}

impl Bucket {
    fn refill(&mut self, rate: Rate, now: Timestamp) {
        let per_minute = i64::from(rate.per_minute.max(1));
        if self.at.0 > now.0 {
            // A clock that went back does not lock anyone out.
            self.at = now;
            return;
        }
        let elapsed = now.0 - self.at.0;
        // Thousandths of a token: `per_minute` tokens per 60,000 ms.
        let gained = elapsed.saturating_mul(per_minute) / 60;
        if gained > 0 {
            let cap = i64::from(rate.burst) * 1000;
            let milli = (self.milli as i64).saturating_add(gained).min(cap);
            self.milli = milli as u64;
            // Only the time the gain used is spent, so no fraction is lost.
            self.at = if milli == cap {
                now
            } else {
                Timestamp(self.at.0 + gained * 60 / per_minute)
            };
        }
    }

    /// Milliseconds from `now` until the bucket holds `milli`
    /// thousandths (counting the time since the last refill).
    fn wait_ms(&self, rate: Rate, milli: u64, now: Timestamp) -> u64 {
        let missing = milli.saturating_sub(self.milli);
        if missing == 0 {
            return 0;
        }
        let from_refill = (missing * 60).div_ceil(u64::from(rate.per_minute.max(1)));
        from_refill.saturating_sub(now.0.saturating_sub(self.at.0).max(0) as u64)
    }

    fn quota(&self, rate: Rate, now: Timestamp) -> Quota {
        let cap = u64::from(rate.burst) * 1000;
        Quota {
            limit: rate.burst,
            remaining: (self.milli / 1000) as u32,
            reset_secs: self.wait_ms(rate, cap, now).div_ceil(1000),
        }
    }

    fn exhausted(&self, rate: Rate, now: Timestamp) -> Exhausted {
        Exhausted {
            retry_after_secs: self.wait_ms(rate, 1000, now).div_ceil(1000).max(1),
            quota: self.quota(rate, now),
        }
    }
}

/// Token buckets per key. Keys whose buckets are full again are forgotten
/// when the map grows past `max_keys`, so a flood of new keys (addresses,
/// user names) costs bounded memory; if every key is still busy the
/// oldest half goes.
#[derive(Debug)]
pub struct Limiter<K> {
    rate: Rate,
    max_keys: usize,
    buckets: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(rate: Rate, max_keys: usize) -> Limiter<K> {
        Limiter {
            rate,
            max_keys: max_keys.max(1),
            buckets: HashMap::new(),
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Takes one token of `key`'s bucket at the limiter's rate.
    pub fn take(&mut self, key: &K, now: Timestamp) -> Result<Quota, Exhausted> {
        self.take_at(key, self.rate, now)
    }

    /// Takes one token of `key`'s bucket at `rate` (a key's own rate, such
    /// as an account's configured limit).
    pub fn take_at(&mut self, key: &K, rate: Rate, now: Timestamp) -> Result<Quota, Exhausted> {
        if rate.burst == 0 {
            return Err(Exhausted {
                retry_after_secs: 60,
                quota: Quota {
                    limit: 0,
                    remaining: 0,
                    reset_secs: 60,
                },
            });
        }
        if !self.buckets.contains_key(key) && self.buckets.len() >= self.max_keys {
            self.forget(now);
        }
        let bucket = self.buckets.entry(key.clone()).or_insert(Bucket {
            milli: u64::from(rate.burst) * 1000,
            at: now,
        });
        bucket.refill(rate, now);
        if bucket.milli >= 1000 {
            bucket.milli -= 1000;
            Ok(bucket.quota(rate, now))
        } else {
            Err(bucket.exhausted(rate, now))
        }
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    fn forget(&mut self, now: Timestamp) {
        let rate = self.rate;
        let cap = u64::from(rate.burst) * 1000;
        self.buckets.retain(|_, b| {
            b.refill(rate, now);
            b.milli < cap
        });
        if self.buckets.len() >= self.max_keys {
            let mut ages: Vec<i64> = self.buckets.values().map(|b| b.at.0).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            self.buckets.retain(|_, b| b.at.0 > cut);
        }
    }
}

/// Failed attempts per key (a user name, a client address) with an
/// exponential lockout: the first `free` failures cost nothing; each one
/// after locks the key for `base` doubled per failure, at most `max`.
/// A success clears the key; failures are forgotten after `max` without
/// another. Bounded like [`Limiter`].
#[derive(Debug)]
pub struct Lockout<K> {
    free: u32,
    base_ms: i64,
    max_ms: i64,
    max_keys: usize,
    entries: HashMap<K, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Timestamp,
    last: Timestamp,
}

impl<K: Hash + Eq + Clone> Lockout<K> {
    pub fn new(free: u32, base_ms: i64, max_ms: i64, max_keys: usize) -> Lockout<K> {
        Lockout {
            free,
            base_ms: base_ms.max(1),
            max_ms: max_ms.max(base_ms.max(1)),
            max_keys: max_keys.max(1),
            entries: HashMap::new(),
        }
    }

    /// `Err(seconds)` while the key is locked.
    pub fn check(&self, key: &K, now: Timestamp) -> Result<(), u64> {
        match self.entries.get(key) {
            Some(f) if f.locked_until.0 > now.0 => {
                Err(((f.locked_until.0 - now.0) as u64).div_ceil(1000).max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure; the seconds the key is now locked for, if it is.
    pub fn fail(&mut self, key: &K, now: Timestamp) -> Option<u64> {
        if !self.entries.contains_key(key) && self.entries.len() >= self.max_keys {
            let forget = self.max_ms;
            self.entries
                .retain(|_, f| f.last.0.saturating_add(forget) > now.0);
            if self.entries.len() >= self.max_keys {
                // Keep the most failed: they are the ones being attacked.
                let mut counts: Vec<u32> = self.entries.values().map(|f| f.count).collect();
                counts.sort_unstable();
                let cut = counts[counts.len() / 2];
                self.entries.retain(|_, f| f.count > cut);
                if self.entries.len() >= self.max_keys {
                    self.entries.clear();
                }
            }
        }
        let f = self.entries.entry(key.clone()).or_insert(Failures {
            count: 0,
            locked_until: Timestamp(i64::MIN),
            last: now,
        });
        if f.last.0.saturating_add(self.max_ms) <= now.0 {
            f.count = 0;
        }
        f.count = f.count.saturating_add(1);
        f.last = now;
        if f.count <= self.free {
            return None;
        }
        let doublings = (f.count - self.free - 1).min(40);
        let lock = self
            .base_ms
            .saturating_mul(1i64 << doublings)
            .min(self.max_ms);
        f.locked_until = now.plus_millis(lock);
        Some((lock as u64).div_ceil(1000))
    }

    pub fn succeed(&mut self, key: &K) {
        self.entries.remove(key);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A velocity rule: at most `per_minute` messages a minute (a bucket of
/// one minute's worth), and once that is exceeded, nothing for
/// `block_secs`. `per_minute` 0 turns the rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Velocity {
    pub per_minute: u32,
    pub block_secs: u32,
}

impl Velocity {
    pub const OFF: Velocity = Velocity {
        per_minute: 0,
        block_secs: 0,
    };

    pub const fn is_off(self) -> bool {
        self.per_minute == 0
    }

    fn rate(self) -> Rate {
        Rate::new(self.per_minute, self.per_minute)
    }
}

/// The velocity rules of an account: per destination range and for all
/// its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VelocityLimits {
    pub per_prefix: Velocity,
    pub per_account: Velocity,
}

/// Why a velocity setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VelocityError {
    #[error("velocity.prefix_digits must be between 1 and 15")]
    PrefixDigits,
    #[error("a velocity block must last between 1 second and 7 days")]
    BlockTime,
}

const MAX_BLOCK_SECS: u32 = 7 * 24 * 3600;

/// Checks a rule set by an admin or the config file.
pub fn check_velocity(limits: VelocityLimits) -> Result<(), VelocityError> {
    for rule in [limits.per_prefix, limits.per_account] {
        if !rule.is_off() && !(1..=MAX_BLOCK_SECS).contains(&rule.block_secs) {
            return Err(VelocityError::BlockTime);
        }
    }
    Ok(())
}

/// What a velocity limit applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VelocityScope {
    /// Numbers that start with these digits (after the `+`).
    Prefix(String),
    /// Every message of the account.
    Account,
}

/// A recipient refused by a velocity limit: the rule and how long the
/// block lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VelocityBlock {
    pub scope: VelocityScope,
    pub per_minute: u32,
    pub retry_after_secs: u64,
}

impl std::fmt::Display for VelocityBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.scope {
            VelocityScope::Prefix(p) => write!(
                f,
                "velocity limit: more than {} messages a minute to numbers starting +{p}; \
                 they are blocked for this account for {} s",
                self.per_minute, self.retry_after_secs
            ),
            VelocityScope::Account => write!(
                f,
                "velocity limit: more than {} messages a minute from this account; \
                 sending is blocked for {} s",
                self.per_minute, self.retry_after_secs
            ),
        }
    }
}

/// A refusal by a [`Tripwire`]: seconds until the block ends, and whether
/// this take started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tripped {
    pub retry_after_secs: u64,
    pub started: bool,
}

/// Token buckets per key that, once exhausted, block the key for a fixed
/// time (a velocity limit: a burst of sends to one number range is a
/// sign of fraud, not of a client to slow down). Bounded like
/// [`Limiter`].
#[derive(Debug)]
pub struct Tripwire<K> {
    buckets: Limiter<K>,
    blocked: HashMap<K, Timestamp>,
    max_keys: usize,
}

impl<K: Hash + Eq + Clone> Tripwire<K> {
    /// `usual` is the rule most keys have (what forgetting full buckets
    /// measures against).
    pub fn new(usual: Velocity, max_keys: usize) -> Tripwire<K> {
        Tripwire {
            buckets: Limiter::new(usual.rate(), max_keys),
            blocked: HashMap::new(),
            max_keys: max_keys.max(1),
        }
    }

    /// Seconds left of `key`'s block, if it is blocked.
    pub fn blocked(&self, key: &K, now: Timestamp) -> Option<u64> {
        self.blocked
            .get(key)
            .filter(|until| until.0 > now.0)
            .map(|until| ((until.0 - now.0) as u64).div_ceil(1000).max(1))
    }

    /// Counts one message for `key` under `rule`.
    pub fn take(&mut self, key: &K, rule: Velocity, now: Timestamp) -> Result<(), Tripped> {
        if rule.is_off() {
            return Ok(());
        }
        if let Some(secs) = self.blocked(key, now) {
            return Err(Tripped {
                retry_after_secs: secs,
                started: false,
            });
        }
        if self.buckets.take_at(key, rule.rate(), now).is_ok() {
            return Ok(());
        }
        if self.blocked.len() >= self.max_keys {
            self.blocked.retain(|_, until| until.0 > now.0);
            if self.blocked.len() >= self.max_keys {
                self.blocked.clear();
            }
        }
        let block_ms = i64::from(rule.block_secs.max(1)) * 1000;
        self.blocked.insert(key.clone(), now.plus_millis(block_ms));
        Err(Tripped {
            retry_after_secs: u64::from(rule.block_secs.max(1)),
            started: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_refill() {
        let mut l = Limiter::new(Rate::new(3, 60), 10);
        let t = Timestamp(1_000_000);
        for left in [2, 1, 0] {
            assert_eq!(l.take(&"k", t).unwrap().remaining, left);
        }
        let no = l.take(&"k", t).unwrap_err();
        assert_eq!(no.retry_after_secs, 1);
        assert_eq!(no.quota.remaining, 0);
        // Another key has its own bucket.
        assert!(l.take(&"other", t).is_ok());
        // One token a second.
        assert!(l.take(&"k", t.plus_millis(999)).is_err());
        // Two seconds: two tokens (no fraction of one is lost).
        assert!(l.take(&"k", t.plus_millis(2_000)).is_ok());
        assert!(l.take(&"k", t.plus_millis(2_000)).is_ok());
        assert!(l.take(&"k", t.plus_millis(2_000)).is_err());
    }

    #[test]
    fn a_slow_rate_says_how_long_to_wait() {
        let mut l = Limiter::new(Rate::new(1, 2), 10);
        let t = Timestamp(0);
        let q = l.take(&1, t).unwrap();
        assert_eq!((q.limit, q.remaining, q.reset_secs), (1, 0, 30));
        assert_eq!(
            l.take(&1, t.plus_millis(10_000))
                .unwrap_err()
                .retry_after_secs,
            20
        );
    }

    #[test]
    fn a_flood_of_keys_stays_bounded() {
        let mut l = Limiter::new(Rate::new(5, 60), 100);
        for i in 0..10_000u32 {
            let _ = l.take(&i, Timestamp(i64::from(i)));
            assert!(l.len() <= 100);
        }
    }

    #[test]
    fn failures_lock_out_exponentially_and_a_success_clears_them() {
        let mut l = Lockout::new(3, 1_000, 60_000, 100);
        let t = Timestamp(0);
        for _ in 0..3 {
            assert_eq!(l.fail(&"bob", t), None);
            assert_eq!(l.check(&"bob", t), Ok(()));
        }
        assert_eq!(l.fail(&"bob", t), Some(1));
        assert_eq!(l.check(&"bob", t), Err(1));
        assert_eq!(l.check(&"alice", t), Ok(()));
        assert_eq!(l.fail(&"bob", t.plus_millis(1_000)), Some(2));
        assert_eq!(l.fail(&"bob", t.plus_millis(3_000)), Some(4));
        for _ in 0..10 {
            l.fail(&"bob", t.plus_millis(7_000));
        }
        assert_eq!(l.check(&"bob", t.plus_millis(7_000)), Err(60), "capped");
        assert_eq!(l.check(&"bob", t.plus_millis(67_000)), Ok(()));
        l.succeed(&"bob");
        assert_eq!(l.fail(&"bob", t.plus_millis(67_000)), None);
        // Forgotten after a quiet `max`.
        let mut l = Lockout::new(1, 1_000, 60_000, 100);
        l.fail(&1, t);
        assert_eq!(l.fail(&1, t.plus_millis(60_000)), None);
    }

    #[test]
    fn a_flood_of_failing_keys_stays_bounded() {
        let mut l = Lockout::new(3, 1_000, 60_000, 100);
        for i in 0..10_000 {
            l.fail(&i, Timestamp(0));
            assert!(l.len() <= 100);
        }
    }

    #[test]
    fn a_zero_rate_refuses_everything_and_a_clock_going_back_is_harmless() {
        let mut l = Limiter::new(Rate::new(0, 0), 10);
        assert!(l.take(&1, Timestamp(0)).is_err());
        let mut l = Limiter::new(Rate::new(1, 60), 10);
        assert!(l.take(&1, Timestamp(10_000)).is_ok());
        assert!(l.take(&1, Timestamp(0)).is_err());
        assert!(l.take(&1, Timestamp(1_000)).is_ok());
    }

    #[test]
    fn a_tripwire_blocks_for_its_time_once_exceeded() {
        let rule = Velocity {
            per_minute: 3,
            block_secs: 600,
        };
        let mut t = Tripwire::new(rule, 100);
        let now = Timestamp(0);
        for _ in 0..3 {
            assert_eq!(t.take(&"316100", rule, now), Ok(()));
        }
        assert_eq!(
            t.take(&"316100", rule, now),
            Err(Tripped {
                retry_after_secs: 600,
                started: true
            })
        );
        assert_eq!(t.take(&"316200", rule, now), Ok(()), "other keys are free");
        // The bucket refills after a minute, but the block holds.
        let later = now.plus_millis(120_000);
        assert_eq!(
            t.take(&"316100", rule, later),
            Err(Tripped {
                retry_after_secs: 480,
                started: false
            })
        );
        assert_eq!(t.blocked(&"316100", later), Some(480));
        let after = now.plus_millis(600_000);
        assert_eq!(t.blocked(&"316100", after), None);
        assert_eq!(t.take(&"316100", rule, after), Ok(()));
        assert_eq!(t.take(&"316100", Velocity::OFF, now), Ok(()), "off");
    }
}
