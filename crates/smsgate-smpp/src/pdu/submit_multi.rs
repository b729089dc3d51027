//! submit_multi (SMPP 3.4 §4.5): one message to up to 254 destinations,
//! SME addresses or distribution lists.
//!
//! ```text
//! service_type C6 | source_addr_ton u8 | source_addr_npi u8 | source_addr C21
//! number_of_dests u8 | dest_address * number_of_dests:
//!     dest_flag u8 = 1: dest_addr_ton u8 | dest_addr_npi u8 | destination_addr C21
//!     dest_flag u8 = 2: dl_name C21
//! esm_class u8 | protocol_id u8 | priority_flag u8
//! schedule_delivery_time C17 | validity_period C17
//! registered_delivery u8 | replace_if_present_flag u8 | data_coding u8
//! sm_default_msg_id u8 | sm_length u8 | short_message [sm_length] | TLVs
//! resp: message_id C65 | no_unsuccess u8 | unsuccess_sme * no_unsuccess:
//!     dest_addr_ton u8 | dest_addr_npi u8 | destination_addr C21 | error_status_code u32
//! ```

use super::tlv::{self, Tlv};
use crate::wire::{Reader, put_cstring, put_short_message, put_u8, put_u32};
use crate::{CommandStatus, DecodeError};

/// One destination of a submit_multi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Sme { ton: u8, npi: u8, addr: Vec<u8> },
    DistributionList(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmitMulti {
    pub service_type: Vec<u8>,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: Vec<u8>,
    /// At most 254 (the count is one octet).
    pub destinations: Vec<Destination>,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: Vec<u8>,
    pub validity_period: Vec<u8>,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    pub short_message: Vec<u8>,
    pub tlvs: Vec<Tlv>,
}

impl SubmitMulti {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<SubmitMulti, DecodeError> {
        let mut m = SubmitMulti {
            service_type: r.cstring(6, "service_type")?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.cstring(21, "source_addr")?,
            ..SubmitMulti::default()
        };
        let n = r.u8("number_of_dests")?;
        for _ in 0..n {
            let d = match r.u8("dest_flag")? {
                2 => Destination::DistributionList(r.cstring(21, "dl_name")?),
                // 1, and lenient for anything else: read as an SME address.
                _ => Destination::Sme {
                    ton: r.u8("dest_addr_ton")?,
                    npi: r.u8("dest_addr_npi")?,
                    addr: r.cstring(21, "destination_addr")?,
                },
            };
            m.destinations.push(d);
        }
        m.esm_class = r.u8("esm_class")?;
        m.protocol_id = r.u8("protocol_id")?;
        m.priority_flag = r.u8("priority_flag")?;
        m.schedule_delivery_time = r.cstring(17, "schedule_delivery_time")?;
        m.validity_period = r.cstring(17, "validity_period")?;
        m.registered_delivery = r.u8("registered_delivery")?;
        m.replace_if_present_flag = r.u8("replace_if_present_flag")?;
        m.data_coding = r.u8("data_coding")?;
        m.sm_default_msg_id = r.u8("sm_default_msg_id")?;
        m.short_message = r.short_message()?;
        m.tlvs = tlv::read_all(r)?;
        Ok(m)
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.service_type, 6);
        put_u8(out, self.source_addr_ton);
        put_u8(out, self.source_addr_npi);
        put_cstring(out, &self.source_addr, 21);
        let dests = &self.destinations[..self.destinations.len().min(254)];
        put_u8(out, dests.len() as u8);
        for d in dests {
            match d {
                Destination::Sme { ton, npi, addr } => {
                    put_u8(out, 1);
                    put_u8(out, *ton);
                    put_u8(out, *npi);
                    put_cstring(out, addr, 21);
                }
                Destination::DistributionList(name) => {
                    put_u8(out, 2);
                    put_cstring(out, name, 21);
                }
            }
        }
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

/// A destination the SMSC refused, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsuccessful {
    pub ton: u8,
    pub npi: u8,
    pub addr: Vec<u8>,
    pub status: CommandStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmitMultiResp {
    pub message_id: Vec<u8>,
    pub unsuccessful: Vec<Unsuccessful>,
}

impl SubmitMultiResp {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<SubmitMultiResp, DecodeError> {
        if r.remaining() == 0 {
            return Ok(SubmitMultiResp::default());
        }
        let mut resp = SubmitMultiResp {
            message_id: r.cstring(65, "message_id")?,
            unsuccessful: Vec::new(),
        };
        let n = r.u8("no_unsuccess")?;
        for _ in 0..n {
            let ton = r.u8("dest_addr_ton")?;
            let npi = r.u8("dest_addr_npi")?;
            let addr = r.cstring(21, "destination_addr")?;
            let b = r.bytes(4, "error_status_code")?;
            let status = CommandStatus(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            resp.unsuccessful.push(Unsuccessful {
                ton,
                npi,
                addr,
                status,
            });
        }
        Ok(resp)
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_cstring(out, &self.message_id, 65);
        let failed = &self.unsuccessful[..self.unsuccessful.len().min(254)];
        put_u8(out, failed.len() as u8);
        for u in failed {
            put_u8(out, u.ton);
            put_u8(out, u.npi);
            put_cstring(out, &u.addr, 21);
            put_u32(out, u.status.0);
        }
    }
}
