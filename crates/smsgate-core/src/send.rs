//! Turning a send request into validated, priced messages.
//!
//! Every face (native API, dialects, SMPP server, CLI) builds a
//! [`SendRequest`] and calls [`plan`]; what comes out is either a whole
//! request refused with field-level reasons, or messages ready for the
//! store plus the recipients that were refused one by one.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::credits::AccountPrices;
use crate::ids::{InboundId, MessageId};
use crate::msisdn::{Country, Msisdn, MsisdnError};
use crate::reach::{OutOfReach, Reach};
use crate::sender::SenderId;
use crate::template::{Mismatch, Template};
use crate::text::{self, EncodingChoice, Segments, TextError};
use crate::timestamp::Timestamp;

/// The body shape of a message's own callback: the face that sent it
/// decides, so that its clients get what they parse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallbackFormat {
    /// The event JSON of `GET /v1/events`.
    #[default]
    Native,
    /// The `smsmanager` dialect's delivery notification.
    Smsmanager,
    /// The `action` dialect's postback.
    Action,
}

impl CallbackFormat {
    pub const fn as_str(self) -> &'static str {
        match self {
            CallbackFormat::Native => "native",
            CallbackFormat::Smsmanager => "smsmanager",
            CallbackFormat::Action => "action",
        }
    }

    pub fn parse(s: &str) -> Option<CallbackFormat> {
        [
            CallbackFormat::Native,
            CallbackFormat::Smsmanager,
            CallbackFormat::Action,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// What a message is for; accounts may hold a balance per category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    #[default]
    Transactional,
    Promotional,
    Otp,
}

impl Category {
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Transactional => "transactional",
            Category::Promotional => "promotional",
            Category::Otp => "otp",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        match s {
            "transactional" => Some(Category::Transactional),
            "promotional" => Some(Category::Promotional),
            "otp" => Some(Category::Otp),
            _ => None,
        }
    }
}

/// Limits that hold for every request.
pub mod limits {
    /// Recipients of one `POST /v1/messages`.
    pub const MAX_RECIPIENTS: usize = 1_000;
    /// Items of one `POST /v1/batches`.
    pub const MAX_BATCH_ITEMS: usize = 10_000;
    /// Length of a client reference.
    pub const MAX_REFERENCE_CHARS: usize = 128;
    /// Validity window, in seconds.
    pub const MIN_VALIDITY_SECS: i64 = 30;
    pub const MAX_VALIDITY_SECS: i64 = 7 * 24 * 3600;
    /// How far ahead a message can be scheduled.
    pub const MAX_URL_CHARS: usize = 2048;
    /// Highest message priority (0 is the default).
    pub const MAX_PRIORITY: i32 = 10;
    pub const MAX_SCHEDULE_AHEAD_SECS: i64 = 366 * 24 * 3600;
    /// Parts per message unless the account says otherwise.
    pub const DEFAULT_MAX_PARTS: usize = 10;
}

/// What the account contributes to validation.
#[derive(Debug, Clone, Copy)]
pub struct AccountPolicy<'a> {
    pub default_country: Option<Country>,
    pub max_parts: usize,
    pub reach: &'a Reach,
    pub number_check: crate::msisdn::NumberCheck,
}

/// One recipient and the text for it.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub to: String,
    /// Personalised text; `None` takes the request's text.
    pub text: Option<String>,
}

/// A request to send one text (or personalised texts) to recipients, as
/// any face parsed it, before validation. The default goes by the
/// `standard` route class (priced like the native API) with up to
/// [`limits::MAX_RECIPIENTS`] recipients.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub recipients: Vec<Recipient>,
    pub from: Option<String>,
    pub text: Option<String>,
    pub encoding: EncodingChoice,
    pub schedule_at: Option<Timestamp>,
    pub category: Category,
    pub route_class: String,
    pub reference: Option<String>,
    /// Seconds after acceptance (or after `schedule_at`) before the message
    /// expires if it has not been sent.
    pub validity_secs: Option<i64>,
    pub priority: i32,
    /// Recipients allowed in this request.
    pub max_recipients: usize,
    /// The inbound message the request answers (checked by the caller).
    pub in_reply_to: Option<InboundId>,
    /// Receives the events of each message of the request.
    pub callback_url: Option<String>,
    /// The id of a registered content template every text must match
    /// (the engine looks it up and fills `template`).
    pub template_id: Option<String>,
    pub template: Option<Template>,
    /// The body shape of `callback_url` deliveries.
    pub callback_format: CallbackFormat,
    /// The client's own data (JSON), echoed in its callbacks.
    pub payload: Option<String>,
    /// The campaign the recipients are subscribed to (the engine checks
    /// it).
    pub campaign_ref: Option<String>,
    /// Replace each URL in the text with a short link that counts clicks
    /// (the engine does, before the text is measured).
    pub click_tracking: bool,
}

