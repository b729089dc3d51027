//! The storage port of smsgate and its adapters.
//!
//! [`Store`] is everything the engine and the API need from a database:
//! accounts, keys and credits; the intake transaction (messages and their
//! charge, committed together); the queue (claims with a lease); and status
//! changes with their history and refunds. Adapters own their SQL: the
//! queue-claim and credit queries differ per backend. This crate never
//! decides policy (which transitions are legal, what is refunded): that is
//! `smsgate_core::lifecycle`'s.

mod sql;
pub use sql::{Backend, SqlStore};
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
pub(crate) mod testing;
mod types;

pub use types::*;

use async_trait::async_trait;
use smsgate_core::optout::OptOutAction;
use smsgate_core::{
    AccountId, Amount, BatchId, Category, InboundId, KeyId, MessageId, Msisdn, OperatorId,
    OperatorTokenId, PlanId, Price, PublicId, Timestamp,
};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an account named {0:?} already exists")]
    NameTaken(String),
    #[error("account {0} does not exist")]
    NoSuchAccount(AccountId),
    #[error("API key {0} does not exist")]
    NoSuchKey(KeyId),
    #[error("balance {balance} is smaller than {needed}")]
    InsufficientCredits { balance: Amount, needed: Amount },
    #[error("the balance ({balance}) would pass its maximum of {max}")]
    BalanceTooLarge { balance: Amount, max: Amount },
    #[error("the database is closed")]
    Closed,
    #[error("the transaction could not be committed: {0}")]
    CommitFailed(String),
    #[error("database error: {0}")]
    Backend(BackendError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Duplicate(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{0}")]
    Unusable(String),
    #[error("backup failed: {0}")]
    Backup(String),
    #[error("a node named {0:?} is serving this database; give each node its own name")]
    NodeRunning(String),
    #[error("rate plan {0} does not exist")]
    NoSuchPlan(PlanId),
    #[error("a rate plan named {0:?} already exists")]
    PlanNameTaken(String),
    #[error("rate plan {plan} is {why}")]
    PlanInUse { plan: PlanId, why: PlanUse },
    #[error("operator {0} does not exist")]
    NoSuchOperator(OperatorId),
    #[error("an operator named {0:?} already exists")]
    OperatorNameTaken(String),
    #[error("operator token {0} does not exist")]
    NoSuchOperatorToken(OperatorTokenId),
    #[error("the last active owner cannot be demoted or disabled")]
    LastOwner,
}

/// Why a rate plan cannot be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlanUse {
    #[error("the default plan")]
    Default,
    #[error("the plan of {0} accounts")]
    Accounts(u64),
}

/// A failure of the database itself. Opaque, so that nothing above the
/// store depends on a backend; each adapter converts its driver's errors,
/// and callers ask what kind it was.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    kind: BackendKind,
    message: String,
}

/// What kind of database failure, as far as anyone above a store needs
/// to tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BackendKind {
    /// Locked or overloaded: trying again may succeed.
    Busy,
    ReadOnly,
    CannotOpen,
    NotADatabase,
    PermissionDenied,
    /// A row broke a unique key.
    Unique,
    Other,
}

