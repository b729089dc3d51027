//! The records the store takes and gives back.

use serde::{Deserialize, Serialize};
pub use smsgate_core::kinds::{
    AccountStatus, Approval, EndpointKind, EventType, SuppressionSource,
};
use smsgate_core::optout::{OptOutAction, OptOutKeywords};
use smsgate_core::send::Rejection;
use smsgate_core::{
    AccountId, Amount, BatchId, Category, Encoding, InboundId, KeyId, MessageId, PlanId, Price,
    PublicId, Status, Timestamp,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub status: AccountStatus,
    pub default_country: Option<String>,
    pub timezone: String,
    pub max_parts: u32,
    pub balance: Amount,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
    pub optout_keywords: OptOutKeywords,
    /// Sends from sender IDs not registered and approved are refused.
    pub require_approved_sender: bool,
    /// The sender of dialect sends that name none.
    pub default_sender: Option<String>,
    /// Sends must name a campaign their recipients are subscribed to.
    pub enforce_campaign_check: bool,
    /// Where the `action` dialect's delivery postbacks go.
    pub postback_url: Option<String>,
    /// A balance per category (transactional, promotional, otp) instead
    /// of one: sends are charged to their category's.
    pub split_balances: bool,
    /// Its own request limit; `None`: the server's default.
    pub rate_limit: Option<smsgate_core::limits::Rate>,
    /// Destination countries and restricted number types it may send to.
    #[serde(skip)]
    pub reach: smsgate_core::reach::Reach,
    /// Its own velocity limits; `None`: the server's.
    pub velocity: Option<smsgate_core::limits::VelocityLimits>,
    /// How strictly its recipients are checked; `None`: the server's.
    pub number_check: Option<smsgate_core::NumberCheck>,
    /// Its rate plan; `None`: the default plan.
    pub plan: Option<PlanId>,
    /// The account that owns it (a reseller's customer); `None`: the
    /// operator's own.
    pub parent: Option<AccountId>,
    /// Its own retention; a `None` in it is the server's rule.
    pub retention: Retention,
}

/// A rate plan: a named price list, the operator's or a reseller's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RatePlan {
    pub id: PlanId,
    pub name: String,
    /// `None`: the operator's; else the account whose sub-accounts it
    /// prices.
    pub owner: Option<AccountId>,
    /// Accounts given no plan pay this one.
    pub is_default: bool,
    pub created_at: Timestamp,
    pub prices: Vec<Price>,
    /// Accounts given this plan.
    pub accounts: u64,
}

/// A list of prices one can set: a rate plan's, or one account's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceList {
    Plan(PlanId),
    Account(AccountId),
}

/// What a connector's carrier charges per segment to a destination
/// prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorCost {
    pub connector: String,
    pub prefix: String,
    pub per_segment: Amount,
}

/// Every price list in force, for the engine to hold in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PricingSnapshot {
    pub plans: Vec<(PlanId, Vec<Price>)>,
    pub default: Option<PlanId>,
    /// Accounts' own prices.
    pub own: Vec<(AccountId, Vec<Price>)>,
    pub costs: Vec<ConnectorCost>,
    /// The accounts given a plan or owned by another.
    pub accounts: Vec<smsgate_core::PlanOf>,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub password_hash: Option<String>,
    pub default_country: Option<String>,
    pub max_parts: u32,
    /// Opening balance, written as a `topup` ledger entry.
    pub credits: Amount,
    /// The account that owns it; `None`: the operator's own.
    pub parent: Option<AccountId>,
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub status: Option<AccountStatus>,
    pub default_country: Option<Option<String>>,
    pub timezone: Option<String>,
    pub max_parts: Option<u32>,
    pub password_hash: Option<Option<String>>,
    /// `Some(None)`: back to the default lists.
    pub optout_keywords: Option<Option<OptOutKeywords>>,
    pub require_approved_sender: Option<bool>,
    /// `Some(None)`: no default sender.
    pub default_sender: Option<Option<String>>,
    pub enforce_campaign_check: Option<bool>,
    pub postback_url: Option<Option<String>>,
    pub split_balances: Option<bool>,
    /// `Some(None)`: back to the server's default.
    pub rate_limit: Option<Option<smsgate_core::limits::Rate>>,
    /// `Some(None)`: every country.
    pub allowed_countries: Option<Option<Vec<smsgate_core::Country>>>,
    /// Restricted number types it may send to.
    pub allowed_number_types: Option<Vec<smsgate_core::NumberType>>,
    /// `Some(None)`: back to the server's limits.
    pub velocity: Option<Option<smsgate_core::limits::VelocityLimits>>,
    /// `Some(None)`: back to the server's check.
    pub number_check: Option<Option<smsgate_core::NumberCheck>>,
    /// `Some(None)`: back to the default plan.
    pub plan: Option<Option<PlanId>>,
    /// `Some(None)`: back to the server's rule.
    pub keep_texts_days: Option<Option<u32>>,
    /// `Some(None)`: back to the server's rule.
    pub keep_numbers_days: Option<Option<u32>>,
}

