//! The codec checked against a second implementation: every PDU we encode
//! (within the standard's field sizes) is read by the `rusmpp` crate, and
//! rusmpp's own encoding of what it read is byte for byte ours.

use bytes::BytesMut;
use proptest::prelude::*;
use rusmpp::Command;
use rusmpp::decode::DecodeWithLength;
use rusmpp::encode::{Length, owned::Encode};
use smsgate_smpp::pdu::{
    AlertNotification, Bind, BindResp, Body, CancelSm, DataSm, DataSmResp, Outbind, Pdu, QuerySm,
    ReplaceSm, Sm, SmResp,
};
use smsgate_smpp::{CommandStatus, Tlv, encode};

fn ascii(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(prop::sample::select(b"abcXYZ019+-".to_vec()), 0..max)
}

/// Empty, or a full 16-character absolute or relative time.
fn time() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(b"261123101530000+".to_vec()),
        Just(b"000001000000000R".to_vec()),
    ]
}

fn tlvs() -> impl Strategy<Value = Vec<Tlv>> {
    proptest::collection::vec(
        prop_oneof![
            (1u16..=255).prop_map(|n| Tlv {
                tag: 0x020C,
                value: n.to_be_bytes().to_vec()
            }),
            any::<u8>().prop_map(|n| Tlv {
                tag: 0x0427,
                value: vec![n % 9]
            }),
            ascii(20).prop_map(|mut id| {
                id.push(0);
                Tlv {
                    tag: 0x001E,
                    value: id,
                }
            }),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(|v| Tlv {
                tag: 0x0424,
                value: v
            }),
        ],
        0..3,
    )
}

fn sm() -> impl Strategy<Value = Sm> {
    (
        (
            ascii(6),
            any::<u8>(),
            any::<u8>(),
            ascii(21),
            any::<u8>(),
            any::<u8>(),
            ascii(21),
        ),
        (
            any::<u8>(),
            any::<u8>(),
            0u8..4,
            time(),
            time(),
            0u8..2,
            0u8..2,
        ),
        (
            prop::sample::select(vec![0u8, 1, 3, 8]),
            proptest::collection::vec(any::<u8>(), 0..255),
            tlvs(),
        ),
    )
        .prop_map(|(a, b, c)| Sm {
            service_type: a.0,
            source_addr_ton: a.1 % 7,
            source_addr_npi: a.2 % 2,
            source_addr: a.3,
            dest_addr_ton: a.4 % 7,
            dest_addr_npi: a.5 % 2,
            destination_addr: a.6,
            esm_class: b.0 & 0x03,
            protocol_id: b.1,
            priority_flag: b.2,
            schedule_delivery_time: b.3,
            validity_period: b.4,
            registered_delivery: b.5,
            replace_if_present_flag: b.6,
            data_coding: c.0,
            sm_default_msg_id: 0,
            short_message: c.1,
            tlvs: c.2,
        })
}

