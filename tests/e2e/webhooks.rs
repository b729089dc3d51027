//! Webhooks against a real HTTP receiver on loopback: failures, timeouts
//! and 500s are retried until every event arrives, signed, in order per
//! message; nothing is lost across a restart; the delivery log shows every
//! attempt.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::receiver::{Answer, Receiver};
use crate::support::Server;

const FAST_RETRIES: &[(&str, &str)] = &[
    ("SMSGATE_ENGINE__WEBHOOKS__RETRY_BASE_MS", "100"),
    ("SMSGATE_ENGINE__WEBHOOKS__RETRY_MAX_MS", "400"),
    ("SMSGATE_ENGINE__WEBHOOKS__TIMEOUT_MS", "300"),
    ("SMSGATE_ENGINE__WEBHOOKS__ALLOW_PRIVATE", "true"),
    ("SMSGATE_ENGINE__WEBHOOKS__ALLOW_HTTP", "true"),
];

pub(crate) fn verify(secret: &str, signature: &str, body: &[u8]) -> bool {
    let mut parts = signature.split(',');
    let t = parts
        .next()
        .and_then(|p| p.strip_prefix("t="))
        .unwrap_or("");
    let v1 = parts
        .next()
        .and_then(|p| p.strip_prefix("v1="))
        .unwrap_or("");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes()) == v1
}