/// A login session (known by the hash of its key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRecord {
    pub account: AccountId,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub hash: [u8; 32],
    pub prefix: String,
    pub label: Option<String>,
    /// The client networks it may be used from; `None`: anywhere.
    pub allowed_ips: Option<Vec<smsgate_core::net::IpNetwork>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyInfo {
    pub id: KeyId,
    pub account_id: AccountId,
    pub prefix: String,
    pub label: Option<String>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// The client networks it may be used from; `None`: anywhere.
    pub allowed_ips: Option<Vec<smsgate_core::net::IpNetwork>>,
}

/// Why credits moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LedgerKind {
    /// Credits added by the operator (and an opening balance).
    Topup,
    /// Credits removed by the operator.
    Adjustment,
    /// A send's charge.
    Debit,
    /// A charge given back (a message that never left, or was refused).
    Refund,
    /// Credits moved between an account and one of its sub-accounts.
    Transfer,
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 5] = [
        LedgerKind::Topup,
        LedgerKind::Adjustment,
        LedgerKind::Debit,
        LedgerKind::Refund,
        LedgerKind::Transfer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Topup => "topup",
            LedgerKind::Adjustment => "adjustment",
            LedgerKind::Debit => "debit",
            LedgerKind::Refund => "refund",
            LedgerKind::Transfer => "transfer",
        }
    }

    pub fn parse(s: &str) -> Option<LedgerKind> {
        LedgerKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An account's statement for a period `[from, to)`: its ledger summed
/// by kind, and what it sent by category and country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub from: Timestamp,
    pub to: Timestamp,
    /// The balance at `from`: every entry before it (all pools).
    pub opening: Amount,
    pub topups: Amount,
    /// Credits the operator removed (negative).
    pub adjustments: Amount,
    pub transfers_in: Amount,
    /// Credits transferred away (negative).
    pub transfers_out: Amount,
    /// Sends' charges (negative); the usage lines sum to its opposite.
    pub debits: Amount,
    pub refunds: Amount,
    /// The balance at `to`.
    pub closing: Amount,
    pub usage: Vec<UsageLine>,
}

/// What an account sent in a period, of one category to one country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageLine {
    pub category: Category,
    /// ISO 3166-1 alpha-2; `None` for numbers of no country.
    pub country: Option<String>,
    pub messages: u64,
    pub segments: u64,
    /// What they were charged.
    pub amount: Amount,
}

/// Which of an account's ledger entries, newest first.
#[derive(Debug, Clone)]
pub struct LedgerFilter {
    /// Entries older than this id (the previous page's last).
    pub before: Option<i64>,
    /// Made at or after.
    pub since: Option<Timestamp>,
    /// Made before.
    pub until: Option<Timestamp>,
    /// Of these kinds; empty: every kind.
    pub kinds: Vec<LedgerKind>,
    pub limit: usize,
}

