//! Retention: the server's rule (`[engine.retention]`) and each
//! account's own, applied by the scheduler once an hour (and by
//! [`Engine::apply_retention`] on demand).

use serde::{Deserialize, Serialize};
use smsgate_core::Timestamp;
use smsgate_store::{Retained, Retention, RetentionCut, Store};

use crate::account_changes::MAX_KEEP_DAYS;
use crate::config::ConfigError;
use crate::{Engine, EngineError};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Rows of each kind a step, so that other writes get their turn.
const STEP: usize = 1_000;

/// How long texts and numbers are kept unless an account says otherwise.
/// Default: for ever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days message texts (outbound and inbound) and click targets are
    /// kept.
    pub texts_days: Option<u32>,
    /// Days numbers (recipients, inbound senders) are kept unmasked.
    pub numbers_days: Option<u32>,
}

impl RetentionConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, days) in [
            ("retention.texts_days", self.texts_days),
            ("retention.numbers_days", self.numbers_days),
        ] {
            if days.is_some_and(|d| !(1..=MAX_KEEP_DAYS).contains(&d)) {
                return Err(ConfigError::Range {
                    name,
                    min: 1,
                    max: u64::from(MAX_KEEP_DAYS),
                });
            }
        }
        Ok(())
    }

    /// An account's rule: its own where it has one, else this.
    fn of(&self, own: Retention) -> Retention {
        Retention {
            texts_days: own.texts_days.or(self.texts_days),
            numbers_days: own.numbers_days.or(self.numbers_days),
        }
    }
}

/// Applies every account's rule as of `now`, each in steps; what was done.
pub(crate) async fn sweep(
    store: &dyn Store,
    server: RetentionConfig,
    now: Timestamp,
) -> smsgate_store::Result<Retained> {
    let before = |days: Option<u32>| days.map(|d| now.plus_millis(-(i64::from(d) * DAY_MS)));
    let mut total = Retained::default();
    for account in store.accounts().await? {
        let rule = server.of(account.retention);
        if rule == Retention::default() {
            continue;
        }
        let cut = RetentionCut {
            account: account.id,
            texts_before: before(rule.texts_days),
            numbers_before: before(rule.numbers_days),
        };
        loop {
            total.add(store.retain(cut, STEP).await?);
            if !total.more {
                break;
            }
        }
    }
    Ok(total)
}

impl Engine {
    /// Removes what every account's retention says is due at `now` (the
    /// scheduler does this once an hour); what was removed.
    pub async fn apply_retention(&self, now: Timestamp) -> Result<Retained, EngineError> {
        Ok(sweep(self.inner.store.as_ref(), self.inner.retention, now).await?)
    }
}
