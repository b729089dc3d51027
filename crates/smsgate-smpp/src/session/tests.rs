//! The session's rules, driven by hand-made PDUs and a hand-moved clock.

use std::time::{Duration, Instant};

use super::*;
use crate::pdu::{BindResp, Sm, SmResp, id};
use crate::{DecodeError, Header};

const TIMEOUT: Duration = Duration::from_secs(10);
const KEEPALIVE: Duration = Duration::from_secs(30);

fn config(kind: BindKind, window: usize) -> SessionConfig {
    SessionConfig {
        kind,
        bind: Bind {
            system_id: b"smsgate".to_vec(),
            password: b"secret".to_vec(),
            interface_version: 0x34,
            ..Bind::default()
        },
        window,
        response_timeout: TIMEOUT,
        enquire_link_interval: KEEPALIVE,
    }
}

fn drain(s: &mut Session<&'static str>) -> Vec<Action<&'static str>> {
    std::iter::from_fn(|| s.poll_action()).collect()
}

fn sent(actions: &[Action<&'static str>]) -> Vec<Pdu> {
    actions
        .iter()
        .filter_map(|a| {
            if let Action::Send(p) = a {
                Some(p.clone())
            } else {
                None
            }
        })
        .collect()
}

fn resp(seq: u32, status: CommandStatus, body: Body) -> Pdu {
    Pdu {
        sequence_number: seq,
        status,
        body,
    }
}

/// A session bound as `kind` at `t0`.
fn bound(kind: BindKind, window: usize, t0: Instant) -> Session<&'static str> {
    let mut s = Session::new(config(kind, window), t0);
    s.start(t0);
    let bind = sent(&drain(&mut s)).remove(0);
    let body = match kind {
        BindKind::Transmitter => Body::BindTransmitterResp(BindResp {
            system_id: b"SMSC".to_vec(),
            tlvs: vec![],
        }),
        BindKind::Receiver => Body::BindReceiverResp(BindResp {
            system_id: b"SMSC".to_vec(),
            tlvs: vec![],
        }),
        BindKind::Transceiver => Body::BindTransceiverResp(BindResp {
            system_id: b"SMSC".to_vec(),
            tlvs: vec![],
        }),
    };
    s.handle(resp(bind.sequence_number, CommandStatus::ROK, body), t0);
    assert_eq!(
        drain(&mut s),
        [Action::Bound {
            system_id: b"SMSC".to_vec()
        }]
    );
    s
}

fn submit() -> Body {
    Body::SubmitSm(Sm {
        destination_addr: b"31612345678".to_vec(),
        short_message: b"hi".to_vec(),
        ..Sm::default()
    })
}

#[test]
fn bind_sends_the_right_request_and_binds() {
    let t0 = Instant::now();
    let mut s: Session<&str> = Session::new(config(BindKind::Transceiver, 2), t0);
    assert_eq!(s.send(submit(), "early", t0), Err(SendError::NotBound));
    s.start(t0);
    let out = sent(&drain(&mut s));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].sequence_number, 1);
    assert!(matches!(&out[0].body, Body::BindTransceiver(b) if b.system_id == b"smsgate"));
    assert_eq!(s.state(), State::BindSent);
    let mut s = bound(BindKind::Transceiver, 2, t0);
    assert_eq!(s.state(), State::Bound);
    assert!(s.can_send());
    assert_eq!(s.send(submit(), "first", t0), Ok(2));
}

#[test]
fn refused_and_silent_binds_close_the_session() {
    let t0 = Instant::now();
    let mut s: Session<&str> = Session::new(config(BindKind::Transmitter, 2), t0);
    s.start(t0);
    drain(&mut s);
    s.handle(
        resp(
            1,
            CommandStatus::RINVPASWD,
            Body::BindTransmitterResp(BindResp::default()),
        ),
        t0,
    );
    assert_eq!(
        drain(&mut s),
        [Action::Close(CloseReason::BindRefused(
            CommandStatus::RINVPASWD
        ))]
    );
    assert_eq!(s.state(), State::Closed);

    let mut s: Session<&str> = Session::new(config(BindKind::Transmitter, 2), t0);
    s.start(t0);
    drain(&mut s);
    s.tick(t0 + TIMEOUT - Duration::from_millis(1));
    assert!(drain(&mut s).is_empty());
    s.tick(t0 + TIMEOUT);
    assert_eq!(drain(&mut s), [Action::Close(CloseReason::BindTimedOut)]);
}