impl LedgerFilter {
    /// The newest `limit` entries of every kind.
    pub fn newest(limit: usize) -> LedgerFilter {
        LedgerFilter {
            before: None,
            since: None,
            until: None,
            kinds: Vec::new(),
            limit,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub amount: Amount,
    pub kind: LedgerKind,
    pub message_id: Option<MessageId>,
    pub batch_id: Option<BatchId>,
    pub note: Option<String>,
    pub created_at: Timestamp,
    /// The category's balance it moved, for accounts with split balances.
    pub category: Option<Category>,
    /// The other account of a transfer.
    pub counterparty: Option<AccountId>,
}

/// A client's `Idempotency-Key` and the fingerprint of its request.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: [u8; 32],
}

/// One accepted request, validated and priced, for the intake transaction.
#[derive(Debug, Clone)]
pub struct Submission {
    pub account: AccountId,
    /// The messages, their refused recipients and the charge.
    pub plan: smsgate_core::SendPlan,
    /// Set for requests that create a batch.
    pub batch: Option<NewBatch>,
    pub idempotency: Option<Idempotency>,
}

#[derive(Debug, Clone)]
pub struct NewBatch {
    pub id: BatchId,
    pub reference: Option<String>,
}

/// What was committed for a submission: the answer to give the client.
/// Stored as-is for idempotent replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub batch_id: Option<BatchId>,
    pub messages: Vec<AcceptedMessage>,
    pub rejected: Vec<RejectedRecipient>,
    pub balance: Amount,
    /// When the messages were accepted (their `created_at`).
    #[serde(default)]
    pub accepted_at: Option<Timestamp>,
    /// True when this is the stored answer to an earlier request with the
    /// same idempotency key; nothing was charged again.
    #[serde(skip)]
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedMessage {
    pub id: MessageId,
    pub to: String,
    pub status: Status,
    pub segments: usize,
    pub encoding: Encoding,
    pub cost: Amount,
    /// The recipient's place in the request.
    #[serde(default)]
    pub item: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRecipient {
    pub to: String,
    /// `RejectReason::code` (empty in answers stored before it existed).
    #[serde(default)]
    pub code: String,
    pub reason: String,
}

/// Why the store refused one submission (others in the same transaction
/// are unaffected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("insufficient credits: balance {balance}, needed {needed}")]
    InsufficientCredits { balance: Amount, needed: Amount },
    #[error("the idempotency key was used with a different request")]
    IdempotencyConflict,
    #[error("the account is disabled")]
    AccountDisabled,
    /// Every recipient was refused (those on the suppression list here).
    #[error("no recipient can be sent to")]
    NoValidRecipient(Vec<Rejection>),
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub id: MessageId,
    pub account_id: AccountId,
    pub batch_id: Option<BatchId>,
    pub to: String,
    pub from: String,
    pub text: String,
    pub encoding: Encoding,
    pub segments: usize,
    pub cost: Amount,
    pub category: Category,
    pub route_class: String,
    pub reference: Option<String>,
    pub priority: i32,
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub schedule_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub attempts: u32,
    pub connector: Option<String>,
    pub carrier_id: Option<String>,
    pub error: Option<String>,
    pub refunded: bool,
    /// The inbound message this one answers.
    pub in_reply_to: Option<InboundId>,
    /// Where this message's events are POSTed, besides the account's
    /// endpoints.
    pub callback_url: Option<String>,
    /// Its place in the request that sent it (0-based).
    pub item: u32,
    /// The client's data (JSON text), echoed in callbacks.
    pub payload: Option<String>,
    pub callback_format: smsgate_core::CallbackFormat,
    /// The campaign its request named.
    pub campaign_ref: Option<String>,
    /// The reference of its batch (a dialect's request id).
    pub batch_reference: Option<String>,
    /// What its connector's carrier charges for it, once sent (the
    /// operator's to see, never the customer's).
    pub carrier_cost: Option<Amount>,
}

/// One entry in a message's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransitionRecord {
    pub status: Status,
    pub at: Timestamp,
    pub detail: Option<String>,
    /// False when the change arrived after the message was final: recorded
    /// but not applied.
    pub applied: bool,
}

/// One submit of a message as the carrier acknowledged it: a part of a
/// long message, or the whole message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartRecord {
    /// 1-based.
    pub part: u32,
    pub connector: String,
    pub carrier_id: String,
    /// The part's last receipt (`None` until one came).
    pub status: Option<Status>,
    pub updated_at: Option<Timestamp>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDetail {
    pub message: MessageRecord,
    pub history: Vec<TransitionRecord>,
    pub parts: Vec<PartRecord>,
    /// Tracked short links in the text, with their clicks.
    pub links: Vec<LinkRecord>,
}

/// A tracked short link of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkRecord {
    pub code: String,
    pub url: String,
    pub clicks: u64,
    pub last_click_at: Option<Timestamp>,
}

/// Which messages to list, newest first.
#[derive(Debug, Clone)]
pub struct MessageFilter {
    /// Skips this many (page-numbered lists of the dialects).
    pub offset: usize,
    pub status: Option<Status>,
    pub to: Option<String>,
    pub batch: Option<BatchId>,
    pub reference: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Cursor: only messages older than this one.
    pub before: Option<MessageId>,
    pub limit: usize,
}

