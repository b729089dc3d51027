//! alert_notification (SMPP 3.4 §4.12): a subscriber became available.
//! No response.
//!
//! ```text
//! source_addr_ton u8 | source_addr_npi u8 | source_addr C65
//! esme_addr_ton u8 | esme_addr_npi u8 | esme_addr C65 | TLVs
//! ```

use super::tlv::{self, Tlv};
use crate::DecodeError;
use crate::wire::{Reader, put_cstring, put_u8};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertNotification {
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: Vec<u8>,
    pub esme_addr_ton: u8,
    pub esme_addr_npi: u8,
    pub esme_addr: Vec<u8>,
    pub tlvs: Vec<Tlv>,
}

impl AlertNotification {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<AlertNotification, DecodeError> {
        Ok(AlertNotification {
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstring(65, "source_addr")?,
            esme_addr_ton: r.u8("esme_addr_ton")?,
            esme_addr_npi: r.u8("esme_addr_npi")?,
            esme_addr: r.cstring(65, "esme_addr")?,
            tlvs: tlv::read_all(r)?,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_u8(out, self.source_addr_ton);
        put_u8(out, self.source_addr_npi);
        put_cstring(out, &self.source_addr, 65);
        put_u8(out, self.esme_addr_ton);
        put_u8(out, self.esme_addr_npi);
        put_cstring(out, &self.esme_addr, 65);
        tlv::write_all(out, &self.tlvs);
    }
}
