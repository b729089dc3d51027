//! Why a field of a request is refused, as types: every face maps the
//! kinds to its own codes and words with an exhaustive `match` (a new kind
//! is a compile error in each), and `Display` gives the sentence the
//! native API shows.

use std::fmt;

use serde::Serialize;

use crate::msisdn::MsisdnError;
use crate::net::BadNetwork;
use crate::optout::KeywordError;
use crate::sender::SenderIdError;
use crate::template::{Mismatch, TemplateError};
use crate::text::TextError;

/// A field of a request, by what it means; [`Field::as_str`] is the
/// native API's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum Field {
    From,
    To,
    Text,
    Reference,
    Priority,
    CallbackUrl,
    ScheduleAt,
    Validity,
    CampaignRef,
    TemplateId,
    InReplyTo,
    SenderId,
    Purpose,
    Name,
    Credits,
    DefaultCountry,
    MaxParts,
    KeepTextsDays,
    KeepNumbersDays,
    GroupBy,
    Password,
    AllowedIps,
    Amount,
    Number,
    Url,
    Events,
    MaxConcurrency,
    Price,
    Prefix,
    RouteClass,
    Keywords,
    Keyword,
    Body,
    Page,
    PageSize,
    Status,
    Timezone,
    DefaultSender,
    PostbackUrl,
    RateLimit,
    AllowedCountries,
    AllowedNumberTypes,
    Velocity,
    Plan,
    Connector,
    Parent,
    Label,
    OverlapSecs,
    ExpiresInSecs,
}

impl Field {
    pub const fn as_str(self) -> &'static str {
        match self {
            Field::From => "from",
            Field::To => "to",
            Field::Text => "text",
            Field::Reference => "reference",
            Field::Priority => "priority",
            Field::CallbackUrl => "callback_url",
            Field::ScheduleAt => "schedule_at",
            Field::Validity => "validity",
            Field::CampaignRef => "campaign_ref",
            Field::TemplateId => "template_id",
            Field::InReplyTo => "in_reply_to",
            Field::SenderId => "sender_id",
            Field::Purpose => "purpose",
            Field::Name => "name",
            Field::Credits => "credits",
            Field::DefaultCountry => "default_country",
            Field::MaxParts => "max_parts",
            Field::KeepTextsDays => "keep_texts_days",
            Field::KeepNumbersDays => "keep_numbers_days",
            Field::GroupBy => "group_by",
            Field::Password => "password",
            Field::AllowedIps => "allowed_ips",
            Field::Amount => "amount",
            Field::Number => "number",
            Field::Url => "url",
            Field::Events => "events",
            Field::MaxConcurrency => "max_concurrency",
            Field::Price => "price",
            Field::Plan => "plan",
            Field::Connector => "connector",
            Field::Parent => "parent",
            Field::Label => "label",
            Field::OverlapSecs => "overlap_secs",
            Field::ExpiresInSecs => "expires_in_secs",
            Field::Prefix => "prefix",
            Field::RouteClass => "route_class",
            Field::Keywords => "keywords",
            Field::Keyword => "keyword",
            Field::Body => "body",
            Field::Page => "page",
            Field::PageSize => "page_size",
            Field::Status => "status",
            Field::Timezone => "timezone",
            Field::DefaultSender => "default_sender",
            Field::PostbackUrl => "postback_url",
            Field::RateLimit => "rate_limit",
            Field::AllowedCountries => "allowed_countries",
            Field::AllowedNumberTypes => "allowed_number_types",
            Field::Velocity => "velocity",
        }
    }
}

