//! Optional parameters (TLVs): tag, length, value.
//!
//! PDUs keep their TLVs raw and in order, unknown tags included, so that
//! nothing a peer sends is lost and re-encoding gives back the same bytes.
//! [`Param`] is the typed view of every standard SMPP 3.4 TLV (§5.3.2):
//! [`Tlv::param`] reads one (a known tag with a value of the wrong size
//! reads as `None`, leniently), [`Param::to_tlv`] writes one strictly.

use crate::DecodeError;
use crate::wire::{Reader, put_u16};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u16,
    pub value: Vec<u8>,
}

/// Tags of SMPP 3.4 §5.3.2.
pub mod tag {
    pub const DEST_ADDR_SUBUNIT: u16 = 0x0005;
    pub const DEST_NETWORK_TYPE: u16 = 0x0006;
    pub const DEST_BEARER_TYPE: u16 = 0x0007;
    pub const DEST_TELEMATICS_ID: u16 = 0x0008;
    pub const SOURCE_ADDR_SUBUNIT: u16 = 0x000D;
    pub const SOURCE_NETWORK_TYPE: u16 = 0x000E;
    pub const SOURCE_BEARER_TYPE: u16 = 0x000F;
    pub const SOURCE_TELEMATICS_ID: u16 = 0x0010;
    pub const QOS_TIME_TO_LIVE: u16 = 0x0017;
    pub const PAYLOAD_TYPE: u16 = 0x0019;
    pub const ADDITIONAL_STATUS_INFO_TEXT: u16 = 0x001D;
    pub const RECEIPTED_MESSAGE_ID: u16 = 0x001E;
    pub const MS_MSG_WAIT_FACILITIES: u16 = 0x0030;
    pub const PRIVACY_INDICATOR: u16 = 0x0201;
    pub const SOURCE_SUBADDRESS: u16 = 0x0202;
    pub const DEST_SUBADDRESS: u16 = 0x0203;
    pub const USER_MESSAGE_REFERENCE: u16 = 0x0204;
    pub const USER_RESPONSE_CODE: u16 = 0x0205;
    pub const SOURCE_PORT: u16 = 0x020A;
    pub const DESTINATION_PORT: u16 = 0x020B;
    pub const SAR_MSG_REF_NUM: u16 = 0x020C;
    pub const LANGUAGE_INDICATOR: u16 = 0x020D;
    pub const SAR_TOTAL_SEGMENTS: u16 = 0x020E;
    pub const SAR_SEGMENT_SEQNUM: u16 = 0x020F;
    pub const SC_INTERFACE_VERSION: u16 = 0x0210;
    pub const CALLBACK_NUM_PRES_IND: u16 = 0x0302;
    pub const CALLBACK_NUM_ATAG: u16 = 0x0303;
    pub const NUMBER_OF_MESSAGES: u16 = 0x0304;
    pub const CALLBACK_NUM: u16 = 0x0381;
    pub const DPF_RESULT: u16 = 0x0420;
    pub const SET_DPF: u16 = 0x0421;
    pub const MS_AVAILABILITY_STATUS: u16 = 0x0422;
    pub const NETWORK_ERROR_CODE: u16 = 0x0423;
    pub const MESSAGE_PAYLOAD: u16 = 0x0424;
    pub const DELIVERY_FAILURE_REASON: u16 = 0x0425;
    pub const MORE_MESSAGES_TO_SEND: u16 = 0x0426;
    pub const MESSAGE_STATE: u16 = 0x0427;
    pub const USSD_SERVICE_OP: u16 = 0x0501;
    pub const DISPLAY_TIME: u16 = 0x1201;
    pub const SMS_SIGNAL: u16 = 0x1203;
    pub const MS_VALIDITY: u16 = 0x1204;
    pub const ALERT_ON_MESSAGE_DELIVERY: u16 = 0x130C;
    pub const ITS_REPLY_TYPE: u16 = 0x1380;
    pub const ITS_SESSION_INFO: u16 = 0x1383;
}