#[test]
fn the_window_bounds_outstanding_requests() {
    let t0 = Instant::now();
    let mut s = bound(BindKind::Transmitter, 2, t0);
    let a = s.send(submit(), "a", t0).unwrap();
    let _b = s.send(submit(), "b", t0).unwrap();
    assert!(!s.can_send());
    assert_eq!(s.send(submit(), "c", t0), Err(SendError::WindowFull));
    drain(&mut s);
    let ack = resp(
        a,
        CommandStatus::ROK,
        Body::SubmitSmResp(SmResp {
            message_id: b"abc".to_vec(),
        }),
    );
    s.handle(ack.clone(), t0);
    assert_eq!(drain(&mut s), [Action::Response { tag: "a", pdu: ack }]);
    assert_eq!(s.in_flight(), 1);
    assert!(s.send(submit(), "c", t0).is_ok());
}

#[test]
fn generic_nack_answers_a_request_too() {
    let t0 = Instant::now();
    let mut s = bound(BindKind::Transmitter, 2, t0);
    let a = s.send(submit(), "a", t0).unwrap();
    drain(&mut s);
    let nack = resp(a, CommandStatus::RINVCMDLEN, Body::GenericNack);
    s.handle(nack.clone(), t0);
    assert_eq!(
        drain(&mut s),
        [Action::Response {
            tag: "a",
            pdu: nack
        }]
    );
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn unanswered_requests_time_out_and_late_answers_are_ignored() {
    let t0 = Instant::now();
    let mut s = bound(BindKind::Transmitter, 2, t0);
    let a = s.send(submit(), "a", t0).unwrap();
    drain(&mut s);
    assert_eq!(s.next_deadline(), Some(t0 + TIMEOUT));
    s.tick(t0 + TIMEOUT);
    assert_eq!(
        drain(&mut s),
        [Action::TimedOut {
            tag: "a",
            command_id: id::SUBMIT_SM
        }]
    );
    assert_eq!(s.in_flight(), 0);
    s.handle(
        resp(a, CommandStatus::ROK, Body::SubmitSmResp(SmResp::default())),
        t0 + TIMEOUT * 2,
    );
    assert!(drain(&mut s).is_empty());
}

#[test]
fn keepalive_probes_a_quiet_peer_and_closes_a_silent_one() {
    let t0 = Instant::now();
    let mut s = bound(BindKind::Transceiver, 2, t0);
    s.tick(t0 + KEEPALIVE - Duration::from_secs(1));
    assert!(drain(&mut s).is_empty());
    s.tick(t0 + KEEPALIVE);
    let probe = sent(&drain(&mut s));
    assert_eq!(probe.len(), 1);
    assert_eq!(probe[0].body, Body::EnquireLink);
    // Answered: the session stays, and the next probe waits a full interval.
    let t1 = t0 + KEEPALIVE + Duration::from_secs(1);
    s.handle(
        resp(
            probe[0].sequence_number,
            CommandStatus::ROK,
            Body::EnquireLinkResp,
        ),
        t1,
    );
    s.tick(t1 + KEEPALIVE - Duration::from_secs(1));
    assert!(drain(&mut s).is_empty());
    s.tick(t1 + KEEPALIVE);
    assert_eq!(sent(&drain(&mut s))[0].body, Body::EnquireLink);
    // Not answered: closed as silent, with outstanding requests reported.
    s.send(submit(), "pending", t1 + KEEPALIVE).unwrap();
    drain(&mut s);
    s.tick(t1 + KEEPALIVE + TIMEOUT);
    let actions = drain(&mut s);
    assert!(
        actions.contains(&Action::Close(CloseReason::PeerSilent)),
        "{actions:?}"
    );
    assert!(
        actions.contains(&Action::TimedOut {
            tag: "pending",
            command_id: id::SUBMIT_SM
        }),
        "{actions:?}"
    );
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn peer_requests_are_answered_or_handed_up() {
    let t0 = Instant::now();
    let mut s = bound(BindKind::Transceiver, 2, t0);
    s.handle(resp(77, CommandStatus::ROK, Body::EnquireLink), t0);
    assert_eq!(
        sent(&drain(&mut s)),
        [resp(77, CommandStatus::ROK, Body::EnquireLinkResp)]
    );
    let dlr = resp(
        78,
        CommandStatus::ROK,
        Body::DeliverSm(Sm {
            esm_class: 0x04,
            ..Sm::default()
        }),
    );
    s.handle(dlr.clone(), t0);
    assert_eq!(drain(&mut s), [Action::Inbound(dlr)]);
    s.respond(
        78,
        Body::DeliverSmResp(SmResp::default()),
        CommandStatus::ROK,
    );
    assert_eq!(
        sent(&drain(&mut s)),
        [resp(
            78,
            CommandStatus::ROK,
            Body::DeliverSmResp(SmResp::default())
        )]
    );
    // An ESME does not take submit_sm, nor unknown commands.
    s.handle(resp(79, CommandStatus::ROK, submit()), t0);
    s.handle(
        resp(
            80,
            CommandStatus::ROK,
            Body::Other {
                command_id: 0x1234,
                body: vec![],
            },
        ),
        t0,
    );
    assert_eq!(
        sent(&drain(&mut s)),
        [
            resp(79, CommandStatus::RINVCMDID, Body::GenericNack),
            resp(80, CommandStatus::RINVCMDID, Body::GenericNack)
        ]
    );
}

#[test]
fn a_transmitter_refuses_deliveries_and_a_receiver_cannot_send() {
    let t0 = Instant::now();
    let mut tx = bound(BindKind::Transmitter, 2, t0);
    tx.handle(
        resp(5, CommandStatus::ROK, Body::DeliverSm(Sm::default())),
        t0,
    );
    assert_eq!(
        sent(&drain(&mut tx)),
        [resp(
            5,
            CommandStatus::RINVBNDSTS,
            Body::DeliverSmResp(SmResp::default())
        )]
    );
    let mut rx = bound(BindKind::Receiver, 2, t0);
    assert_eq!(rx.send(submit(), "x", t0), Err(SendError::ReceiverOnly));
}

#[test]
fn malformed_pdus_get_a_generic_nack_with_their_sequence() {
    let t0 = Instant::now();
    let mut s = bound(BindKind::Transceiver, 2, t0);
    let header = Header {
        command_length: 20,
        command_id: id::DELIVER_SM,
        command_status: 0,
        sequence_number: 9,
    };
    s.handle_malformed(
        &Malformed {
            header: Some(header),
            error: DecodeError::Truncated("short_message"),
        },
        t0,
    );
    assert_eq!(
        sent(&drain(&mut s)),
        [resp(9, CommandStatus::RINVMSGLEN, Body::GenericNack)]
    );
    assert_eq!(s.state(), State::Bound);
}

#[test]
fn unbind_both_ways() {
    let t0 = Instant::now();
    let mut s = bound(BindKind::Transceiver, 2, t0);
    s.unbind(t0);
    let out = sent(&drain(&mut s));
    assert_eq!(out[0].body, Body::Unbind);
    assert_eq!(s.state(), State::Unbinding);
    assert_eq!(s.send(submit(), "late", t0), Err(SendError::NotBound));
    s.handle(
        resp(out[0].sequence_number, CommandStatus::ROK, Body::UnbindResp),
        t0,
    );
    assert_eq!(drain(&mut s), [Action::Close(CloseReason::Unbound)]);

    let mut s = bound(BindKind::Transceiver, 2, t0);
    s.handle(resp(3, CommandStatus::ROK, Body::Unbind), t0);
    assert_eq!(
        drain(&mut s),
        [
            Action::Send(resp(3, CommandStatus::ROK, Body::UnbindResp)),
            Action::Close(CloseReason::Unbound)
        ]
    );
}

#[test]
fn sequence_numbers_wrap_before_the_sign_bit() {
    let t0 = Instant::now();
    let mut s = bound(BindKind::Transmitter, 4, t0);
    s.next_sequence = 0x7FFF_FFFF;
    assert_eq!(s.send(submit(), "last", t0), Ok(0x7FFF_FFFF));
    assert_eq!(s.send(submit(), "wrapped", t0), Ok(1));
}