impl From<Field> for &'static str {
    fn from(f: Field) -> &'static str {
        f.as_str()
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a callback, postback or webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must start with http:// or https://")]
    NotHttp,
    #[error("at most {0} characters")]
    TooLong(usize),
    #[error("must not contain whitespace")]
    Whitespace,
    #[error("must name a host")]
    NoHost,
    #[error("not a URL: {0}")]
    Unparsable(String),
    /// The destination policy refused it (loopback, private, own URL, …).
    #[error("{0}")]
    Refused(String),
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldErrorKind {
    /// The field is missing (`what` names it in the sentence: "sender",
    /// "text", "at least one recipient").
    #[error("{0} is required")]
    Required(&'static str),
    #[error("must not be empty")]
    Empty,
    #[error("{given} recipients; at most {max} are allowed in one request")]
    TooManyRecipients { given: usize, max: usize },
    #[error("{given} numbers; at most {max} per import")]
    TooManyNumbers { given: usize, max: usize },
    #[error("1 to {max} addresses or networks, or null for anywhere")]
    NetworkCount { max: usize },
    #[error("must be 1 to {max} characters")]
    Chars { max: usize },
    #[error("at most {max} characters")]
    TooLong { max: usize },
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be between {min} and {max}")]
    Range { min: i64, max: i64 },
    #[error("must be between {min} and {max} seconds")]
    Seconds { min: i64, max: i64 },
    #[error("must not be negative")]
    Negative,
    #[error("must not be zero")]
    Zero,
    #[error("must be at most {max}")]
    AtMost { max: crate::Amount },
    #[error("must be at most {max} either way")]
    AtMostEitherWay { max: crate::Amount },
    #[error("must be 1 to 20 digits (E.164, '+' optional, or a short code)")]
    NumberDigits,
    #[error("must be up to 15 digits (E.164 without '+'), or empty for all")]
    PrefixDigits,
    #[error("must not be in the past")]
    InPast,
    #[error("must be within 366 days")]
    TooFarAhead,
    #[error("{0}")]
    Sender(SenderIdError),
    #[error("{0}")]
    Text(TextError),
    #[error("{0}")]
    TemplateText(TemplateError),
    #[error("{0}")]
    TemplateMismatch(Mismatch),
    #[error("{0}")]
    Number(MsisdnError),
    #[error("{0}")]
    Url(UrlError),
    #[error("{0}")]
    Network(BadNetwork),
    #[error("{0}")]
    Keyword(KeywordError),
    #[error("unknown event type {given:?}; known: {known}")]
    UnknownEventType { given: String, known: String },
    #[error("sender ID {0:?} is not registered for this account")]
    SenderNotRegistered(String),
    #[error("sender ID {0:?} is not approved yet")]
    SenderNotApproved(String),
    #[error(
        "{0:?} is a protected sender ID (a brand or an emergency number): register it for the account and have it approved to send from it"
    )]
    SenderProtected(String),
    #[error("no rate plan {0} to give")]
    PlanUnknown(i64),
    #[error("credits reach a sub-account by transfer from its parent")]
    TransferOnly,
    #[error("no account {0} to own it")]
    ParentUnknown(i64),
    #[error(
        "{price} per segment on {route_class:?} to prefix {prefix:?} is below the {floor} you pay there"
    )]
    BelowOwnPrice {
        route_class: String,
        prefix: String,
        price: crate::Amount,
        floor: crate::Amount,
    },
    #[error("no template {0:?} is registered for this account")]
    TemplateUnknown(String),
    #[error("template {0:?} is not approved yet")]
    TemplateNotApproved(String),
    #[error("template {template:?} may only be sent from {sender:?}")]
    TemplateSender { template: String, sender: String },
    #[error("required: the account only sends to numbers subscribed to a campaign")]
    CampaignRequired,
    #[error("no campaign {0:?} for this account")]
    CampaignUnknown(String),
    #[error("must be 1 to {max} characters, without '/'")]
    CampaignReference { max: usize },
    #[error("no inbound message with this id for this account")]
    NoInboundMessage,
    #[error("{given:?} is not {allowed}")]
    NotOneOf {
        given: String,
        allowed: &'static str,
    },
    #[error("{0}")]
    Zone(crate::zone::UnknownZone),
    #[error("{0}")]
    Reach(crate::reach::ReachError),
    #[error("{0}")]
    Velocity(crate::limits::VelocityError),
    #[error("burst and per_minute must be at least 1 (disable the account to stop it)")]
    RateZero,
}

/// A field that makes the whole request invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {kind}")]
pub struct FieldError {
    pub field: Field,
    pub kind: FieldErrorKind,
}

impl FieldError {
    pub fn new(field: Field, kind: FieldErrorKind) -> FieldError {
        FieldError { field, kind }
    }
}
