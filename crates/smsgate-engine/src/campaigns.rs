//! Campaigns: numbers subscribe to an account's campaigns, and an account
//! with "enforce campaign check" only sends to numbers subscribed to the
//! campaign a request names.

use smsgate_core::send::RejectReason;
use smsgate_core::send::{Field, FieldErrorKind};
use std::collections::HashSet;

use smsgate_core::{AccountId, Msisdn, SendPlan};
use smsgate_store::Campaign;

use crate::inbound::{ImportOutcome, InvalidLine};
use crate::{Caller, Engine, EngineError, not_found};

const MAX_REF_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 200;

fn campaign_ref(reference: &str) -> Result<String, EngineError> {
    let r = reference.trim();
    if r.is_empty() || r.chars().count() > MAX_REF_CHARS || r.contains('/') {
        return Err(EngineError::field(
            Field::CampaignRef,
            FieldErrorKind::CampaignReference { max: MAX_REF_CHARS },
        ));
    }
    Ok(r.to_string())
}

impl Engine {
    pub async fn create_campaign(
        &self,
        account: AccountId,
        reference: &str,
        name: Option<String>,
    ) -> Result<Campaign, EngineError> {
        let reference = campaign_ref(reference)?;
        if name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
        {
            return Err(EngineError::field(
                Field::Name,
                FieldErrorKind::TooLong {
                    max: MAX_NAME_CHARS,
                },
            ));
        }
        self.inner
            .store
            .create_campaign(account, &reference, name, self.now())
            .await
            .map_err(not_found)
    }

    /// Subscribes (or unsubscribes) numbers to a campaign; numbers that
    /// cannot be read are listed and change nothing.
    pub async fn change_subscribers(
        &self,
        caller: &Caller,
        reference: &str,
        numbers: &[String],
        subscribe: bool,
    ) -> Result<ImportOutcome, EngineError> {
        let mut parsed = Vec::with_capacity(numbers.len());
        let mut invalid = Vec::new();
        for (i, n) in numbers.iter().enumerate() {
            match Msisdn::parse(n, caller.default_country) {
                Ok(m) => parsed.push(m),
                Err(e) => invalid.push(InvalidLine {
                    line: i + 1,
                    value: n.chars().take(40).collect(),
                    reason: e.to_string(),
                }),
            }
        }
        let count = self
            .inner
            .store
            .change_subscribers(caller.account, reference, parsed, subscribe, self.now())
            .await?
            .ok_or(EngineError::NotFound("campaign"))?;
        Ok(ImportOutcome {
            added: count.changed,
            already: count.unchanged,
            invalid,
        })
    }

    /// Applies the account's campaign rule to a plan and records the
    /// campaign on its messages. With "enforce campaign check" a campaign
    /// must be named and exist, and recipients not subscribed to it are
    /// refused (not charged); without, a campaign reference is a label
    /// kept on the messages, whether or not such a campaign exists.
    pub(crate) async fn check_campaign(
        &self,
        caller: &Caller,
        reference: Option<&str>,
        plan: &mut SendPlan,
    ) -> Result<(), EngineError> {
        let Some(reference) = reference else {
            if caller.enforce_campaign_check {
                return Err(EngineError::field(
                    Field::CampaignRef,
                    FieldErrorKind::CampaignRequired,
                ));
            }
            return Ok(());
        };
        let reference = campaign_ref(reference)?;
        for m in &mut plan.messages {
            m.campaign_ref = Some(reference.clone());
        }
        if !caller.enforce_campaign_check {
            return Ok(());
        }
        let reference = reference.as_str();
        let numbers = plan.messages.iter().map(|m| m.to.to_string()).collect();
        let subscribed = self
            .inner
            .store
            .subscribed(caller.account, reference, numbers)
            .await?
            .ok_or_else(|| {
                EngineError::field(
                    Field::CampaignRef,
                    FieldErrorKind::CampaignUnknown(reference.to_string()),
                )
            })?;
        let subscribed: HashSet<String> = subscribed.into_iter().collect();
        plan.refuse(|m| {
            (!subscribed.contains(m.to.as_str()))
                .then(|| RejectReason::NotSubscribed(reference.to_string()))
        })?;
        Ok(())
    }
}
