//! Fixtures shared by the engine's unit tests.

use smsgate_core::{AccountId, Category, Encoding, MessageId, Timestamp};
use smsgate_store::Outbound;

/// A claimed one-part message on its `attempts`-th attempt.
pub(crate) fn outbound(attempts: u32, expires_at: Option<Timestamp>) -> Outbound {
    Outbound {
        id: MessageId::generate(),
        account_id: AccountId(1),
        to: "+31612345678".into(),
        from: "Acme".into(),
        text: "hi".into(),
        encoding: Encoding::Gsm7,
        segments: 1,
        category: Category::Transactional,
        route_class: "standard".into(),
        priority: 0,
        attempts,
        expires_at,
    }
}