impl BackendError {
    pub(crate) fn new(kind: BackendKind, message: impl Into<String>) -> BackendError {
        BackendError {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn kind(&self) -> BackendKind {
        self.kind
    }

    /// Locked or overloaded: the same request may succeed later.
    pub fn is_busy(&self) -> bool {
        self.kind == BackendKind::Busy
    }

    /// The database refuses writes (file permissions, a read-only mount or
    /// replica).
    pub fn is_read_only(&self) -> bool {
        self.kind == BackendKind::ReadOnly
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Accounts and their API keys.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    async fn create_account(&self, new: NewAccount, by: &Audit) -> Result<Account>;
    async fn account(&self, id: AccountId) -> Result<Option<Account>>;
    async fn account_by_name(&self, name: &str) -> Result<Option<Account>>;
    async fn accounts(&self) -> Result<Vec<Account>>;
    /// The accounts `parent` owns (its sub-accounts), by id.
    async fn children(&self, parent: AccountId) -> Result<Vec<Account>>;
    async fn update_account(
        &self,
        id: AccountId,
        patch: AccountPatch,
        by: &Audit,
    ) -> Result<Account>;
    async fn create_key(
        &self,
        account: AccountId,
        key: NewApiKey,
        by: &Audit,
    ) -> Result<ApiKeyInfo>;
    /// Ends the key at `at` (now, or later), unless it ends sooner
    /// already; a key is refused from its `revoked_at` on.
    async fn revoke_key(&self, key: KeyId, at: Timestamp, by: &Audit) -> Result<ApiKeyInfo>;
    /// A new key for the old key's account, with its label and networks,
    /// the old one ending at `old_ends_at`: one transaction.
    async fn rotate_key(
        &self,
        old: KeyId,
        new: NewApiKey,
        old_ends_at: Timestamp,
        by: &Audit,
    ) -> Result<ApiKeyInfo>;
    /// Limits a key to client networks; `None` lifts the limit.
    async fn set_key_networks(
        &self,
        key: KeyId,
        networks: Option<Vec<smsgate_core::net::IpNetwork>>,
        by: &Audit,
    ) -> Result<ApiKeyInfo>;
    async fn keys(&self, account: AccountId) -> Result<Vec<ApiKeyInfo>>;
    /// The key with this SHA-256 hash and its account, revoked or not.
    async fn key_by_hash(&self, hash: [u8; 32]) -> Result<Option<(ApiKeyInfo, Account)>>;
}

/// Balances, the ledger and prices.
#[async_trait]
pub trait CreditStore: Send + Sync + 'static {
    /// Adds (or, negative, removes) credits as a ledger entry. Refuses to
    /// take the balance below zero. Returns the new balance.
    async fn adjust_credits(
        &self,
        account: AccountId,
        amount: Amount,
        note: Option<String>,
        by: &Audit,
    ) -> Result<Amount>;
    /// The account's ledger entries that pass `filter`, newest first.
    async fn ledger_page(
        &self,
        account: AccountId,
        filter: LedgerFilter,
    ) -> Result<Vec<LedgerEntry>>;
    /// The account's statement for `[from, to)`.
    async fn statement(
        &self,
        account: AccountId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Statement>;
    /// The account's newest `limit` ledger entries.
    async fn ledger(&self, account: AccountId, limit: usize) -> Result<Vec<LedgerEntry>> {
        self.ledger_page(account, LedgerFilter::newest(limit)).await
    }
    /// Moves `amount` (above zero) from `from`'s main balance to `to`'s:
    /// two `transfer` ledger entries in one transaction, or nothing when
    /// `from` holds less (`InsufficientCredits`) or `to` would pass its
    /// maximum. Both balances after.
    async fn transfer(
        &self,
        from: AccountId,
        to: AccountId,
        amount: Amount,
        note: Option<String>,
        by: &Audit,
    ) -> Result<(Amount, Amount)>;
    /// Adds (or removes) credits of one category's balance (accounts with
    /// split balances); never below zero. Returns the new balance.
    async fn adjust_category_credits(
        &self,
        account: AccountId,
        category: Category,
        amount: Amount,
        note: Option<String>,
        by: &Audit,
    ) -> Result<Amount>;
    /// The account's balance per category.
    async fn category_balances(&self, account: AccountId) -> Result<Vec<(Category, Amount)>>;
}

/// Rate plans, accounts' own prices and connectors' cost prices. An
/// account's plan is set with `update_account`.
#[async_trait]
pub trait PriceStore: Send + Sync + 'static {
    /// A new plan without prices; `owner`: a reseller's, for its
    /// sub-accounts. Names are unique per owner.
    async fn create_plan(
        &self,
        name: &str,
        owner: Option<AccountId>,
        by: &Audit,
    ) -> Result<RatePlan>;
    /// The plans of `owner` (`None`: the operator's), with their prices.
    async fn plans(&self, owner: Option<AccountId>) -> Result<Vec<RatePlan>>;
    async fn plan(&self, id: PlanId) -> Result<Option<RatePlan>>;
    /// Refused for the default plan and a plan accounts are on.
    async fn delete_plan(&self, id: PlanId, by: &Audit) -> Result<()>;
    /// One of the operator's plans becomes the default.
    async fn set_default_plan(&self, id: PlanId, by: &Audit) -> Result<()>;
    /// A plan's prices, or an account's own. Plans have theirs in
    /// [`RatePlan::prices`].
    async fn prices(&self, list: PriceList) -> Result<Vec<Price>>;
    /// Sets (or replaces) the price of a route class and prefix in a
    /// list; `NoSuchPlan` / `NoSuchAccount` when the list's owner is not
    /// there.
    async fn set_price(&self, list: PriceList, price: Price, by: &Audit) -> Result<()>;
    async fn delete_price(
        &self,
        list: PriceList,
        route_class: &str,
        prefix: &str,
        by: &Audit,
    ) -> Result<bool>;
    async fn set_connector_cost(&self, cost: ConnectorCost, by: &Audit) -> Result<()>;
    async fn delete_connector_cost(
        &self,
        connector: &str,
        prefix: &str,
        by: &Audit,
    ) -> Result<bool>;
    /// Every price list in force.
    async fn pricing(&self) -> Result<PricingSnapshot>;
}

/// Operators and their API tokens.
#[async_trait]
pub trait OperatorStore: Send + Sync + 'static {
    /// `OperatorNameTaken` when the name is someone's.
    async fn create_operator(&self, new: NewOperator, by: &Audit) -> Result<Operator>;
    async fn operators(&self) -> Result<Vec<Operator>>;
    async fn operator(&self, id: OperatorId) -> Result<Option<Operator>>;
    async fn operator_by_name(&self, name: &str) -> Result<Option<Operator>>;
    /// Refused (`LastOwner`, nothing changed) where it would leave no
    /// active owner: checked in the change's transaction, so two owners
    /// demoting each other at once cannot both succeed.
    async fn update_operator(
        &self,
        id: OperatorId,
        patch: OperatorPatch,
        by: &Audit,
    ) -> Result<Operator>;
    async fn create_operator_token(
        &self,
        operator: OperatorId,
        new: NewOperatorToken,
        by: &Audit,
    ) -> Result<OperatorToken>;
    async fn operator_tokens(&self, operator: OperatorId) -> Result<Vec<OperatorToken>>;
    async fn operator_token(&self, id: OperatorTokenId) -> Result<Option<OperatorToken>>;
    /// Ends the token now (unless it was revoked already).
    async fn revoke_operator_token(&self, id: OperatorTokenId, by: &Audit)
    -> Result<OperatorToken>;
    /// The token with this SHA-256 hash and its operator, ended or not.
    async fn operator_token_by_hash(
        &self,
        hash: [u8; 32],
    ) -> Result<Option<(OperatorToken, Operator)>>;
}

/// The audit log. It is written by the changes themselves (each takes
/// an [`Audit`]), in their transactions; here it is read.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// The entries that pass `filter`, newest first.
    async fn audit_log(&self, filter: AuditFilter) -> Result<Vec<AuditEntry>>;
}

