//! SMPP 3.4 for smsgate. The PDU codec ([`pdu`]), text coding
//! ([`coding`], [`concat`]), receipts ([`receipt`]) and the ESME session
//! state machine ([`session`]) work over bytes and a clock passed in, with
//! no I/O and no tokio (STYLE.md §2). Only [`transport`] (the socket) and
//! [`client`] (which runs a session over it) use tokio; the engine reaches
//! SMPP through them.
//!
//! Every PDU starts with the same 16-octet header:
//!
//! ```text
//! command_length  u32  (whole PDU, header included)
//! command_id      u32  (responses have bit 31 set)
//! command_status  u32  (0 in requests; the result in responses)
//! sequence_number u32
//! ```
//!
//! [`frame_length`] says whether a buffer holds a whole PDU ("need more
//! bytes" is a value, not an error); [`decode`] reads one; [`encode`]
//! writes one.

pub mod client;
pub mod coding;
pub mod concat;
pub mod pdu;
pub mod receipt;
pub mod session;
pub mod status;
pub mod transport;
mod wire;

pub use pdu::{Bind, BindResp, Body, Pdu, Sm, SmResp, Tlv, decode, encode};
pub use status::CommandStatus;

/// Octets in the PDU header.
pub const HEADER_LEN: usize = 16;

/// The largest PDU accepted unless configured otherwise (64 KiB).
pub const DEFAULT_MAX_PDU: u32 = 64 * 1024;

/// The fixed header of every PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command_length: u32,
    pub command_id: u32,
    pub command_status: u32,
    pub sequence_number: u32,
}

impl Header {
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let word = |i: usize| Some(u32::from_be_bytes(buf.get(i..i + 4)?.try_into().ok()?));
        Some(Header {
            command_length: word(0)?,
            command_id: word(4)?,
            command_status: word(8)?,
            sequence_number: word(12)?,
        })
    }
}

/// Why a byte stream cannot be cut into PDUs; the connection is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("command_length {0} is shorter than the 16-octet header")]
    TooShort(u32),
    #[error("command_length {length} exceeds the limit of {max} octets")]
    TooLong { length: u32, max: u32 },
}

/// The length of the PDU at the start of `buf`: `Ok(None)` when more
/// bytes are needed. Never looks past the declared length, and refuses
/// lengths over `max` before anything is allocated for them.
pub fn frame_length(buf: &[u8], max: u32) -> Result<Option<usize>, FrameError> {
    let Some(len) = buf
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    else {
        return Ok(None);
    };
    if (len as usize) < HEADER_LEN {
        return Err(FrameError::TooShort(len));
    }
    if len > max {
        return Err(FrameError::TooLong { length: len, max });
    }
    Ok((buf.len() >= len as usize).then_some(len as usize))
}

/// Why one PDU could not be read. The connection stays usable: the frame
/// was cut by its length, and the peer is answered with `generic_nack`
/// (or the command's response with an error status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the PDU is shorter than its 16-octet header")]
    NoHeader,
    #[error("command_length {declared} does not match the {actual} octets given")]
    LengthMismatch { declared: u32, actual: usize },
    #[error("the PDU ends inside {0}")]
    Truncated(&'static str),
    #[error("{0} has no terminating NUL")]
    Unterminated(&'static str),
    #[error("a TLV declares {declared} octets but only {available} remain")]
    TlvTruncated { declared: u16, available: usize },
}

impl DecodeError {
    /// The command_status to answer a PDU that failed this way.
    pub fn status(&self) -> CommandStatus {
        match self {
            DecodeError::NoHeader | DecodeError::LengthMismatch { .. } => CommandStatus::RINVCMDLEN,
            _ => CommandStatus::RINVMSGLEN,
        }
    }
}
