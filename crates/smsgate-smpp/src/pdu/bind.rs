//! bind_transmitter, bind_receiver, bind_transceiver (SMPP 3.4 §4.1) and
//! their responses. The three requests share one body.
//!
//! ```text
//! system_id C16 | password C9 | system_type C13 | interface_version u8
//! addr_ton u8 | addr_npi u8 | address_range C41
//! resp: system_id C16 [TLVs: sc_interface_version]
//! ```

use super::tlv::{self, Tlv};
use crate::DecodeError;
use crate::wire::{Reader, put_cstring, put_u8};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bind {
    pub system_id: Vec<u8>,
    pub password: Vec<u8>,
    pub system_type: Vec<u8>,
    /// 0x34 for SMPP 3.4.
    pub interface_version: u8,
    pub addr_ton: u8,
    pub addr_npi: u8,
    pub address_range: Vec<u8>,
}

impl Bind {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Bind, DecodeError> {
        Ok(Bind {
            system_id: r.cstring(16, "system_id")?,
            password: r.cstring(9, "password")?,
            system_type: r.cstring(13, "system_type")?,
            interface_version: r.u8("interface_version")?,
            addr_ton: r.u8("addr_ton")?,
            addr_npi: r.u8("addr_npi")?,
            address_range: r.cstring(41, "address_range")?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.system_id, 16);
        put_cstring(out, &self.password, 9);
        put_cstring(out, &self.system_type, 13);
        put_u8(out, self.interface_version);
        put_u8(out, self.addr_ton);
        put_u8(out, self.addr_npi);
        put_cstring(out, &self.address_range, 41);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BindResp {
    pub system_id: Vec<u8>,
    pub tlvs: Vec<Tlv>,
}

impl BindResp {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<BindResp, DecodeError> {
        // A refused bind often comes back with no body at all.
        if r.remaining() == 0 {
            return Ok(BindResp::default());
        }
        Ok(BindResp {
            system_id: r.cstring(16, "system_id")?,
            tlvs: tlv::read_all(r)?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.system_id, 16);
        tlv::write_all(out, &self.tlvs);
    }
}