/// What was sent, rolled up: counters the store keeps in the
/// transaction of every status change, read here.
#[async_trait]
pub trait UsageStore: Send + Sync + 'static {
    /// The counters of the messages accepted in `[from, to)` (whole
    /// hours), summed per period and group.
    async fn usage(&self, query: UsageQuery) -> Result<Vec<UsageRow>>;
}

/// Retention: what is removed of old messages (their texts, click
/// targets and numbers), in steps.
#[async_trait]
pub trait RetentionStore: Send + Sync + 'static {
    /// One step of an account's retention: texts (and click targets) of its
    /// messages and inbound messages made before `cut.texts_before`
    /// removed, numbers of those made before `cut.numbers_before` masked;
    /// statuses, prices and usage stay. Messages still waiting to be sent
    /// keep both until they no longer wait. At most about `limit` rows of
    /// each kind a step.
    async fn retain(&self, cut: RetentionCut, limit: usize) -> Result<Retained>;
}

/// Login sessions of the session dialect.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// A login session, known by the SHA-256 of its key.
    async fn create_session(
        &self,
        account: AccountId,
        key_hash: [u8; 32],
        now: Timestamp,
    ) -> Result<()>;
    /// A session with its account and times. Sessions of an account end
    /// when its password changes or it is disabled (`update_account`).
    async fn session(&self, key_hash: [u8; 32]) -> Result<Option<SessionRecord>>;
    async fn touch_session(&self, key_hash: [u8; 32], now: Timestamp) -> Result<()>;
    async fn purge_sessions(&self, before: Timestamp) -> Result<usize>;
}

