//! Codec tests: exact bytes for known PDUs, round trips, leniency, and
//! hostile input.

use proptest::prelude::*;

use super::*;
use crate::{DEFAULT_MAX_PDU, FrameError, frame_length};

fn pdu(sequence_number: u32, body: Body) -> Pdu {
    Pdu {
        sequence_number,
        status: CommandStatus::ROK,
        body,
    }
}

#[test]
fn enquire_link_bytes() {
    let bytes = encode(&pdu(1, Body::EnquireLink));
    assert_eq!(bytes, [0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(decode(&bytes).unwrap().pdu, pdu(1, Body::EnquireLink));
}

#[test]
fn bind_transmitter_bytes() {
    let bind = Bind {
        system_id: b"smsgate".to_vec(),
        password: b"secret".to_vec(),
        system_type: Vec::new(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: Vec::new(),
    };
    let bytes = encode(&pdu(7, Body::BindTransmitter(bind.clone())));
    let mut expected = vec![0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7];
    expected.extend_from_slice(b"smsgate\0secret\0\0\x34\0\0\0");
    let len = expected.len() as u8;
    expected[3] = len;
    assert_eq!(bytes, expected);
    assert_eq!(
        decode(&bytes).unwrap().pdu.body,
        Body::BindTransmitter(bind)
    );
}

#[test]
fn error_responses_without_a_body_decode() {
    // ESME_RINVPASWD to a bind, ESME_RTHROTTLED to a submit: header only.
    let bind_resp = [0, 0, 0, 16, 0x80, 0, 0, 2, 0, 0, 0, 0x0E, 0, 0, 0, 3];
    let d = decode(&bind_resp).unwrap();
    assert_eq!(d.pdu.status, CommandStatus::RINVPASWD);
    assert_eq!(d.pdu.body, Body::BindTransmitterResp(BindResp::default()));
    let submit_resp = [0, 0, 0, 16, 0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 9];
    let d = decode(&submit_resp).unwrap();
    assert!(d.pdu.status.is_throttling());
    assert_eq!(d.pdu.body, Body::SubmitSmResp(SmResp::default()));
}

#[test]
fn overlong_c_strings_are_accepted_and_reported() {
    let bind = Bind {
        system_id: b"a-system-id-of-24-octets".to_vec(),
        ..Bind::default()
    };
    // Encoding cuts to the standard; build the lenient bytes by hand.
    let mut bytes = vec![0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1];
    bytes.extend_from_slice(b"a-system-id-of-24-octets\0pw\0\0\x34\0\0\0");
    let len = bytes.len() as u8;
    bytes[3] = len;
    let d = decode(&bytes).unwrap();
    assert_eq!(d.overlong, ["system_id"]);
    let Body::BindTransceiver(got) = d.pdu.body else {
        panic!("not a bind")
    };
    assert_eq!(got.system_id, bind.system_id);
    // Strict out: re-encoding cuts it to 15 octets plus NUL.
    let again = encode(&pdu(1, Body::BindTransceiver(got)));
    assert_eq!(&again[16..32], b"a-system-id-of-\0");
}

#[test]
fn unknown_commands_are_kept_for_a_generic_nack() {
    let bytes = [
        0, 0, 0, 20, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4,
    ];
    let d = decode(&bytes).unwrap();
    assert_eq!(
        d.pdu.body,
        Body::Other {
            command_id: 0x1234,
            body: vec![1, 2, 3, 4]
        }
    );
    assert_eq!(encode(&d.pdu), bytes);
}

#[test]
fn truncated_bodies_keep_the_header_for_the_answer() {
    let mut bytes = encode(&pdu(
        42,
        Body::SubmitSm(Sm {
            short_message: b"hello".to_vec(),
            ..Sm::default()
        }),
    ));
    bytes.truncate(bytes.len() - 3);
    let len = bytes.len() as u32;
    bytes[..4].copy_from_slice(&len.to_be_bytes());
    let err = decode(&bytes).unwrap_err();
    assert_eq!(err.header.unwrap().sequence_number, 42);
    assert_eq!(err.error, DecodeError::Truncated("short_message"));
    assert_eq!(err.error.status(), CommandStatus::RINVMSGLEN);
}

#[test]
fn framing_waits_for_whole_pdus_and_refuses_absurd_lengths() {
    let bytes = encode(&pdu(1, Body::EnquireLink));
    assert_eq!(frame_length(&bytes[..3], DEFAULT_MAX_PDU), Ok(None));
    assert_eq!(frame_length(&bytes[..15], DEFAULT_MAX_PDU), Ok(None));
    assert_eq!(frame_length(&bytes, DEFAULT_MAX_PDU), Ok(Some(16)));
    assert_eq!(
        frame_length(&[0, 0, 0, 8], DEFAULT_MAX_PDU),
        Err(FrameError::TooShort(8))
    );
    assert_eq!(
        frame_length(&[0xFF, 0xFF, 0xFF, 0xFF], DEFAULT_MAX_PDU),
        Err(FrameError::TooLong {
            length: u32::MAX,
            max: DEFAULT_MAX_PDU
        })
    );
}

#[test]
fn receipts_are_recognised_by_esm_class() {
    let sm = Sm {
        esm_class: ESM_CLASS_RECEIPT,
        ..Sm::default()
    };
    assert!(sm.is_receipt());
    assert!(!Sm::default().is_receipt());
    let tlvs = vec![Tlv {
        tag: tlv::tag::RECEIPTED_MESSAGE_ID,
        value: b"abc\0".to_vec(),
    }];
    assert_eq!(
        tlv::find(&tlvs, tlv::tag::RECEIPTED_MESSAGE_ID),
        Some(&b"abc\0"[..])
    );
}

fn cstr(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(1u8..=255, 0..max)
}

fn tlvs() -> impl Strategy<Value = Vec<Tlv>> {
    proptest::collection::vec(
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(tag, value)| Tlv { tag, value }),
        0..4,
    )
}

fn sm() -> impl Strategy<Value = Sm> {
    (
        (
            cstr(5),
            any::<u8>(),
            any::<u8>(),
            cstr(20),
            any::<u8>(),
            any::<u8>(),
            cstr(20),
        ),
        (any::<u8>(), any::<u8>(), any::<u8>(), cstr(16), cstr(16)),
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            proptest::collection::vec(any::<u8>(), 0..=254),
            tlvs(),
        ),
    )
        .prop_map(|(a, b, c)| Sm {
            service_type: a.0,
            source_addr_ton: a.1,
            source_addr_npi: a.2,
            source_addr: a.3,
            dest_addr_ton: a.4,
            dest_addr_npi: a.5,
            destination_addr: a.6,
            esm_class: b.0,
            protocol_id: b.1,
            priority_flag: b.2,
            schedule_delivery_time: b.3,
            validity_period: b.4,
            registered_delivery: c.0,
            replace_if_present_flag: c.1,
            data_coding: c.2,
            sm_default_msg_id: c.3,
            short_message: c.4,
            tlvs: c.5,
        })
}

fn bind() -> impl Strategy<Value = Bind> {
    (
        cstr(15),
        cstr(8),
        cstr(12),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        cstr(40),
    )
        .prop_map(|b| Bind {
            system_id: b.0,
            password: b.1,
            system_type: b.2,
            interface_version: b.3,
            addr_ton: b.4,
            addr_npi: b.5,
            address_range: b.6,
        })
}

fn destination() -> impl Strategy<Value = Destination> {
    prop_oneof![
        (any::<u8>(), any::<u8>(), cstr(20)).prop_map(|(ton, npi, addr)| Destination::Sme {
            ton,
            npi,
            addr
        }),
        cstr(20).prop_map(Destination::DistributionList),
    ]
}

fn submit_multi() -> impl Strategy<Value = SubmitMulti> {
    (sm(), proptest::collection::vec(destination(), 0..6)).prop_map(|(sm, destinations)| {
        SubmitMulti {
            service_type: sm.service_type,
            source_addr_ton: sm.source_addr_ton,
            source_addr_npi: sm.source_addr_npi,
            source_addr: sm.source_addr,
            destinations,
            esm_class: sm.esm_class,
            protocol_id: sm.protocol_id,
            priority_flag: sm.priority_flag,
            schedule_delivery_time: sm.schedule_delivery_time,
            validity_period: sm.validity_period,
            registered_delivery: sm.registered_delivery,
            replace_if_present_flag: sm.replace_if_present_flag,
            data_coding: sm.data_coding,
            sm_default_msg_id: sm.sm_default_msg_id,
            short_message: sm.short_message,
            tlvs: sm.tlvs,
        }
    })
}

fn more_bodies() -> impl Strategy<Value = Body> {
    prop_oneof![
        (cstr(15), cstr(8)).prop_map(|(system_id, password)| Body::Outbind(Outbind {
            system_id,
            password
        })),
        submit_multi().prop_map(Body::SubmitMulti),
        (
            cstr(64),
            proptest::collection::vec((any::<u8>(), any::<u8>(), cstr(20), any::<u32>()), 0..4)
        )
            .prop_map(|(message_id, failed)| {
                Body::SubmitMultiResp(SubmitMultiResp {
                    message_id,
                    unsuccessful: failed
                        .into_iter()
                        .map(|(ton, npi, addr, s)| Unsuccessful {
                            ton,
                            npi,
                            addr,
                            status: CommandStatus(s),
                        })
                        .collect(),
                })
            }),
        (sm(), cstr(64), cstr(64)).prop_map(|(sm, source_addr, destination_addr)| Body::DataSm(
            DataSm {
                service_type: sm.service_type,
                source_addr_ton: sm.source_addr_ton,
                source_addr_npi: sm.source_addr_npi,
                source_addr,
                dest_addr_ton: sm.dest_addr_ton,
                dest_addr_npi: sm.dest_addr_npi,
                destination_addr,
                esm_class: sm.esm_class,
                registered_delivery: sm.registered_delivery,
                data_coding: sm.data_coding,
                tlvs: sm.tlvs,
            }
        )),
        (cstr(64), tlvs())
            .prop_map(|(message_id, tlvs)| Body::DataSmResp(DataSmResp { message_id, tlvs })),
        (cstr(64), any::<u8>(), any::<u8>(), cstr(20)).prop_map(
            |(message_id, ton, npi, source_addr)| {
                Body::QuerySm(QuerySm {
                    message_id,
                    source_addr_ton: ton,
                    source_addr_npi: npi,
                    source_addr,
                })
            }
        ),
        (cstr(64), cstr(16), any::<u8>(), any::<u8>()).prop_map(
            |(message_id, final_date, message_state, error_code)| {
                Body::QuerySmResp(QuerySmResp {
                    message_id,
                    final_date,
                    message_state,
                    error_code,
                })
            }
        ),
        (sm(), cstr(64)).prop_map(|(sm, message_id)| Body::CancelSm(CancelSm {
            service_type: sm.service_type,
            message_id,
            source_addr_ton: sm.source_addr_ton,
            source_addr_npi: sm.source_addr_npi,
            source_addr: sm.source_addr,
            dest_addr_ton: sm.dest_addr_ton,
            dest_addr_npi: sm.dest_addr_npi,
            destination_addr: sm.destination_addr,
        })),
        Just(Body::CancelSmResp),
        (sm(), cstr(64)).prop_map(|(sm, message_id)| Body::ReplaceSm(ReplaceSm {
            message_id,
            source_addr_ton: sm.source_addr_ton,
            source_addr_npi: sm.source_addr_npi,
            source_addr: sm.source_addr,
            schedule_delivery_time: sm.schedule_delivery_time,
            validity_period: sm.validity_period,
            registered_delivery: sm.registered_delivery,
            sm_default_msg_id: sm.sm_default_msg_id,
            short_message: sm.short_message,
        })),
        Just(Body::ReplaceSmResp),
        (
            any::<u8>(),
            any::<u8>(),
            cstr(64),
            any::<u8>(),
            any::<u8>(),
            cstr(64),
            tlvs()
        )
            .prop_map(|a| {
                Body::AlertNotification(AlertNotification {
                    source_addr_ton: a.0,
                    source_addr_npi: a.1,
                    source_addr: a.2,
                    esme_addr_ton: a.3,
                    esme_addr_npi: a.4,
                    esme_addr: a.5,
                    tlvs: a.6,
                })
            }),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![more_bodies(), first_bodies()]
}

fn first_bodies() -> impl Strategy<Value = Body> {
    prop_oneof![
        bind().prop_map(Body::BindTransmitter),
        bind().prop_map(Body::BindReceiver),
        bind().prop_map(Body::BindTransceiver),
        (cstr(15), tlvs())
            .prop_map(|(system_id, tlvs)| Body::BindTransceiverResp(BindResp { system_id, tlvs })),
        sm().prop_map(Body::SubmitSm),
        sm().prop_map(Body::DeliverSm),
        cstr(64).prop_map(|message_id| Body::SubmitSmResp(SmResp { message_id })),
        Just(Body::EnquireLink),
        Just(Body::EnquireLinkResp),
        Just(Body::Unbind),
        Just(Body::UnbindResp),
        Just(Body::GenericNack),
    ]
}

proptest! {
    #[test]
    fn every_pdu_round_trips(seq in any::<u32>(), status in any::<u32>(), body in body()) {
        let pdu = Pdu { sequence_number: seq, status: CommandStatus(status), body };
        let bytes = encode(&pdu);
        prop_assert_eq!(frame_length(&bytes, DEFAULT_MAX_PDU), Ok(Some(bytes.len())));
        let decoded = decode(&bytes).unwrap();
        prop_assert!(decoded.overlong.is_empty());
        // A response with an empty id decodes as the body-less form, which
        // is equal: both have an empty id.
        prop_assert_eq!(decoded.pdu, pdu);
    }

    #[test]
    fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(Some(len)) = frame_length(&bytes, DEFAULT_MAX_PDU) {
            let _ = decode(&bytes[..len]);
        }
        let _ = decode(&bytes);
    }

    #[test]
    fn mutated_pdus_never_panic(body in body(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = encode(&Pdu { sequence_number: 1, status: CommandStatus::ROK, body });
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        if let Ok(Some(len)) = frame_length(&bytes, DEFAULT_MAX_PDU) {
            let _ = decode(&bytes[..len]);
        }
    }
}