impl MessageFilter {
    /// All messages, newest first, `limit` of them.
    pub fn newest(limit: usize) -> MessageFilter {
        MessageFilter {
            offset: 0,
            status: None,
            to: None,
            batch: None,
            reference: None,
            since: None,
            until: None,
            before: None,
            limit,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchHistoryEntry {
    pub id: BatchId,
    pub reference: Option<String>,
    /// Messages stored for it.
    pub accepted: u64,
    pub created_at: Timestamp,
    /// Of its first message (a batch's messages share them in every face
    /// that lists batches this way).
    pub sender: Option<String>,
    pub route_class: Option<String>,
    pub schedule_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    pub id: BatchId,
    pub reference: Option<String>,
    pub accepted: u64,
    pub rejected: u64,
    pub created_at: Timestamp,
    /// Messages per status (only statuses that occur).
    pub statuses: Vec<(Status, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Canceled { refunded: Amount, balance: Amount },
    NotFound,
    NotCancelable(Status),
}

/// A message claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    pub id: MessageId,
    pub account_id: AccountId,
    pub to: String,
    pub from: String,
    pub text: String,
    pub encoding: Encoding,
    pub segments: usize,
    pub category: Category,
    pub route_class: String,
    pub priority: i32,
    /// Attempts so far, including this one.
    pub attempts: u32,
    pub expires_at: Option<Timestamp>,
}

/// Which message a status change is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Message(MessageId),
    /// A receipt names the message by the carrier's id.
    Carrier {
        connector: String,
        carrier_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub target: Target,
    pub status: Status,
    pub at: Timestamp,
    /// Set when the message was handed to a connector.
    pub connector: Option<String>,
    /// With `Status::Sent`: the carrier's id for each submit, in order
    /// (one for a message sent whole).
    pub carrier_ids: Vec<String>,
    pub detail: Option<String>,
    /// With `Status::Queued`: when to try again.
    pub retry_at: Option<Timestamp>,
    /// With `Status::Sent`: what the connector's carrier charges for it.
    pub carrier_cost: Option<Amount>,
}

impl StatusUpdate {
    pub fn new(target: Target, status: Status, at: Timestamp) -> StatusUpdate {
        StatusUpdate {
            target,
            status,
            at,
            connector: None,
            carrier_ids: Vec::new(),
            detail: None,
            retry_at: None,
            carrier_cost: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    Applied {
        id: MessageId,
        account: AccountId,
        from: Status,
        to: Status,
        refunded: Amount,
    },
    /// Recorded in the history, but the message did not move.
    Ignored {
        id: MessageId,
        current: Status,
    },
    /// A receipt for one part of a long message whose other parts are not
    /// all delivered yet: recorded on the part.
    PartRecorded {
        id: MessageId,
    },
    /// A receipt for a carrier id no message has (yet): kept, and applied
    /// when a connector reports that id.
    Deferred,
    NotFound,
}

/// A stretch of the message history walked for acknowledgements that
/// never got a receipt (`Store::acknowledged`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcknowledgedPage {
    /// Where the next walk starts (a history row).
    pub cursor: i64,
    /// Messages acknowledged in the stretch and still `sent`, with their
    /// connector.
    pub messages: Vec<(MessageId, Option<String>)>,
    /// The walk stopped at `limit` rows: there is more before `before`.
    pub more: bool,
}

/// Messages waiting to be sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueDepth {
    pub scheduled: u64,
    pub queued: u64,
    pub submitting: u64,
}

/// Where a part of a long inbound message belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundPartOf {
    pub reference: u16,
    pub total: u8,
    /// 1-based.
    pub seq: u8,
}

/// An inbound message (or one part of a long one) as a connector received
/// it, text decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundPart {
    pub connector: String,
    pub from: String,
    /// The number it was sent to, digits without `+` (or a short code).
    pub to: String,
    pub text: String,
    pub part: Option<InboundPartOf>,
    pub received_at: Timestamp,
}

/// A stored inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundRecord {
    pub id: InboundId,
    /// The account owning the number it was sent to, if any.
    pub account_id: Option<AccountId>,
    pub connector: String,
    pub from: String,
    pub to: String,
    pub text: String,
    pub parts: u32,
    pub received_at: Timestamp,
    /// What the text did to the sender's opt-out, if it was a keyword.
    pub optout: Option<OptOutAction>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundOutcome {
    /// The message (its last part, for a long one) is stored.
    Stored(InboundRecord),
    /// A part kept until the others arrive.
    PartKept { have: u32, total: u32 },
}

/// A number whose inbound messages belong to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NumberAssignment {
    pub number: String,
    pub account_id: AccountId,
    pub created_at: Timestamp,
}