impl Default for SendRequest {
    fn default() -> Self {
        SendRequest {
            recipients: Vec::new(),
            from: None,
            text: None,
            encoding: EncodingChoice::default(),
            schedule_at: None,
            category: Category::default(),
            route_class: crate::credits::STANDARD_ROUTE.into(),
            reference: None,
            validity_secs: None,
            priority: 0,
            max_recipients: limits::MAX_RECIPIENTS,
            in_reply_to: None,
            callback_url: None,
            template_id: None,
            template: None,
            callback_format: CallbackFormat::default(),
            payload: None,
            campaign_ref: None,
            click_tracking: false,
        }
    }
}

/// A message validated and priced, ready for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: MessageId,
    pub to: Msisdn,
    /// The recipient's country (ISO 3166-1 alpha-2) where its number has
    /// one: kept with the message for statements and reports.
    pub country: Option<Country>,
    pub from: SenderId,
    pub text: String,
    pub segments: Segments,
    pub cost: Amount,
    pub category: Category,
    pub route_class: String,
    pub reference: Option<String>,
    pub schedule_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub priority: i32,
    pub in_reply_to: Option<InboundId>,
    pub callback_url: Option<String>,
    pub callback_format: CallbackFormat,
    pub payload: Option<String>,
    /// The recipient's place in the request (0-based, counting refused
    /// ones): dialects that name messages `<request>-<index>` need it.
    pub item: u32,
    /// Short links in the text (click tracking), stored with the message.
    pub links: Vec<ShortLink>,
    /// The campaign the request named (the engine sets it once checked).
    pub campaign_ref: Option<String>,
}

/// A short link of a message: `code` redirects to `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortLink {
    pub code: String,
    pub url: String,
}

/// A recipient refused on its own, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub to: String,
    pub reason: RejectReason,
}

/// Why one recipient was refused. `code()` is what clients match on;
/// `Display` is the sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("{0}")]
    InvalidNumber(MsisdnError),
    #[error("duplicate recipient")]
    Duplicate,
    #[error("{0}")]
    TemplateMismatch(Mismatch),
    #[error("{0}")]
    Text(TextError),
    #[error("price overflow")]
    PriceOverflow,
    #[error("the recipient opted out of this account's messages (suppression list)")]
    Suppressed,
    #[error("not subscribed to campaign {0:?}")]
    NotSubscribed(String),
    #[error("{}", match .0 {
        Some(c) => format!("destination country {} is not allowed for this account", c.code()),
        None => "numbers of no country (+870, +881, +882, +883, …) are not allowed for this account".into(),
    })]
    CountryNotAllowed(Option<Country>),
    #[error("{0} numbers are not allowed for this account")]
    NumberTypeNotAllowed(crate::msisdn::NumberType),
    #[error("{0}")]
    VelocityLimited(crate::limits::VelocityBlock),
}

impl RejectReason {
    /// A stable kebab-case name for the reason.
    pub const fn code(&self) -> &'static str {
        match self {
            RejectReason::InvalidNumber(_) => "invalid-number",
            RejectReason::Duplicate => "duplicate-recipient",
            RejectReason::TemplateMismatch(_) => "template-mismatch",
            RejectReason::Text(_) => "invalid-text",
            RejectReason::PriceOverflow => "price-overflow",
            RejectReason::Suppressed => "opted-out",
            RejectReason::NotSubscribed(_) => "not-subscribed",
            RejectReason::CountryNotAllowed(_) => "country-not-allowed",
            RejectReason::NumberTypeNotAllowed(_) => "number-type-not-allowed",
            RejectReason::VelocityLimited(_) => "velocity-limited",
        }
    }
}

impl From<OutOfReach> for RejectReason {
    fn from(o: OutOfReach) -> RejectReason {
        match o {
            OutOfReach::Country(c) => RejectReason::CountryNotAllowed(c),
            OutOfReach::NumberType(t) => RejectReason::NumberTypeNotAllowed(t),
        }
    }
}

