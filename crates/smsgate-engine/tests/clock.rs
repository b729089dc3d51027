//! Rules with time in them, at the engine on a real store with a manual
//! clock: the clock is moved, nothing sleeps.

mod common;

use std::sync::Arc;

use smsgate_core::clock::{Clock, ManualClock};
use smsgate_core::{SendRequest, Status};
use smsgate_engine::{AuthFailure, EngineConfig};
use smsgate_store::AccountPatch;

async fn with_password(config: EngineConfig, clock: Arc<ManualClock>) -> common::Fixture {
    let f = common::with_clock(config, clock).await;
    let hash = smsgate_engine::accounts::hash_password("correct horse").unwrap();
    f.patch(AccountPatch {
        password_hash: Some(Some(hash)),
        ..AccountPatch::default()
    })
    .await;
    f
}

/// Whether the session `key` of the fixture's account still works.
async fn works(f: &common::Fixture, key: &str) -> bool {
    match f
        .engine
        .identify_session(&f.account.0.to_string(), key, None)
        .await
        .unwrap()
    {
        Ok(_) => true,
        Err(AuthFailure::Revoked) => false,
        Err(other) => panic!("refused otherwise: {other:?}"),
    }
}

#[tokio::test]
async fn an_idle_session_ends_after_the_idle_time_and_a_used_one_lives_on() {
    let clock = Arc::new(ManualClock::starting_now());
    let f = with_password(EngineConfig::default(), clock.clone()).await;
    let session = f
        .engine
        .login("acme", "correct horse", None)
        .await
        .unwrap()
        .unwrap();
    assert!(works(&f, &session.key).await);
    // Used every 4 minutes, it lives on past the 5-minute idle time.
    for _ in 0..3 {
        clock.advance_secs(240);
        assert!(works(&f, &session.key).await);
    }
    // Unused for longer than 300 s (the default): ended.
    clock.advance_secs(301);
    assert!(!works(&f, &session.key).await);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_much_it_is_used() {
    let clock = Arc::new(ManualClock::starting_now());
    let config = EngineConfig {
        session_max_secs: 3_600,
        ..EngineConfig::default()
    };
    let f = with_password(config, clock.clone()).await;
    let session = f
        .engine
        .login("acme", "correct horse", None)
        .await
        .unwrap()
        .unwrap();
    for _ in 0..18 {
        clock.advance_secs(200);
        assert!(works(&f, &session.key).await);
    }
    clock.advance_secs(200); // 3,800 s after the login
    assert!(!works(&f, &session.key).await);
}

#[tokio::test]
async fn a_scheduled_message_leaves_when_the_clock_reaches_its_time() {
    let clock = Arc::new(ManualClock::starting_now());
    let mut config = EngineConfig::default();
    config.simulator.delivery_delay_ms = 0;
    let f = common::delivering_with_clock(config, clock.clone()).await;
    let caller = f.caller().await;
    let in_an_hour = clock.now().plus_secs(3_600);
    let sent = f
        .engine
        .send(
            &caller,
            SendRequest {
                schedule_at: Some(in_an_hour),
                ..common::request(&["+31612345678"])
            },
            None,
            None,
        )
        .await
        .unwrap();
    let id = sent.messages[0].id;
    assert_eq!(sent.messages[0].status, Status::Scheduled);
    // An hour later on the engine's clock, not the wall's.
    clock.set(in_an_hour.plus_secs(1));
    common::wait_for(&f, id, Status::Delivered).await;
    let history = f
        .engine
        .store()
        .message(None, id)
        .await
        .unwrap()
        .unwrap()
        .history;
    let queued = history.iter().find(|t| t.status == Status::Queued).unwrap();
    assert!(queued.at >= in_an_hour, "queued at {:?}", queued.at);
}

#[tokio::test]
async fn an_idempotency_key_replays_for_a_day_and_then_is_a_new_request() {
    let clock = Arc::new(ManualClock::starting_now());
    let f = common::with_clock(EngineConfig::default(), clock.clone()).await;
    let caller = f.caller().await;
    let key = || {
        Some(smsgate_store::Idempotency {
            key: "order-7".into(),
            fingerprint: [7; 32],
        })
    };
    let send = || {
        f.engine
            .send(&caller, common::request(&["+31612345678"]), None, key())
    };
    let first = send().await.unwrap();
    assert!(!first.replayed);
    // 23 hours later on the engine's clock: the first answer, not charged.
    clock.advance_secs(23 * 3_600);
    let replayed = send().await.unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.messages[0].id, first.messages[0].id);
    assert_eq!(f.balance().await, 999);
    // A day and an hour after the first: the key names a new request.
    clock.advance_secs(2 * 3_600);
    let later = send().await.unwrap();
    assert!(!later.replayed);
    assert_ne!(later.messages[0].id, first.messages[0].id);
    assert_eq!(f.balance().await, 998);
}