/// A campaign numbers subscribe to (the `action` dialect's
/// `campaign-ref`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    pub reference: String,
    pub name: Option<String>,
    pub subscribers: u64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewSender {
    pub sender_id: String,
    pub category: Category,
    pub purpose: Option<String>,
}

/// A sender ID registered for an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SenderRecord {
    pub id: PublicId,
    pub account_id: AccountId,
    pub sender_id: String,
    pub category: Category,
    pub purpose: Option<String>,
    pub status: Approval,
    pub created_at: Timestamp,
    pub approved_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub name: String,
    pub template_id: String,
    pub category: Category,
    pub sender_id: Option<String>,
    pub text: String,
}

/// A content template registered for an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateRecord {
    pub id: PublicId,
    pub account_id: AccountId,
    pub name: String,
    /// The id clients send with a message.
    pub template_id: String,
    pub category: Category,
    /// The only sender it may be sent from, if bound.
    pub sender_id: Option<String>,
    /// With `{#var#}` placeholders.
    pub text: String,
    pub status: Approval,
    pub created_at: Timestamp,
    pub approved_at: Option<Timestamp>,
}

/// A routing keyword: inbound messages to a shared `number` whose first
/// word is `keyword` belong to `account_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeywordAssignment {
    pub number: String,
    pub keyword: String,
    pub account_id: AccountId,
    pub created_at: Timestamp,
}

/// A number an account must not send to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub number: String,
    pub source: SuppressionSource,
    pub keyword: Option<String>,
    pub created_at: Timestamp,
}

/// What an `optout.changed` event says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutChange {
    pub number: String,
    pub action: OptOutAction,
    pub source: SuppressionSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
}

/// What a change to a list of numbers (suppressions, campaign
/// subscribers) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChangeCount {
    /// Numbers added (or, for a removal, removed).
    pub changed: usize,
    /// Numbers that were already so.
    pub unchanged: usize,
}

/// A stored event with what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Orders all events; the cursor of the event feed.
    pub id: i64,
    pub account_id: AccountId,
    pub event_type: EventType,
    /// The event's number among its message's events (1 for others).
    pub seq: u32,
    pub detail: Option<String>,
    pub created_at: Timestamp,
    pub message: Option<MessageRecord>,
    pub inbound: Option<InboundRecord>,
    pub optout: Option<OptOutChange>,
}

/// Where an account's events are POSTed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookEndpoint {
    pub id: PublicId,
    pub account_id: AccountId,
    pub kind: EndpointKind,
    /// Empty for the callbacks endpoint: each delivery has its message's.
    pub url: String,
    /// Signs every delivery (HMAC-SHA256).
    pub secret: String,
    /// The event types it wants; empty: all.
    pub events: Vec<EventType>,
    pub enabled: bool,
    pub max_concurrency: u32,
    pub created_at: Timestamp,
}

impl WebhookEndpoint {
    pub fn wants(&self, t: EventType) -> bool {
        self.events.is_empty() || self.events.contains(&t)
    }
}

#[derive(Debug, Clone)]
pub struct NewWebhookEndpoint {
    pub url: String,
    pub secret: String,
    pub events: Vec<EventType>,
    pub max_concurrency: u32,
}

/// A delivery claimed for sending: the event and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: i64,
    pub endpoint: WebhookEndpoint,
    /// Where it is POSTed: the endpoint's URL or the message's callback.
    pub url: String,
    pub event: EventRecord,
    /// Attempts before this one.
    pub attempts: u32,
    pub created_at: Timestamp,
}

