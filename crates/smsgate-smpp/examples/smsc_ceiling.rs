//! Measures an SMSC on its own: how many submit_sm per second it answers,
//! with its receipts, through `binds` transceivers with a window each.
//! smsgate's store and HTTP are not involved: this is the peer's ceiling
//! for bench/RESULTS.md.
//!
//! cargo run --release -p smsgate-smpp --example smsc_ceiling -- PORT BINDS WINDOW SECONDS

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use smsgate_smpp::CommandStatus;
use smsgate_smpp::client::{self, ClientConfig};
use smsgate_smpp::pdu::{Bind, Body, Sm};
use smsgate_smpp::session::{BindKind, SessionConfig};

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: PORT BINDS WINDOW SECONDS"))
        .collect();
    let [port, binds, window, seconds] = args[..] else {
        panic!("usage: smsc_ceiling PORT BINDS WINDOW SECONDS");
    };
    let acked = Arc::new(AtomicU64::new(0));
    let receipts = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..binds {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port as u16))
            .await
            .expect("connect");
        tcp.set_nodelay(true).ok();
        let config = ClientConfig {
            session: SessionConfig {
                kind: BindKind::Transceiver,
                bind: Bind {
                    system_id: b"smsgate".to_vec(),
                    password: b"secret".to_vec(),
                    interface_version: 0x34,
                    ..Bind::default()
                },
                window: window as usize,
                response_timeout: Duration::from_secs(30),
                enquire_link_interval: Duration::from_secs(30),
            },
            max_pdu: smsgate_smpp::DEFAULT_MAX_PDU,
        };
        let mut bound = client::bind(tcp, config).await.expect("bind");
        let r = receipts.clone();
        tokio::spawn(async move {
            while let Some(inbound) = bound.inbound.recv().await {
                r.fetch_add(1, Ordering::Relaxed);
                inbound.responder.respond(CommandStatus::ROK);
            }
        });
        // `window` senders per bind keep the window full.
        for w in 0..window {
            let client = bound.client.clone();
            let acked = acked.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let sm = Sm {
                        source_addr_ton: 5,
                        source_addr: b"Bench".to_vec(),
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: format!("3161{:03}{:04}", w, n % 10_000).into_bytes(),
                        registered_delivery: 1,
                        short_message: b"benchmark message".to_vec(),
                        ..Sm::default()
                    };
                    n += 1;
                    match client.request(Body::SubmitSm(sm)).await {
                        Ok(p) if p.status.is_ok() => {
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                        other => panic!("submit failed: {other:?}"),
                    }
                }
            }));
        }
    }
    let start = Instant::now();
    for t in tasks {
        t.await.expect("sender");
    }
    let elapsed = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let a = acked.load(Ordering::Relaxed);
    println!(
        "{{\"binds\": {binds}, \"window\": {window}, \"seconds\": {elapsed:.1}, \"submit_sm\": {a}, \"submit_sm_per_s\": {:.0}, \"receipts\": {}}}",
        a as f64 / elapsed,
        receipts.load(Ordering::Relaxed)
    );
}
