//! PDUs: one file per operation, and the dispatch by `command_id`.
//!
//! Every SMPP 3.4 PDU an ESME or SMSC meets is modelled; commands outside
//! the standard are kept as [`Body::Other`] with their raw body, so the
//! session can answer them (`generic_nack`) without losing anything.

mod alert_notification;
mod bind;
mod cancel_sm;
mod data_sm;
mod outbind;
mod query_sm;
mod replace_sm;
mod submit_multi;
mod submit_sm;
pub mod tlv;

pub use alert_notification::AlertNotification;
pub use bind::{Bind, BindResp};
pub use cancel_sm::CancelSm;
pub use data_sm::{DataSm, DataSmResp};
pub use outbind::Outbind;
pub use query_sm::{QuerySm, QuerySmResp};
pub use replace_sm::ReplaceSm;
pub use submit_multi::{Destination, SubmitMulti, SubmitMultiResp, Unsuccessful};
pub use submit_sm::{ESM_CLASS_RECEIPT, ESM_CLASS_UDHI, Sm, SmResp};
pub use tlv::Tlv;

use crate::wire::{Reader, put_u32};
use crate::{CommandStatus, DecodeError, HEADER_LEN, Header};

/// `command_id` values (SMPP 3.4 §5.1.2.1).
pub mod id {
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    pub const BIND_RECEIVER: u32 = 0x0000_0001;
    pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
    pub const QUERY_SM: u32 = 0x0000_0003;
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    pub const DELIVER_SM: u32 = 0x0000_0005;
    pub const UNBIND: u32 = 0x0000_0006;
    pub const REPLACE_SM: u32 = 0x0000_0007;
    pub const CANCEL_SM: u32 = 0x0000_0008;
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    pub const OUTBIND: u32 = 0x0000_000B;
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    pub const SUBMIT_MULTI: u32 = 0x0000_0021;
    pub const ALERT_NOTIFICATION: u32 = 0x0000_0102;
    pub const DATA_SM: u32 = 0x0000_0103;
    /// Set in the id of every response.
    pub const RESPONSE: u32 = 0x8000_0000;
}

/// What a PDU carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    BindTransmitter(Bind),
    BindReceiver(Bind),
    BindTransceiver(Bind),
    BindTransmitterResp(BindResp),
    BindReceiverResp(BindResp),
    BindTransceiverResp(BindResp),
    Unbind,
    UnbindResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    SubmitSm(Sm),
    SubmitSmResp(SmResp),
    DeliverSm(Sm),
    DeliverSmResp(SmResp),
    Outbind(Outbind),
    SubmitMulti(SubmitMulti),
    SubmitMultiResp(SubmitMultiResp),
    DataSm(DataSm),
    DataSmResp(DataSmResp),
    QuerySm(QuerySm),
    QuerySmResp(QuerySmResp),
    CancelSm(CancelSm),
    CancelSmResp,
    ReplaceSm(ReplaceSm),
    ReplaceSmResp,
    AlertNotification(AlertNotification),
    /// A command not modelled here, kept whole.
    Other {
        command_id: u32,
        body: Vec<u8>,
    },
}

