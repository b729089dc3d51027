//! smsgate tried as an attacker would, on loopback: each test reproduces
//! a finding of the hardening issue and checks the control that ends it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::receiver::{Answer, Receiver};
use crate::support::{LOCAL_RECEIVERS, Server, http_client, read, text_to};

/// The callbacks endpoint's delivery log, once it has an entry whose last
/// error satisfies `done`.
async fn callback_log(server: &Server, key: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, hooks) = server.get(key, "/v1/webhooks").await;
        if let Some(callbacks) = hooks["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["kind"] == "callbacks")
        {
            let (_, log) = server
                .get(
                    key,
                    &format!(
                        "/v1/webhooks/{}/deliveries",
                        callbacks["id"].as_str().unwrap()
                    ),
                )
                .await;
            if log["data"].as_array().unwrap().iter().any(&done) {
                return log;
            }
        }
        assert!(Instant::now() < deadline, "no such delivery: {hooks}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_to_internal_addresses_are_refused_in_every_spelling() {
    let receiver = Receiver::start(Arc::new(|_| Answer::Status(200))).await;
    let server = Server::start();
    let (_, key) = server.account("acme", 10).await;
    for url in [
        "https://127.0.0.1/hook",
        "https://127.1/hook",
        "https://2130706433/hook",
        "https://[::1]/hook",
        "https://[::ffff:7f00:1]/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "https://0.0.0.0/",
    ] {
        let (status, body) = server
            .post(&key, "/v1/webhooks", json!({ "url": url }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert!(
            body["errors"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("public addresses only"),
            "{url}: {body}"
        );
    }
    let (status, body) = server
        .post(
            &key,
            "/v1/webhooks",
            json!({"url": "http://hooks.example.org/"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("https"), "{body}");
    // A name is checked when it is resolved: `localhost` is saved (it
    // could be anything later) but never connected to.
    let (status, body) = server
        .post(&key, "/v1/webhooks", json!({"url": "https://localhost:9/"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A message's callback URL pointing inside is never called; the log
    // says why, and shows nothing of what is (or is not) listening there.
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+31612345678", "from": "Acme", "text": "hi", "callback_url": receiver.url}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let log = callback_log(&server, &key, |d| d["status"] == "dead").await;
    let dead = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["status"] == "dead")
        .unwrap();
    assert!(
        dead["last_error"].as_str().unwrap().starts_with("refused:"),
        "{dead}"
    );
    assert_eq!(dead["attempts"], 1, "a refusal is not retried");
    assert!(receiver.requests.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_not_followed() {
    let target = Receiver::start(Arc::new(|_| Answer::Status(200))).await;
    let to = target.url.clone();
    let redirector = Receiver::start(Arc::new(move |_| Answer::Redirect(to.clone()))).await;
    let server = Server::start_with(LOCAL_RECEIVERS);
    let (_, key) = server.account("acme", 10).await;
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+31612345678", "from": "Acme", "text": "hi", "callback_url": redirector.url}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    callback_log(&server, &key, |d| {
        d["last_error"].as_str().is_some_and(|e| e.contains("302"))
    })
    .await;
    assert!(!redirector.requests.lock().unwrap().is_empty());
    assert!(target.requests.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_never_has_more_deliveries_in_flight_than_its_max_concurrency() {
    // Every request hangs, so each holds its slot for the whole timeout.
    let receiver = Receiver::start(Arc::new(|_| Answer::Hang)).await;
    let mut env = LOCAL_RECEIVERS.to_vec();
    env.push(("SMSGATE_ENGINE__WEBHOOKS__TIMEOUT_MS", "3000"));
    let server = Server::start_with(&env);
    let (_, key) = server.account("acme", 100).await;
    let (status, body) = server
        .post(
            &key,
            "/v1/webhooks",
            json!({"url": receiver.url, "max_concurrency": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for i in 0..20 {
        let (status, _) = server
            .post(&key, "/v1/messages", text_to(&format!("+3161234{i:04}")))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    // Well within the first timeout: the first delivery only.
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.requests.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "nothing delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(receiver.requests.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_aimed_at_smsgate_itself_is_refused_and_cannot_spend() {
    let server = Server::start_with(LOCAL_RECEIVERS);
    let (_, key) = server.account("acme", 10).await;
    let (status, body) = server
        .post(
            &key,
            "/v1/webhooks",
            json!({"url": server.url("/v1/messages")}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("this smsgate server"), "{body}");
    // Through a proxy or another name the delivery still carries its
    // signature: the API refuses it before anything is charged.
    let client = http_client(Duration::from_secs(5));
    let (status, body) = read(
        client
            .post(server.url("/v1/messages"))
            .bearer_auth(&key)
            .header("smsgate-signature", "t=1,v1=00")
            .header("smsgate-event-id", "1")
            .json(&text_to("+31612345678"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["type"], "/problems/webhook-loop");
    assert_eq!(server.balance(&key).await, 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn replays_and_tests_are_limited() {
    let receiver = Receiver::start(Arc::new(|_| Answer::Status(200))).await;
    let server = Server::start_with(LOCAL_RECEIVERS);
    let (_, key) = server.account("acme", 10).await;
    let (_, hook) = server
        .post(&key, "/v1/webhooks", json!({"url": receiver.url}))
        .await;
    let id = hook["id"].as_str().unwrap();
    assert!(id.starts_with("wh_") && id.len() == 35, "opaque: {id}");
    let mut limited = None;
    for i in 0..30 {
        let (status, body) = server
            .post(
                &key,
                &format!("/v1/webhooks/{id}/replay"),
                json!({"since": "2020-01-01T00:00:00Z"}),
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["type"], "/problems/rate-limited", "{body}");
            limited = Some(i);
            break;
        }
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    assert_eq!(limited, Some(10), "ten at once, then a few a minute");
    let (status, _) = server
        .post(&key, &format!("/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}
