//! Inbound routing, replies and opt-out as the faces use them: keywords
//! on shared numbers, the suppression list, the opt-out keyword lists,
//! replies threaded to inbound messages, and inbound messages made up by
//! the simulator.

use smsgate_core::send::{Field, FieldErrorKind};
use std::collections::HashSet;

use smsgate_core::optout::{OptOutAction, OptOutKeywords, normalize_keyword};
use smsgate_core::send::Recipient;
use smsgate_core::send::RejectReason;
use smsgate_core::{AccountId, Country, InboundId, MessageId, Msisdn, SendPlan, SendRequest};
use smsgate_store::{
    AccountPatch, ChangeCount, InboundOutcome, InboundPart, InboundRecord, KeywordAssignment,
    Suppression, SuppressionSource,
};

use crate::{Caller, Engine, EngineError, SIMULATOR, not_found};

/// Longest text the simulator takes for a made-up inbound message.
const MAX_SIMULATED_TEXT: usize = 1_600;

/// Numbers in an import, at most.
pub const MAX_IMPORT: usize = 100_000;

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportOutcome {
    pub added: usize,
    pub already: usize,
    /// Lines that are not numbers, with the reason (1-based line numbers).
    pub invalid: Vec<InvalidLine>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct InvalidLine {
    pub line: usize,
    pub value: String,
    pub reason: String,
}

pub(crate) fn digits_number(field: Field, number: &str) -> Result<String, EngineError> {
    let digits = number.trim().trim_start_matches('+');
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EngineError::field(field, FieldErrorKind::NumberDigits));
    }
    Ok(digits.to_string())
}

impl Engine {
    /// Fills a reply's recipient and sender from the inbound message it
    /// answers, which must be the caller's.
    pub(crate) async fn thread_reply(
        &self,
        caller: &Caller,
        req: &mut SendRequest,
    ) -> Result<(), EngineError> {
        let Some(id) = req.in_reply_to else {
            return Ok(());
        };
        let Some((inbound, _)) = self.inner.store.inbound_message(caller.account, id).await? else {
            return Err(EngineError::field(
                Field::InReplyTo,
                FieldErrorKind::NoInboundMessage,
            ));
        };
        if req.recipients.is_empty() {
            req.recipients.push(Recipient {
                to: inbound.from,
                text: None,
            });
        }
        req.from.get_or_insert(inbound.to);
        Ok(())
    }

    /// Shows recipients on the account's suppression list refused in a
    /// preview (a send has the store do it, in its transaction).
    pub(crate) async fn drop_suppressed(
        &self,
        account: AccountId,
        plan: &mut SendPlan,
    ) -> Result<(), EngineError> {
        let numbers = plan.messages.iter().map(|m| m.to.to_string()).collect();
        let suppressed = self.inner.store.suppressed(account, numbers).await?;
        if suppressed.is_empty() {
            return Ok(());
        }
        let suppressed: HashSet<String> = suppressed.into_iter().collect();
        plan.refuse(|m| {
            suppressed
                .contains(m.to.as_str())
                .then_some(RejectReason::Suppressed)
        })?;
        Ok(())
    }

    async fn country_of(&self, account: AccountId) -> Result<Option<Country>, EngineError> {
        let account = self
            .inner
            .store
            .account(account)
            .await?
            .ok_or(EngineError::NotFound("account"))?;
        Ok(account
            .default_country
            .as_deref()
            .and_then(|c| Country::parse(c).ok()))
    }

    /// Puts one number on the account's suppression list (or takes it
    /// off); returns whether that changed anything.
    pub async fn set_suppressed(
        &self,
        by: &crate::By,
        account: AccountId,
        number: &str,
        action: OptOutAction,
    ) -> Result<(Msisdn, bool), EngineError> {
        let country = self.country_of(account).await?;
        let number = Msisdn::parse(number, country)
            .map_err(|e| EngineError::field(Field::Number, FieldErrorKind::Number(e)))?;
        let count = self
            .inner
            .store
            .change_suppressions(
                account,
                vec![number.clone()],
                action,
                SuppressionSource::Api,
                &self.audit(by),
            )
            .await
            .map_err(not_found)?;
        Ok((number, count.changed == 1))
    }

    /// Erases what the account keeps of `number` (GDPR): its messages'
    /// texts and click targets, its inbound messages' texts; an operator
    /// may erase for any account, a customer for its own (the face passes
    /// it). The suppression entry stays.
    pub async fn erase_number(
        &self,
        by: &crate::By,
        account: AccountId,
        number: &str,
    ) -> Result<smsgate_store::Erased, EngineError> {
        if by.role.is_some() {
            self.allow(by, smsgate_core::operators::Permission::Change)?;
        }
        let country = self.country_of(account).await?;
        let number = Msisdn::parse(number, country)
            .map_err(|e| EngineError::field(Field::Number, FieldErrorKind::Number(e)))?;
        self.inner
            .store
            .erase_number(account, number, &self.audit(by))
            .await
            .map_err(not_found)
    }