impl Body {
    pub fn command_id(&self) -> u32 {
        use Body::*;
        match self {
            BindTransmitter(_) => id::BIND_TRANSMITTER,
            BindReceiver(_) => id::BIND_RECEIVER,
            BindTransceiver(_) => id::BIND_TRANSCEIVER,
            BindTransmitterResp(_) => id::BIND_TRANSMITTER | id::RESPONSE,
            BindReceiverResp(_) => id::BIND_RECEIVER | id::RESPONSE,
            BindTransceiverResp(_) => id::BIND_TRANSCEIVER | id::RESPONSE,
            Unbind => id::UNBIND,
            UnbindResp => id::UNBIND | id::RESPONSE,
            EnquireLink => id::ENQUIRE_LINK,
            EnquireLinkResp => id::ENQUIRE_LINK | id::RESPONSE,
            GenericNack => id::GENERIC_NACK,
            SubmitSm(_) => id::SUBMIT_SM,
            SubmitSmResp(_) => id::SUBMIT_SM | id::RESPONSE,
            DeliverSm(_) => id::DELIVER_SM,
            DeliverSmResp(_) => id::DELIVER_SM | id::RESPONSE,
            Outbind(_) => id::OUTBIND,
            SubmitMulti(_) => id::SUBMIT_MULTI,
            SubmitMultiResp(_) => id::SUBMIT_MULTI | id::RESPONSE,
            DataSm(_) => id::DATA_SM,
            DataSmResp(_) => id::DATA_SM | id::RESPONSE,
            QuerySm(_) => id::QUERY_SM,
            QuerySmResp(_) => id::QUERY_SM | id::RESPONSE,
            CancelSm(_) => id::CANCEL_SM,
            CancelSmResp => id::CANCEL_SM | id::RESPONSE,
            ReplaceSm(_) => id::REPLACE_SM,
            ReplaceSmResp => id::REPLACE_SM | id::RESPONSE,
            AlertNotification(_) => id::ALERT_NOTIFICATION,
            Other { command_id, .. } => *command_id,
        }
    }

    pub fn is_response(&self) -> bool {
        self.command_id() & id::RESPONSE != 0
    }
}

/// One PDU: header fields and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    pub sequence_number: u32,
    pub status: CommandStatus,
    pub body: Body,
}

/// A decoded PDU and what was lenient about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub pdu: Pdu,
    /// Fields that were longer than the standard allows (accepted).
    pub overlong: Vec<&'static str>,
}

/// A PDU that could not be read, with its header when it had one, so the
/// peer can be answered with the right sequence number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct Malformed {
    pub header: Option<Header>,
    pub error: DecodeError,
}

/// Decodes one whole PDU (as cut by [`crate::frame_length`]).
pub fn decode(frame: &[u8]) -> Result<Decoded, Malformed> {
    let Some(header) = Header::parse(frame).filter(|_| frame.len() >= HEADER_LEN) else {
        return Err(Malformed {
            header: None,
            error: DecodeError::NoHeader,
        });
    };
    let fail = |error| Malformed {
        header: Some(header),
        error,
    };
    if header.command_length as usize != frame.len() {
        return Err(fail(DecodeError::LengthMismatch {
            declared: header.command_length,
            actual: frame.len(),
        }));
    }
    let mut r = Reader::new(&frame[HEADER_LEN..]);
    let body = match header.command_id {
        id::BIND_TRANSMITTER => Body::BindTransmitter(Bind::read(&mut r).map_err(fail)?),
        id::BIND_RECEIVER => Body::BindReceiver(Bind::read(&mut r).map_err(fail)?),
        id::BIND_TRANSCEIVER => Body::BindTransceiver(Bind::read(&mut r).map_err(fail)?),
        c if c == id::BIND_TRANSMITTER | id::RESPONSE => {
            Body::BindTransmitterResp(BindResp::read(&mut r).map_err(fail)?)
        }
        c if c == id::BIND_RECEIVER | id::RESPONSE => {
            Body::BindReceiverResp(BindResp::read(&mut r).map_err(fail)?)
        }
        c if c == id::BIND_TRANSCEIVER | id::RESPONSE => {
            Body::BindTransceiverResp(BindResp::read(&mut r).map_err(fail)?)
        }
        id::UNBIND => Body::Unbind,
        c if c == id::UNBIND | id::RESPONSE => Body::UnbindResp,
        id::ENQUIRE_LINK => Body::EnquireLink,
        c if c == id::ENQUIRE_LINK | id::RESPONSE => Body::EnquireLinkResp,
        id::GENERIC_NACK => Body::GenericNack,
        id::SUBMIT_SM => Body::SubmitSm(Sm::read(&mut r).map_err(fail)?),
        c if c == id::SUBMIT_SM | id::RESPONSE => {
            Body::SubmitSmResp(SmResp::read(&mut r).map_err(fail)?)
        }
        id::DELIVER_SM => Body::DeliverSm(Sm::read(&mut r).map_err(fail)?),
        c if c == id::DELIVER_SM | id::RESPONSE => {
            Body::DeliverSmResp(SmResp::read(&mut r).map_err(fail)?)
        }
        id::OUTBIND => Body::Outbind(Outbind::read(&mut r).map_err(fail)?),
        id::SUBMIT_MULTI => Body::SubmitMulti(SubmitMulti::read(&mut r).map_err(fail)?),
        c if c == id::SUBMIT_MULTI | id::RESPONSE => {
            Body::SubmitMultiResp(SubmitMultiResp::read(&mut r).map_err(fail)?)
        }
        id::DATA_SM => Body::DataSm(DataSm::read(&mut r).map_err(fail)?),
        c if c == id::DATA_SM | id::RESPONSE => {
            Body::DataSmResp(DataSmResp::read(&mut r).map_err(fail)?)
        }
        id::QUERY_SM => Body::QuerySm(QuerySm::read(&mut r).map_err(fail)?),
        c if c == id::QUERY_SM | id::RESPONSE => {
            Body::QuerySmResp(QuerySmResp::read(&mut r).map_err(fail)?)
        }
        id::CANCEL_SM => Body::CancelSm(CancelSm::read(&mut r).map_err(fail)?),
        c if c == id::CANCEL_SM | id::RESPONSE => Body::CancelSmResp,
        id::REPLACE_SM => Body::ReplaceSm(ReplaceSm::read(&mut r).map_err(fail)?),
        c if c == id::REPLACE_SM | id::RESPONSE => Body::ReplaceSmResp,
        id::ALERT_NOTIFICATION => {
            Body::AlertNotification(AlertNotification::read(&mut r).map_err(fail)?)
        }
        command_id => Body::Other {
            command_id,
            body: r.rest().to_vec(),
        },
    };
    Ok(Decoded {
        pdu: Pdu {
            sequence_number: header.sequence_number,
            status: CommandStatus(header.command_status),
            body,
        },
        overlong: r.overlong,
    })
}

