//! replace_sm (SMPP 3.4 §4.10): replace a message not yet delivered. The
//! response has no body.
//!
//! ```text
//! message_id C65 | source_addr_ton u8 | source_addr_npi u8 | source_addr C21
//! schedule_delivery_time C17 | validity_period C17 | registered_delivery u8
//! sm_default_msg_id u8 | sm_length u8 | short_message [sm_length]
//! ```

use crate::DecodeError;
use crate::wire::{Reader, put_cstring, put_short_message, put_u8};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplaceSm {
    pub message_id: Vec<u8>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: Vec<u8>,
    pub schedule_delivery_time: Vec<u8>,
    pub validity_period: Vec<u8>,
    pub registered_delivery: u8,
    pub sm_default_msg_id: u8,
    pub short_message: Vec<u8>,
}

impl ReplaceSm {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<ReplaceSm, DecodeError> {
        let mut m = ReplaceSm {
            message_id: r.cstring(65, "message_id")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstring(21, "source_addr")?,
            schedule_delivery_time: r.cstring(17, "schedule_delivery_time")?,
            validity_period: r.cstring(17, "validity_period")?,
            registered_delivery: r.u8("registered_delivery")?,
            sm_default_msg_id: r.u8("sm_default_msg_id")?,
            ..ReplaceSm::default()
        };
        m.short_message = r.short_message()?;
        Ok(m)
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.message_id, 65);
        put_u8(out, self.source_addr_ton);
        put_u8(out, self.source_addr_npi);
        put_cstring(out, &self.source_addr, 21);
        put_cstring(out, &self.schedule_delivery_time, 17);
        put_cstring(out, &self.validity_period, 17);
        put_u8(out, self.registered_delivery);
        put_u8(out, self.sm_default_msg_id);
        put_short_message(out, &self.short_message);
    }
}
