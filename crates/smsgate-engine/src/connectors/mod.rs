//! The connector port: how the dispatcher hands a message to a carrier
//! link, and how receipts come back.
//!
//! A connector acknowledges a submit with the carrier's id for the message
//! or fails with a classified error (lettre-style: the retry policy asks
//! `is_transient()`, it never matches on text). Receipts and inbound
//! messages arrive independently, through the [`EventSink`] the connector
//! was given.

pub mod simulator;
pub mod smpp;

use async_trait::async_trait;
use smsgate_core::Status;
use smsgate_store::{InboundPart, Outbound};
use tokio::sync::{mpsc, oneshot};

/// The carrier's acknowledgement of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitAck {
    /// The carrier's id for each submit the message took (one per part of
    /// a long message, in order); receipts refer to them.
    pub carrier_ids: Vec<String>,
}

/// Why a submit failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct SubmitError {
    kind: SubmitErrorKind,
    detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SubmitErrorKind {
    Transient,
    Permanent,
}

impl SubmitError {
    /// Worth trying again later (throttling, link down, timeout).
    pub fn transient(detail: impl Into<String>) -> SubmitError {
        SubmitError {
            kind: SubmitErrorKind::Transient,
            detail: detail.into(),
        }
    }

    /// The carrier refused the message; retrying cannot help.
    pub fn permanent(detail: impl Into<String>) -> SubmitError {
        SubmitError {
            kind: SubmitErrorKind::Permanent,
            detail: detail.into(),
        }
    }

    pub fn is_transient(&self) -> bool {
        self.kind == SubmitErrorKind::Transient
    }

    pub fn is_permanent(&self) -> bool {
        self.kind == SubmitErrorKind::Permanent
    }
}

/// A delivery receipt: the final fate of a message (or of one part of
/// it), by carrier id. The engine stamps it with its clock as it takes it.
#[derive(Debug)]
pub struct Receipt {
    pub connector: String,
    pub carrier_id: String,
    /// `Delivered`, `Undelivered`, `Expired` or `Rejected`.
    pub status: Status,
    pub detail: Option<String>,
    /// Told once the receipt is committed to the store, so a connector can
    /// acknowledge it to the carrier only then (SMPP: deliver_sm_resp).
    pub committed: Option<oneshot::Sender<()>>,
}

/// An inbound (mobile-originated) message, or one part of a long one.
/// Its `received_at` is set by the engine, on its clock, as it takes it.
#[derive(Debug)]
pub struct Inbound {
    pub part: InboundPart,
    /// Told once the message (or part) is committed, so the connector can
    /// acknowledge it to the carrier only then.
    pub committed: Option<oneshot::Sender<()>>,
}

/// What a connector reports that is not the answer to a submit.
#[derive(Debug)]
pub enum Event {
    Receipt(Receipt),
    Inbound(Inbound),
}

/// Where connectors send receipts and inbound messages.
pub type EventSink = mpsc::UnboundedSender<Event>;

/// A link to a carrier (or to the simulator).
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The name routes refer to.
    fn name(&self) -> &str;

    /// Hands one message to the carrier. Returns once the carrier has
    /// acknowledged it (or refused it).
    async fn submit(&self, message: &Outbound) -> Result<SubmitAck, SubmitError>;

    /// Whether the connector can take messages now (an SMPP connector with
    /// no bound transmitter cannot); routes fall back past one that cannot.
    fn is_available(&self) -> bool {
        true
    }

    /// Whether this is only a stand-in for a connector another node holds
    /// (its messages are handed to that node).
    fn is_elsewhere(&self) -> bool {
        false
    }

    /// What the connector is doing, for operators (`GET
    /// /admin/v1/connectors`, `smsgate connectors`).
    fn status(&self) -> serde_json::Value {
        serde_json::json!({ "name": self.name(), "kind": "other" })
    }

    /// Stops the connector's own work (binds, timers): called when it is
    /// removed or replaced, and at shutdown.
    async fn shutdown(&self) {}

    /// Called at start with the carrier ids of messages this connector
    /// acknowledged but never receipted (e.g. before a crash). A carrier
    /// keeps its pending receipts and sends them on the next bind, so real
    /// links need do nothing; the simulator schedules them again.
    async fn resume_receipts(&self, _carrier_ids: Vec<String>) {}
}