/// Encodes a PDU, strictly to the standard.
pub fn encode(pdu: &Pdu) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    put_u32(&mut out, 0); // command_length, set below
    put_u32(&mut out, pdu.body.command_id());
    put_u32(&mut out, pdu.status.0);
    put_u32(&mut out, pdu.sequence_number);
    match &pdu.body {
        Body::BindTransmitter(b) | Body::BindReceiver(b) | Body::BindTransceiver(b) => {
            b.write(&mut out)
        }
        Body::BindTransmitterResp(b) | Body::BindReceiverResp(b) | Body::BindTransceiverResp(b) => {
            b.write(&mut out)
        }
        Body::SubmitSm(sm) | Body::DeliverSm(sm) => sm.write(&mut out),
        Body::SubmitSmResp(r) | Body::DeliverSmResp(r) => r.write(&mut out),
        Body::Outbind(b) => b.write(&mut out),
        Body::SubmitMulti(b) => b.write(&mut out),
        Body::SubmitMultiResp(b) => b.write(&mut out),
        Body::DataSm(b) => b.write(&mut out),
        Body::DataSmResp(b) => b.write(&mut out),
        Body::QuerySm(b) => b.write(&mut out),
        Body::QuerySmResp(b) => b.write(&mut out),
        Body::CancelSm(b) => b.write(&mut out),
        Body::ReplaceSm(b) => b.write(&mut out),
        Body::AlertNotification(b) => b.write(&mut out),
        Body::Unbind
        | Body::UnbindResp
        | Body::EnquireLink
        | Body::EnquireLinkResp
        | Body::GenericNack
        | Body::CancelSmResp
        | Body::ReplaceSmResp => {}
        Body::Other { body, .. } => out.extend_from_slice(body),
    }
    let len = out.len() as u32;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out
}

#[cfg(test)]
mod tests;