/// Who is waiting for the deliverer: each endpoint with deliveries due, and
/// what each account has in flight (deliveries leased and not yet
/// recorded, by any node).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryLoad {
    pub endpoints: Vec<EndpointLoad>,
    pub accounts_in_flight: Vec<(AccountId, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointLoad {
    pub endpoint: PublicId,
    pub account_id: AccountId,
    pub max_concurrency: u32,
    pub in_flight: u32,
    /// Deliveries due now (some may wait behind an earlier one of their
    /// subject).
    pub due: u32,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    pub delivery: i64,
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// What follows: delivered, retry at a time, or dead.
    pub next: DeliveryNext,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryNext {
    Delivered,
    RetryAt(Timestamp),
    Dead,
}

/// One delivery in an endpoint's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRecord {
    pub id: PublicId,
    pub event_id: i64,
    pub event_type: EventType,
    pub status: String,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub done_at: Option<Timestamp>,
    pub log: Vec<AttemptRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptRecord {
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

/// Which past events to deliver again to an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    Event(i64),
    /// Events created in `[since, until)`.
    Range {
        since: Timestamp,
        until: Timestamp,
    },
}

/// A node serving the database: one run of one smsgate process (a node
/// that restarts registers again, with a new id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub i64);

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A node as registered, with its last heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub id: NodeId,
    pub name: String,
    /// Where its API listens.
    pub address: String,
    pub started_at: Timestamp,
    pub beat_at: Timestamp,
    /// When it left (stopped, or was found dead by another node).
    pub ended_at: Option<Timestamp>,
}

/// Which node holds a connector (its binds), until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorLease {
    pub connector: String,
    pub node: NodeId,
    pub node_name: String,
    pub taken_at: Timestamp,
    pub expires_at: Timestamp,
    /// Whether the connector can take messages there (an SMPP connector
    /// with a bound transmitter), as of the holder's last heartbeat.
    pub available: bool,
}

/// One heartbeat of a node.
#[derive(Debug, Clone)]
pub struct Beat {
    pub node: NodeId,
    pub now: Timestamp,
    /// Nodes that have not beaten since are dead: their claims are
    /// released and their connectors free.
    pub dead_before: Timestamp,
    /// Leases held or taken run until then.
    pub lease_until: Timestamp,
    /// The connectors this node would hold (every configured one); a lease
    /// it holds on another is given up.
    pub wanted: Vec<String>,
    /// The connectors it holds that can take messages now.
    pub available: Vec<String>,
}

/// What a heartbeat found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeatOutcome {
    Alive {
        /// The connectors this node holds now.
        held: Vec<String>,
        /// Every lease, this node's included.
        leases: Vec<ConnectorLease>,
        /// Nodes found dead by this beat, and how many messages and
        /// webhook deliveries they had claimed.
        buried: Vec<(NodeId, usize, usize)>,
    },
    /// Another node found this one dead (it did not beat in time): its
    /// claims and leases are gone, and it must join again.
    Ended,
}

/// Where a claimed message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// This node submits it.
    Here,
    /// The node holding this connector does: the message waits for it.
    HandTo(String),
}

/// Decides, inside a claim, which messages this node carries.
pub type Placer = Box<dyn Fn(&Outbound) -> Placement + Send + Sync>;

/// What erasing a number's data for an account removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    /// Messages to it whose text (and click targets) were removed.
    pub messages: u64,
    /// Messages to it still waiting to be sent, kept whole: erase again
    /// once they are sent, or cancel them.
    pub pending: u64,
    /// Inbound messages from it whose text was removed.
    pub inbound: u64,
}

/// Someone who runs the gateway, with a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub id: smsgate_core::OperatorId,
    pub name: String,
    pub role: smsgate_core::operators::Role,
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Its tokens and password are refused.
    pub disabled: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewOperator {
    pub name: String,
    pub password_hash: Option<String>,
    pub role: smsgate_core::operators::Role,
}

/// Changes to an operator; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OperatorPatch {
    pub role: Option<smsgate_core::operators::Role>,
    pub password_hash: Option<Option<String>>,
    pub disabled: Option<bool>,
}

/// An operator's API token (its SHA-256 is kept, never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorToken {
    pub id: smsgate_core::OperatorTokenId,
    pub operator: smsgate_core::OperatorId,
    pub prefix: String,
    pub label: Option<String>,
    pub created_at: Timestamp,
    /// Refused from then on; `None`: until revoked.
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl OperatorToken {
    /// Whether it is refused at `now`.
    pub fn has_ended(&self, now: Timestamp) -> bool {
        self.revoked_at.is_some_and(|t| t <= now) || self.expires_at.is_some_and(|t| t <= now)
    }
}