    /// Adds numbers, one per line (blank lines and `#` comments skipped);
    /// lines that are not numbers are listed and change nothing.
    pub async fn import_suppressions(
        &self,
        by: &crate::By,
        account: AccountId,
        text: &str,
    ) -> Result<ImportOutcome, EngineError> {
        let country = self.country_of(account).await?;
        let mut numbers = Vec::new();
        let mut invalid = Vec::new();
        for (i, line) in text.lines().enumerate() {
            // A CSV export: the number is the first column.
            let value = line.split([',', ';', '\t']).next().unwrap_or("").trim();
            let value = value.trim_matches('"');
            if value.is_empty() || value.starts_with('#') {
                continue;
            }
            match Msisdn::parse(value, country) {
                Ok(n) => numbers.push(n),
                // A header line is not an error.
                Err(_) if i == 0 && value.chars().any(|c| c.is_alphabetic()) => {}
                Err(e) => invalid.push(InvalidLine {
                    line: i + 1,
                    value: value.chars().take(40).collect(),
                    reason: e.to_string(),
                }),
            }
        }
        if numbers.len() > MAX_IMPORT {
            return Err(EngineError::field(
                Field::Body,
                FieldErrorKind::TooManyNumbers {
                    given: numbers.len(),
                    max: MAX_IMPORT,
                },
            ));
        }
        let ChangeCount { changed, unchanged } = self
            .inner
            .store
            .change_suppressions(
                account,
                numbers,
                OptOutAction::OptOut,
                SuppressionSource::Import,
                &self.audit(by),
            )
            .await
            .map_err(not_found)?;
        Ok(ImportOutcome {
            added: changed,
            already: unchanged,
            invalid,
        })
    }

    pub async fn suppressions(
        &self,
        account: AccountId,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<Suppression>, EngineError> {
        Ok(self.inner.store.suppressions(account, after, limit).await?)
    }

    /// Sets the account's opt-out and opt-in keywords; `None` goes back to
    /// the defaults.
    pub async fn set_optout_keywords(
        &self,
        by: &crate::By,
        account: AccountId,
        lists: Option<(Vec<String>, Vec<String>)>,
    ) -> Result<OptOutKeywords, EngineError> {
        let keywords = lists
            .map(|(stop, start)| OptOutKeywords::new(&stop, &start))
            .transpose()
            .map_err(|e| EngineError::field(Field::Keywords, FieldErrorKind::Keyword(e)))?;
        let patch = AccountPatch {
            optout_keywords: Some(keywords),
            ..AccountPatch::default()
        };
        let account = self
            .inner
            .store
            .update_account(account, patch, &self.audit(by))
            .await
            .map_err(not_found)?;
        Ok(account.optout_keywords)
    }

    /// Routes inbound messages to the shared `number` whose first word is
    /// `keyword` to `account`.
    pub async fn assign_keyword(
        &self,
        by: &crate::By,
        number: &str,
        keyword: &str,
        account: AccountId,
    ) -> Result<KeywordAssignment, EngineError> {
        self.allow(by, smsgate_core::operators::Permission::Change)?;
        let number = digits_number(Field::Number, number)?;
        let keyword = normalize_keyword(keyword)
            .map_err(|e| EngineError::field(Field::Keyword, FieldErrorKind::Keyword(e)))?;
        self.inner
            .store
            .assign_keyword(&number, &keyword, account, &self.audit(by))
            .await
            .map_err(not_found)
    }

    pub async fn unassign_keyword(
        &self,
        by: &crate::By,
        number: &str,
        keyword: &str,
    ) -> Result<bool, EngineError> {
        self.allow(by, smsgate_core::operators::Permission::Change)?;
        let number = digits_number(Field::Number, number)?;
        let keyword = normalize_keyword(keyword)
            .map_err(|e| EngineError::field(Field::Keyword, FieldErrorKind::Keyword(e)))?;
        Ok(self
            .inner
            .store
            .unassign_keyword(&number, &keyword, &self.audit(by))
            .await?)
    }

    pub async fn keywords(&self) -> Result<Vec<KeywordAssignment>, EngineError> {
        Ok(self.inner.store.keywords().await?)
    }

    /// One of the account's inbound messages and the replies sent to it.
    pub async fn inbound_message(
        &self,
        account: AccountId,
        id: InboundId,
    ) -> Result<(InboundRecord, Vec<MessageId>), EngineError> {
        self.inner
            .store
            .inbound_message(account, id)
            .await?
            .ok_or(EngineError::NotFound("inbound message"))
    }

    /// An inbound message as if the simulator's carrier had delivered it:
    /// stored, routed, keyword-checked and evented like any other.
    pub async fn simulate_inbound(
        &self,
        from: &str,
        to: &str,
        text: &str,
    ) -> Result<InboundRecord, EngineError> {
        let from = digits_number(Field::From, from)?;
        let to = digits_number(Field::To, to)?;
        if text.is_empty() || text.chars().count() > MAX_SIMULATED_TEXT {
            return Err(EngineError::field(
                Field::Text,
                FieldErrorKind::Chars {
                    max: MAX_SIMULATED_TEXT,
                },
            ));
        }
        let part = InboundPart {
            connector: SIMULATOR.into(),
            from,
            to,
            text: text.into(),
            part: None,
            received_at: self.now(),
        };
        let stored = self.inner.store.receive_inbound(vec![part]).await?;
        match stored.into_iter().next() {
            Some(InboundOutcome::Stored(m)) => {
                metrics::counter!("smsgate_inbound_stored_total").increment(1);
                Ok(m)
            }
            other => Err(EngineError::Store(smsgate_store::StoreError::Corrupt(
                format!("a whole inbound message was not stored: {other:?}"),
            ))),
        }
    }
}