/// Named settings of the installation (keys, cursors, stored routing).
#[async_trait]
pub trait SettingStore: Send + Sync + 'static {
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    async fn set_setting(&self, key: &str, value: &str, by: &Audit) -> Result<()>;
}

/// Accepting messages with their charge, and idempotency.
#[async_trait]
pub trait IntakeStore: Send + Sync + 'static {
    /// Commits submissions in one transaction (one fsync): each is charged
    /// and stored, or refused on its own. Nothing is returned before the
    /// commit is durable; if the commit fails every submission fails.
    async fn accept(
        &self,
        submissions: Vec<Submission>,
        now: Timestamp,
    ) -> Result<Vec<Result<Acceptance, Refusal>>>;
    /// Commits submissions all or none: when one is refused for its
    /// account (credits, disabled, idempotency), nothing is stored or
    /// charged and that refusal is returned; one whose every recipient is
    /// suppressed is refused alone.
    async fn accept_together(
        &self,
        submissions: Vec<Submission>,
        now: Timestamp,
    ) -> Result<Result<Vec<Result<Acceptance, Refusal>>, Refusal>>;
    async fn purge_idempotency(&self, before: Timestamp) -> Result<usize>;
}

/// Reading messages and batches.
#[async_trait]
pub trait MessageReads: Send + Sync + 'static {
    /// The account's most recent batch (job) with the client's reference.
    async fn batch_by_reference(
        &self,
        account: AccountId,
        reference: &str,
    ) -> Result<Option<BatchSummary>>;
    /// A message with its history; `None` also when it belongs to another
    /// account than `account` (when given).
    async fn message(
        &self,
        account: Option<AccountId>,
        id: MessageId,
    ) -> Result<Option<MessageDetail>>;
    /// The account's messages that pass `filter`, newest first.
    async fn messages(
        &self,
        account: AccountId,
        filter: MessageFilter,
    ) -> Result<Vec<MessageRecord>>;
    async fn count_messages(&self, account: AccountId) -> Result<u64>;
    async fn batch(&self, account: AccountId, id: BatchId) -> Result<Option<BatchSummary>>;
    /// The account's batches created in `[from, to)`, newest first: how
    /// many there are, and the page `offset..offset + limit`.
    async fn batch_history(
        &self,
        account: AccountId,
        from: Timestamp,
        to: Timestamp,
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<BatchHistoryEntry>)>;
    /// Messages waiting, for metrics and readiness.
    async fn queue_depth(&self) -> Result<QueueDepth>;
}

