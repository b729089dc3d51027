//! smsgate's domain: the types every other crate trusts once parsed.
//!
//! Nothing here does I/O. Parse at the edge (numbers, senders, text,
//! money), then pass these types inward.

pub mod amount;
pub mod carrier_id;
pub mod clock;
pub mod credits;
pub mod gsm7;
pub mod ids;
pub mod kinds;
pub mod lifecycle;
pub mod limits;
pub mod links;
pub mod msisdn;
pub mod net;
pub mod operators;
pub mod optout;
pub mod protected;
pub mod reach;
pub mod refusal;
pub mod send;
pub mod sender;
pub mod template;
pub mod text;
pub mod timestamp;
pub mod zone;

pub use amount::Amount;
pub use credits::{AccountPrices, PlanOf, Price, PriceTable, Pricing};
pub use ids::{
    AccountId, BatchId, InboundId, KeyId, MessageId, OperatorId, OperatorTokenId, PlanId, PublicId,
};
pub use lifecycle::Status;
pub use msisdn::{Country, Msisdn, NumberCheck, NumberType};
pub use send::{CallbackFormat, Category, NewMessage, SendPlan, SendRequest};
pub use sender::SenderId;
pub use text::{Encoding, EncodingChoice, Segments};
pub use timestamp::Timestamp;
