//! The lifecycle of an outbound message.
//!
//! ```text
//! accepted ─▶ scheduled ─▶ queued ─▶ submitting ─▶ sent ─▶ delivered | undelivered | expired | rejected
//!                 │           │  ▲        │
//!                 ▼           ▼  └─retry──┘ ─▶ rejected | failed | expired
//!             canceled    canceled | expired | failed
//! ```
//!
//! Final states never change again. Dialects only rename states.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Accepted,
    Scheduled,
    Queued,
    Submitting,
    Sent,
    Delivered,
    Undelivered,
    Expired,
    Rejected,
    Failed,
    Canceled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a message cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: Status,
    pub to: Status,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::Accepted,
        Status::Scheduled,
        Status::Queued,
        Status::Submitting,
        Status::Sent,
        Status::Delivered,
        Status::Undelivered,
        Status::Expired,
        Status::Rejected,
        Status::Failed,
        Status::Canceled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Scheduled => "scheduled",
            Status::Queued => "queued",
            Status::Submitting => "submitting",
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Undelivered => "undelivered",
            Status::Expired => "expired",
            Status::Rejected => "rejected",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A final state never changes again.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            Status::Delivered
                | Status::Undelivered
                | Status::Expired
                | Status::Rejected
                | Status::Failed
                | Status::Canceled
        )
    }

    /// Whether a message in this state may move to `to`.
    pub const fn can_become(self, to: Status) -> bool {
        use Status::*;
        match self {
            Accepted => matches!(to, Scheduled | Queued | Rejected | Failed),
            Scheduled => matches!(to, Queued | Canceled | Expired | Failed),
            Queued => matches!(to, Submitting | Canceled | Expired | Failed),
            // A receipt may overtake the submit response (SMPP), so a
            // submitting message may become delivered/undelivered directly.
            Submitting => matches!(
                to,
                Queued | Sent | Delivered | Undelivered | Expired | Rejected | Failed
            ),
            Sent => matches!(to, Delivered | Undelivered | Expired | Rejected),
            Delivered | Undelivered | Expired | Rejected | Failed | Canceled => false,
        }
    }

    pub fn transition(self, to: Status) -> Result<Status, IllegalTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }

    /// Whether entering this state from `from` gives the charge back.
    ///
    /// Rejected, failed and canceled messages were never billed by a
    /// carrier. Undelivered and expired ones are billed by carriers, so they
    /// are not refunded, except a message that expired before a carrier
    /// acknowledged it (validity ran out in the queue or between retries).
    pub const fn refunds_from(self, from: Status) -> bool {
        match self {
            Status::Rejected | Status::Failed | Status::Canceled => true,
            Status::Expired => matches!(
                from,
                Status::Scheduled | Status::Queued | Status::Submitting
            ),
            _ => false,
        }
    }

    /// Whether entering this state means something went wrong, so that the
    /// change's detail is the message's error (a retry, a refusal, a failed
    /// or expired delivery). A success's detail is only history.
    pub const fn is_error(self) -> bool {
        matches!(
            self,
            Status::Queued
                | Status::Undelivered
                | Status::Expired
                | Status::Rejected
                | Status::Failed
        )
    }

    /// Whether a client may still cancel the message.
    pub const fn is_cancelable(self) -> bool {
        matches!(self, Status::Scheduled | Status::Queued)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_path_is_legal() {
        let path = [
            Status::Accepted,
            Status::Queued,
            Status::Submitting,
            Status::Sent,
            Status::Delivered,
        ];
        for w in path.windows(2) {
            assert!(w[0].can_become(w[1]), "{} -> {}", w[0], w[1]);
        }
    }

    #[test]
    fn final_states_never_change() {
        for from in Status::ALL.into_iter().filter(|s| s.is_final()) {
            for to in Status::ALL {
                assert_eq!(
                    from.transition(to),
                    Err(IllegalTransition { from, to }),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn sent_messages_cannot_be_canceled_or_requeued() {
        assert!(!Status::Sent.can_become(Status::Canceled));
        assert!(!Status::Sent.can_become(Status::Queued));
        assert!(!Status::Delivered.can_become(Status::Sent));
        assert!(!Status::Sent.is_cancelable());
        assert!(Status::Scheduled.is_cancelable());
    }

    #[test]
    fn refunds_follow_carrier_billing() {
        assert!(Status::Rejected.refunds_from(Status::Submitting));
        assert!(Status::Failed.refunds_from(Status::Queued));
        assert!(Status::Canceled.refunds_from(Status::Scheduled));
        assert!(!Status::Undelivered.refunds_from(Status::Sent));
        assert!(!Status::Expired.refunds_from(Status::Sent));
        assert!(Status::Expired.refunds_from(Status::Queued));
        assert!(Status::Expired.refunds_from(Status::Submitting));
        assert!(!Status::Delivered.refunds_from(Status::Sent));
    }

    #[test]
    fn only_trouble_is_an_error() {
        let errors: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_error()).collect();
        assert_eq!(
            errors,
            [
                Status::Queued,
                Status::Undelivered,
                Status::Expired,
                Status::Rejected,
                Status::Failed
            ]
        );
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