/// The queue: scheduling, claims, status changes and receipts.
#[async_trait]
pub trait QueueStore: Send + Sync + 'static {
    /// Tries receipts kept since before `received_before` for an unknown
    /// carrier id in the id's other forms (hex for decimal and back).
    async fn match_pending_receipts(&self, received_before: Timestamp) -> Result<usize>;
    /// Drops receipts kept for an unknown carrier id since before `before`.
    async fn purge_pending_receipts(&self, before: Timestamp) -> Result<usize>;
    /// Cancels a message that has not been sent yet and refunds it.
    async fn cancel(
        &self,
        account: AccountId,
        id: MessageId,
        now: Timestamp,
    ) -> Result<CancelOutcome>;
    /// Moves scheduled messages whose time has come to `queued`; which.
    async fn promote_scheduled(&self, now: Timestamp, limit: usize) -> Result<Vec<MessageId>>;
    /// Expires waiting messages whose validity ended before they were
    /// sent; which.
    async fn expire_overdue(&self, now: Timestamp, limit: usize) -> Result<Vec<MessageId>>;
    /// Claims due messages for node `by` (queued, or submitting with an
    /// expired lease; not those waiting for a connector another live node
    /// holds), marking them `submitting` until `lease_until`. `place`
    /// (when some connectors are held elsewhere) says which this node
    /// carries: the others stay queued, waiting for the connector named.
    async fn claim(
        &self,
        by: NodeId,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
        place: Option<Placer>,
    ) -> Result<Vec<Outbound>>;
    /// Carrier ids of messages `connector` acknowledged and has not
    /// receipted yet.
    async fn awaiting_receipt(&self, connector: &str) -> Result<Vec<String>>;
    /// Applies status changes: legal ones move the message (refunding where
    /// the lifecycle says), others are recorded in its history only.
    async fn apply(&self, updates: Vec<StatusUpdate>) -> Result<Vec<ApplyOutcome>>;
    /// Walks the message history after row `after`, at most `limit` rows,
    /// up to the first change made after `before`: the messages
    /// acknowledged (`sent`) in that stretch that are still `sent`. The
    /// history is appended in time order, so a cursor walks each change
    /// once and no index is kept for it on the write path.
    async fn acknowledged(
        &self,
        after: i64,
        before: Timestamp,
        limit: usize,
    ) -> Result<AcknowledgedPage>;
}

/// Inbound messages and the numbers and keywords that route them.
#[async_trait]
pub trait InboundStore: Send + Sync + 'static {
    /// Stores inbound messages in one transaction: each whole, or its part
    /// kept until the message is whole.
    async fn receive_inbound(&self, parts: Vec<InboundPart>) -> Result<Vec<InboundOutcome>>;
    /// An account's inbound messages, newest first, older than `before`.
    async fn inbound(
        &self,
        account: AccountId,
        before: Option<InboundId>,
        limit: usize,
    ) -> Result<Vec<InboundRecord>>;
    /// The account's inbound messages received in `[from, to)` (sent to
    /// one of `numbers`, digits without `+`, unless it is empty), newest
    /// first: how many, and the page `offset..offset + limit`.
    async fn inbound_history(
        &self,
        account: AccountId,
        numbers: Vec<String>,
        from: Timestamp,
        to: Timestamp,
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<InboundRecord>)>;
    /// Routes inbound messages to `number` to `account` (replacing any
    /// earlier owner).
    async fn assign_number(
        &self,
        number: &str,
        account: AccountId,
        by: &Audit,
    ) -> Result<NumberAssignment>;
    async fn unassign_number(&self, number: &str, by: &Audit) -> Result<bool>;
    async fn numbers(&self) -> Result<Vec<NumberAssignment>>;
    /// Drops parts of long inbound messages received before `before`
    /// whose other parts never came.
    async fn purge_inbound_parts(&self, before: Timestamp) -> Result<usize>;
    /// One of the account's inbound messages with the replies sent to it.
    async fn inbound_message(
        &self,
        account: AccountId,
        id: InboundId,
    ) -> Result<Option<(InboundRecord, Vec<MessageId>)>>;
    /// Routes inbound messages to the shared `number` whose first word is
    /// `keyword` (upper case) to `account`.
    async fn assign_keyword(
        &self,
        number: &str,
        keyword: &str,
        account: AccountId,
        by: &Audit,
    ) -> Result<KeywordAssignment>;
    async fn unassign_keyword(&self, number: &str, keyword: &str, by: &Audit) -> Result<bool>;
    async fn keywords(&self) -> Result<Vec<KeywordAssignment>>;
}