macro_rules! params {
    (
        u8 { $($u8_name:ident = $u8_tag:ident,)* }
        u16 { $($u16_name:ident = $u16_tag:ident,)* }
        u32 { $($u32_name:ident = $u32_tag:ident,)* }
        octets { $($oct_name:ident = $oct_tag:ident,)* }
        cstring { $($cs_name:ident = $cs_tag:ident,)* }
    ) => {
        /// A standard TLV, typed. C-string values are held without their
        /// NUL; octet-string values as they are.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Param {
            $($u8_name(u8),)*
            $($u16_name(u16),)*
            $($u32_name(u32),)*
            $($oct_name(Vec<u8>),)*
            $($cs_name(Vec<u8>),)*
            /// `network_error_code`: network type and its error code.
            NetworkErrorCode { network_type: u8, error_code: u16 },
            /// `alert_on_message_delivery`: present or absent, no value.
            AlertOnMessageDelivery,
        }

        impl Param {
            pub fn tag(&self) -> u16 {
                match self {
                    $(Param::$u8_name(_) => tag::$u8_tag,)*
                    $(Param::$u16_name(_) => tag::$u16_tag,)*
                    $(Param::$u32_name(_) => tag::$u32_tag,)*
                    $(Param::$oct_name(_) => tag::$oct_tag,)*
                    $(Param::$cs_name(_) => tag::$cs_tag,)*
                    Param::NetworkErrorCode { .. } => tag::NETWORK_ERROR_CODE,
                    Param::AlertOnMessageDelivery => tag::ALERT_ON_MESSAGE_DELIVERY,
                }
            }

            /// Reads a TLV: `None` for a tag outside the standard or a value
            /// of the wrong size for its tag.
            pub fn read(tlv: &Tlv) -> Option<Param> {
                let v = tlv.value.as_slice();
                Some(match tlv.tag {
                    $(tag::$u8_tag => Param::$u8_name(u8::from_be_bytes(v.try_into().ok()?)),)*
                    $(tag::$u16_tag => Param::$u16_name(u16::from_be_bytes(v.try_into().ok()?)),)*
                    $(tag::$u32_tag => Param::$u32_name(u32::from_be_bytes(v.try_into().ok()?)),)*
                    $(tag::$oct_tag => Param::$oct_name(v.to_vec()),)*
                    $(tag::$cs_tag => Param::$cs_name(c_string(v)),)*
                    tag::NETWORK_ERROR_CODE => match v {
                        [network_type, hi, lo] => Param::NetworkErrorCode {
                            network_type: *network_type,
                            error_code: u16::from_be_bytes([*hi, *lo]),
                        },
                        _ => return None,
                    },
                    tag::ALERT_ON_MESSAGE_DELIVERY => Param::AlertOnMessageDelivery,
                    _ => return None,
                })
            }

            /// Writes the TLV (C-strings with their NUL).
            pub fn to_tlv(&self) -> Tlv {
                let value = match self {
                    $(Param::$u8_name(n) => n.to_be_bytes().to_vec(),)*
                    $(Param::$u16_name(n) => n.to_be_bytes().to_vec(),)*
                    $(Param::$u32_name(n) => n.to_be_bytes().to_vec(),)*
                    $(Param::$oct_name(b) => b.clone(),)*
                    $(Param::$cs_name(s) => {
                        let mut v = c_string(s);
                        v.push(0);
                        v
                    })*
                    Param::NetworkErrorCode { network_type, error_code } => {
                        let [hi, lo] = error_code.to_be_bytes();
                        vec![*network_type, hi, lo]
                    }
                    Param::AlertOnMessageDelivery => Vec::new(),
                };
                Tlv { tag: self.tag(), value }
            }
        }
    };
}

params! {
    u8 {
        DestAddrSubunit = DEST_ADDR_SUBUNIT,
        DestNetworkType = DEST_NETWORK_TYPE,
        DestBearerType = DEST_BEARER_TYPE,
        SourceAddrSubunit = SOURCE_ADDR_SUBUNIT,
        SourceNetworkType = SOURCE_NETWORK_TYPE,
        SourceBearerType = SOURCE_BEARER_TYPE,
        SourceTelematicsId = SOURCE_TELEMATICS_ID,
        PayloadType = PAYLOAD_TYPE,
        MsMsgWaitFacilities = MS_MSG_WAIT_FACILITIES,
        PrivacyIndicator = PRIVACY_INDICATOR,
        UserResponseCode = USER_RESPONSE_CODE,
        LanguageIndicator = LANGUAGE_INDICATOR,
        SarTotalSegments = SAR_TOTAL_SEGMENTS,
        SarSegmentSeqnum = SAR_SEGMENT_SEQNUM,
        ScInterfaceVersion = SC_INTERFACE_VERSION,
        CallbackNumPresInd = CALLBACK_NUM_PRES_IND,
        NumberOfMessages = NUMBER_OF_MESSAGES,
        DpfResult = DPF_RESULT,
        SetDpf = SET_DPF,
        MsAvailabilityStatus = MS_AVAILABILITY_STATUS,
        DeliveryFailureReason = DELIVERY_FAILURE_REASON,
        MoreMessagesToSend = MORE_MESSAGES_TO_SEND,
        MessageState = MESSAGE_STATE,
        UssdServiceOp = USSD_SERVICE_OP,
        DisplayTime = DISPLAY_TIME,
        MsValidity = MS_VALIDITY,
        ItsReplyType = ITS_REPLY_TYPE,
    }
    u16 {
        DestTelematicsId = DEST_TELEMATICS_ID,
        UserMessageReference = USER_MESSAGE_REFERENCE,
        SourcePort = SOURCE_PORT,
        DestinationPort = DESTINATION_PORT,
        SarMsgRefNum = SAR_MSG_REF_NUM,
        SmsSignal = SMS_SIGNAL,
        ItsSessionInfo = ITS_SESSION_INFO,
    }
    u32 {
        QosTimeToLive = QOS_TIME_TO_LIVE,
    }
    octets {
        SourceSubaddress = SOURCE_SUBADDRESS,
        DestSubaddress = DEST_SUBADDRESS,
        CallbackNumAtag = CALLBACK_NUM_ATAG,
        CallbackNum = CALLBACK_NUM,
        MessagePayload = MESSAGE_PAYLOAD,
    }
    cstring {
        AdditionalStatusInfoText = ADDITIONAL_STATUS_INFO_TEXT,
        ReceiptedMessageId = RECEIPTED_MESSAGE_ID,
    }
}

