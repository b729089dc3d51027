//! The engine: the core services every face calls.
//!
//! It validates and prices requests (with `smsgate_core`), commits them
//! through the intake (group commit), and runs the background work that
//! moves messages to `delivered`: the scheduler, the dispatcher with its
//! connectors, and the updater that records outcomes and receipts. It
//! never speaks HTTP or SMPP itself.

pub mod account_changes;
pub mod accounts;
pub mod campaigns;
mod clicks;
pub mod cluster;
pub mod config;
pub mod connectors;
mod dispatcher;
pub mod events;
pub mod inbound;
mod intake;
pub mod keys;
pub mod operators;
pub mod passwords;
mod pricing;
mod reads;
pub mod registry;
pub mod retention;
pub mod router;
pub mod routing;
mod scheduler;
pub mod sessions;
mod subaccounts;
#[cfg(test)]
mod testing;
mod unreceipted;
pub mod velocity;
pub mod webhooks;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use smsgate_core::clock::{Clock, SystemClock};
use smsgate_core::send::{Field, FieldError, FieldErrorKind, Rejection, SendError, UrlError};
use smsgate_core::{
    AccountId, Amount, Country, KeyId, MessageId, SendPlan, SendRequest, Status, Timestamp,
};
use smsgate_store::{
    Acceptance, Account, AccountPatch, CancelOutcome, Change, Idempotency, NewAccount, NewBatch,
    Refusal, Store, StoreError, Submission,
};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use account_changes::AccountChanges;
pub use accounts::{AuthFailure, Caller, IssuedKey};
pub use connectors::simulator::SimulatorConfig;
pub use dispatcher::DispatchConfig;
pub use operators::By;
pub use reads::{Admin, UsageScope};
pub use router::Route;
pub use routing::{ConnectorConfig, RoutingConfig};
use smsgate_core::operators::Permission;

use connectors::Connector;
use connectors::simulator::Simulator;
use routing::Routing;

/// How `GET /admin/v1/routing` shows a connector's password.
pub const HIDDEN_PASSWORD: &str = "********";

/// The name of the built-in simulator connector.
pub const SIMULATOR: &str = "simulator";

/// What the store is given to charge and keep for a planned request.
fn submission(
    caller: &Caller,
    plan: SendPlan,
    batch: Option<NewBatch>,
    idempotency: Option<Idempotency>,
) -> Submission {
    Submission {
        account: caller.account,
        plan,
        batch,
        idempotency,
    }
}

/// Webhook tests and replays an account may ask for: 10 at once, then 10
/// a minute.
const WEBHOOK_REQUESTS: smsgate_core::limits::Rate = smsgate_core::limits::Rate::new(10, 10);

/// Where connectors and routes set through the admin API are kept.
const ROUTING_SETTING: &str = "routing";

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no recipient can be sent to")]
    NoValidRecipient(Vec<Rejection>),
    #[error("insufficient credits: balance {balance}, needed {needed}")]
    InsufficientCredits { balance: Amount, needed: Amount },
    #[error("the idempotency key was already used with a different request")]
    IdempotencyConflict,
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the message is {0} and can no longer be canceled")]
    NotCancelable(Status),
    #[error("an account named {0:?} already exists")]
    NameTaken(String),
    #[error("{0}")]
    Duplicate(String),
    #[error("too many {what}; try again in {retry_after_secs} s")]
    RateLimited {
        what: &'static str,
        retry_after_secs: u64,
    },
    #[error("too many {0} waiting; try again in a moment")]
    Overloaded(&'static str),
    #[error("smsgate is shutting down")]
    ShuttingDown,
    #[error("the system random number generator failed")]
    Randomness,
    #[error("invalid configuration: {0}")]
    Config(#[from] config::ConfigError),
    /// The change contradicts what exists (a plan in use, a name taken);
    /// the sentence says how.
    #[error("{0}")]
    Conflict(String),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    /// The caller's role (`None`: a customer's key) may not do this.
    #[error("{} may not {}", role.map_or("a customer".to_string(), |r| format!("the {r} role")), what.describe())]
    Forbidden {
        role: Option<smsgate_core::operators::Role>,
        what: smsgate_core::operators::Permission,
    },
}

impl EngineError {
    /// The same error for another waiting request of a failed group.
    fn clone_for_reply(&self) -> EngineError {
        match self {
            EngineError::Store(e) => EngineError::Store(StoreError::CommitFailed(e.to_string())),
            EngineError::ShuttingDown => EngineError::ShuttingDown,
            other => EngineError::Store(StoreError::CommitFailed(other.to_string())),
        }
    }

    fn field(field: Field, kind: FieldErrorKind) -> EngineError {
        EngineError::Invalid(vec![FieldError { field, kind }])
    }
}

impl From<SendError> for EngineError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Invalid(fields) => EngineError::Invalid(fields),
            SendError::NoValidRecipient(r) => EngineError::NoValidRecipient(r),
        }
    }
}

impl From<Refusal> for EngineError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::InsufficientCredits { balance, needed } => {
                EngineError::InsufficientCredits { balance, needed }
            }
            Refusal::IdempotencyConflict => EngineError::IdempotencyConflict,
            Refusal::AccountDisabled => EngineError::AccountDisabled,
            Refusal::NoValidRecipient(r) => EngineError::NoValidRecipient(r),
        }
    }
}

/// Everything the engine needs to know at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    pub dispatch: DispatchConfig,
    pub simulator: SimulatorConfig,
    pub webhooks: webhooks::WebhookConfig,
    /// A login session ends after this many seconds unused. Default 300
    /// (5 minutes, as the session dialect's platform does).
    pub session_idle_secs: u64,
    /// A login session ends this long after the login, however much it is
    /// used. Default 86400 (24 h).
    pub session_max_secs: u64,
    /// Password checks and login throttling.
    pub auth: passwords::AuthConfig,
    /// Requests per key, account and anonymous client address.
    pub limits: RequestLimits,
    /// Messages per account and destination range (SMS pumping).
    pub velocity: velocity::VelocityConfig,
    /// Sender IDs only accounts with them registered and approved may send
    /// from (brands, emergency numbers). Default: `smsgate_core::protected::DEFAULT`;
    /// `[]` protects none.
    pub protected_senders: Vec<String>,
    /// The sender of sends that name none when their account has no
    /// `default_sender` either. Default: none (such sends are refused).
    pub default_sender: Option<String>,
    /// How strictly recipients are checked unless their account says:
    /// `valid` (libphonenumber's ranges; the default) or `possible` (a
    /// plausible length for the country).
    pub number_check: smsgate_core::NumberCheck,
    /// Where clients reach this server, for tracked short links
    /// (`<public_url>/l/<code>`). Default: `http://` and the listen
    /// address.
    pub public_url: Option<String>,
    /// This node among the nodes serving the database.
    pub cluster: cluster::ClusterConfig,
    /// How long message texts and numbers are kept (accounts may have
    /// their own rule). Default: for ever.
    pub retention: retention::RetentionConfig,
    /// Connectors and routes; the binary fills this from the config
    /// file's top-level `[[connectors]]` and `[[routes]]`.
    #[serde(skip)]
    pub routing: RoutingConfig,
}

