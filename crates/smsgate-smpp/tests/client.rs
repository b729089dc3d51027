//! The ESME client against a third-party SMSC (node-smpp, `tests/smsc`):
//! binds of every kind, a refused password, submit and receipt, both
//! directions of enquire_link, and unbind.

#[path = "../../../tests/smsc/harness.rs"]
mod smsc;

use std::time::Duration;

use serde_json::json;
use smsc::Smsc;
use smsgate_smpp::CommandStatus;
use smsgate_smpp::client::{self, Bound, ClientConfig, ClientError};
use smsgate_smpp::pdu::{Bind, Body, Sm};
use smsgate_smpp::receipt::{MessageState, parse_receipt};
use smsgate_smpp::session::{BindKind, SessionConfig};

fn config(kind: BindKind, password: &str) -> ClientConfig {
    ClientConfig {
        session: SessionConfig {
            kind,
            bind: Bind {
                system_id: b"smsgate".to_vec(),
                password: password.as_bytes().to_vec(),
                interface_version: 0x34,
                ..Bind::default()
            },
            window: 10,
            response_timeout: Duration::from_secs(2),
            enquire_link_interval: Duration::from_millis(300),
        },
        max_pdu: smsgate_smpp::DEFAULT_MAX_PDU,
    }
}

async fn connect(smsc: &Smsc, kind: BindKind, password: &str) -> Result<Bound, ClientError> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", smsc.smpp_port))
        .await
        .expect("connect");
    client::bind(tcp, config(kind, password)).await
}

