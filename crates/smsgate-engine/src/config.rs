//! Why a setting is refused: at start (the config file) or when an admin
//! sets connectors and routes.

use crate::router::RouteError;
use crate::velocity::VelocityError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} must be above zero")]
    NotPositive(&'static str),
    #[error("{name} must be between {min} and {max}")]
    Range {
        name: &'static str,
        min: u64,
        max: u64,
    },
    #[error("{high} must not be below {low}")]
    Order {
        low: &'static str,
        high: &'static str,
    },
    #[error("simulator.{name} must be between 0 and 1, not {value}")]
    Ratio { name: &'static str, value: f64 },
    #[error("simulator.reply_texts needs a text when reply_ratio is set")]
    NoReplyText,
    #[error(
        "webhooks.event_retention_days ({days}) must be longer than retry_hours ({hours} h): events are kept while their deliveries may still be retried"
    )]
    RetentionTooShort { days: u64, hours: u64 },
    #[error(transparent)]
    Velocity(#[from] VelocityError),
    #[error("the connector name {0:?} is taken by the built-in simulator")]
    SimulatorName(String),
    #[error("two connectors are named {0:?}")]
    DuplicateConnector(String),
    #[error("a connector name must be 1 to 64 characters")]
    ConnectorName,
    #[error("connector {connector:?}: {problem}")]
    Connector {
        connector: String,
        problem: ConnectorProblem,
    },
    #[error(
        "connectors are configured but no route names one: add [[routes]] (prefix = \"\" for all)"
    )]
    NoRoutes,
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error("stored routing is unreadable: {0}")]
    StoredRouting(String),
    #[error("the stored event_id_key is not 32 bytes of hex")]
    EventIdKey,
    #[error("this engine does not deliver (offline)")]
    Offline,
    #[error(
        "connector {0:?}: its password is shown hidden (\"********\"), and no connector of that name has one to keep"
    )]
    HiddenPassword(String),
    #[error("cluster.node must be 1 to 64 characters")]
    NodeName,
    #[error(
        "cluster.dead_after_secs must leave room for two heartbeats (beat_ms) and 2 s before a lease ends"
    )]
    DeadAfter,
    #[error("default_sender: {0}")]
    DefaultSender(smsgate_core::sender::SenderIdError),
}

/// What is wrong with one SMPP connector's settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorProblem {
    #[error("host and port are required")]
    HostAndPort,
    #[error("system_id is at most 15 characters and password at most 8 (SMPP 3.4)")]
    Credentials,
    #[error("binds must be 1 to 64")]
    Binds,
    #[error("window must be 1 to 10000")]
    Window,
    #[error("response_timeout_ms and enquire_link_secs must be positive")]
    Timeouts,
    #[error("reconnect_min_ms must be positive and at most reconnect_max_ms")]
    Reconnect,
    #[error("tls_ca_file and tls_server_name need tls = true")]
    TlsOptions,
    #[error("max_pdu must be at least 1024")]
    MaxPdu,
    #[error("give password or password_env, not both")]
    TwoPasswords,
    #[error("password_env names {0:?}, which is not set in the environment")]
    PasswordEnv(String),
}