/// Sender IDs and content templates.
#[async_trait]
pub trait RegistryStore: Send + Sync + 'static {
    async fn create_sender(
        &self,
        account: AccountId,
        new: NewSender,
        by: &Audit,
    ) -> Result<SenderRecord>;
    async fn sender(&self, account: AccountId, id: PublicId) -> Result<Option<SenderRecord>>;
    async fn sender_by_name(
        &self,
        account: AccountId,
        sender_id: &str,
    ) -> Result<Option<SenderRecord>>;
    async fn senders(&self, account: AccountId) -> Result<Vec<SenderRecord>>;
    /// Approves a sender ID of any account (an operator's act).
    async fn approve_sender(&self, id: PublicId, by: &Audit) -> Result<Option<SenderRecord>>;
    /// Removes the account's sender ID; whether there was one.
    async fn delete_sender(&self, account: AccountId, id: PublicId, by: &Audit) -> Result<bool>;
    async fn create_template(
        &self,
        account: AccountId,
        new: NewTemplate,
        by: &Audit,
    ) -> Result<TemplateRecord>;
    async fn template(&self, account: AccountId, id: PublicId) -> Result<Option<TemplateRecord>>;
    /// The account's template with the id clients send.
    async fn template_by_template_id(
        &self,
        account: AccountId,
        template_id: &str,
    ) -> Result<Option<TemplateRecord>>;
    async fn templates(&self, account: AccountId) -> Result<Vec<TemplateRecord>>;
    /// Approves a template of any account (an operator's act).
    async fn approve_template(&self, id: PublicId, by: &Audit) -> Result<Option<TemplateRecord>>;
}