#[tokio::test]
async fn a_message_still_waiting_when_its_validity_ends_expires_and_is_refunded() {
    let clock = Arc::new(ManualClock::starting_now());
    let mut config = EngineConfig::default();
    // The carrier asks for a retry, and the retry is 20 s away: within
    // the validity, so the message waits for it.
    config.simulator.temporary_failure_ratio = 1.0;
    config.simulator.delivery_delay_ms = 0;
    config.dispatch.retry_base_ms = 20_000;
    let f = common::delivering_with_clock(config, clock.clone()).await;
    let caller = f.caller().await;
    let sent = f
        .engine
        .send(
            &caller,
            SendRequest {
                validity_secs: Some(30),
                ..common::request(&["+31612345678"])
            },
            None,
            None,
        )
        .await
        .unwrap();
    let id = sent.messages[0].id;
    assert_eq!(f.balance().await, 999);
    // Waiting for its retry; 31 s later on the engine's clock its validity
    // is over before it could be tried again.
    wait_for_attempt(&f, id).await;
    clock.advance_secs(31);
    common::wait_for(&f, id, Status::Expired).await;
    let m = f
        .engine
        .store()
        .message(None, id)
        .await
        .unwrap()
        .unwrap()
        .message;
    assert!(m.error.unwrap().contains("validity"));
    assert!(m.refunded);
    assert_eq!(f.balance().await, 1_000);
}

/// Until the message's first attempt was answered (and it waits again).
async fn wait_for_attempt(f: &common::Fixture, id: smsgate_core::MessageId) {
    for _ in 0..500 {
        let m = f
            .engine
            .store()
            .message(None, id)
            .await
            .unwrap()
            .unwrap()
            .message;
        if m.attempts >= 1 && m.status == Status::Queued {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let m = f.engine.store().message(None, id).await.unwrap().unwrap();
    panic!("{id} was never attempted and left waiting: {:?}", m.history);
}

/// A webhook receiver on loopback that answers `500` to the first
/// `failures` requests and `204` after; counts them.
async fn receiver(failures: usize) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as much body as they announce.
                loop {
                    let Ok(n) = conn.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let status = if n < failures {
                    "500 Internal Server Error"
                } else {
                    "204 No Content"
                };
                let answer =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, count)
}

/// A failed webhook delivery is tried again on the engine's clock: not
/// before half the first delay (jitter), and once the whole delay passed.
#[tokio::test]
async fn a_failed_webhook_delivery_is_retried_when_the_clock_says() {
    use std::sync::atomic::Ordering;
    // Ten days off the wall's time: a retry timed by the wall would never
    // come due here.
    let clock = Arc::new(ManualClock::at(
        smsgate_core::Timestamp::now().plus_secs(-10 * 86_400),
    ));
    let mut config = EngineConfig::default();
    config.webhooks.allow_http = true;
    config.webhooks.allow_private = true;
    config.webhooks.retry_base_ms = 60_000;
    let f = common::delivering_with_clock(config, clock.clone()).await;
    let (url, requests) = receiver(1).await;
    let endpoint = f
        .engine
        .create_webhook(&smsgate_engine::By::cli(), f.account, &url, &[], None)
        .await
        .unwrap();
    f.engine.test_webhook(endpoint.clone()).await.unwrap();
    let attempts = async |n: usize| {
        for _ in 0..500 {
            if requests.load(Ordering::SeqCst) >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("never {n} attempts");
    };
    attempts(1).await;
    let id = endpoint.id.to_string();
    // The delivery as recorded, once `recorded` holds of it.
    let delivery = async |recorded: &dyn Fn(&smsgate_store::DeliveryRecord) -> bool| {
        for _ in 0..500 {
            let log = f
                .engine
                .webhook_deliveries(f.account, &id, 10)
                .await
                .unwrap();
            if recorded(&log[0]) {
                return log[0].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the delivery was never recorded so");
    };
    // Recorded (its retry time taken from the clock) before the clock moves.
    delivery(&|d| d.attempts == 1).await;
    // The first retry is 30 to 60 s away on the engine's clock: not yet.
    clock.advance_secs(29);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(requests.load(Ordering::SeqCst), 1, "retried too early");
    clock.advance_secs(32);
    attempts(2).await;
    let done = delivery(&|d| d.status == "delivered").await;
    assert_eq!(done.attempts, 2);
    let codes: Vec<_> = done.log.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, [Some(500), Some(204)]);
}
