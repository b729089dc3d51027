//! Runs N messages through the store's whole life cycle (intake, claim,
//! acknowledgement, receipt) on a temporary SQLite file. Used with
//! `valgrind --tool=callgrind` to count the instructions a message costs
//! the writer, repeatably (bench/RESULTS.md).
//!
//!     cargo run --release -p smsgate-store --example lifecycle -- 2000

use smsgate_core::send::Rejection;
use smsgate_core::text::Segments;
use smsgate_core::{
    Amount, Category, Encoding, MessageId, Msisdn, NewMessage, SenderId, Status, Timestamp,
};
use smsgate_store::prelude::*;
use smsgate_store::sqlite::SqliteStore;
use smsgate_store::{NewAccount, NodeId, StatusUpdate, Submission, Target};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("smsgate-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("l.db")).unwrap();
    let account = NewAccount {
        name: "bench".into(),
        password_hash: None,
        default_country: None,
        max_parts: 10,
        credits: Amount::credits(1_000_000_000),
        parent: None,
    };
    let account = store
        .create_account(account, &smsgate_store::Audit::cli(Timestamp(1)))
        .await
        .unwrap()
        .id;
    let started = std::time::Instant::now();
    // Batches of 100, as a loaded server commits them.
    for chunk in 0..n.div_ceil(100) {
        let now = Timestamp(10 + chunk as i64);
        let subs: Vec<Submission> = (0..100)
            .map(|i| {
                let m = NewMessage {
                    id: MessageId::generate(),
                    to: Msisdn::parse(&format!("+3161{:07}", chunk * 100 + i), None).unwrap(),
                    country: None,
                    from: SenderId::parse("Bench").unwrap(),
                    text: "Your code is 123456".into(),
                    segments: Segments {
                        encoding: Encoding::Gsm7,
                        units: 19,
                        parts: 1,
                    },
                    cost: Amount::credits(1),
                    category: Category::Transactional,
                    route_class: "standard".into(),
                    reference: None,
                    schedule_at: None,
                    expires_at: None,
                    priority: 0,
                    in_reply_to: None,
                    callback_url: None,
                    callback_format: smsgate_core::CallbackFormat::Native,
                    payload: None,
                    item: 0,
                    links: Vec::new(),
                    campaign_ref: None,
                };
                Submission {
                    account,
                    plan: smsgate_core::SendPlan {
                        messages: vec![m],
                        rejected: Vec::<Rejection>::new(),
                        total_cost: Amount::credits(1),
                    },
                    batch: None,
                    idempotency: None,
                }
            })
            .collect();
        store.accept(subs, now).await.unwrap();
        let claimed = store
            .claim(NodeId(0), now, Timestamp(1_000_000), 100, None)
            .await
            .unwrap();
        let sent = claimed.iter().map(|m| {
            let mut u = StatusUpdate::new(Target::Message(m.id), Status::Sent, now);
            u.connector = Some("sim".into());
            u.carrier_ids = vec![format!("c{}", m.id)];
            u
        });
        store.apply(sent.collect()).await.unwrap();
        let receipts = claimed.iter().map(|m| {
            let t = Target::Carrier {
                connector: "sim".into(),
                carrier_id: format!("c{}", m.id),
            };
            StatusUpdate::new(t, Status::Delivered, now)
        });
        store.apply(receipts.collect()).await.unwrap();
    }
    let depth = store.queue_depth().await.unwrap();
    assert_eq!((depth.queued, depth.submitting), (0, 0));
    println!(
        "{n} messages through the life cycle in {:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
