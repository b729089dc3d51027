//! Velocity limits: how many messages an account may send a minute to
//! one destination range (numbers sharing their first digits) and in all,
//! with a block once a limit is exceeded. SMS pumping sends bursts to
//! consecutive numbers of a range someone is paid for; a block stops the
//! bill where slowing down would only spread it.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use smsgate_core::limits::{Tripwire, Velocity, VelocityBlock, VelocityLimits, VelocityScope};
use smsgate_core::send::{RejectReason, SendError, SendPlan};
use smsgate_core::{AccountId, Timestamp};

use crate::Caller;

/// `[engine.velocity]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VelocityConfig {
    /// The digits (after the `+`, country code included) that make a
    /// destination range. Default 6 (`+316100…`).
    pub prefix_digits: u8,
    /// Messages a minute one account may send to one range. Default 6,000
    /// a minute (100 a second), then blocked for 600 s: a campaign to a
    /// whole country spreads over hundreds of ranges; a pump works through
    /// one.
    pub per_prefix: Velocity,
    /// Messages a minute of one account in all. Default off (the request
    /// limits bound requests; set this to bound messages).
    pub per_account: Velocity,
}

impl Default for VelocityConfig {
    fn default() -> Self {
        VelocityConfig {
            prefix_digits: 6,
            per_prefix: Velocity {
                per_minute: 6_000,
                block_secs: 600,
            },
            per_account: Velocity {
                per_minute: 0,
                block_secs: 600,
            },
        }
    }
}

pub use smsgate_core::limits::{VelocityError, check_velocity as check};

impl VelocityConfig {
    pub fn validate(&self) -> Result<(), VelocityError> {
        if !(1..=15).contains(&self.prefix_digits) {
            return Err(VelocityError::PrefixDigits);
        }
        check(self.limits())
    }

    fn limits(&self) -> VelocityLimits {
        VelocityLimits {
            per_prefix: self.per_prefix,
            per_account: self.per_account,
        }
    }
}

/// Distinct (account, range) pairs and accounts remembered; past this the
/// quiet ones are forgotten.
const MAX_KEYS: usize = 200_000;

pub(crate) struct Velocities {
    config: VelocityConfig,
    trips: Mutex<Trips>,
}

struct Trips {
    /// Keyed by account and the range's digits as a number (E.164 digits
    /// never start with 0, so the number names the range).
    prefixes: Tripwire<(AccountId, u64)>,
    accounts: Tripwire<AccountId>,
}

impl Velocities {
    pub(crate) fn new(config: &VelocityConfig) -> Velocities {
        Velocities {
            config: config.clone(),
            trips: Mutex::new(Trips {
                prefixes: Tripwire::new(config.per_prefix, MAX_KEYS),
                accounts: Tripwire::new(config.per_account, MAX_KEYS),
            }),
        }
    }

    /// Refuses the messages of `plan` that exceed the caller's velocity
    /// limits or go where it is blocked. With `count` false (a preview)
    /// only blocks refuse and nothing is counted.
    pub(crate) fn apply(
        &self,
        caller: &Caller,
        plan: &mut SendPlan,
        now: Timestamp,
        count: bool,
    ) -> Result<(), SendError> {
        let limits = caller.velocity.unwrap_or(self.config.limits());
        if limits.per_prefix.is_off() && limits.per_account.is_off() {
            return Ok(());
        }
        let digits = usize::from(self.config.prefix_digits);
        let account = caller.account;
        let mut trips = self.trips.lock().unwrap_or_else(|p| p.into_inner());
        plan.refuse(|m| {
            let to = m.to.digits();
            let range = &to[..digits.min(to.len())];
            let key = (account, range.parse::<u64>().unwrap_or(0));
            let (scope, rule, tripped) = if count {
                if let Err(t) = trips.accounts.take(&account, limits.per_account, now) {
                    (VelocityScope::Account, limits.per_account, t)
                } else if let Err(t) = trips.prefixes.take(&key, limits.per_prefix, now) {
                    (VelocityScope::Prefix(range.into()), limits.per_prefix, t)
                } else {
                    return None;
                }
            } else if let Some(secs) = trips.accounts.blocked(&account, now) {
                (VelocityScope::Account, limits.per_account, blocked(secs))
            } else if let Some(secs) = trips.prefixes.blocked(&key, now) {
                (
                    VelocityScope::Prefix(range.into()),
                    limits.per_prefix,
                    blocked(secs),
                )
            } else {
                return None;
            };
            if tripped.started {
                let scope_name = match scope {
                    VelocityScope::Account => "account",
                    VelocityScope::Prefix(_) => "prefix",
                };
                metrics::counter!("smsgate_velocity_blocks_total", "scope" => scope_name)
                    .increment(1);
                tracing::warn!(
                    account = %account,
                    range = %range,
                    scope = scope_name,
                    per_minute = rule.per_minute,
                    block_secs = rule.block_secs,
                    "velocity limit exceeded: sending blocked"
                );
            }
            Some(RejectReason::VelocityLimited(VelocityBlock {
                scope,
                per_minute: rule.per_minute,
                retry_after_secs: tripped.retry_after_secs,
            }))
        })
    }
}

fn blocked(retry_after_secs: u64) -> smsgate_core::limits::Tripped {
    smsgate_core::limits::Tripped {
        retry_after_secs,
        started: false,
    }
}