/// Who may be sent to: campaigns and their subscribers, suppressions, tracked links.
#[async_trait]
pub trait AudienceStore: Send + Sync + 'static {
    /// Counts a click on a short link (and records `message.clicked`);
    /// its target, or `None` for an unknown code.
    async fn click(&self, code: &str, now: Timestamp) -> Result<Option<String>>;
    /// A short link's target, without counting a click.
    async fn link_target(&self, code: &str) -> Result<Option<String>>;
    async fn create_campaign(
        &self,
        account: AccountId,
        reference: &str,
        name: Option<String>,
        now: Timestamp,
    ) -> Result<Campaign>;
    async fn campaigns(&self, account: AccountId) -> Result<Vec<Campaign>>;
    /// Subscribes or unsubscribes numbers; `None`: no such campaign.
    async fn change_subscribers(
        &self,
        account: AccountId,
        reference: &str,
        numbers: Vec<Msisdn>,
        subscribe: bool,
        now: Timestamp,
    ) -> Result<Option<ChangeCount>>;
    /// A campaign's subscribers in number order; `None`: no such campaign.
    async fn subscribers(
        &self,
        account: AccountId,
        reference: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<Option<Vec<String>>>;
    /// Which of `numbers` (E.164) are subscribed; `None`: no such campaign.
    async fn subscribed(
        &self,
        account: AccountId,
        reference: &str,
        numbers: Vec<String>,
    ) -> Result<Option<Vec<String>>>;
    /// Puts numbers on (or takes them off) the account's suppression list;
    /// each change is an `optout.changed` event.
    async fn change_suppressions(
        &self,
        account: AccountId,
        numbers: Vec<Msisdn>,
        action: OptOutAction,
        source: SuppressionSource,
        by: &Audit,
    ) -> Result<ChangeCount>;
    /// The account's suppression list in number order, after `after`.
    async fn suppressions(
        &self,
        account: AccountId,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<Suppression>>;
    /// Which of `numbers` (E.164) are on the account's suppression list.
    async fn suppressed(&self, account: AccountId, numbers: Vec<String>) -> Result<Vec<String>>;
    /// Erases what the account keeps of `number` (GDPR): the texts of
    /// its messages to it that are not waiting to be sent, their click
    /// targets, the texts of its inbound messages from it. Status, price,
    /// cost and the suppression entry stay.
    async fn erase_number(&self, account: AccountId, number: Msisdn, by: &Audit) -> Result<Erased>;
}

/// Webhook endpoints.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn create_webhook(
        &self,
        account: AccountId,
        new: NewWebhookEndpoint,
        by: &Audit,
    ) -> Result<WebhookEndpoint>;
    async fn webhooks(&self, account: AccountId) -> Result<Vec<WebhookEndpoint>>;
    async fn webhook(&self, account: AccountId, id: PublicId) -> Result<Option<WebhookEndpoint>>;
    /// The endpoint that carries the account's per-message callbacks, once
    /// a message with a callback URL has made it.
    async fn callbacks_endpoint(&self, account: AccountId) -> Result<Option<WebhookEndpoint>>;
    async fn set_webhook_enabled(
        &self,
        account: AccountId,
        id: PublicId,
        enabled: bool,
        by: &Audit,
    ) -> Result<bool>;
    /// Deletes an endpoint; its pending deliveries end dead, and an attempt
    /// in flight that is recorded later leaves them so.
    async fn delete_webhook(&self, account: AccountId, id: PublicId, by: &Audit) -> Result<bool>;
}

/// The outbox: events and their deliveries.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// An account's events after the event `after` (0: from the start),
    /// oldest first.
    async fn events(
        &self,
        account: AccountId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<EventRecord>>;
    /// Forgets up to `limit` events created before `before` (only those
    /// every enabled endpoint has been given) and finished webhook
    /// deliveries done before it; returns how many rows went.
    async fn purge_events(&self, before: Timestamp, limit: usize) -> Result<usize>;
    /// Makes deliveries of new outbox events for the endpoints that want
    /// them; returns how many events were relayed (0: caught up).
    async fn relay_events(&self, limit: usize, now: Timestamp) -> Result<usize>;
    /// The endpoints with deliveries due and what is in flight, for the
    /// deliverer to share its room fairly.
    async fn delivery_load(&self, now: Timestamp) -> Result<DeliveryLoad>;
    /// Claims due deliveries with a lease, up to the number given per
    /// endpoint, oldest first, skipping any whose subject has an earlier
    /// delivery still pending.
    async fn claim_deliveries(
        &self,
        by: NodeId,
        now: Timestamp,
        lease_until: Timestamp,
        take: Vec<(PublicId, usize)>,
    ) -> Result<Vec<DueDelivery>>;
    async fn record_attempts(&self, attempts: Vec<AttemptResult>) -> Result<()>;
    /// An endpoint's deliveries, newest first, with every attempt.
    async fn deliveries(
        &self,
        account: AccountId,
        endpoint: PublicId,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>>;
    /// Delivers past events to an endpoint again; returns how many.
    async fn replay_deliveries(
        &self,
        endpoint: WebhookEndpoint,
        which: Replay,
        now: Timestamp,
    ) -> Result<usize>;
    /// Sends a `webhook.test` event to one endpoint; returns its event id,
    /// or `None` when the endpoint has its most deliveries pending.
    async fn test_webhook(&self, endpoint: WebhookEndpoint, now: Timestamp) -> Result<Option<i64>>;
}

/// The nodes serving one database: heartbeats, connector leases, and
/// what a dead node had claimed.
#[async_trait]
pub trait ClusterStore: Send + Sync + 'static {
    /// Registers a node named `name` starting at `now`. An earlier run of
    /// the same name (a node restarting) ends, and its claims and leases
    /// are released at once. [`StoreError::NodeRunning`] when a node of
    /// that name is serving the database now.
    async fn join(&self, name: &str, address: &str, now: Timestamp) -> Result<NodeId>;
    /// Records a heartbeat: ends nodes that stopped beating (releasing
    /// their claims and leases), renews this node's leases, gives up those
    /// it no longer wants and takes the free ones it wants.
    async fn beat(&self, beat: Beat) -> Result<BeatOutcome>;
    /// A node stopping: its leases are released for the others at once.
    async fn leave(&self, node: NodeId, now: Timestamp) -> Result<()>;
    /// Nodes, newest first: those alive and those that ended since `since`.
    async fn nodes(&self, since: Timestamp) -> Result<Vec<NodeRecord>>;
    /// Who holds which connector.
    async fn connector_leases(&self) -> Result<Vec<ConnectorLease>>;
}

