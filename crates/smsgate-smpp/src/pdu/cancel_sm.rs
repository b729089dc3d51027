//! cancel_sm (SMPP 3.4 §4.9): cancel messages not yet delivered. The
//! response has no body.
//!
//! ```text
//! service_type C6 | message_id C65
//! source_addr_ton u8 | source_addr_npi u8 | source_addr C21
//! dest_addr_ton u8 | dest_addr_npi u8 | destination_addr C21
//! ```

use crate::DecodeError;
use crate::wire::{Reader, put_cstring, put_u8};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelSm {
    pub service_type: Vec<u8>,
    pub message_id: Vec<u8>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: Vec<u8>,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: Vec<u8>,
}

impl CancelSm {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<CancelSm, DecodeError> {
        Ok(CancelSm {
            service_type: r.cstring(6, "service_type")?,
            message_id: r.cstring(65, "message_id")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstring(21, "source_addr")?,
            dest_addr_ton: r.u8("dest_addr_ton")?,
            dest_addr_npi: r.u8("dest_addr_npi")?,
            destination_addr: r.cstring(21, "destination_addr")?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.service_type, 6);
        put_cstring(out, &self.message_id, 65);
        put_u8(out, self.source_addr_ton);
        put_u8(out, self.source_addr_npi);
        put_cstring(out, &self.source_addr, 21);
        put_u8(out, self.dest_addr_ton);
        put_u8(out, self.dest_addr_npi);
        put_cstring(out, &self.destination_addr, 21);
    }
}
