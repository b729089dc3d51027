//! Optional parameters (TLVs): tag, length, value. Kept raw and in order,
//! unknown tags included, so that nothing a peer sends is lost; typed
//! accessors read the ones smsgate uses.

use crate::DecodeError;
use crate::wire::{Reader, put_u16};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u16,
    pub value: Vec<u8>,
}

/// Tags of SMPP 3.4 §5.3.2 that smsgate reads or writes.
pub mod tag {
    pub const SC_INTERFACE_VERSION: u16 = 0x0210;
    pub const RECEIPTED_MESSAGE_ID: u16 = 0x001E;
    pub const MESSAGE_STATE: u16 = 0x0427;
    pub const SAR_MSG_REF_NUM: u16 = 0x020C;
    pub const SAR_TOTAL_SEGMENTS: u16 = 0x020E;
    pub const SAR_SEGMENT_SEQNUM: u16 = 0x020F;
    pub const MESSAGE_PAYLOAD: u16 = 0x0424;
    pub const NETWORK_ERROR_CODE: u16 = 0x0423;
}

pub(crate) fn read_all(r: &mut Reader<'_>) -> Result<Vec<Tlv>, DecodeError> {
    let mut tlvs = Vec::new();
    while r.remaining() > 0 {
        let tag = r.u16("TLV tag")?;
        let len = r.u16("TLV length")?;
        let available = r.remaining();
        if usize::from(len) > available {
            return Err(DecodeError::TlvTruncated {
                declared: len,
                available,
            });
        }
        tlvs.push(Tlv {
            tag,
            value: r.bytes(usize::from(len), "TLV value")?.to_vec(),
        });
    }
    Ok(tlvs)
}

pub(crate) fn write_all(out: &mut Vec<u8>, tlvs: &[Tlv]) {
    for t in tlvs {
        // A value longer than a TLV can say is cut (strict out).
        let len = t.value.len().min(usize::from(u16::MAX));
        put_u16(out, t.tag);
        put_u16(out, len as u16);
        out.extend_from_slice(&t.value[..len]);
    }
}

/// The first TLV with `tag`.
pub fn find(tlvs: &[Tlv], tag: u16) -> Option<&[u8]> {
    tlvs.iter()
        .find(|t| t.tag == tag)
        .map(|t| t.value.as_slice())
}