#[derive(Debug, Clone)]
pub struct NewOperatorToken {
    pub hash: [u8; 32],
    pub prefix: String,
    pub label: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// Who makes a change, from where and when: every change of what the
/// gateway is set up with takes one, and the store records it in the
/// audit log in the change's own transaction (unless the gateway itself
/// made it, [`Actor::Gateway`](smsgate_core::operators::Actor::Gateway)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audit {
    pub actor: smsgate_core::operators::Actor,
    pub address: Option<std::net::IpAddr>,
    pub at: Timestamp,
}

impl Audit {
    /// A change the gateway makes itself, not audited.
    pub fn gateway(at: Timestamp) -> Audit {
        Audit {
            actor: smsgate_core::operators::Actor::Gateway,
            address: None,
            at,
        }
    }

    /// A change made from the command line.
    pub fn cli(at: Timestamp) -> Audit {
        Audit {
            actor: smsgate_core::operators::Actor::Cli,
            address: None,
            at,
        }
    }
}

/// Makes an enum of unit variants with the text each is stored and
/// shown as, `ALL` in order, `as_str` and `parse`.
macro_rules! named_variants {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|a| a.as_str() == s)
            }
        }
    };
}

named_variants! {
    /// What a change in the audit log did.
    AuditAction {
    AccountCreate => "account.create",
    AccountUpdate => "account.update",
    KeyCreate => "key.create",
    KeyRevoke => "key.revoke",
    KeyRotate => "key.rotate",
    KeyNetworks => "key.networks",
    CreditsAdjust => "credits.adjust",
    CreditsTransfer => "credits.transfer",
    PlanCreate => "plan.create",
    PlanDelete => "plan.delete",
    PlanDefault => "plan.default",
    PriceSet => "price.set",
    PriceDelete => "price.delete",
    CostSet => "cost.set",
    CostDelete => "cost.delete",
    SettingSet => "setting.set",
    NumberAssign => "number.assign",
    NumberUnassign => "number.unassign",
    KeywordAssign => "keyword.assign",
    KeywordUnassign => "keyword.unassign",
    SenderCreate => "sender.create",
    SenderApprove => "sender.approve",
    SenderDelete => "sender.delete",
    TemplateCreate => "template.create",
    TemplateApprove => "template.approve",
    SuppressionsChange => "suppressions.change",
    WebhookCreate => "webhook.create",
    WebhookEnable => "webhook.enable",
    WebhookDisable => "webhook.disable",
    WebhookDelete => "webhook.delete",
    OperatorCreate => "operator.create",
    OperatorUpdate => "operator.update",
    OperatorTokenCreate => "operator-token.create",
    OperatorTokenRevoke => "operator-token.revoke",
    NumberErase => "number.erase",
    }
}

/// One change in the audit log. `before` and `after` are the changed
/// object as JSON, secrets replaced by `"[redacted]"`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: smsgate_core::operators::Actor,
    pub address: Option<String>,
    pub action: AuditAction,
    /// The account the change concerns, if one.
    pub account: Option<AccountId>,
    /// What was changed (`key 12`, `plan 3`, `routing`).
    pub subject: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Which audit entries to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Entries before this id (the cursor of the page before).
    pub before: Option<i64>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Entries whose actor is of this kind (`operator`, `account`…).
    pub actor_kind: Option<&'static str>,
    /// … and this operator or account.
    pub actor_id: Option<i64>,
    pub actions: Vec<AuditAction>,
    pub account: Option<AccountId>,
    pub limit: usize,
}

/// How a message counts in usage: `Pending` while it waits (accepted,
/// scheduled, queued or submitting), else its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UsageStatus {
    Pending,
    Sent,
    Delivered,
    Undelivered,
    Expired,
    Rejected,
    Failed,
    Canceled,
}

impl UsageStatus {
    pub const ALL: [UsageStatus; 8] = [
        UsageStatus::Pending,
        UsageStatus::Sent,
        UsageStatus::Delivered,
        UsageStatus::Undelivered,
        UsageStatus::Expired,
        UsageStatus::Rejected,
        UsageStatus::Failed,
        UsageStatus::Canceled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            UsageStatus::Pending => "pending",
            UsageStatus::Sent => "sent",
            UsageStatus::Delivered => "delivered",
            UsageStatus::Undelivered => "undelivered",
            UsageStatus::Expired => "expired",
            UsageStatus::Rejected => "rejected",
            UsageStatus::Failed => "failed",
            UsageStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<UsageStatus> {
        UsageStatus::ALL.into_iter().find(|u| u.as_str() == s)
    }

    pub const fn of(status: Status) -> UsageStatus {
        match status {
            Status::Accepted | Status::Scheduled | Status::Queued | Status::Submitting => {
                UsageStatus::Pending
            }
            Status::Sent => UsageStatus::Sent,
            Status::Delivered => UsageStatus::Delivered,
            Status::Undelivered => UsageStatus::Undelivered,
            Status::Expired => UsageStatus::Expired,
            Status::Rejected => UsageStatus::Rejected,
            Status::Failed => UsageStatus::Failed,
            Status::Canceled => UsageStatus::Canceled,
        }
    }
}

/// The periods a usage report is cut into (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageInterval {
    Hour,
    Day,
    /// The whole range as one period.
    Whole,
}

