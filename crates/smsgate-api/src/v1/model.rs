//! The JSON shapes of the native API, as documented in `/openapi.json`.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use smsgate_core::{Amount, Category, EncodingChoice, Timestamp};
use smsgate_engine::records::{
    Acceptance, AcceptedMessage, MessageDetail, MessageRecord, PartRecord, TransitionRecord,
};
use utoipa::ToSchema;

use crate::problem::{Problem, RecipientReason};

/// One number, or a list of numbers.
#[derive(Debug, Clone, Default, ToSchema)]
#[schema(value_type = Vec<String>, example = json!(["+31612345678"]))]
pub struct Recipients(pub Vec<String>);

impl<'de> Deserialize<'de> for Recipients {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Recipients;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a phone number or a list of phone numbers (strings)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Recipients, E> {
                Ok(Recipients(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Recipients, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(n) = seq.next_element::<String>()? {
                    out.push(n);
                }
                Ok(Recipients(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `POST /v1/messages`: one text to one or more recipients.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Recipient(s): E.164 (`+31612345678`), international digits
    /// (`0031…`, `31…`), or national numbers when the account has a default
    /// country. At most 1,000.
    #[serde(default)]
    pub to: Recipients,
    /// Sender: up to 11 letters/digits, or a number of up to 15 digits.
    #[schema(example = "Acme")]
    pub from: Option<String>,
    #[schema(example = "Your code is 123456")]
    pub text: Option<String>,
    /// `auto` (default: GSM-7 when possible, else UCS-2), `gsm7` or `ucs2`.
    #[serde(default)]
    #[schema(value_type = String, example = "auto")]
    pub encoding: EncodingChoice,
    /// RFC 3339 time to send at; omitted means now.
    #[schema(example = "2026-12-01T09:00:00Z")]
    pub schedule_at: Option<String>,
    /// `transactional` (default), `promotional` or `otp`.
    #[serde(default)]
    #[schema(value_type = String, example = "transactional")]
    pub category: Category,
    /// Your own id, echoed back and searchable. At most 128 characters.
    pub reference: Option<String>,
    /// Seconds (30 to 604800) after which an unsent message expires.
    pub validity: Option<i64>,
    /// The id of an inbound message this answers: `to` defaults to its
    /// sender and `from` to the number it was sent to.
    pub in_reply_to: Option<String>,
    /// Receives every event of each message sent (signed with the
    /// account's callbacks secret, see `GET /v1/webhooks`).
    #[schema(example = "https://example.com/sms-status")]
    pub callback_url: Option<String>,
    /// A registered, approved content template (its `template_id`) the
    /// text must match, each `{#var#}` filled with 1 to 30 characters.
    pub template_id: Option<String>,
    /// A campaign of the account; with "enforce campaign check" on, only
    /// its subscribers are sent to.
    pub campaign_ref: Option<String>,
    /// Replace each URL in the text with a short link served by smsgate
    /// (`/l/<code>`) that counts clicks; the short link is what is
    /// measured and charged.
    #[serde(default)]
    pub click_tracking: bool,
    /// 0 (default) to 10: waiting messages of higher priority are sent
    /// first.
    #[serde(default)]
    pub priority: i32,
}

/// One item of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    pub to: String,
    /// This recipient's text; omitted takes the batch's `text`.
    pub text: Option<String>,
}

/// `POST /v1/batches`: personalised bulk, up to 10,000 items.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBatch {
    pub from: Option<String>,
    /// Text for items without their own.
    pub text: Option<String>,
    #[serde(default)]
    pub items: Vec<BatchItem>,
    #[serde(default)]
    #[schema(value_type = String, example = "auto")]
    pub encoding: EncodingChoice,
    pub schedule_at: Option<String>,
    #[serde(default)]
    #[schema(value_type = String, example = "promotional")]
    pub category: Category,
    pub reference: Option<String>,
    pub validity: Option<i64>,
    /// Receives every event of each message of the batch.
    pub callback_url: Option<String>,
    /// A content template every item's text must match.
    pub template_id: Option<String>,
}

pub(crate) fn parse_time(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<Timestamp>, Problem> {
    match value {
        None => Ok(None),
        Some(s) => Timestamp::parse_rfc3339(s).map(Some).ok_or_else(|| {
            Problem::invalid_field(
                field,
                "must be an RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00Z",
            )
        }),
    }
}

/// An accepted message, as answered by a send.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageSummary {
    pub id: String,
    pub to: String,
    #[schema(example = "queued")]
    pub status: String,
    pub segments: usize,
    #[schema(example = "gsm7")]
    pub encoding: String,
    #[schema(value_type = String, example = "0.0350")]
    pub cost: Amount,
}

impl From<&AcceptedMessage> for MessageSummary {
    fn from(m: &AcceptedMessage) -> Self {
        MessageSummary {
            id: m.id.to_string(),
            to: m.to.clone(),
            status: m.status.to_string(),
            segments: m.segments,
            encoding: m.encoding.as_str().to_string(),
            cost: m.cost,
        }
    }
}

/// The answer to a send: accepted messages, refused recipients, balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct SendResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    pub messages: Vec<MessageSummary>,
    pub rejected: Vec<RecipientReason>,
    /// Credits left after this request.
    #[schema(value_type = String, example = "0.0350")]
    pub balance: Amount,
}

impl From<&Acceptance> for SendResponse {
    fn from(a: &Acceptance) -> Self {
        SendResponse {
            batch_id: a.batch_id.map(|b| b.to_string()),
            messages: a.messages.iter().map(MessageSummary::from).collect(),
            rejected: a
                .rejected
                .iter()
                .map(|r| RecipientReason {
                    to: r.to.clone(),
                    code: r.code.clone(),
                    reason: r.reason.clone(),
                })
                .collect(),
            balance: a.balance,
        }
    }
}

/// A preview of one recipient: what it would cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewItem {
    pub to: String,
    pub segments: usize,
    pub encoding: String,
    #[schema(value_type = String, example = "0.0350")]
    pub cost: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewResponse {
    pub messages: Vec<PreviewItem>,
    pub rejected: Vec<RecipientReason>,
    #[schema(value_type = String, example = "0.0350")]
    pub total_cost: Amount,
}

/// One step in a message's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub status: String,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// False for a change that arrived after the message was final: it is
    /// recorded, but did not change the status.
    pub applied: bool,
}

impl From<&TransitionRecord> for HistoryEntry {
    fn from(t: &TransitionRecord) -> Self {
        HistoryEntry {
            status: t.status.to_string(),
            at: t.at.to_rfc3339(),
            detail: t.detail.clone(),
            applied: t.applied,
        }
    }
}

/// One submit the carrier acknowledged: a part of a long message, or the
/// whole message.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartView {
    pub part: u32,
    pub connector: String,
    pub carrier_id: String,
    /// The part's last receipt; absent until one came.
    #[schema(example = "delivered")]
    pub status: Option<String>,
    pub updated_at: Option<String>,
    pub detail: Option<String>,
}

