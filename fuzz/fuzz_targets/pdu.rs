//! Hostile bytes into everything that reads SMPP: framing, the PDU codec,
//! the long-message reader, receipt text, and an ESME session fed the
//! result. None may panic; re-encoding a decoded PDU must decode again.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use smsgate_smpp::pdu::{Bind, Body, decode, encode};
use smsgate_smpp::session::{BindKind, Session, SessionConfig};
use smsgate_smpp::{concat, frame_length, receipt};

fuzz_target!(|data: &[u8]| {
    let mut session: Session<u32> = Session::new(
        SessionConfig {
            kind: BindKind::Transceiver,
            bind: Bind::default(),
            window: 4,
            response_timeout: Duration::from_secs(1),
            enquire_link_interval: Duration::from_secs(1),
        },
        Instant::now(),
    );
    session.start(Instant::now());
    let mut rest = data;
    while let Ok(Some(len)) = frame_length(rest, 4096) {
        let frame = &rest[..len];
        rest = &rest[len..];
        match decode(frame) {
            Ok(d) => {
                let again = encode(&d.pdu);
                assert!(decode(&again).is_ok(), "re-encoded PDU does not decode");
                if let Body::DeliverSm(sm) | Body::SubmitSm(sm) = &d.pdu.body {
                    let _ = concat::received(sm);
                    let _ = receipt::parse_receipt(&String::from_utf8_lossy(&sm.short_message));
                }
                session.handle(d.pdu, Instant::now());
            }
            Err(m) => session.handle_malformed(&m, Instant::now()),
        }
        while session.poll_action().is_some() {}
    }
});
