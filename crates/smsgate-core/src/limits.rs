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

    /// Milliseconds one token takes to come back.
    fn ms_per_token(self) -> f64 {
        60_000.0 / f64::from(self.per_minute.max(1))
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
        let elapsed = now.0.saturating_sub(self.at.0).max(0) as f64;
        let gained = (elapsed / rate.ms_per_token() * 1000.0) as u64;
        let cap = u64::from(rate.burst) * 1000;
        if gained > 0 {
            self.milli = (self.milli + gained).min(cap);
            self.at = now;
        } else if self.at.0 > now.0 {
            // A clock that went back does not lock anyone out.
            self.at = now;
        }
    }

    fn quota(&self, rate: Rate) -> Quota {
        let cap = u64::from(rate.burst) * 1000;
        let missing = cap.saturating_sub(self.milli) as f64 / 1000.0;
        Quota {
            limit: rate.burst,
            remaining: (self.milli / 1000) as u32,
            reset_secs: (missing * rate.ms_per_token() / 1000.0).ceil() as u64,
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
            Ok(bucket.quota(rate))
        } else {
            let wait = (1000 - bucket.milli) as f64 / 1000.0 * rate.ms_per_token();
            Err(Exhausted {
                retry_after_secs: ((wait / 1000.0).ceil() as u64).max(1),
                quota: bucket.quota(rate),
            })
        }
    }

    /// Whether `key` has a token, without taking it.
    pub fn check(&mut self, key: &K, now: Timestamp) -> Result<(), Exhausted> {
        let rate = self.rate;
        let Some(bucket) = self.buckets.get_mut(key) else {
            return Ok(());
        };
        bucket.refill(rate, now);
        if bucket.milli >= 1000 {
            return Ok(());
        }
        let wait = (1000 - bucket.milli) as f64 / 1000.0 * rate.ms_per_token();
        Err(Exhausted {
            retry_after_secs: ((wait / 1000.0).ceil() as u64).max(1),
            quota: bucket.quota(rate),
        })
    }

    /// Forgets `key` (a login that succeeded clears its failures).
    pub fn clear(&mut self, key: &K) {
        self.buckets.remove(key);
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
    fn a_zero_rate_refuses_everything_and_a_clock_going_back_is_harmless() {
        let mut l = Limiter::new(Rate::new(0, 0), 10);
        assert!(l.take(&1, Timestamp(0)).is_err());
        let mut l = Limiter::new(Rate::new(1, 60), 10);
        assert!(l.take(&1, Timestamp(10_000)).is_ok());
        assert!(l.take(&1, Timestamp(0)).is_err());
        assert!(l.take(&1, Timestamp(1_000)).is_ok());
    }
}