/// The outcome of validation: messages to store and recipients refused.
#[derive(Debug, Clone)]
pub struct SendPlan {
    pub messages: Vec<NewMessage>,
    pub rejected: Vec<Rejection>,
    pub total_cost: Amount,
}

impl SendPlan {
    /// Refuses, one by one and without charge, the messages `reason`
    /// gives a reason for; an error when none is left.
    pub fn refuse(
        &mut self,
        mut reason: impl FnMut(&NewMessage) -> Option<RejectReason>,
    ) -> Result<(), SendError> {
        let mut refused = Vec::new();
        self.messages.retain(|m| match reason(m) {
            Some(why) => {
                refused.push(Rejection {
                    to: m.to.to_string(),
                    reason: why,
                });
                false
            }
            None => true,
        });
        if refused.is_empty() {
            return Ok(());
        }
        // The whole sum did not overflow, so neither does a part of it.
        self.total_cost = self.messages.iter().fold(Amount::ZERO, |sum, m| {
            sum.checked_add(m.cost).unwrap_or(sum)
        });
        self.rejected.extend(refused);
        if self.messages.is_empty() {
            return Err(SendError::NoValidRecipient(std::mem::take(
                &mut self.rejected,
            )));
        }
        Ok(())
    }
}

pub use crate::refusal::{Field, FieldError, FieldErrorKind, UrlError};

/// Why a whole request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no recipient can be sent to")]
    NoValidRecipient(Vec<Rejection>),
}

/// An absolute `http` or `https` URL with a host: the only thing a
/// callback can be POSTed to.
pub fn check_callback_url(url: &str) -> Result<(), UrlError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(UrlError::NotHttp)?;
    if url.len() > limits::MAX_URL_CHARS {
        return Err(UrlError::TooLong(limits::MAX_URL_CHARS));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::Whitespace);
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host.is_empty() || host.starts_with(':') {
        return Err(UrlError::NoHost);
    }
    Ok(())
}