impl EngineConfig {
    /// Where clients reach this server (also how other nodes name it).
    fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:8080".into())
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            dispatch: DispatchConfig::default(),
            simulator: SimulatorConfig::default(),
            webhooks: webhooks::WebhookConfig::default(),
            session_idle_secs: 300,
            session_max_secs: 24 * 3600,
            auth: passwords::AuthConfig::default(),
            limits: RequestLimits::default(),
            velocity: velocity::VelocityConfig::default(),
            protected_senders: smsgate_core::protected::DEFAULT
                .iter()
                .map(|s| s.to_string())
                .collect(),
            default_sender: None,
            number_check: smsgate_core::NumberCheck::Valid,
            public_url: None,
            cluster: cluster::ClusterConfig::default(),
            retention: retention::RetentionConfig::default(),
            routing: RoutingConfig::default(),
        }
    }
}

/// What an admin asks for when creating an account.
#[derive(Debug, Clone, Default)]
pub struct AccountRequest {
    pub name: String,
    pub credits: Option<Amount>,
    pub password: Option<String>,
    pub default_country: Option<String>,
    pub max_parts: Option<u32>,
    /// The account that owns it (a reseller); `None`: the operator's own.
    pub parent: Option<AccountId>,
}

/// The core services. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    /// `None` for an offline engine (no delivery).
    routing: Option<Arc<Routing>>,
    /// This node's registration; `None` offline.
    membership: Option<Arc<cluster::Membership>>,
    /// Tells the dispatcher of messages to claim.
    wake: Arc<Notify>,
    prices: pricing::SharedPrices,
    intake: intake::Intake,
    auth: accounts::AuthCache,
    tracker: TaskTracker,
    stop: CancellationToken,
    session_idle: Duration,
    session_max: Duration,
    passwords: passwords::PasswordGate,
    public_url: String,
    destinations: Arc<webhooks::Destinations>,
    /// Webhook tests and replays per account: each can make up to
    /// a thousand deliveries.
    webhook_requests: std::sync::Mutex<smsgate_core::limits::Limiter<AccountId>>,
    /// Clicks counted per (link, address) and per link.
    clicks: std::sync::Mutex<clicks::ClickLimits>,
    requests: std::sync::Mutex<RequestBuckets>,
    protected: smsgate_core::protected::ProtectedSenders,
    velocity: velocity::Velocities,
    event_ids: events::EventIds,
    default_sender: Option<String>,
    number_check: smsgate_core::NumberCheck,
    /// `[engine.dispatch] receipt_timeout_secs`.
    receipt_timeout_secs: u64,
    /// `[engine.retention]`.
    retention: retention::RetentionConfig,
    /// `[engine.auth] support_credit_limit`.
    support_credit_limit: Amount,
    clock: Arc<dyn Clock>,
}

/// The offset of page `page` (from 1) of `size` (1 to 100) rows: the one
/// paging rule of every face's paged lists.
pub fn page_offset(page: usize, size: usize) -> Result<usize, EngineError> {
    const MAX_PAGE: usize = 100;
    if page == 0 {
        return Err(EngineError::field(
            Field::Page,
            FieldErrorKind::Range {
                min: 1,
                max: i64::MAX,
            },
        ));
    }
    if !(1..=MAX_PAGE).contains(&size) {
        return Err(EngineError::field(
            Field::PageSize,
            FieldErrorKind::Range {
                min: 1,
                max: MAX_PAGE as i64,
            },
        ));
    }
    Ok((page - 1).saturating_mul(size))
}

const EVENT_ID_KEY_SETTING: &str = "event_id_key";

/// Connectors and routes set through the admin API, if any.
async fn stored_routing(store: &dyn Store) -> Result<Option<RoutingConfig>, EngineError> {
    let Some(json) = store.setting(ROUTING_SETTING).await? else {
        return Ok(None);
    };
    let config = serde_json::from_str(&json)
        .map_err(|e| EngineError::Config(config::ConfigError::StoredRouting(e.to_string())))?;
    Ok(Some(config))
}

/// The installation's key of event ids, made at the first start.
async fn event_id_key(store: &dyn Store) -> Result<[u8; 32], EngineError> {
    let parse = |hex_key: &str| -> Option<[u8; 32]> { hex::decode(hex_key).ok()?.try_into().ok() };
    if let Some(stored) = store.setting(EVENT_ID_KEY_SETTING).await? {
        return parse(&stored).ok_or(EngineError::Config(config::ConfigError::EventIdKey));
    }
    let key = accounts::random_token(32)?;
    let at = smsgate_core::clock::Clock::now(&smsgate_core::clock::SystemClock);
    store
        .set_setting(
            EVENT_ID_KEY_SETTING,
            &key,
            &smsgate_store::Audit::gateway(at),
        )
        .await?;
    Ok(parse(&key).expect("64 hex digits"))
}

/// Requests per API key and account, and per client address of requests
/// with no key in their headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestLimits {
    /// Default 10,000 at once, 3,000,000 a minute (50,000 a second: a
    /// bound against runaway clients, above what one node takes).
    pub per_key: smsgate_core::limits::Rate,
    /// Default as `per_key`.
    pub per_account: smsgate_core::limits::Rate,
    /// Default 300 at once, 6,000 a minute.
    pub per_address: smsgate_core::limits::Rate,
}

impl Default for RequestLimits {
    fn default() -> Self {
        use smsgate_core::limits::Rate;
        RequestLimits {
            per_key: Rate::new(10_000, 3_000_000),
            per_account: Rate::new(10_000, 3_000_000),
            per_address: Rate::new(300, 6_000),
        }
    }
}