impl From<&PartRecord> for PartView {
    fn from(p: &PartRecord) -> Self {
        PartView {
            part: p.part,
            connector: p.connector.clone(),
            carrier_id: p.carrier_id.clone(),
            status: p.status.map(|s| s.to_string()),
            updated_at: p.updated_at.map(Timestamp::to_rfc3339),
            detail: p.detail.clone(),
        }
    }
}

/// A stored message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub to: String,
    pub from: String,
    pub text: String,
    #[schema(example = "delivered")]
    pub status: String,
    pub segments: usize,
    pub encoding: String,
    #[schema(value_type = String, example = "0.0350")]
    pub cost: Amount,
    pub category: String,
    pub reference: Option<String>,
    /// The campaign the request named (`campaign_ref`).
    pub campaign_ref: Option<String>,
    pub batch_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub schedule_at: Option<String>,
    pub expires_at: Option<String>,
    pub attempts: u32,
    pub connector: Option<String>,
    pub carrier_id: Option<String>,
    /// The last error or carrier detail, if any.
    pub error: Option<String>,
    /// Whether the charge was given back (rejected, failed, canceled).
    pub refunded: bool,
    /// The inbound message this one answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Every status change, oldest first (only on `GET /v1/messages/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    /// The submits the carrier acknowledged, each with its receipt (only
    /// on `GET /v1/messages/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<PartView>>,
    /// Tracked short links in the text and their clicks (only on `GET
    /// /v1/messages/{id}`, when click tracking was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<LinkView>>,
    /// Clicks on all its links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clicks: Option<u64>,
}