/// Validates and prices `req` for an account, at time `now`.
pub fn plan(
    req: SendRequest,
    policy: AccountPolicy,
    prices: &AccountPrices,
    now: Timestamp,
) -> Result<SendPlan, SendError> {
    let mut errors = Vec::new();

    let from = match req.from.as_deref() {
        None => {
            errors.push(FieldError::new(
                Field::From,
                FieldErrorKind::Required("sender"),
            ));
            None
        }
        Some(f) => SenderId::parse(f)
            .map_err(|e| errors.push(FieldError::new(Field::From, FieldErrorKind::Sender(e))))
            .ok(),
    };
    if req.recipients.is_empty() {
        errors.push(FieldError::new(
            Field::To,
            FieldErrorKind::Required("at least one recipient"),
        ));
    } else if req.recipients.len() > req.max_recipients {
        errors.push(FieldError::new(
            Field::To,
            FieldErrorKind::TooManyRecipients {
                given: req.recipients.len(),
                max: req.max_recipients,
            },
        ));
    }
    // The shared text is measured once; personalised texts per recipient.
    if let (Some(template), Some(t)) = (&req.template, req.text.as_deref())
        && let Err(e) = template.check(t)
    {
        errors.push(FieldError::new(
            Field::Text,
            FieldErrorKind::TemplateMismatch(e),
        ));
    }
    let shared = match req.text.as_deref() {
        Some(t) => text::measure(t, req.encoding, policy.max_parts)
            .map_err(|e| errors.push(FieldError::new(Field::Text, FieldErrorKind::Text(e))))
            .ok(),
        None if req.recipients.iter().any(|r| r.text.is_none()) => {
            errors.push(FieldError::new(
                Field::Text,
                FieldErrorKind::Required("text"),
            ));
            None
        }
        None => None,
    };
    if let Some(r) = &req.reference
        && r.chars().count() > limits::MAX_REFERENCE_CHARS
    {
        errors.push(FieldError::new(
            Field::Reference,
            FieldErrorKind::TooLong {
                max: limits::MAX_REFERENCE_CHARS,
            },
        ));
    }
    if !(0..=limits::MAX_PRIORITY).contains(&req.priority) {
        errors.push(FieldError::new(
            Field::Priority,
            FieldErrorKind::Range {
                min: 0,
                max: i64::from(limits::MAX_PRIORITY),
            },
        ));
    }
    if let Some(url) = &req.callback_url
        && let Err(reason) = check_callback_url(url)
    {
        errors.push(FieldError::new(
            Field::CallbackUrl,
            FieldErrorKind::Url(reason),
        ));
    }
    if let Some(at) = req.schedule_at {
        if at < now {
            errors.push(FieldError::new(Field::ScheduleAt, FieldErrorKind::InPast));
        } else if at > now.plus_secs(limits::MAX_SCHEDULE_AHEAD_SECS) {
            errors.push(FieldError::new(
                Field::ScheduleAt,
                FieldErrorKind::TooFarAhead,
            ));
        }
    }
    if let Some(v) = req.validity_secs
        && !(limits::MIN_VALIDITY_SECS..=limits::MAX_VALIDITY_SECS).contains(&v)
    {
        errors.push(FieldError::new(
            Field::Validity,
            FieldErrorKind::Seconds {
                min: limits::MIN_VALIDITY_SECS,
                max: limits::MAX_VALIDITY_SECS,
            },
        ));
    }
    if !errors.is_empty() {
        return Err(SendError::Invalid(errors));
    }
    let from = from.expect("checked above");
    let expires_at = req
        .validity_secs
        .map(|v| req.schedule_at.unwrap_or(now).plus_secs(v));

    let mut seen = HashSet::with_capacity(req.recipients.len());
    let mut messages = Vec::with_capacity(req.recipients.len());
    let mut rejected = Vec::new();
    let mut total_cost = Amount::ZERO;
    for (item, recipient) in req.recipients.into_iter().enumerate() {
        let (to, country) =
            match Msisdn::parse_checked(&recipient.to, policy.default_country, policy.number_check)
            {
                Ok((to, destination)) => match policy.reach.refusal(destination) {
                    None => (to, destination.country),
                    Some(out) => {
                        rejected.push(Rejection {
                            to: recipient.to,
                            reason: out.into(),
                        });
                        continue;
                    }
                },
                Err(e) => {
                    rejected.push(Rejection {
                        to: recipient.to,
                        reason: RejectReason::InvalidNumber(e),
                    });
                    continue;
                }
            };
        if !seen.insert(to.clone()) {
            rejected.push(Rejection {
                to: recipient.to,
                reason: RejectReason::Duplicate,
            });
            continue;
        }
        if let (Some(template), Some(t)) = (&req.template, recipient.text.as_deref())
            && let Err(e) = template.check(t)
        {
            rejected.push(Rejection {
                to: recipient.to,
                reason: RejectReason::TemplateMismatch(e),
            });
            continue;
        }
        let (text, segments) = match (recipient.text, shared) {
            (Some(t), _) => match text::measure(&t, req.encoding, policy.max_parts) {
                Ok(s) => (t, s),
                Err(e) => {
                    rejected.push(Rejection {
                        to: recipient.to,
                        reason: RejectReason::Text(e),
                    });
                    continue;
                }
            },
            (None, Some(s)) => (req.text.clone().unwrap_or_default(), s),
            (None, None) => unreachable!("validated above"),
        };
        let Some(cost) = prices.cost(&req.route_class, to.digits(), segments.parts) else {
            rejected.push(Rejection {
                to: recipient.to,
                reason: RejectReason::PriceOverflow,
            });
            continue;
        };
        let Some(sum) = total_cost.checked_add(cost) else {
            rejected.push(Rejection {
                to: recipient.to,
                reason: RejectReason::PriceOverflow,
            });
            continue;
        };
        total_cost = sum;
        messages.push(NewMessage {
            id: MessageId::generate(),
            to,
            country,
            from: from.clone(),
            text,
            segments,
            cost,
            category: req.category,
            route_class: req.route_class.clone(),
            reference: req.reference.clone(),
            schedule_at: req.schedule_at,
            expires_at,
            priority: req.priority,
            in_reply_to: req.in_reply_to,
            callback_url: req.callback_url.clone(),
            callback_format: req.callback_format,
            payload: req.payload.clone(),
            item: item as u32,
            links: Vec::new(),
            campaign_ref: None,
        });
    }
    if messages.is_empty() {
        return Err(SendError::NoValidRecipient(rejected));
    }
    Ok(SendPlan {
        messages,
        rejected,
        total_cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credits::STANDARD_ROUTE;

    fn request(to: &[&str], text: &str) -> SendRequest {
        SendRequest {
            recipients: to
                .iter()
                .map(|t| Recipient {
                    to: t.to_string(),
                    text: None,
                })
                .collect(),
            from: Some("Acme".into()),
            text: Some(text.into()),
            route_class: STANDARD_ROUTE.into(),
            max_recipients: limits::MAX_RECIPIENTS,
            ..SendRequest::default()
        }
    }

    fn policy() -> AccountPolicy<'static> {
        static OPEN: std::sync::LazyLock<Reach> = std::sync::LazyLock::new(Reach::default);
        AccountPolicy {
            default_country: None,
            max_parts: 10,
            reach: &OPEN,
            number_check: crate::msisdn::NumberCheck::Valid,
        }
    }

    #[test]
    fn prices_each_recipient_and_refuses_bad_ones_alone() {
        let req = request(
            &["+31612345678", "nope", "+447911123456", "0031612345678"],
            &"x".repeat(200),
        );
        let plan = plan(req, policy(), &AccountPrices::default(), Timestamp(0)).unwrap();
        assert_eq!(plan.messages.len(), 2);
        assert_eq!(plan.total_cost, Amount::credits(4));
        assert_eq!(plan.rejected.len(), 2);
        assert_eq!(plan.rejected[0].to, "nope");
        assert_eq!(plan.rejected[1].reason, RejectReason::Duplicate);
    }

    #[test]
    fn recipients_out_of_the_accounts_reach_are_refused_alone() {
        let req = request(&["+31612345678", "+31906123456", "+447911123456"], "hi");
        let reach = Reach::new(Some(["NL"]), [""; 0]).unwrap();
        let policy = AccountPolicy {
            reach: &reach,
            ..policy()
        };
        let plan = plan(req, policy, &AccountPrices::default(), Timestamp(0)).unwrap();
        assert_eq!(plan.messages.len(), 1);
        let reasons: Vec<_> = plan.rejected.iter().map(|r| r.reason.code()).collect();
        assert_eq!(reasons, ["number-type-not-allowed", "country-not-allowed"]);
        assert_eq!(
            plan.rejected[0].reason.to_string(),
            "premium-rate numbers are not allowed for this account"
        );
    }

    #[test]
    fn whole_request_errors_name_their_fields() {
        let mut req = request(&[], "");
        req.from = Some("WayTooLongSender".into());
        req.schedule_at = Some(Timestamp(0));
        req.validity_secs = Some(5);
        let Err(SendError::Invalid(errors)) =
            plan(req, policy(), &AccountPrices::default(), Timestamp(1000))
        else {
            panic!("expected invalid");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["from", "to", "text", "schedule_at", "validity"]);
    }

    #[test]
    fn all_recipients_refused_is_an_error() {
        let req = request(&["123", "abc"], "hi");
        assert!(matches!(
            plan(req, policy(), &AccountPrices::default(), Timestamp(0)),
            Err(SendError::NoValidRecipient(r)) if r.len() == 2
        ));
    }

    #[test]
    fn callback_urls_must_be_absolute_http() {
        assert_eq!(check_callback_url("https://example.com/hook?a=1"), Ok(()));
        assert_eq!(check_callback_url("http://127.0.0.1:8080"), Ok(()));
        for bad in [
            "ftp://x",
            "example.com",
            "https://",
            "https:///path",
            "http://a b",
            "https://:80/",
        ] {
            assert!(check_callback_url(bad).is_err(), "{bad}");
        }
        let mut req = request(&["+31612345678"], "hi");
        req.callback_url = Some("nope".into());
        let Err(SendError::Invalid(errors)) =
            plan(req, policy(), &AccountPrices::default(), Timestamp(0))
        else {
            panic!("expected invalid");
        };
        assert_eq!(errors[0].field, Field::CallbackUrl);
    }

    #[test]
    fn validity_counts_from_the_schedule() {
        let mut req = request(&["+31612345678"], "hi");
        req.schedule_at = Some(Timestamp(10_000));
        req.validity_secs = Some(60);
        let plan = plan(req, policy(), &AccountPrices::default(), Timestamp(0)).unwrap();
        assert_eq!(plan.messages[0].expires_at, Some(Timestamp(70_000)));
    }
}