/// A C-string value without its NUL (and anything a lenient peer put
/// after one).
fn c_string(v: &[u8]) -> Vec<u8> {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    v[..end].to_vec()
}

impl Tlv {
    /// The typed view, for a standard tag with a well-sized value.
    pub fn param(&self) -> Option<Param> {
        Param::read(self)
    }
}

impl From<Param> for Tlv {
    fn from(p: Param) -> Tlv {
        p.to_tlv()
    }
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

/// The first TLV with `tag`, typed.
pub fn find_param(tlvs: &[Tlv], tag: u16) -> Option<Param> {
    tlvs.iter().find(|t| t.tag == tag).and_then(Tlv::param)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn typed_values_read_and_write_as_the_standard_says() {
        let t = Tlv {
            tag: tag::NETWORK_ERROR_CODE,
            value: vec![3, 0x00, 0x22],
        };
        assert_eq!(
            t.param(),
            Some(Param::NetworkErrorCode {
                network_type: 3,
                error_code: 0x22
            })
        );
        let id = Param::ReceiptedMessageId(b"abc".to_vec()).to_tlv();
        assert_eq!(id.value, b"abc\0");
        assert_eq!(id.param(), Some(Param::ReceiptedMessageId(b"abc".to_vec())));
        assert_eq!(
            Param::SarMsgRefNum(0x1234).to_tlv(),
            Tlv {
                tag: 0x020C,
                value: vec![0x12, 0x34]
            }
        );
        // Lenient: a known tag with a wrong size, and an unknown tag.
        assert_eq!(
            Tlv {
                tag: tag::MESSAGE_STATE,
                value: vec![1, 2]
            }
            .param(),
            None
        );
        assert_eq!(
            Tlv {
                tag: 0x1400,
                value: vec![1]
            }
            .param(),
            None
        );
        assert_eq!(
            Tlv {
                tag: tag::ALERT_ON_MESSAGE_DELIVERY,
                value: vec![]
            }
            .param(),
            Some(Param::AlertOnMessageDelivery)
        );
    }

    proptest! {
        #[test]
        fn every_standard_tag_round_trips(tag in prop::sample::select(ALL_TAGS.to_vec()), value in proptest::collection::vec(any::<u8>(), 0..8)) {
            let tlv = Tlv { tag, value };
            if let Some(p) = tlv.param() {
                prop_assert_eq!(p.tag(), tag);
                prop_assert_eq!(p.to_tlv().param(), Some(p));
            }
        }
    }

    const ALL_TAGS: [u16; 44] = [
        0x0005, 0x0006, 0x0007, 0x0008, 0x000D, 0x000E, 0x000F, 0x0010, 0x0017, 0x0019, 0x001D,
        0x001E, 0x0030, 0x0201, 0x0202, 0x0203, 0x0204, 0x0205, 0x020A, 0x020B, 0x020C, 0x020D,
        0x020E, 0x020F, 0x0210, 0x0302, 0x0303, 0x0304, 0x0381, 0x0420, 0x0421, 0x0422, 0x0423,
        0x0424, 0x0425, 0x0426, 0x0427, 0x0501, 0x1201, 0x1203, 0x1204, 0x130C, 0x1380, 0x1383,
    ];

    #[test]
    fn every_standard_tag_is_typed() {
        for tag in ALL_TAGS {
            let sizes = [0usize, 1, 2, 3, 4];
            let typed = sizes.iter().any(|&n| {
                Tlv {
                    tag,
                    value: vec![7; n],
                }
                .param()
                .is_some()
            });
            assert!(typed, "tag 0x{tag:04X}");
        }
    }
}