/// A tracked short link of a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    pub url: String,
    pub code: String,
    pub clicks: u64,
    pub last_click_at: Option<String>,
}

impl MessageView {
    /// A message with its history and parts.
    pub fn detailed(d: &MessageDetail) -> MessageView {
        MessageView {
            history: Some(d.history.iter().map(HistoryEntry::from).collect()),
            parts: Some(d.parts.iter().map(PartView::from).collect()),
            links: (!d.links.is_empty()).then(|| {
                d.links
                    .iter()
                    .map(|l| LinkView {
                        url: l.url.clone(),
                        code: l.code.clone(),
                        clicks: l.clicks,
                        last_click_at: l.last_click_at.map(Timestamp::to_rfc3339),
                    })
                    .collect()
            }),
            clicks: (!d.links.is_empty()).then(|| d.links.iter().map(|l| l.clicks).sum()),
            ..MessageView::new(&d.message)
        }
    }

    pub fn new(m: &MessageRecord) -> MessageView {
        MessageView {
            id: m.id.to_string(),
            to: m.to.clone(),
            from: m.from.clone(),
            text: m.text.clone(),
            status: m.status.to_string(),
            segments: m.segments,
            encoding: m.encoding.as_str().into(),
            cost: m.cost,
            category: m.category.as_str().into(),
            reference: m.reference.clone(),
            campaign_ref: m.campaign_ref.clone(),
            batch_id: m.batch_id.map(|b| b.to_string()),
            created_at: m.created_at.to_rfc3339(),
            updated_at: m.updated_at.to_rfc3339(),
            schedule_at: m.schedule_at.map(Timestamp::to_rfc3339),
            expires_at: m.expires_at.map(Timestamp::to_rfc3339),
            attempts: m.attempts,
            connector: m.connector.clone(),
            carrier_id: m.carrier_id.clone(),
            error: m.error.clone(),
            refunded: m.refunded,
            in_reply_to: m.in_reply_to.map(|i| i.to_string()),
            callback_url: m.callback_url.clone(),
            history: None,
            parts: None,
            links: None,
            clicks: None,
        }
    }
}

/// A page of messages, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    pub data: Vec<MessageView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CancelResponse {
    pub id: String,
    #[schema(example = "canceled")]
    pub status: String,
    #[schema(value_type = String, example = "0.0350")]
    pub refunded: Amount,
    #[schema(value_type = String, example = "0.0350")]
    pub balance: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    pub id: String,
    pub reference: Option<String>,
    pub accepted: u64,
    pub rejected: u64,
    pub created_at: String,
    /// Messages per status, e.g. `{"delivered": 990, "queued": 10}`.
    #[schema(value_type = Object)]
    pub statuses: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceView {
    pub account_id: i64,
    pub name: String,
    #[schema(value_type = String, example = "0.0350")]
    pub balance: Amount,
    /// Per category, for accounts that keep them apart: each send is
    /// charged to its category's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, example = json!({"transactional": 100, "promotional": 0, "otp": 50}))]
    pub balances: Option<serde_json::Map<String, serde_json::Value>>,
}