/// What the delivery tasks share with the engine.
struct Shared {
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    prices: pricing::SharedPrices,
}

struct RequestBuckets {
    keys: smsgate_core::limits::Limiter<KeyId>,
    accounts: smsgate_core::limits::Limiter<AccountId>,
    addresses: smsgate_core::limits::Limiter<std::net::IpAddr>,
}

impl Engine {
    /// Starts the background work on `store` and returns the services.
    pub async fn start(store: Arc<dyn Store>, config: EngineConfig) -> Result<Engine, EngineError> {
        Engine::new(store, config, true, Arc::new(SystemClock)).await
    }

    /// The services without background work (no dispatch, no scheduler):
    /// for admin commands that edit the database of a server running
    /// elsewhere.
    pub async fn offline(store: Arc<dyn Store>) -> Result<Engine, EngineError> {
        Engine::offline_with(store, EngineConfig::default()).await
    }

    /// As [`offline`](Self::offline), with a configuration (tests of the
    /// intake and its policies).
    pub async fn offline_with(
        store: Arc<dyn Store>,
        config: EngineConfig,
    ) -> Result<Engine, EngineError> {
        Engine::new(store, config, false, Arc::new(SystemClock)).await
    }

    /// An engine whose time is `clock`'s, delivering or not: tests move a
    /// manual clock instead of sleeping.
    pub async fn with_clock(
        store: Arc<dyn Store>,
        config: EngineConfig,
        delivering: bool,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, EngineError> {
        Engine::new(store, config, delivering, clock).await
    }

    /// What time it is for the engine.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    async fn new(
        store: Arc<dyn Store>,
        config: EngineConfig,
        background: bool,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, EngineError> {
        config.simulator.validate()?;
        config.webhooks.validate()?;
        config.auth.validate()?;
        config.cluster.validate()?;
        config.retention.validate()?;
        if let Some(sender) = &config.default_sender {
            smsgate_core::SenderId::parse(sender).map_err(config::ConfigError::DefaultSender)?;
        }
        config
            .velocity
            .validate()
            .map_err(config::ConfigError::from)?;
        // One crypto provider for every TLS client (webhooks, SMSCs).
        let _ = rustls::crypto::ring::default_provider().install_default();
        smsgate_core::msisdn::warm_up();
        let prices: pricing::SharedPrices = Arc::new(RwLock::new(Arc::new(
            pricing::PriceBook::new(store.pricing().await?),
        )));
        let tracker = TaskTracker::new();
        let stop = CancellationToken::new();
        let wake = Arc::new(Notify::new());

        let intake = intake::Intake::start(
            store.clone(),
            wake.clone(),
            clock.clone(),
            &tracker,
            stop.clone(),
        );
        let public_url = config.public_url();
        let destinations = Arc::new(webhooks::Destinations::new(&config.webhooks, &public_url));
        let event_ids = events::EventIds::new(event_id_key(store.as_ref()).await?);
        let (routing, membership) = if background {
            let (routing, membership) = Engine::start_delivery(
                store.clone(),
                &config,
                destinations.clone(),
                event_ids.clone(),
                Shared {
                    wake: wake.clone(),
                    clock: clock.clone(),
                    prices: prices.clone(),
                },
                (&tracker, &stop),
            )
            .await?;
            (Some(routing), Some(membership))
        } else {
            (None, None)
        };
        let changes = store.changes();
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                routing,
                membership,
                wake,
                prices,
                intake,
                auth: accounts::AuthCache::default(),
                tracker,
                stop,
                session_idle: Duration::from_secs(config.session_idle_secs.max(1)),
                session_max: Duration::from_secs(config.session_max_secs.max(1)),
                passwords: passwords::PasswordGate::new(&config.auth),
                support_credit_limit: config.auth.support_credit_limit,
                public_url,
                destinations,
                webhook_requests: std::sync::Mutex::new(smsgate_core::limits::Limiter::new(
                    WEBHOOK_REQUESTS,
                    100_000,
                )),
                clicks: std::sync::Mutex::new(clicks::click_limits()),
                protected: smsgate_core::protected::ProtectedSenders::new(
                    &config.protected_senders,
                ),
                velocity: velocity::Velocities::new(&config.velocity),
                event_ids,
                default_sender: config.default_sender.clone(),
                number_check: config.number_check,
                receipt_timeout_secs: config.dispatch.receipt_timeout_secs,
                retention: config.retention,
                clock,
                requests: std::sync::Mutex::new(RequestBuckets {
                    keys: smsgate_core::limits::Limiter::new(config.limits.per_key, 100_000),
                    accounts: smsgate_core::limits::Limiter::new(
                        config.limits.per_account,
                        100_000,
                    ),
                    addresses: smsgate_core::limits::Limiter::new(
                        config.limits.per_address,
                        100_000,
                    ),
                }),
            }),
        };
        if background {
            engine.inner.tracker.spawn(cluster::listen(
                Arc::downgrade(&engine.inner),
                changes,
                engine.inner.stop.clone(),
            ));
        }
        Ok(engine)
    }

    /// The dispatcher with its connectors, and the scheduler. Connectors
    /// and routes set through the admin API (kept in the database) win
    /// over the config file's.
    async fn start_delivery(
        store: Arc<dyn Store>,
        config: &EngineConfig,
        destinations: Arc<webhooks::Destinations>,
        event_ids: events::EventIds,
        Shared {
            wake,
            clock,
            prices,
        }: Shared,
        (tracker, stop): (&TaskTracker, &CancellationToken),
    ) -> Result<(Arc<Routing>, Arc<cluster::Membership>), EngineError> {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let simulator: Arc<dyn Connector> = Arc::new(Simulator::new(
            SIMULATOR,
            config.simulator.clone(),
            events_tx.clone(),
        ));
        let awaiting = store.awaiting_receipt(SIMULATOR).await?;
        if !awaiting.is_empty() {
            tracing::info!(
                count = awaiting.len(),
                "simulator resumes receipts of messages sent before the restart"
            );
            simulator.resume_receipts(awaiting).await;
        }
        let routing_config = match stored_routing(store.as_ref()).await? {
            Some(stored) => {
                tracing::info!("using the connectors and routes set through the admin API");
                stored
            }
            None => config.routing.clone(),
        };
        let (membership, holding) = cluster::Membership::join(
            store.as_ref(),
            &config.cluster,
            &config.public_url(),
            routing_config.connector_names(),
            clock.now(),
        )
        .await?;
        let routing = Arc::new(Routing::start(
            routing_config,
            holding,
            simulator,
            config.simulator.clone(),
            events_tx,
        )?);
        tracker.spawn(cluster::beat(
            store.clone(),
            membership.clone(),
            routing.clone(),
            wake.clone(),
            clock.clone(),
            stop.clone(),
        ));
        dispatcher::start(
            dispatcher::Dispatcher {
                store: store.clone(),
                membership: membership.clone(),
                routing: routing.clone(),
                config: config.dispatch.clone(),
                wake: wake.clone(),
                clock: clock.clone(),
                prices,
            },
            events_rx,
            (tracker, stop.clone()),
        );
        let retention = scheduler::Retention {
            events: Duration::from_secs(config.webhooks.event_retention_days * 24 * 3600),
            sessions: Duration::from_secs(config.session_idle_secs.max(1)),
            messages: config.retention,
        };
        let receipts = scheduler::Receipts {
            routing: routing.clone(),
            default_timeout_secs: config.dispatch.receipt_timeout_secs,
        };
        tracker.spawn(scheduler::run(
            store.clone(),
            wake,
            retention,
            receipts,
            clock.clone(),
            stop.clone(),
        ));
        webhooks::start(
            store,
            membership.clone(),
            config.webhooks.clone(),
            destinations,
            event_ids,
            clock,
            (tracker, stop.clone()),
        );
        Ok((routing, membership))
    }

    /// Ends, as `expired`, the acknowledged messages whose receipt is
    /// overdue at `now` by their connector's receipt timeout (the
    /// scheduler does this once a minute); how many.
    pub async fn end_unreceipted(&self, now: Timestamp) -> Result<usize, EngineError> {
        let routing = self.live_routing()?;
        Ok(unreceipted::sweep(
            self.inner.store.as_ref(),
            routing,
            self.inner.receipt_timeout_secs,
            now,
        )
        .await?)
    }

    /// The connectors and routes in force.
    /// Passwords are shown as [`HIDDEN_PASSWORD`]; sent back so, they are
    /// kept ([`set_routing`](Self::set_routing)).
    pub async fn routing(&self) -> Result<RoutingConfig, EngineError> {
        let mut config = self.live_routing()?.config().await;
        for c in &mut config.connectors {
            if let ConnectorConfig::Smpp(s) = c
                && !s.password.is_empty()
            {
                s.password = HIDDEN_PASSWORD.into();
            }
        }
        Ok(config)
    }

    /// Puts connectors and routes in force without a restart, and keeps
    /// them in the database (they win over the config file from now on).
    pub async fn set_routing(&self, by: &By, mut config: RoutingConfig) -> Result<(), EngineError> {
        self.allow(by, Permission::Change)?;
        let routing = self.live_routing()?;
        // A password shown hidden keeps the connector's current one.
        let current = routing.config().await;
        for c in &mut config.connectors {
            if let ConnectorConfig::Smpp(s) = c
                && s.password == HIDDEN_PASSWORD
            {
                let kept = current.connectors.iter().find_map(|old| match old {
                    ConnectorConfig::Smpp(o) if o.name == s.name && !o.password.is_empty() => {
                        Some(o.password.clone())
                    }
                    _ => None,
                });
                s.password =
                    kept.ok_or_else(|| config::ConfigError::HiddenPassword(s.name.clone()))?;
            }
        }
        config.validate()?;
        // Plain data: it always serialises.
        let json = serde_json::to_string(&config).expect("routing serialises");
        routing.apply(config).await?;
        self.inner
            .store
            .set_setting(ROUTING_SETTING, &json, &self.audit(by))
            .await?;
        if let Some(m) = &self.inner.membership {
            m.beat_soon();
        }
        self.announce(Change::Routing).await;
        Ok(())
    }

    /// Tells every node (this one included) of a change.
    async fn announce(&self, change: Change) {
        if let Err(e) = self.inner.store.announce(change).await {
            tracing::warn!(error = %e, change = change.as_str(), "other nodes could not be told of a change");
        }
    }

    /// A change made here or on another node: caches dropped, routing
    /// reread, the dispatcher woken.
    async fn heard(&self, change: Change) {
        match change {
            Change::Keys => self.inner.auth.clear(),
            Change::Prices => {
                if let Err(e) = self.reload_prices().await {
                    tracing::warn!(error = %e, "prices changed elsewhere could not be read");
                }
            }
            Change::Routing => {
                if let Err(e) = self.reread_routing().await {
                    tracing::warn!(error = %e, "routing changed elsewhere could not be put in force");
                }
            }
            Change::Queued => self.inner.wake.notify_one(),
        }
    }

    async fn reread_routing(&self) -> Result<(), EngineError> {
        let (Some(routing), Some(config)) = (
            &self.inner.routing,
            stored_routing(self.inner.store.as_ref()).await?,
        ) else {
            return Ok(());
        };
        if routing.config().await != config {
            tracing::info!("connectors and routes changed on another node: putting them in force");
            routing.apply(config).await?;
            if let Some(m) = &self.inner.membership {
                m.beat_soon();
            }
        }
        Ok(())
    }

    /// Every connector's state: binds, window use, rate, errors.
    pub fn connector_statuses(&self) -> Result<Vec<serde_json::Value>, EngineError> {
        Ok(self.live_routing()?.statuses())
    }

    fn live_routing(&self) -> Result<&Arc<Routing>, EngineError> {
        self.inner
            .routing
            .as_ref()
            .ok_or(EngineError::Config(config::ConfigError::Offline))
    }

    /// How event ids are shown to clients and read back.
    pub fn event_ids(&self) -> &events::EventIds {
        &self.inner.event_ids
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Stops taking requests, commits what was accepted, lets in-flight
    /// submits finish and records their outcomes, then returns.
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
        if let Some(routing) = &self.inner.routing {
            routing.shutdown().await;
        }
        if let Some(m) = &self.inner.membership {
            m.leave(self.inner.store.as_ref(), self.now()).await;
        }
    }

    // --- sending ---------------------------------------------------------------------

    /// Validates and prices `req` for `caller`; `sending` counts it
    /// against the velocity limits (a preview only shows their blocks).
    async fn plan(
        &self,
        caller: &Caller,
        req: SendRequest,
        sending: bool,
    ) -> Result<SendPlan, EngineError> {
        let planned = self.plan_checked(caller, req, sending).await;
        if sending {
            let rejected = match &planned {
                Ok(plan) => &plan.rejected[..],
                Err(EngineError::NoValidRecipient(r)) => &r[..],
                Err(_) => &[],
            };
            for r in rejected {
                metrics::counter!("smsgate_recipients_refused_total", "reason" => r.reason.code())
                    .increment(1);
            }
        }
        planned
    }

    async fn plan_checked(
        &self,
        caller: &Caller,
        mut req: SendRequest,
        sending: bool,
    ) -> Result<SendPlan, EngineError> {
        if req.from.is_none() {
            req.from = caller
                .default_sender
                .clone()
                .or_else(|| self.inner.default_sender.clone());
        }
        self.thread_reply(caller, &mut req).await?;
        if let Some(from) = &req.from {
            if self.inner.protected.protects(from) {
                self.require_protected_sender(caller.account, from).await?;
            } else if caller.require_approved_sender {
                self.require_approved_sender(caller.account, from).await?;
            }
        }
        if let Some(id) = &req.template_id {
            let from = req.from.as_deref().unwrap_or_default();
            let (_, template) = self.template_for_send(caller.account, id, from).await?;
            req.template = Some(template);
        }
        let policy = smsgate_core::send::AccountPolicy {
            default_country: caller.default_country,
            max_parts: caller.max_parts,
            reach: &caller.reach,
            number_check: caller.number_check.unwrap_or(self.inner.number_check),
        };
        let campaign = req.campaign_ref.take();
        let links = if req.click_tracking {
            self.shorten_links(&mut req)?
        } else {
            Vec::new()
        };
        let now = self.now();
        let mut plan = smsgate_core::send::plan(req, policy, &self.prices_for(caller), now)?;
        for m in &mut plan.messages {
            if let Some(l) = links.get(m.item as usize) {
                m.links = l.clone();
            }
        }
        self.check_campaign(caller, campaign.as_deref(), &mut plan)
            .await?;
        // Last: only what would be sent counts against the limits.
        self.inner.velocity.apply(caller, &mut plan, now, sending)?;
        Ok(plan)
    }

    /// Validates and prices a request without storing or charging it
    /// (recipients on the suppression list are shown refused; a send has
    /// the store refuse them, in its transaction).
    pub async fn preview(
        &self,
        caller: &Caller,
        req: SendRequest,
    ) -> Result<SendPlan, EngineError> {
        let mut plan = self.plan(caller, req, false).await?;
        self.drop_suppressed(caller.account, &mut plan).await?;
        Ok(plan)
    }

    /// Validates, prices, charges and stores a request (the store refuses
    /// recipients on the suppression list). Returns after the messages and
    /// the charge are durable.
    pub async fn send(
        &self,
        caller: &Caller,
        req: SendRequest,
        batch: Option<NewBatch>,
        idempotency: Option<Idempotency>,
    ) -> Result<Acceptance, EngineError> {
        let plan = self.plan(caller, req, true).await?;
        let submission = submission(caller, plan, batch, idempotency);
        Ok(self.inner.intake.submit(submission).await??)
    }

    /// Sends several requests all or none: each is planned first (one
    /// whose recipients are all refused is refused alone), then they are
    /// charged and stored in one transaction, and if the credits do not
    /// cover them all, none is.
    pub async fn send_together(
        &self,
        caller: &Caller,
        requests: Vec<(SendRequest, Option<NewBatch>)>,
    ) -> Result<Vec<Result<Acceptance, EngineError>>, EngineError> {
        // Per request: refused alone (all its recipients refused), or its
        // place among the submissions stored together.
        let mut refused: Vec<Option<EngineError>> = Vec::with_capacity(requests.len());
        let mut submissions = Vec::with_capacity(requests.len());
        for (req, batch) in requests {
            match self.plan(caller, req, true).await {
                Ok(plan) => {
                    submissions.push(submission(caller, plan, batch, None));
                    refused.push(None);
                }
                Err(e @ EngineError::NoValidRecipient(_)) => refused.push(Some(e)),
                Err(e) => return Err(e),
            }
        }
        let mut stored = match self
            .inner
            .store
            .accept_together(submissions, self.now())
            .await?
        {
            Ok(results) => results.into_iter(),
            Err(refusal) => return Err(refusal.into()),
        };
        self.inner.intake.wake();
        Ok(refused
            .into_iter()
            .map(|r| match r {
                Some(e) => Err(e),
                None => match stored.next() {
                    Some(Ok(a)) => Ok(a),
                    Some(Err(r)) => Err(r.into()),
                    None => Err(EngineError::ShuttingDown),
                },
            })
            .collect())
    }

    /// The caller's batches created in `[from, to)`, newest first: how
    /// many, and page `page` (from 1) of `size` (1 to 100).
    pub async fn batch_history(
        &self,
        caller: &Caller,
        from: Timestamp,
        to: Timestamp,
        page: usize,
        size: usize,
    ) -> Result<(u64, Vec<smsgate_store::BatchHistoryEntry>), EngineError> {
        let offset = page_offset(page, size)?;
        Ok(self
            .inner
            .store
            .batch_history(caller.account, from, to, offset, size)
            .await?)
    }

    /// The caller's inbound messages received in `[from, to)`, newest
    /// first, paged as [`batch_history`](Self::batch_history).
    pub async fn inbound_history(
        &self,
        caller: &Caller,
        numbers: Vec<String>,
        from: Timestamp,
        to: Timestamp,
        page: usize,
        size: usize,
    ) -> Result<(u64, Vec<smsgate_store::InboundRecord>), EngineError> {
        let offset = page_offset(page, size)?;
        Ok(self
            .inner
            .store
            .inbound_history(caller.account, numbers, from, to, offset, size)
            .await?)
    }

    pub async fn cancel(
        &self,
        caller: &Caller,
        id: MessageId,
    ) -> Result<(Amount, Amount), EngineError> {
        match self
            .inner
            .store
            .cancel(caller.account, id, self.now())
            .await?
        {
            CancelOutcome::Canceled { refunded, balance } => {
                metrics::counter!("smsgate_message_transitions_total", "status" => "canceled")
                    .increment(1);
                tracing::debug!(message_id = %id, account = caller.account.0, to = "canceled", refunded = %refunded, detail = "canceled by the client", "message status changed");
                Ok((refunded, balance))
            }
            CancelOutcome::NotFound => Err(EngineError::NotFound("message")),
            CancelOutcome::NotCancelable(s) => Err(EngineError::NotCancelable(s)),
        }
    }

    // --- accounts and keys -------------------------------------------------------------

    /// The caller of an API key used from `peer` (keys may be limited to
    /// client networks).
    pub async fn authenticate(
        &self,
        secret: &str,
        peer: Option<std::net::IpAddr>,
    ) -> Result<Result<Caller, AuthFailure>, EngineError> {
        let caller = match self.identify(secret, peer).await? {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.count(&caller).map(|()| caller))
    }

    /// Who an API key is, as `authenticate` says, without counting a
    /// request against its limits (for checks before the request proper).
    pub async fn identify(
        &self,
        secret: &str,
        peer: Option<std::net::IpAddr>,
    ) -> Result<Result<Caller, AuthFailure>, EngineError> {
        let result = self
            .inner
            .auth
            .authenticate(self.inner.store.as_ref(), secret, self.now())
            .await?;
        Ok(result.and_then(|c| {
            if c.allows(peer) {
                Ok(c)
            } else {
                Err(AuthFailure::AddressNotAllowed)
            }
        }))
    }

    /// Takes one request of the caller's key and account (a caller
    /// `identify` gave, now making its request).
    pub fn count(&self, caller: &Caller) -> Result<(), AuthFailure> {
        let now = self.now();
        let mut limits = self
            .inner
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let limited = |e: smsgate_core::limits::Exhausted| {
            metrics::counter!("smsgate_requests_limited_total").increment(1);
            AuthFailure::RateLimited(e)
        };
        // A session has no key of its own (0): its account's limit holds.
        if caller.key.0 != 0 {
            limits.keys.take(&caller.key, now).map_err(limited)?;
        }
        let rate = caller.rate_limit.unwrap_or(limits.accounts.rate());
        limits
            .accounts
            .take_at(&caller.account, rate, now)
            .map_err(limited)?;
        Ok(())
    }

    /// Takes one request of a client address that gave no key in its
    /// headers.
    pub fn count_anonymous(
        &self,
        peer: std::net::IpAddr,
    ) -> Result<(), smsgate_core::limits::Exhausted> {
        let mut limits = self
            .inner
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        limits
            .addresses
            .take(&peer, self.now())
            .map(|_| ())
            .inspect_err(|_| {
                metrics::counter!("smsgate_requests_limited_total").increment(1);
            })
    }

    /// Limits a key to client networks (`None`: from anywhere).
    pub async fn set_key_networks(
        &self,
        by: &By,
        key: KeyId,
        networks: Option<Vec<String>>,
    ) -> Result<smsgate_store::ApiKeyInfo, EngineError> {
        self.allow(by, Permission::Change)?;
        let parsed = key_networks(networks)?;
        let info = self
            .inner
            .store
            .set_key_networks(key, parsed, &self.audit(by))
            .await
            .map_err(not_found)?;
        self.inner.auth.clear();
        self.announce(Change::Keys).await;
        Ok(info)
    }

    pub async fn create_account(
        &self,
        by: &By,
        req: AccountRequest,
    ) -> Result<(Account, IssuedKey), EngineError> {
        self.allow(by, Permission::Change)?;
        self.open_account(by, req).await
    }

    /// Makes an account (an operator's, or a reseller's sub-account: the
    /// caller checked who may) with its first key.
    pub(crate) async fn open_account(
        &self,
        by: &By,
        req: AccountRequest,
    ) -> Result<(Account, IssuedKey), EngineError> {
        let name = req.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(EngineError::field(
                Field::Name,
                FieldErrorKind::Chars { max: 64 },
            ));
        }
        let credits = req.credits.unwrap_or(Amount::ZERO);
        if credits > Amount::MAX_BALANCE {
            return Err(EngineError::field(
                Field::Credits,
                FieldErrorKind::AtMost {
                    max: Amount::MAX_BALANCE,
                },
            ));
        }
        if credits.is_negative() {
            return Err(EngineError::field(Field::Credits, FieldErrorKind::Negative));
        }
        let default_country = match req.default_country {
            Some(c) => Some(
                Country::parse(&c)
                    .map_err(|e| {
                        EngineError::field(Field::DefaultCountry, FieldErrorKind::Number(e))
                    })?
                    .code(),
            ),
            None => None,
        };
        let max_parts = req
            .max_parts
            .unwrap_or(smsgate_core::send::limits::DEFAULT_MAX_PARTS as u32);
        if !(1..=255).contains(&max_parts) {
            return Err(EngineError::field(
                Field::MaxParts,
                FieldErrorKind::Range { min: 1, max: 255 },
            ));
        }
        let password_hash = match req.password {
            Some(p) if p.len() < 8 => {
                return Err(EngineError::field(
                    Field::Password,
                    FieldErrorKind::TooShort { min: 8 },
                ));
            }
            Some(p) => Some(accounts::hash_password(&p)?),
            None => None,
        };
        let account = self
            .inner
            .store
            .create_account(
                NewAccount {
                    name,
                    password_hash,
                    default_country,
                    max_parts,
                    credits,
                    parent: req.parent,
                },
                &self.audit(by),
            )
            .await
            .map_err(|e| match e {
                StoreError::NameTaken(n) => EngineError::NameTaken(n),
                StoreError::NoSuchAccount(p) => {
                    EngineError::field(Field::Parent, FieldErrorKind::ParentUnknown(p.0))
                }
                e => e.into(),
            })?;
        if account.parent.is_some() {
            // It pays its parent's prices from its first send.
            self.prices_changed().await?;
        }
        let key = self
            .issue_key(by, account.id, Some("default".into()), None)
            .await?;
        Ok((account, key))
    }

    /// A new API key for the account (its secret is shown once).
    pub async fn create_key(
        &self,
        by: &By,
        account: AccountId,
        label: Option<String>,
    ) -> Result<IssuedKey, EngineError> {
        self.create_limited_key(by, account, label, None).await
    }

    /// A new API key usable only from `networks` (`None`: anywhere), in
    /// one step: a bad list makes no key.
    pub async fn create_limited_key(
        &self,
        by: &By,
        account: AccountId,
        label: Option<String>,
        networks: Option<Vec<String>>,
    ) -> Result<IssuedKey, EngineError> {
        self.allow(by, Permission::Change)?;
        self.issue_key(by, account, label, networks).await
    }

    /// A new key of `account`: the caller checked who may make it.
    pub(crate) async fn issue_key(
        &self,
        by: &By,
        account: AccountId,
        label: Option<String>,
        networks: Option<Vec<String>>,
    ) -> Result<IssuedKey, EngineError> {
        let (secret, key) = accounts::new_api_key(label, key_networks(networks)?)?;
        let info = self
            .inner
            .store
            .create_key(account, key, &self.audit(by))
            .await
            .map_err(not_found)?;
        Ok(IssuedKey {
            id: info.id,
            secret,
        })
    }

    pub async fn revoke_key(
        &self,
        by: &By,
        key: KeyId,
    ) -> Result<smsgate_store::ApiKeyInfo, EngineError> {
        self.allow(by, Permission::Change)?;
        self.end_key(by, key).await
    }

    /// Ends a key now: the caller checked who may.
    pub(crate) async fn end_key(
        &self,
        by: &By,
        key: KeyId,
    ) -> Result<smsgate_store::ApiKeyInfo, EngineError> {
        let info = self
            .inner
            .store
            .revoke_key(key, self.now(), &self.audit(by))
            .await
            .map_err(not_found)?;
        self.inner.auth.clear();
        self.announce(Change::Keys).await;
        Ok(info)
    }

    pub async fn update_account(
        &self,
        by: &By,
        id: AccountId,
        patch: AccountPatch,
    ) -> Result<Account, EngineError> {
        self.allow(by, Permission::Change)?;
        self.patch_account(by, id, patch).await
    }

    /// Changes an account: the caller checked who may.
    pub(crate) async fn patch_account(
        &self,
        by: &By,
        id: AccountId,
        patch: AccountPatch,
    ) -> Result<Account, EngineError> {
        let plan_changed = patch.plan.is_some();
        let account = self
            .inner
            .store
            .update_account(id, patch, &self.audit(by))
            .await
            .map_err(|e| match e {
                StoreError::NoSuchPlan(p) => {
                    EngineError::field(Field::Plan, FieldErrorKind::PlanUnknown(p.0))
                }
                e => not_found(e),
            })?;
        self.inner.auth.clear();
        self.announce(Change::Keys).await;
        if plan_changed {
            self.prices_changed().await?;
        }
        Ok(account)
    }

    /// Adds (or removes, if negative) credits with a note in the ledger:
    /// to the account's balance, or to one category's.
    pub async fn adjust_credits(
        &self,
        by: &By,
        id: AccountId,
        amount: Amount,
        category: Option<smsgate_core::Category>,
        note: Option<String>,
    ) -> Result<Amount, EngineError> {
        if amount == Amount::ZERO {
            return Err(EngineError::field(Field::Amount, FieldErrorKind::Zero));
        }
        if amount > Amount::MAX_BALANCE
            || amount.checked_neg().is_none_or(|n| n > Amount::MAX_BALANCE)
        {
            return Err(EngineError::field(
                Field::Amount,
                FieldErrorKind::AtMostEitherWay {
                    max: Amount::MAX_BALANCE,
                },
            ));
        }
        self.allow(by, Permission::Credits(amount))?;
        let store = &self.inner.store;
        let audit = self.audit(by);
        let result = match category {
            None => store.adjust_credits(id, amount, note, &audit).await,
            Some(c) => {
                store
                    .adjust_category_credits(id, c, amount, note, &audit)
                    .await
            }
        };
        result.map_err(credits_refused)
    }

    /// Routes inbound messages to `number` (E.164 with or without `+`, or a
    /// short code) to `account`.
    pub async fn assign_number(
        &self,
        by: &By,
        number: &str,
        account: AccountId,
    ) -> Result<smsgate_store::NumberAssignment, EngineError> {
        self.allow(by, Permission::Change)?;
        let digits = inbound::digits_number(Field::Number, number)?;
        self.inner
            .store
            .assign_number(&digits, account, &self.audit(by))
            .await
            .map_err(not_found)
    }

    /// Stops routing inbound messages to `number` (`+` optional); false
    /// when it was not assigned.
    pub async fn unassign_number(&self, by: &By, number: &str) -> Result<bool, EngineError> {
        self.allow(by, Permission::Change)?;
        let digits = number.trim().trim_start_matches('+');
        Ok(self
            .inner
            .store
            .unassign_number(digits, &self.audit(by))
            .await?)
    }

    /// A webhook endpoint for an account: its events are POSTed to `url`,
    /// signed with a new secret.
    pub async fn create_webhook(
        &self,
        by: &By,
        account: AccountId,
        url: &str,
        events: &[String],
        max_concurrency: Option<u32>,
    ) -> Result<smsgate_store::WebhookEndpoint, EngineError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            EngineError::field(
                Field::Url,
                FieldErrorKind::Url(UrlError::Unparsable(e.to_string())),
            )
        })?;
        self.inner.destinations.check_url(&parsed).map_err(|e| {
            EngineError::field(
                Field::Url,
                FieldErrorKind::Url(UrlError::Refused(e.to_string())),
            )
        })?;
        let events = events
            .iter()
            .map(|t| {
                smsgate_store::EventType::parse(t).ok_or_else(|| {
                    let known: Vec<_> = smsgate_store::EventType::ALL
                        .iter()
                        .map(|t| t.as_str())
                        .collect();
                    EngineError::field(
                        Field::Events,
                        FieldErrorKind::UnknownEventType {
                            given: t.clone(),
                            known: known.join(", "),
                        },
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let max_concurrency = max_concurrency.unwrap_or(4);
        if !(1..=64).contains(&max_concurrency) {
            return Err(EngineError::field(
                Field::MaxConcurrency,
                FieldErrorKind::Range { min: 1, max: 64 },
            ));
        }
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw).map_err(|_| EngineError::Randomness)?;
        let new = smsgate_store::NewWebhookEndpoint {
            url: parsed.to_string(),
            secret: format!("whsec_{}", hex::encode(raw)),
            events,
            max_concurrency,
        };
        self.inner
            .store
            .create_webhook(account, new, &self.audit(by))
            .await
            .map_err(not_found)
    }

    /// The account's endpoint `id` (another account's is not found).
    pub async fn webhook(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<smsgate_store::WebhookEndpoint, EngineError> {
        let Some(id) = smsgate_core::PublicId::parse(id) else {
            return Err(EngineError::NotFound("webhook endpoint"));
        };
        self.inner
            .store
            .webhook(account, id)
            .await?
            .ok_or(EngineError::NotFound("webhook endpoint"))
    }

    /// Takes one of the account's webhook tests and replays.
    fn webhook_request(&self, account: AccountId) -> Result<(), EngineError> {
        let mut limiter = self
            .inner
            .webhook_requests
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        limiter
            .take(&account, self.now())
            .map(|_| ())
            .map_err(|e| EngineError::RateLimited {
                what: "webhook tests and replays",
                retry_after_secs: e.retry_after_secs,
            })
    }

    /// Delivers past events to an endpoint (one `webhook` gave) again, as
    /// many as it has room for pending; returns how many deliveries were
    /// made.
    pub async fn replay_webhook(
        &self,
        endpoint: smsgate_store::WebhookEndpoint,
        which: smsgate_store::Replay,
    ) -> Result<usize, EngineError> {
        self.webhook_request(endpoint.account_id)?;
        Ok(self
            .inner
            .store
            .replay_deliveries(endpoint, which, self.now())
            .await?)
    }

    /// Sends a `webhook.test` event to an endpoint (one `webhook` gave);
    /// its event id.
    pub async fn test_webhook(
        &self,
        endpoint: smsgate_store::WebhookEndpoint,
    ) -> Result<i64, EngineError> {
        self.webhook_request(endpoint.account_id)?;
        self.inner
            .store
            .test_webhook(endpoint, self.now())
            .await?
            .ok_or(EngineError::RateLimited {
                what: "deliveries pending for this endpoint",
                retry_after_secs: 60,
            })
    }

    /// Enables or disables the account's endpoint `id`; the endpoint after.
    pub async fn set_webhook_enabled(
        &self,
        by: &By,
        account: AccountId,
        id: &str,
        enabled: bool,
    ) -> Result<smsgate_store::WebhookEndpoint, EngineError> {
        let id =
            smsgate_core::PublicId::parse(id).ok_or(EngineError::NotFound("webhook endpoint"))?;
        let store = &self.inner.store;
        if !store
            .set_webhook_enabled(account, id.clone(), enabled, &self.audit(by))
            .await?
        {
            return Err(EngineError::NotFound("webhook endpoint"));
        }
        store
            .webhook(account, id)
            .await?
            .ok_or(EngineError::NotFound("webhook endpoint"))
    }

    /// Deletes the account's endpoint `id`; its pending deliveries end.
    pub async fn delete_webhook(
        &self,
        by: &By,
        account: AccountId,
        id: &str,
    ) -> Result<(), EngineError> {
        let id =
            smsgate_core::PublicId::parse(id).ok_or(EngineError::NotFound("webhook endpoint"))?;
        if self
            .inner
            .store
            .delete_webhook(account, id, &self.audit(by))
            .await?
        {
            Ok(())
        } else {
            Err(EngineError::NotFound("webhook endpoint"))
        }
    }

    /// The delivery log of the account's endpoint `id`, newest first.
    pub async fn webhook_deliveries(
        &self,
        account: AccountId,
        id: &str,
        limit: usize,
    ) -> Result<Vec<smsgate_store::DeliveryRecord>, EngineError> {
        let endpoint = self.webhook(account, id).await?;
        Ok(self
            .inner
            .store
            .deliveries(account, endpoint.id, limit)
            .await?)
    }
}

/// The store's refusals of a move of credits, as the engine tells them.
pub(crate) fn credits_refused(e: StoreError) -> EngineError {
    match e {
        StoreError::InsufficientCredits { balance, needed } => {
            EngineError::InsufficientCredits { balance, needed }
        }
        StoreError::BalanceTooLarge { .. } => EngineError::field(
            Field::Amount,
            FieldErrorKind::AtMost {
                max: Amount::MAX_BALANCE,
            },
        ),
        e => not_found(e),
    }
}

fn not_found(e: StoreError) -> EngineError {
    match e {
        StoreError::Duplicate(what) => EngineError::Duplicate(what),
        StoreError::NoSuchAccount(_) => EngineError::NotFound("account"),
        StoreError::NoSuchKey(_) => EngineError::NotFound("API key"),
        e => e.into(),
    }
}

/// A key's client networks as given (1 to 100 addresses or CIDR
/// networks), parsed; `None`: from anywhere.
fn key_networks(
    networks: Option<Vec<String>>,
) -> Result<Option<Vec<smsgate_core::net::IpNetwork>>, EngineError> {
    networks
        .map(|list| {
            if list.is_empty() || list.len() > 100 {
                return Err(EngineError::field(
                    Field::AllowedIps,
                    FieldErrorKind::NetworkCount { max: 100 },
                ));
            }
            list.iter()
                .map(|n| {
                    n.parse().map_err(|e: smsgate_core::net::BadNetwork| {
                        EngineError::field(Field::AllowedIps, FieldErrorKind::Network(e))
                    })
                })
                .collect()
        })
        .transpose()
}

/// The records and requests of the engine's services, as the faces see
/// them (the faces do not reach the store).
pub mod records {
    pub use smsgate_store::{
        Acceptance, AcceptedMessage, Account, AccountPatch, ApiKeyInfo, AuditAction, AuditEntry,
        AuditFilter, BatchSummary, Campaign, ConnectorCost, ConnectorLease, DeliveryRecord, Erased,
        Idempotency, InboundRecord, KeywordAssignment, LedgerEntry, LedgerFilter, LedgerKind,
        MessageDetail, MessageFilter, MessageRecord, NewBatch, NodeId, NodeRecord,
        NumberAssignment, Operator, OperatorToken, PartRecord, PriceList, RatePlan, Replay,
        SenderRecord, Statement, Suppression, TemplateRecord, TransitionRecord, UsageCounts,
        UsageGroups, UsageInterval, UsageLine, UsageQuery, UsageRow, UsageStatus, WebhookEndpoint,
    };
}
