//! The connector port: how the dispatcher hands a message to a carrier
//! link, and how receipts come back.
//!
//! A connector acknowledges a submit with the carrier's id for the message
//! or fails with a classified error (lettre-style: the retry policy asks
//! `is_transient()`, it never matches on text). Receipts arrive later,
//! independently, through the [`ReceiptSink`] the connector was given.

pub mod simulator;

use async_trait::async_trait;
use smsgate_core::{Status, Timestamp};
use smsgate_store::Outbound;
use tokio::sync::mpsc;

/// The carrier's acknowledgement of one submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitAck {
    /// The carrier's id for the message; receipts refer to it.
    pub carrier_id: String,
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

/// A delivery receipt: the final fate of a message, by carrier id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub connector: String,
    pub carrier_id: String,
    /// `Delivered`, `Undelivered`, `Expired` or `Rejected`.
    pub status: Status,
    pub at: Timestamp,
    pub detail: Option<String>,
}

/// Where connectors send receipts.
pub type ReceiptSink = mpsc::UnboundedSender<Receipt>;

/// A link to a carrier (or to the simulator).
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The name routes refer to.
    fn name(&self) -> &str;

    /// Hands one message to the carrier. Returns once the carrier has
    /// acknowledged it (or refused it).
    async fn submit(&self, message: &Outbound) -> Result<SubmitAck, SubmitError>;

    /// Called at start with the carrier ids of messages this connector
    /// acknowledged but never receipted (e.g. before a crash). A carrier
    /// keeps its pending receipts and sends them on the next bind, so real
    /// links need do nothing; the simulator schedules them again.
    async fn resume_receipts(&self, _carrier_ids: Vec<String>) {}
}
