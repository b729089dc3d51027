//! data_sm (SMPP 3.4 §4.7): a message (or receipt) whose content travels
//! in TLVs, usually `message_payload`.
//!
//! ```text
//! service_type C6 | source_addr_ton u8 | source_addr_npi u8 | source_addr C65
//! dest_addr_ton u8 | dest_addr_npi u8 | destination_addr C65
//! esm_class u8 | registered_delivery u8 | data_coding u8 | TLVs
//! resp: message_id C65 | TLVs
//! ```

use super::tlv::{self, Tlv};
use crate::DecodeError;
use crate::wire::{Reader, put_cstring, put_u8};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataSm {
    pub service_type: Vec<u8>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: Vec<u8>,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: Vec<u8>,
    pub esm_class: u8,
    pub registered_delivery: u8,
    pub data_coding: u8,
    pub tlvs: Vec<Tlv>,
}

impl DataSm {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<DataSm, DecodeError> {
        Ok(DataSm {
            service_type: r.cstring(6, "service_type")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstring(65, "source_addr")?,
            dest_addr_ton: r.u8("dest_addr_ton")?,
            dest_addr_npi: r.u8("dest_addr_npi")?,
            destination_addr: r.cstring(65, "destination_addr")?,
            esm_class: r.u8("esm_class")?,
            registered_delivery: r.u8("registered_delivery")?,
            data_coding: r.u8("data_coding")?,
            tlvs: tlv::read_all(r)?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.service_type, 6);
        put_u8(out, self.source_addr_ton);
        put_u8(out, self.source_addr_npi);
        put_cstring(out, &self.source_addr, 65);
        put_u8(out, self.dest_addr_ton);
        put_u8(out, self.dest_addr_npi);
        put_cstring(out, &self.destination_addr, 65);
        put_u8(out, self.esm_class);
        put_u8(out, self.registered_delivery);
        put_u8(out, self.data_coding);
        tlv::write_all(out, &self.tlvs);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataSmResp {
    pub message_id: Vec<u8>,
    pub tlvs: Vec<Tlv>,
}

impl DataSmResp {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<DataSmResp, DecodeError> {
        if r.remaining() == 0 {
            return Ok(DataSmResp::default());
        }
        Ok(DataSmResp {
            message_id: r.cstring(65, "message_id")?,
            tlvs: tlv::read_all(r)?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.message_id, 65);
        tlv::write_all(out, &self.tlvs);
    }
}