/// Changes every node must hear of at once: caches to drop, work to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// Keys or accounts changed (revoked, disabled, limited).
    Keys,
    Prices,
    Routing,
    /// Messages were queued.
    Queued,
}

impl Change {
    pub const ALL: [Change; 4] = [
        Change::Keys,
        Change::Prices,
        Change::Routing,
        Change::Queued,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Change::Keys => "keys",
            Change::Prices => "prices",
            Change::Routing => "routing",
            Change::Queued => "queued",
        }
    }

    pub fn parse(s: &str) -> Option<Change> {
        Change::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// How nodes tell each other of changes (PostgreSQL: `NOTIFY`; SQLite,
/// one node: within the process).
#[async_trait]
pub trait ChangeFeed: Send + Sync + 'static {
    /// Tells every node, this one included.
    async fn announce(&self, change: Change) -> Result<()>;
    /// What is announced from now on. After the feed lost its connection
    /// every change is reported once, for what may have been missed.
    fn changes(&self) -> tokio::sync::broadcast::Receiver<Change>;
}

/// What the dispatcher uses: the queue, and the inbound messages its
/// connectors receive.
pub trait DeliveryStore: QueueStore + InboundStore + ChangeFeed {}

impl<T: QueueStore + InboundStore + ChangeFeed + ?Sized> DeliveryStore for T {}

/// The whole storage port: every capability. Background tasks and
/// services take the narrow port they use; a backend implements them all.
/// Every method is one transaction.
pub trait Store:
    DeliveryStore
    + AccountStore
    + CreditStore
    + PriceStore
    + SessionStore
    + SettingStore
    + IntakeStore
    + MessageReads
    + QueueStore
    + InboundStore
    + RegistryStore
    + AudienceStore
    + WebhookStore
    + OutboxStore
    + ClusterStore
    + OperatorStore
    + AuditStore
    + UsageStore
    + RetentionStore
    + ChangeFeed
{
}

impl<
    T: AccountStore
        + CreditStore
        + PriceStore
        + SessionStore
        + SettingStore
        + IntakeStore
        + MessageReads
        + QueueStore
        + InboundStore
        + RegistryStore
        + AudienceStore
        + WebhookStore
        + OutboxStore
        + ClusterStore
        + OperatorStore
        + AuditStore
        + UsageStore
        + RetentionStore
        + ChangeFeed,
> Store for T
{
}

/// Every port, for `use smsgate_store::prelude::*`.
pub mod prelude {
    pub use super::{
        AccountStore, AudienceStore, AuditStore, ChangeFeed, ClusterStore, CreditStore,
        InboundStore, IntakeStore, MessageReads, OperatorStore, OutboxStore, PriceStore,
        QueueStore, RegistryStore, RetentionStore, SessionStore, SettingStore, Store, UsageStore,
        WebhookStore,
    };
}
