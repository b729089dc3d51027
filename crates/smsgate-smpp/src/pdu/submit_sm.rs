//! submit_sm and deliver_sm (SMPP 3.4 §4.4, §4.6): one body, and their
//! responses. deliver_sm carries receipts (esm_class bit 2) and inbound
//! messages with the same fields.
//!
//! ```text
//! service_type C6 | source_addr_ton u8 | source_addr_npi u8 | source_addr C21
//! dest_addr_ton u8 | dest_addr_npi u8 | destination_addr C21
//! esm_class u8 | protocol_id u8 | priority_flag u8
//! schedule_delivery_time C17 | validity_period C17
//! registered_delivery u8 | replace_if_present_flag u8 | data_coding u8
//! sm_default_msg_id u8 | sm_length u8 | short_message [sm_length] | TLVs
//! resp: message_id C65
//! ```

use super::tlv::{self, Tlv};
use crate::DecodeError;
use crate::wire::{Reader, put_cstring, put_short_message, put_u8};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sm {
    pub service_type: Vec<u8>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: Vec<u8>,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: Vec<u8>,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: Vec<u8>,
    pub validity_period: Vec<u8>,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    /// At most 254 octets; longer content goes in `message_payload`.
    pub short_message: Vec<u8>,
    pub tlvs: Vec<Tlv>,
}

/// esm_class bit that marks a delivery receipt.
pub const ESM_CLASS_RECEIPT: u8 = 0x04;
/// esm_class bit that says short_message starts with a UDH.
pub const ESM_CLASS_UDHI: u8 = 0x40;

impl Sm {
    pub fn is_receipt(&self) -> bool {
        self.esm_class & ESM_CLASS_RECEIPT != 0
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Sm, DecodeError> {
        let mut sm = Sm {
            service_type: r.cstring(6, "service_type")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstring(21, "source_addr")?,
            dest_addr_ton: r.u8("dest_addr_ton")?,
            dest_addr_npi: r.u8("dest_addr_npi")?,
            destination_addr: r.cstring(21, "destination_addr")?,
            esm_class: r.u8("esm_class")?,
            protocol_id: r.u8("protocol_id")?,
            priority_flag: r.u8("priority_flag")?,
            schedule_delivery_time: r.cstring(17, "schedule_delivery_time")?,
            validity_period: r.cstring(17, "validity_period")?,
            registered_delivery: r.u8("registered_delivery")?,
            replace_if_present_flag: r.u8("replace_if_present_flag")?,
            data_coding: r.u8("data_coding")?,
            sm_default_msg_id: r.u8("sm_default_msg_id")?,
            ..Sm::default()
        };
        sm.short_message = r.short_message()?;
        sm.tlvs = tlv::read_all(r)?;
        Ok(sm)
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.service_type, 6);
        put_u8(out, self.source_addr_ton);
        put_u8(out, self.source_addr_npi);
        put_cstring(out, &self.source_addr, 21);
        put_u8(out, self.dest_addr_ton);
        put_u8(out, self.dest_addr_npi);
        put_cstring(out, &self.destination_addr, 21);
        put_u8(out, self.esm_class);
        put_u8(out, self.protocol_id);
        put_u8(out, self.priority_flag);
        put_cstring(out, &self.schedule_delivery_time, 17);
        put_cstring(out, &self.validity_period, 17);
        put_u8(out, self.registered_delivery);
        put_u8(out, self.replace_if_present_flag);
        put_u8(out, self.data_coding);
        put_u8(out, self.sm_default_msg_id);
        put_short_message(out, &self.short_message);
        tlv::write_all(out, &self.tlvs);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SmResp {
    /// The SMSC's id for the message (empty in deliver_sm_resp).
    pub message_id: Vec<u8>,
}

impl SmResp {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<SmResp, DecodeError> {
        // Error responses often come back without a body.
        if r.remaining() == 0 {
            return Ok(SmResp::default());
        }
        Ok(SmResp {
            message_id: r.cstring(65, "message_id")?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.message_id, 65);
    }
}
