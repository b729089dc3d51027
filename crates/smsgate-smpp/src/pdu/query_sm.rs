//! query_sm (SMPP 3.4 §4.8): the state of a previously submitted message.
//!
//! ```text
//! message_id C65 | source_addr_ton u8 | source_addr_npi u8 | source_addr C21
//! resp: message_id C65 | final_date C17 | message_state u8 | error_code u8
//! ```

use crate::DecodeError;
use crate::wire::{Reader, put_cstring, put_u8};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySm {
    pub message_id: Vec<u8>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: Vec<u8>,
}

impl QuerySm {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<QuerySm, DecodeError> {
        Ok(QuerySm {
            message_id: r.cstring(65, "message_id")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstring(21, "source_addr")?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.message_id, 65);
        put_u8(out, self.source_addr_ton);
        put_u8(out, self.source_addr_npi);
        put_cstring(out, &self.source_addr, 21);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySmResp {
    pub message_id: Vec<u8>,
    pub final_date: Vec<u8>,
    /// 1 enroute, 2 delivered, 3 expired, 4 deleted, 5 undeliverable,
    /// 6 accepted, 7 unknown, 8 rejected.
    pub message_state: u8,
    pub error_code: u8,
}

impl QuerySmResp {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<QuerySmResp, DecodeError> {
        if r.remaining() == 0 {
            return Ok(QuerySmResp::default());
        }
        Ok(QuerySmResp {
            message_id: r.cstring(65, "message_id")?,
            final_date: r.cstring(17, "final_date")?,
            message_state: r.u8("message_state")?,
            error_code: r.u8("error_code")?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.message_id, 65);
        put_cstring(out, &self.final_date, 17);
        put_u8(out, self.message_state);
        put_u8(out, self.error_code);
    }
}
