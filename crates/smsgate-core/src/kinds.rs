//! The kinds of things every layer names: an account's status, an
//! approval, where a suppression came from, what an event is about, what
//! an endpoint is. Faces show them, the engine decides on them, stores
//! keep them.

use serde::{Deserialize, Serialize};

use crate::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Active,
    Disabled,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
        }
    }
}

/// Whether an admin has approved a sender ID or template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    Pending,
    Approved,
}

/// How a number came onto an account's suppression list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionSource {
    /// The recipient sent an opt-out keyword.
    Keyword,
    /// Added through the API.
    Api,
    /// Imported through the API.
    Import,
}

impl SuppressionSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            SuppressionSource::Keyword => "keyword",
            SuppressionSource::Api => "api",
            SuppressionSource::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<SuppressionSource> {
        [Self::Keyword, Self::Api, Self::Import]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "message.queued")]
    MessageQueued,
    #[serde(rename = "message.sent")]
    MessageSent,
    #[serde(rename = "message.delivered")]
    MessageDelivered,
    #[serde(rename = "message.undelivered")]
    MessageUndelivered,
    #[serde(rename = "message.expired")]
    MessageExpired,
    #[serde(rename = "message.rejected")]
    MessageRejected,
    #[serde(rename = "message.failed")]
    MessageFailed,
    #[serde(rename = "message.canceled")]
    MessageCanceled,
    #[serde(rename = "message.clicked")]
    MessageClicked,
    #[serde(rename = "inbound.received")]
    InboundReceived,
    #[serde(rename = "optout.changed")]
    OptoutChanged,
    /// Sent to one endpoint on request, to check it; never relayed.
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 12] = [
        EventType::MessageQueued,
        EventType::MessageSent,
        EventType::MessageDelivered,
        EventType::MessageUndelivered,
        EventType::MessageExpired,
        EventType::MessageRejected,
        EventType::MessageFailed,
        EventType::MessageCanceled,
        EventType::MessageClicked,
        EventType::InboundReceived,
        EventType::OptoutChanged,
        EventType::WebhookTest,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::MessageQueued => "message.queued",
            EventType::MessageSent => "message.sent",
            EventType::MessageDelivered => "message.delivered",
            EventType::MessageUndelivered => "message.undelivered",
            EventType::MessageExpired => "message.expired",
            EventType::MessageRejected => "message.rejected",
            EventType::MessageFailed => "message.failed",
            EventType::MessageCanceled => "message.canceled",
            EventType::MessageClicked => "message.clicked",
            EventType::InboundReceived => "inbound.received",
            EventType::OptoutChanged => "optout.changed",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The event a message's move to `status` gives, if clients hear of it.
    /// A retry's way back to `queued` is not one: the first `queued` is.
    pub const fn of_status(status: Status) -> Option<EventType> {
        Some(match status {
            Status::Sent => EventType::MessageSent,
            Status::Delivered => EventType::MessageDelivered,
            Status::Undelivered => EventType::MessageUndelivered,
            Status::Expired => EventType::MessageExpired,
            Status::Rejected => EventType::MessageRejected,
            Status::Failed => EventType::MessageFailed,
            Status::Canceled => EventType::MessageCanceled,
            _ => return None,
        })
    }
}

/// An endpoint the account made, or the one that carries its messages'
/// own `callback_url`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    Endpoint,
    Callbacks,
}

impl EndpointKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Endpoint => "endpoint",
            EndpointKind::Callbacks => "callbacks",
        }
    }
}