/// What a usage report groups by besides its period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageGroups {
    pub account: bool,
    pub category: bool,
    pub country: bool,
    pub connector: bool,
    pub status: bool,
}

/// Which usage counters, summed how.
#[derive(Debug, Clone)]
pub struct UsageQuery {
    /// Messages accepted at or after; a whole hour.
    pub from: Timestamp,
    /// Accepted before; a whole hour.
    pub to: Timestamp,
    /// `None`: every account's.
    pub accounts: Option<Vec<AccountId>>,
    pub interval: UsageInterval,
    pub groups: UsageGroups,
}

/// Messages counted together, and what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UsageCounts {
    pub messages: u64,
    pub segments: u64,
    /// Charged when accepted, refunds not taken off.
    pub price: Amount,
    pub refunded: Amount,
    /// What the carriers charged (the operator's figure).
    pub carrier_cost: Amount,
    /// Messages by how they count now.
    pub by_status: [u64; 8],
    /// Summed over the delivered: accepted → delivered.
    pub latency_ms: u64,
}

impl UsageCounts {
    pub fn of(&self, status: UsageStatus) -> u64 {
        self.by_status[status as usize]
    }

    /// Delivered of those that left the queue (neither pending nor
    /// canceled); `None` when none did.
    pub fn delivery_rate(&self) -> Option<f64> {
        let left = self.messages - self.of(UsageStatus::Pending) - self.of(UsageStatus::Canceled);
        (left > 0).then(|| self.of(UsageStatus::Delivered) as f64 / left as f64)
    }

    /// Mean time from acceptance to delivery.
    pub fn average_latency_ms(&self) -> Option<u64> {
        let delivered = self.of(UsageStatus::Delivered);
        (delivered > 0).then(|| self.latency_ms / delivered)
    }

    /// Price less refunds and carrier cost.
    pub fn margin(&self) -> Option<Amount> {
        self.price
            .checked_sub(self.refunded)?
            .checked_sub(self.carrier_cost)
    }
}

/// One line of a usage report. A dimension the query does not group by is
/// `None`; a country or connector that is grouped by but absent (a number
/// of no country, a message not sent yet) is `Some(None)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    /// The period's start.
    pub period: Timestamp,
    pub account: Option<AccountId>,
    pub category: Option<Category>,
    pub country: Option<Option<String>>,
    pub connector: Option<Option<String>>,
    pub status: Option<UsageStatus>,
    pub counts: UsageCounts,
}

/// How long message texts (and click targets) and numbers are kept, in
/// days; `None`: for ever (an account's: the server's rule).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub texts_days: Option<u32>,
    pub numbers_days: Option<u32>,
}

/// What one account's retention removes now: the texts of what was made
/// before `texts_before`, the numbers of what was made before
/// `numbers_before` (masked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionCut {
    pub account: AccountId,
    pub texts_before: Option<Timestamp>,
    pub numbers_before: Option<Timestamp>,
}

/// What a step of retention did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Retained {
    /// Messages whose text (and click targets) went.
    pub texts: u64,
    /// Messages whose recipient was masked.
    pub numbers: u64,
    pub inbound_texts: u64,
    /// Inbound messages whose sender was masked.
    pub inbound_numbers: u64,
    /// There is more to do now: call again.
    pub more: bool,
}

impl Retained {
    /// Adds a step's counts to these (its `more` is the step's).
    pub fn add(&mut self, step: Retained) {
        self.texts += step.texts;
        self.numbers += step.numbers;
        self.inbound_texts += step.inbound_texts;
        self.inbound_numbers += step.inbound_numbers;
        self.more = step.more;
    }
}
