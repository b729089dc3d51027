//! An operator's change to an account, as given (text from a request or
//! the command line), checked field by field into the store's patch: the
//! rules of what an account may be set to live here, not in a face.

use smsgate_core::reach::Reach;
use smsgate_core::send::{Field, FieldErrorKind};
use smsgate_core::{Country, NumberCheck, SenderId};
use smsgate_store::{Account, AccountPatch, AccountStatus};

use crate::{AccountId, Engine, EngineError};

/// Each field: `None` leaves it; for the nullable ones `Some(None)` clears
/// it.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    /// `active` or `disabled`.
    pub status: Option<String>,
    pub default_country: Option<Option<String>>,
    pub timezone: Option<String>,
    pub max_parts: Option<u32>,
    pub password: Option<Option<String>>,
    pub require_approved_sender: Option<bool>,
    pub default_sender: Option<Option<String>>,
    pub enforce_campaign_check: Option<bool>,
    pub postback_url: Option<Option<String>>,
    pub split_balances: Option<bool>,
    pub rate_limit: Option<Option<smsgate_core::limits::Rate>>,
    pub allowed_countries: Option<Option<Vec<String>>>,
    pub allowed_number_types: Option<Vec<String>>,
    pub velocity: Option<Option<smsgate_core::limits::VelocityLimits>>,
    pub number_check: Option<Option<NumberCheck>>,
    /// `Some(None)`: back to the default plan.
    pub plan: Option<Option<smsgate_core::PlanId>>,
    /// Days message texts are kept; `Some(None)`: the server's rule.
    pub keep_texts_days: Option<Option<u32>>,
    /// Days numbers are kept unmasked; `Some(None)`: the server's rule.
    pub keep_numbers_days: Option<Option<u32>>,
}

/// The longest retention an account may be given: a hundred years.
pub const MAX_KEEP_DAYS: u32 = 36_500;

const MIN_PASSWORD_CHARS: usize = 8;

fn refuse(field: Field, kind: FieldErrorKind) -> EngineError {
    EngineError::field(field, kind)
}

impl AccountChanges {
    /// The patch, or the first field that cannot be set so.
    pub fn into_patch(self) -> Result<AccountPatch, EngineError> {
        let status = match self.status.as_deref() {
            None => None,
            Some("active") => Some(AccountStatus::Active),
            Some("disabled") => Some(AccountStatus::Disabled),
            Some(other) => {
                return Err(refuse(
                    Field::Status,
                    FieldErrorKind::NotOneOf {
                        given: other.to_string(),
                        allowed: "\"active\" or \"disabled\"",
                    },
                ));
            }
        };
        let default_country = match self.default_country {
            Some(Some(c)) => Some(Some(
                Country::parse(&c)
                    .map_err(|e| refuse(Field::DefaultCountry, FieldErrorKind::Number(e)))?
                    .code(),
            )),
            other => other,
        };
        if let Some(tz) = &self.timezone {
            smsgate_core::zone::Zone::parse(tz)
                .map_err(|e| refuse(Field::Timezone, FieldErrorKind::Zone(e)))?;
        }
        if self.max_parts.is_some_and(|m| !(1..=255).contains(&m)) {
            return Err(refuse(
                Field::MaxParts,
                FieldErrorKind::Range { min: 1, max: 255 },
            ));
        }
        let password_hash = match self.password {
            Some(Some(p)) if p.chars().count() < MIN_PASSWORD_CHARS => {
                return Err(refuse(
                    Field::Password,
                    FieldErrorKind::TooShort {
                        min: MIN_PASSWORD_CHARS,
                    },
                ));
            }
            Some(Some(p)) => Some(Some(crate::accounts::hash_password(&p)?)),
            Some(None) => Some(None),
            None => None,
        };
        let default_sender = match self.default_sender {
            Some(Some(s)) => Some(Some(
                SenderId::parse(&s)
                    .map_err(|e| refuse(Field::DefaultSender, FieldErrorKind::Sender(e)))?
                    .as_str()
                    .to_string(),
            )),
            other => other,
        };
        if let Some(Some(url)) = &self.postback_url {
            smsgate_core::send::check_callback_url(url)
                .map_err(|e| refuse(Field::PostbackUrl, FieldErrorKind::Url(e)))?;
        }
        if let Some(Some(rate)) = self.rate_limit
            && (rate.burst == 0 || rate.per_minute == 0)
        {
            return Err(refuse(Field::RateLimit, FieldErrorKind::RateZero));
        }
        let allowed_countries = match self.allowed_countries {
            Some(Some(list)) => Some(Some(
                Reach::new(Some(list), [""; 0])
                    .map_err(|e| refuse(Field::AllowedCountries, FieldErrorKind::Reach(e)))?
                    .countries()
                    .unwrap_or_default()
                    .to_vec(),
            )),
            Some(None) => Some(None),
            None => None,
        };
        let allowed_number_types = match self.allowed_number_types {
            Some(types) => Some(
                Reach::new(None::<[&str; 0]>, types)
                    .map_err(|e| refuse(Field::AllowedNumberTypes, FieldErrorKind::Reach(e)))?
                    .allowed_types()
                    .to_vec(),
            ),
            None => None,
        };
        for (field, days) in [
            (Field::KeepTextsDays, self.keep_texts_days),
            (Field::KeepNumbersDays, self.keep_numbers_days),
        ] {
            if let Some(Some(d)) = days
                && !(1..=MAX_KEEP_DAYS).contains(&d)
            {
                return Err(refuse(
                    field,
                    FieldErrorKind::Range {
                        min: 1,
                        max: MAX_KEEP_DAYS as i64,
                    },
                ));
            }
        }
        if let Some(Some(limits)) = self.velocity {
            smsgate_core::limits::check_velocity(limits)
                .map_err(|e| refuse(Field::Velocity, FieldErrorKind::Velocity(e)))?;
        }
        Ok(AccountPatch {
            status,
            default_country,
            timezone: self.timezone,
            max_parts: self.max_parts,
            password_hash,
            optout_keywords: None,
            require_approved_sender: self.require_approved_sender,
            default_sender,
            enforce_campaign_check: self.enforce_campaign_check,
            postback_url: self.postback_url,
            split_balances: self.split_balances,
            rate_limit: self.rate_limit,
            allowed_countries,
            allowed_number_types,
            velocity: self.velocity,
            number_check: self.number_check,
            plan: self.plan,
            keep_texts_days: self.keep_texts_days,
            keep_numbers_days: self.keep_numbers_days,
        })
    }
}