fn bind() -> impl Strategy<Value = Bind> {
    (ascii(16), ascii(9), ascii(13), ascii(41)).prop_map(|(s, p, t, r)| Bind {
        system_id: s,
        password: p,
        system_type: t,
        interface_version: 0x34,
        addr_ton: 1,
        addr_npi: 1,
        address_range: r,
    })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        bind().prop_map(Body::BindTransmitter),
        bind().prop_map(Body::BindReceiver),
        bind().prop_map(Body::BindTransceiver),
        ascii(16).prop_map(|s| Body::BindTransceiverResp(BindResp {
            system_id: s,
            tlvs: vec![]
        })),
        Just(Body::Unbind),
        Just(Body::UnbindResp),
        Just(Body::EnquireLink),
        Just(Body::EnquireLinkResp),
        Just(Body::GenericNack),
        sm().prop_map(Body::SubmitSm),
        sm().prop_map(Body::DeliverSm),
        ascii(65).prop_map(|id| Body::SubmitSmResp(SmResp { message_id: id })),
        Just(Body::DeliverSmResp(SmResp::default())),
        (ascii(21), ascii(21), any::<u8>(), tlvs()).prop_map(|(src, dst, dc, tlvs)| Body::DataSm(
            DataSm {
                source_addr_ton: 1,
                source_addr_npi: 1,
                source_addr: src,
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: dst,
                registered_delivery: 1,
                data_coding: dc % 9,
                tlvs,
                ..DataSm::default()
            }
        )),
        ascii(65).prop_map(|id| Body::DataSmResp(DataSmResp {
            message_id: id,
            tlvs: vec![]
        })),
        (ascii(65), ascii(21)).prop_map(|(id, src)| Body::QuerySm(QuerySm {
            message_id: id,
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: src,
        })),
        (ascii(65), ascii(21), ascii(21)).prop_map(|(id, src, dst)| Body::CancelSm(CancelSm {
            message_id: id,
            source_addr: src,
            destination_addr: dst,
            ..CancelSm::default()
        })),
        Just(Body::CancelSmResp),
        (
            ascii(65),
            ascii(21),
            time(),
            proptest::collection::vec(any::<u8>(), 0..255)
        )
            .prop_map(|(id, src, t, sm)| Body::ReplaceSm(ReplaceSm {
                message_id: id,
                source_addr: src,
                schedule_delivery_time: t,
                short_message: sm,
                ..ReplaceSm::default()
            })),
        Just(Body::ReplaceSmResp),
        (ascii(16), ascii(9)).prop_map(|(s, p)| Body::Outbind(Outbind {
            system_id: s,
            password: p
        })),
        (ascii(65), ascii(65)).prop_map(|(src, esme)| Body::AlertNotification(AlertNotification {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: src,
            esme_addr_ton: 1,
            esme_addr_npi: 1,
            esme_addr: esme,
            tlvs: vec![],
        })),
    ]
}

/// Our bytes, read by rusmpp and written back by it.
fn through_rusmpp(ours: &[u8]) -> Result<Vec<u8>, String> {
    let mut src = BytesMut::from(&ours[4..]);
    let (command, size) = Command::decode(&mut src, ours.len() - 4)
        .map_err(|e| format!("rusmpp cannot read it: {e:?}"))?;
    if size != ours.len() - 4 {
        return Err(format!("rusmpp read {size} of {} octets", ours.len() - 4));
    }
    let mut out = BytesMut::new();
    out.extend_from_slice(&((4 + command.length()) as u32).to_be_bytes());
    command.encode(&mut out);
    Ok(out.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rusmpp_reads_what_we_write_and_writes_the_same(seq in 1u32..0x7FFF_FFFF, body in body()) {
        let status = if body.is_response() { CommandStatus::ROK } else { CommandStatus(0) };
        let ours = encode(&Pdu { sequence_number: seq, status, body });
        let theirs = through_rusmpp(&ours);
        prop_assert_eq!(theirs.as_deref(), Ok(&ours[..]));
    }
}

#[test]
fn a_known_submit_sm_agrees_byte_for_byte() {
    let pdu = Pdu {
        sequence_number: 7,
        status: CommandStatus::ROK,
        body: Body::SubmitSm(Sm {
            source_addr_ton: 5,
            source_addr: b"Acme".to_vec(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: b"31612345678".to_vec(),
            esm_class: 0x40,
            registered_delivery: 1,
            data_coding: 8,
            short_message: vec![0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0x04, 0x1F],
            tlvs: vec![Tlv {
                tag: 0x020C,
                value: vec![0, 42],
            }],
            ..Sm::default()
        }),
    };
    let ours = encode(&pdu);
    assert_eq!(through_rusmpp(&ours).unwrap(), ours);
}

#[test]
fn the_oracle_notices_a_wrong_pdu() {
    // The same submit_sm with its sm_length one too large: the oracle must
    // refuse it, or this file proves nothing.
    let pdu = Pdu {
        sequence_number: 7,
        status: CommandStatus::ROK,
        body: Body::SubmitSm(Sm {
            destination_addr: b"31612345678".to_vec(),
            short_message: b"hello".to_vec(),
            ..Sm::default()
        }),
    };
    let mut bytes = encode(&pdu);
    let sm_length = bytes.len() - 6;
    assert_eq!(bytes[sm_length], 5);
    bytes[sm_length] = 6;
    assert!(through_rusmpp(&bytes).is_err());
}