fn submit(to: &str, text: &str) -> Body {
    Body::SubmitSm(Sm {
        source_addr_ton: 5,
        source_addr: b"Acme".to_vec(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: to.as_bytes().to_vec(),
        registered_delivery: 1,
        short_message: text.as_bytes().to_vec(),
        ..Sm::default()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn binds_of_every_kind_and_a_wrong_password() {
    let smsc = Smsc::start();
    for kind in [
        BindKind::Transmitter,
        BindKind::Receiver,
        BindKind::Transceiver,
    ] {
        let bound = connect(&smsc, kind, "secret").await.expect("bind");
        assert_eq!(bound.system_id, b"TESTSMSC");
    }
    assert_eq!(smsc.counter("binds"), 3);
    match connect(&smsc, BindKind::Transceiver, "wrong").await {
        Err(ClientError::BindRefused(s)) => assert_eq!(s, CommandStatus::RINVPASWD),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a wrong password bound"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_then_receipt_over_a_transceiver() {
    let smsc = Smsc::start();
    let mut bound = connect(&smsc, BindKind::Transceiver, "secret")
        .await
        .unwrap();
    let resp = bound
        .client
        .request(submit("31612345678", "Hello"))
        .await
        .unwrap();
    assert!(resp.status.is_ok());
    let Body::SubmitSmResp(r) = resp.body else {
        panic!("{resp:?}")
    };
    let id = String::from_utf8(r.message_id).unwrap();
    assert_eq!(id, "0000000001");
    let inbound = tokio::time::timeout(Duration::from_secs(5), bound.inbound.recv())
        .await
        .expect("a receipt")
        .expect("open");
    let Body::DeliverSm(sm) = &inbound.pdu.body else {
        panic!()
    };
    assert!(sm.is_receipt());
    let text = parse_receipt(&String::from_utf8_lossy(&sm.short_message));
    assert_eq!(text.id.as_deref(), Some("0000000001"));
    assert_eq!(text.state, Some(MessageState::Delivered));
    inbound.responder.respond(CommandStatus::ROK);
    let submits = smsc.wait_until(5, "the receipt answered", |s| {
        s["counters"]["deliver_sm_resps"]["0"].as_u64() == Some(1)
    })["submits"]
        .clone();
    assert_eq!(submits[0]["text"], "Hello");
    assert_eq!(submits[0]["destination_addr"], "31612345678");
}

/// An SMSC sends the receipts it kept right after the bind_resp, often in
/// the same read: they reach the caller, not a temporary error (they were
/// answered ESME_RX_T_APPN while the bind was being read).
#[tokio::test]
async fn a_receipt_in_the_same_read_as_the_bind_resp_reaches_the_caller() {
    use smsgate_smpp::{BindResp, Pdu};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (ours, mut smsc) = tokio::io::duplex(1 << 16);
    let binding = tokio::spawn(client::bind(ours, config(BindKind::Transceiver, "secret")));
    let read_pdu = async |io: &mut tokio::io::DuplexStream| -> Pdu {
        let mut len = [0u8; 4];
        io.read_exact(&mut len).await.unwrap();
        let mut frame = len.to_vec();
        frame.resize(u32::from_be_bytes(len) as usize, 0);
        io.read_exact(&mut frame[4..]).await.unwrap();
        smsgate_smpp::decode(&frame).unwrap().pdu
    };
    let bind = read_pdu(&mut smsc).await;
    let receipt = Sm {
        esm_class: 0x04,
        short_message: b"id:0000000001 sub:001 dlvrd:001 submit date:2612010000 done date:2612010000 stat:DELIVRD err:000 text:".to_vec(),
        ..Sm::default()
    };
    let mut both = smsgate_smpp::encode(&Pdu {
        sequence_number: bind.sequence_number,
        status: CommandStatus::ROK,
        body: Body::BindTransceiverResp(BindResp {
            system_id: b"SMSC".to_vec(),
            tlvs: vec![],
        }),
    });
    both.extend(smsgate_smpp::encode(&Pdu {
        sequence_number: 77,
        status: CommandStatus::ROK,
        body: Body::DeliverSm(receipt),
    }));
    smsc.write_all(&both).await.unwrap();
    let mut bound = binding.await.unwrap().expect("bound");
    let inbound = tokio::time::timeout(Duration::from_secs(5), bound.inbound.recv())
        .await
        .expect("the receipt reaches the caller")
        .expect("open");
    assert!(matches!(&inbound.pdu.body, Body::DeliverSm(sm) if sm.is_receipt()));
    inbound.responder.respond(CommandStatus::ROK);
    let answer = read_pdu(&mut smsc).await;
    assert_eq!(
        (answer.sequence_number, answer.status),
        (77, CommandStatus::ROK)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transmitter_cannot_receive_and_a_receiver_cannot_send() {
    let smsc = Smsc::start();
    let rx = connect(&smsc, BindKind::Receiver, "secret").await.unwrap();
    assert_eq!(
        rx.client
            .request(submit("31612345678", "x"))
            .await
            .unwrap_err(),
        client::RequestError::ReceiverOnly
    );
    let tx = connect(&smsc, BindKind::Transmitter, "secret")
        .await
        .unwrap();
    tx.client.request(submit("31612345678", "x")).await.unwrap();
    // The receipt goes to the receiver bind.
    let mut rx = rx;
    let inbound = tokio::time::timeout(Duration::from_secs(5), rx.inbound.recv())
        .await
        .expect("receipt on the receiver")
        .unwrap();
    assert!(matches!(&inbound.pdu.body, Body::DeliverSm(sm) if sm.is_receipt()));
}

#[tokio::test(flavor = "multi_thread")]
async fn enquire_link_both_ways_and_unbind() {
    let smsc = Smsc::start();
    let bound = connect(&smsc, BindKind::Transceiver, "secret")
        .await
        .unwrap();
    // Ours: sent after 300 ms of silence.
    smsc.wait_until(5, "our enquire_link", |s| {
        s["counters"]["enquire_links"].as_u64() >= Some(1)
    });
    // Theirs: answered.
    smsc.post("/enquire", json!({}));
    smsc.wait_until(5, "the answer to its enquire_link", |s| {
        s["counters"]["enquire_link_resps"].as_u64() == Some(1)
    });
    bound.client.unbind().await;
    let why = tokio::time::timeout(Duration::from_secs(5), bound.closed)
        .await
        .expect("closed")
        .unwrap();
    assert!(
        matches!(why, ClientError::Unbound | ClientError::PeerClosed),
        "{why}"
    );
    assert_eq!(smsc.counter("unbinds"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_smsc_is_noticed() {
    let smsc = Smsc::start();
    let bound = connect(&smsc, BindKind::Transceiver, "secret")
        .await
        .unwrap();
    smsc.configure(json!({"silent": true}));
    let why = tokio::time::timeout(Duration::from_secs(10), bound.closed)
        .await
        .expect("the session gives up on a silent peer")
        .unwrap();
    assert!(matches!(why, ClientError::PeerSilent), "{why}");
}