impl Engine {
    /// Applies an operator's change to an account, all of it or (on the
    /// first bad field) none of it.
    pub async fn change_account(
        &self,
        by: &crate::By,
        id: AccountId,
        changes: AccountChanges,
    ) -> Result<Account, EngineError> {
        self.allow(by, smsgate_core::operators::Permission::Change)?;
        let patch = changes.into_patch()?;
        self.patch_account(by, id, patch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(changes: AccountChanges) -> (Field, String) {
        match changes.into_patch() {
            Err(EngineError::Invalid(errors)) => (errors[0].field, errors[0].kind.to_string()),
            other => panic!("accepted: {other:?}"),
        }
    }

    #[test]
    fn each_bad_setting_is_refused_with_its_field() {
        let cases = [
            (
                AccountChanges {
                    status: Some("paused".into()),
                    ..AccountChanges::default()
                },
                Field::Status,
                "\"paused\" is not \"active\" or \"disabled\"",
            ),
            (
                AccountChanges {
                    max_parts: Some(0),
                    ..AccountChanges::default()
                },
                Field::MaxParts,
                "must be between 1 and 255",
            ),
            (
                AccountChanges {
                    password: Some(Some("short".into())),
                    ..AccountChanges::default()
                },
                Field::Password,
                "must be at least 8 characters",
            ),
            (
                AccountChanges {
                    rate_limit: Some(Some(smsgate_core::limits::Rate {
                        burst: 0,
                        per_minute: 10,
                    })),
                    ..AccountChanges::default()
                },
                Field::RateLimit,
                "burst and per_minute must be at least 1 (disable the account to stop it)",
            ),
        ];
        for (changes, field, text) in cases {
            assert_eq!(refused(changes), (field, text.to_string()));
        }
        for (changes, field) in [
            (
                AccountChanges {
                    timezone: Some("Mars/Olympus".into()),
                    ..AccountChanges::default()
                },
                Field::Timezone,
            ),
            (
                AccountChanges {
                    default_country: Some(Some("XX".into())),
                    ..AccountChanges::default()
                },
                Field::DefaultCountry,
            ),
            (
                AccountChanges {
                    default_sender: Some(Some("far too long a sender".into())),
                    ..AccountChanges::default()
                },
                Field::DefaultSender,
            ),
            (
                AccountChanges {
                    postback_url: Some(Some("ftp://x".into())),
                    ..AccountChanges::default()
                },
                Field::PostbackUrl,
            ),
            (
                AccountChanges {
                    allowed_number_types: Some(vec!["mobile".into()]),
                    ..AccountChanges::default()
                },
                Field::AllowedNumberTypes,
            ),
        ] {
            assert_eq!(refused(changes).0, field);
        }
    }

    #[test]
    fn good_settings_become_the_patch() {
        let patch = AccountChanges {
            status: Some("disabled".into()),
            default_country: Some(Some("nl".into())),
            default_sender: Some(Some("Acme".into())),
            password: Some(None),
            ..AccountChanges::default()
        }
        .into_patch()
        .unwrap();
        assert_eq!(patch.status, Some(AccountStatus::Disabled));
        assert_eq!(patch.default_country, Some(Some("NL".into())));
        assert_eq!(patch.default_sender, Some(Some("Acme".into())));
        assert_eq!(patch.password_hash, Some(None));
    }
}