async fn register(server: &Server, key: &str, url: &str) -> (String, String) {
    let (status, body) = server
        .post(
            key,
            "/v1/webhooks",
            json!({"url": url, "max_concurrency": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

async fn all_events(server: &Server, key: &str) -> Vec<Value> {
    let (_, body) = server.get(key, "/v1/events?limit=500").await;
    body["data"].as_array().unwrap().clone()
}

/// Waits until the receiver has had every event of the account delivered.
async fn wait_all_delivered(
    server: &Server,
    key: &str,
    receiver: &Receiver,
    n_events: usize,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = all_events(server, key).await;
        let got: HashSet<String> = receiver
            .delivered()
            .iter()
            .filter_map(|r| r.header("smsgate-event-id").map(str::to_string))
            .collect();
        if events.len() >= n_events
            && events
                .iter()
                .all(|e| got.contains(e["id"].as_str().unwrap()))
        {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} events delivered",
            got.len(),
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_timeouts_and_500s_are_retried_until_every_event_arrives_signed_in_order() {
    // Attempts 0-2 fail with 500, 3 hangs past the timeout, 4 answers 503;
    // then every fifth request fails too.
    let receiver = Receiver::start(Arc::new(|n| match n {
        0..=2 => Answer::Status(500),
        3 => Answer::Hang,
        4 => Answer::Status(503),
        n if n % 5 == 0 => Answer::Status(500),
        _ => Answer::Status(200),
    }))
    .await;
    let server = Server::start_with(FAST_RETRIES);
    let (_, key) = server.account("acme", 100).await;
    let (endpoint, secret) = register(&server, &key, &receiver.url).await;
    for i in 0..5 {
        let (status, body) = server
            .post(
                &key,
                "/v1/messages",
                json!({"to": format!("+3161234567{i}"), "from": "Acme", "text": "hi"}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    // queued, sent, delivered for each of 5 messages.
    let events = wait_all_delivered(&server, &key, &receiver, 15).await;
    assert_eq!(events.len(), 15);
    for r in receiver.delivered() {
        let sig = r.header("smsgate-signature").expect("signed");
        assert!(verify(&secret, sig, &r.body), "bad signature {sig}");
        assert_eq!(r.header("smsgate-event-type"), r.json()["type"].as_str());
    }
    // Per message, the first successful delivery of each event comes in
    // sequence order.
    let mut order: HashMap<String, Vec<u64>> = HashMap::new();
    let mut seen = HashSet::new();
    for r in receiver.delivered() {
        let e = r.json();
        if seen.insert(e["id"].as_str().unwrap().to_string()) {
            order
                .entry(e["data"]["message"]["id"].as_str().unwrap().to_string())
                .or_default()
                .push(e["sequence"].as_u64().unwrap());
        }
    }
    for (message, seqs) in &order {
        assert_eq!(seqs, &[1, 2, 3], "message {message}");
    }
    // The log shows the failed attempts with their status codes and the
    // timeout. Outcomes are recorded in batches after the receiver
    // answers, so the last ones may take a moment to show.
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let (status, log) = server
            .get(&key, &format!("/v1/webhooks/{endpoint}/deliveries"))
            .await;
        assert_eq!(status, StatusCode::OK, "{log}");
        let all_recorded = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "delivered");
        if all_recorded || Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let attempts: Vec<&Value> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["log"].as_array().unwrap())
        .collect();
    assert!(attempts.iter().any(|a| a["status_code"] == 500));
    assert!(
        attempts.iter().any(|a| a["status_code"].is_null()
            && a["error"].as_str().unwrap_or("").contains("no answer"))
    );
    assert!(
        log["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "delivered")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_lost_across_a_restart_and_a_receiver_that_was_down() {
    // The receiver is down: its port is taken and released, so connections
    // are refused while the server restarts.
    let parked = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = parked.local_addr().unwrap().to_string();
    drop(parked);
    let mut server = Server::start_with(FAST_RETRIES);
    let (_, key) = server.account("acme", 100).await;
    let url = format!("http://{addr}/hook");
    register(&server, &key, &url).await;
    for i in 0..3 {
        server
            .post(
                &key,
                "/v1/messages",
                json!({"to": format!("+3161234568{i}"), "from": "Acme", "text": "hi"}),
            )
            .await;
    }
    // Some attempts fail while the receiver is down; then the server dies.
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.kill();
    server.spawn("127.0.0.1:0");
    let receiver = Receiver::on(&addr, Arc::new(|_| Answer::Status(204))).await;
    let events = wait_all_delivered(&server, &key, &receiver, 9).await;
    assert_eq!(events.len(), 9);
}

#[tokio::test]
async fn endpoints_are_the_account_s_own_and_bad_ones_are_refused() {
    let server = Server::start();
    let (_, key) = server.account("acme", 0).await;
    let (_, other) = server.account("other", 0).await;
    let (status, body) = server
        .post(&key, "/v1/webhooks", json!({"url": "ftp://x"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = server
        .post(
            &key,
            "/v1/webhooks",
            json!({"url": "https://example.com/h", "events": ["message.teleported"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("message.teleported"), "{body}");
    let (id, _) = register(&server, &key, "https://example.com/h").await;
    let (status, _) = server
        .get(&other, &format!("/v1/webhooks/{id}/deliveries"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, mine) = server.get(&key, "/v1/webhooks").await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    let (_, theirs) = server.get(&other, "/v1/webhooks").await;
    assert!(theirs["data"].as_array().unwrap().is_empty());
    let (status, _) = server.delete(&other, &format!("/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.delete(&key, &format!("/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread")]
async fn test_events_replays_and_a_disabled_endpoint() {
    let receiver = Receiver::start(Arc::new(|_| Answer::Status(200))).await;
    let server = Server::start_with(FAST_RETRIES);
    let (_, key) = server.account("acme", 100).await;
    let (id, secret) = register(&server, &key, &receiver.url).await;
    // A test event goes to this endpoint only, signed like the others.
    let (status, body) = server
        .post(&key, &format!("/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.delivered().is_empty() {
        assert!(Instant::now() < deadline, "no test event");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let test = &receiver.delivered()[0];
    assert_eq!(test.json()["type"], "webhook.test");
    assert!(verify(
        &secret,
        test.header("smsgate-signature").unwrap(),
        &test.body
    ));

    // Disabled: events that happen meanwhile are not delivered to it.
    let (status, body) = server
        .patch(
            &key,
            &format!("/v1/webhooks/{id}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], false);
    let (_, sent) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+31612345678", "from": "Acme", "text": "quiet"}),
        )
        .await;
    let mid = sent["messages"][0]["id"].as_str().unwrap().to_string();
    server.wait_for(&key, &mid, "delivered").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.delivered().len(), 1, "delivered while disabled");

    // Replay: one event, then the whole range, to the re-enabled endpoint.
    server
        .patch(
            &key,
            &format!("/v1/webhooks/{id}"),
            json!({"enabled": true}),
        )
        .await;
    let events = all_events(&server, &key).await;
    let delivered_event = events
        .iter()
        .find(|e| e["type"] == "message.delivered")
        .unwrap();
    let (status, body) = server
        .post(
            &key,
            &format!("/v1/webhooks/{id}/replay"),
            json!({"event_id": delivered_event["id"]}),
        )
        .await;
    assert_eq!(
        (status, body["deliveries"].as_u64()),
        (StatusCode::ACCEPTED, Some(1)),
        "{body}"
    );
    let (status, body) = server
        .post(
            &key,
            &format!("/v1/webhooks/{id}/replay"),
            json!({"since": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        body["deliveries"], 3,
        "queued, sent, delivered; the test event is not replayed"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.delivered().len() < 5 {
        assert!(
            Instant::now() < deadline,
            "{} delivered",
            receiver.delivered().len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (status, body) = server
        .post(&key, &format!("/v1/webhooks/{id}/replay"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_s_callback_url_receives_its_events_signed_with_the_callbacks_secret() {
    let receiver = Receiver::start(Arc::new(|n| {
        if n == 0 {
            Answer::Status(500)
        } else {
            Answer::Status(204)
        }
    }))
    .await;
    let server = Server::start_with(FAST_RETRIES);
    let (_, key) = server.account("acme", 100).await;
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+31612345678", "from": "Acme", "text": "hi", "callback_url": "ftp://x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("callback_url"), "{body}");
    assert_eq!(server.balance(&key).await, 100);

    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+31612345678", "from": "Acme", "text": "hi", "callback_url": receiver.url}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = server
        .post(
            &key,
            "/v1/messages",
            crate::support::text_to("+31612345679"),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let message = server.wait_for(&key, &id, "delivered").await;
    assert_eq!(message["callback_url"], receiver.url.as_str());

    let (_, hooks) = server.get(&key, "/v1/webhooks").await;
    let callbacks = hooks["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "callbacks")
        .unwrap_or_else(|| panic!("{hooks}"))
        .clone();
    let secret = callbacks["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );

    let deadline = Instant::now() + Duration::from_secs(15);
    let firsts = loop {
        let mut seen = HashSet::new();
        let firsts: Vec<Value> = receiver
            .delivered()
            .iter()
            .map(|r| {
                assert!(verify(
                    secret,
                    r.header("smsgate-signature").unwrap(),
                    &r.body
                ));
                r.json()
            })
            .filter(|e| seen.insert(e["id"].as_str().unwrap().to_string()))
            .collect();
        if firsts.len() >= 3 {
            break firsts;
        }
        assert!(Instant::now() < deadline, "{firsts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let seen: Vec<(&str, &str)> = firsts
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["message"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("message.queued", id.as_str()),
            ("message.sent", id.as_str()),
            ("message.delivered", id.as_str())
        ],
        "only the message with the callback, in order"
    );
    // The first attempt failed and was retried; the log shows both (once
    // the last outcome is recorded).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, log) = server
            .get(
                &key,
                &format!(
                    "/v1/webhooks/{}/deliveries",
                    callbacks["id"].as_str().unwrap()
                ),
            )
            .await;
        let attempts: u64 = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["attempts"].as_u64().unwrap())
            .sum();
        if attempts == 4 {
            break;
        }
        assert!(attempts < 4 && Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = server
        .post(
            &key,
            &format!("/v1/webhooks/{}/test", callbacks["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

// The same tests with the server on PostgreSQL.
crate::support::on_postgres!(
    failures_timeouts_and_500s_are_retried_until_every_event_arrives_signed_in_order,
    nothing_is_lost_across_a_restart_and_a_receiver_that_was_down,
    endpoints_are_the_account_s_own_and_bad_ones_are_refused,
    test_events_replays_and_a_disabled_endpoint,
    a_message_s_callback_url_receives_its_events_signed_with_the_callbacks_secret,
);
