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

const PASSWORD: &str = "correct horse battery";

/// Enough of a query-string escape for these tests' values.
fn escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace(' ', "%20")
        .replace('+', "%2B")
        .replace(',', "%2C")
        .replace('&', "%26")
}

async fn with_password(server: &Server, name: &str) -> (i64, String) {
    let (id, key) = server.account(name, 10).await;
    let (status, body) = server
        .admin(
            reqwest::Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, key)
}

async fn login(server: &Server, name: &str, password: &str) -> reqwest::Response {
    server
        .http
        .get(server.url(&format!(
            "/login?username={}&password={}",
            escape(name),
            escape(password)
        )))
        .send()
        .await
        .unwrap()
}

/// A session's answer to `GET /status`.
async fn session_status(server: &Server, user_key: &str, session_key: &str) -> StatusCode {
    server
        .http
        .get(server.url("/status"))
        .header("user_key", user_key)
        .header("Session_key", session_key)
        .send()
        .await
        .unwrap()
        .status()
}

async fn session(server: &Server, name: &str) -> (String, String) {
    let r = login(server, name, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let (u, s) = text.split_once(';').unwrap();
    (u.to_string(), s.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_lock_out_the_name_then_the_address() {
    let server = Server::start_with(&[("SMSGATE_ENGINE__AUTH__ADDRESS_FAILURES", "7")]);
    with_password(&server, "acme").await;
    for _ in 0..5 {
        assert_eq!(
            login(&server, "acme", "guess").await.status(),
            StatusCode::NOT_FOUND
        );
    }
    // The sixth wrong one locks the name; then even the right password
    // waits, and says how long.
    assert_eq!(
        login(&server, "acme", "guess").await.status(),
        StatusCode::NOT_FOUND
    );
    let locked = login(&server, "ACME", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(
        locked.headers().contains_key("ratelimit-reset"),
        "the session dialect's 429s carry the same headers as every face's"
    );
    // Unknown names count against the address like known ones.
    for n in 0..2 {
        let r = login(&server, &format!("nobody{n}"), "guess").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = login(&server, "nobody-else", "guess").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the address is locked"
    );
    // Every failure is counted.
    let metrics = server.metrics().await;
    let failures: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("smsgate_login_failures_total "))
        .unwrap_or_else(|| panic!("{metrics}"))
        .parse()
        .unwrap();
    assert_eq!(failures, 8.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_end_with_the_password_and_the_account_and_obey_the_keys_networks() {
    let server = Server::start();
    let (id, _) = with_password(&server, "acme").await;
    let patch = |body: Value| {
        let server = &server;
        async move {
            let (status, answer) = server
                .admin(
                    reqwest::Method::PATCH,
                    &format!("/admin/v1/accounts/{id}"),
                    Some(body),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
    };
    let (user, key) = session(&server, "acme").await;
    assert_eq!(session_status(&server, &user, &key).await, StatusCode::OK);
    // A new password ends the session made with the old one.
    patch(json!({"password": "another long password"})).await;
    assert_eq!(
        session_status(&server, &user, &key).await,
        StatusCode::UNAUTHORIZED
    );
    patch(json!({ "password": PASSWORD })).await;
    let (user, key) = session(&server, "acme").await;
    // Removing the password, too.
    patch(json!({ "password": null })).await;
    assert_eq!(
        session_status(&server, &user, &key).await,
        StatusCode::UNAUTHORIZED
    );
    patch(json!({ "password": PASSWORD })).await;
    let (user, key) = session(&server, "acme").await;
    // Disabling the account ends it; enabling does not bring it back.
    patch(json!({"status": "disabled"})).await;
    patch(json!({"status": "active"})).await;
    assert_eq!(
        session_status(&server, &user, &key).await,
        StatusCode::UNAUTHORIZED
    );
    // When every key of the account is limited to a network, so is a
    // password: no login from elsewhere, and no session used from there.
    let (user, key) = session(&server, "acme").await;
    let (_, keys) = server
        .admin(
            reqwest::Method::GET,
            &format!("/admin/v1/accounts/{id}/keys"),
            None,
        )
        .await;
    for k in keys["data"].as_array().unwrap() {
        let (status, body) = server
            .admin(
                reqwest::Method::PATCH,
                &format!("/admin/v1/keys/{}", k["id"]),
                Some(json!({"allowed_ips": ["10.0.0.0/8"]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        login(&server, "acme", PASSWORD).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        session_status(&server, &user, &key).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_wrong_logins_is_bounded_in_memory_and_health_still_answers() {
    let server = Server::start();
    with_password(&server, "acme").await;
    let (before, _) = server.rss_kib();
    let client = http_client(Duration::from_secs(60));
    let logins: Vec<_> = (0..128)
        .map(|n| {
            let client = client.clone();
            let url = server.url(&format!("/login?username=user{n}&password=x"));
            tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) })
        })
        .collect();
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let mut refused = 0;
    for l in logins {
        match l.await.unwrap().unwrap() {
            StatusCode::SERVICE_UNAVAILABLE => refused += 1,
            StatusCode::NOT_FOUND => {}
            other => panic!("{other}"),
        }
    }
    let (_, peak) = server.rss_kib();
    // Two checks of 19 MiB at a time; unbounded, 128 took 4-6 GB.
    assert!(
        peak < before + 120 * 1024,
        "peak RSS {peak} KiB from {before} KiB"
    );
    assert!(refused > 0, "past the queue, logins are refused at once");
}

#[tokio::test(flavor = "multi_thread")]
async fn smsmanager_tries_one_key_per_request() {
    let server = Server::start();
    let (_, key) = server.account("acme", 10).await;
    let simple = |apikey: String| {
        let server = &server;
        async move {
            server
                .http
                .get(server.url(&format!(
                    "/v2/simple/message?apikey={}&phone_number=%2B31612345678&message=hi&sender=Acme",
                    escape(&apikey)
                )))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // The published sample's `string,KEY`: the part after the comma.
    assert!(simple(format!("string,{key}")).await.is_success());
    // Not a list of guesses.
    assert_eq!(
        simple(format!("{key},guess")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        simple(format!("guess1,{key},guess2")).await,
        StatusCode::UNAUTHORIZED
    );
}

/// `GET /healthz` on a new connection: its status.
async fn healthz(server: &Server) -> StatusCode {
    http_client(Duration::from_secs(5))
        .get(server.url("/healthz"))
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or_else(|e| panic!("healthz: {e}"))
}

fn address(server: &Server) -> String {
    server.url("").trim_start_matches("http://").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_idle_connections_are_closed_and_past_the_cap_health_still_answers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start_with(&[
        ("SMSGATE_HTTP__MAX_CONNECTIONS", "100"),
        ("SMSGATE_HTTP__HEADER_READ_TIMEOUT_SECS", "2"),
    ]);
    let (_, key) = server.account("acme", 10).await;
    let addr = address(&server);
    // Slowloris: headers that never end; and connections that say nothing.
    let mut held = Vec::new();
    for n in 0..150 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if n % 2 == 0 {
            s.write_all(b"GET /v1/balance HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        held.push(s);
    }
    // Past the cap: health answers, the rest is refused with 503, at once
    // (a new connection: the test's own pooled one is within the cap).
    assert_eq!(healthz(&server).await, StatusCode::OK);
    let (status, body) = read(
        http_client(Duration::from_secs(5))
            .get(server.url("/v1/balance"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    // The server closes what sent no whole request in time.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let mut closed = 0;
    for s in &mut held {
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            // A 503 answer (shed) and then the close.
            Ok(Ok(_)) => {
                if matches!(
                    tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await,
                    Ok(Ok(0)) | Ok(Err(_))
                ) {
                    closed += 1;
                }
            }
            Err(_) => {}
        }
    }
    assert_eq!(
        closed,
        held.len(),
        "every slow or idle connection is closed"
    );
    assert_eq!(server.get(&key, "/v1/balance").await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_uploads_without_a_key_in_their_headers_cost_bounded_memory() {
    use tokio::io::AsyncWriteExt;
    let server = Server::start_with(&[("SMSGATE_HTTP__BODY_READ_TIMEOUT_SECS", "4")]);
    let (_, key) = server.account("acme", 10).await;
    let (before, _) = server.rss_kib();
    let addr = address(&server);
    let chunk = vec![b'a'; 1024 * 1024];
    let mut held = Vec::new();
    for _ in 0..60 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        // An 8 MiB form for the smsmanager simple API, key in the body.
        let head = format!(
            "POST /v2/simple/message HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            8 * 1024 * 1024
        );
        s.write_all(head.as_bytes()).await.unwrap();
        // Seven of the eight MiB, then nothing (a refused upload's socket
        // may be closed under the writer).
        for _ in 0..7 {
            if tokio::time::timeout(Duration::from_millis(500), s.write_all(&chunk))
                .await
                .map_or(true, |r| r.is_err())
            {
                break;
            }
        }
        held.push(s);
    }
    assert_eq!(healthz(&server).await, StatusCode::OK);
    let (_, peak) = server.rss_kib();
    assert!(
        peak < before + 150 * 1024,
        "peak RSS {peak} KiB from {before} KiB (unbounded: 60 x 7 MiB)"
    );
    // A client with its key in the headers is not held up by strangers.
    let (status, _) = server
        .post(&key, "/v1/messages", text_to("+31612345678"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drop(held);
}

/// A request of one face with a key.
type Face = Box<dyn Fn(&str) -> reqwest::RequestBuilder>;

#[tokio::test(flavor = "multi_thread")]
async fn requests_over_a_key_s_limit_get_429_with_rate_limit_headers_on_every_face() {
    let server = Server::start_with(&[
        ("SMSGATE_ENGINE__LIMITS__PER_KEY__BURST", "3"),
        ("SMSGATE_ENGINE__LIMITS__PER_KEY__PER_MINUTE", "1"),
        ("SMSGATE_ENGINE__LIMITS__PER_ADDRESS__BURST", "40"),
        ("SMSGATE_ENGINE__LIMITS__PER_ADDRESS__PER_MINUTE", "1"),
    ]);
    let client = http_client(Duration::from_secs(5));
    // One fresh key per face, each used until refused.
    let faces: Vec<(&str, Face)> = vec![
        ("native", {
            let (c, u) = (client.clone(), server.url("/v1/balance"));
            Box::new(move |k: &str| c.get(&u).bearer_auth(k))
        }),
        ("ultimate", {
            let (c, u) = (client.clone(), server.url("/api/http/balance"));
            Box::new(move |k: &str| c.get(format!("{u}?api_token={k}")))
        }),
        ("thesmspoint", {
            let (c, u) = (client.clone(), server.url("/api/v1/get-sms-balance"));
            Box::new(move |k: &str| c.get(&u).header("key", k))
        }),
        ("smsmanager", {
            let (c, u) = (client.clone(), server.url("/v2/message"));
            Box::new(move |k: &str| c.post(&u).header("x-api-key", k).json(&json!({})))
        }),
        ("action", {
            let (c, u) = (client.clone(), server.url("/api/v1/action"));
            Box::new(move |k: &str| c.post(&u).header("x-api-key", k).json(&json!({})))
        }),
    ];
    for (i, (face, request)) in faces.iter().enumerate() {
        let (_, key) = server.account(&format!("acme{i}"), 10).await;
        let mut refused = None;
        for _ in 0..6 {
            let r = request(&key).send().await.unwrap();
            if r.status() == StatusCode::TOO_MANY_REQUESTS {
                refused = Some(r);
                break;
            }
        }
        let r = refused.unwrap_or_else(|| panic!("{face}: never limited"));
        for h in [
            "retry-after",
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
        ] {
            assert!(r.headers().contains_key(h), "{face}: no {h}");
        }
        assert_eq!(r.headers()["ratelimit-limit"], "3", "{face}");
        let body: Value = r.json().await.unwrap();
        assert!(body.is_object(), "{face}: its own error shape: {body}");
    }
    // Without a key, the client address has its own limit.
    let mut limited = false;
    for _ in 0..60 {
        let r = client.get(server.url("/v1/balance")).send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
            limited = true;
            break;
        }
    }
    assert!(limited, "anonymous requests are limited per address");
    assert_eq!(
        healthz(&server).await,
        StatusCode::OK,
        "health is never limited"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn smsmanager_many_requests_are_all_or_nothing_on_credits() {
    let server = Server::start();
    let (_, key) = server.account("acme", 2).await;
    let request = |to: &str| json!({"body": "hi", "sender": "Acme", "to": [{"phone_number": to}]});
    let r = server
        .http
        .post(server.url("/v2/messages"))
        .header("x-api-key", &key)
        .json(&json!([
            request("+31612345671"),
            request("+31612345672"),
            request("+31612345673")
        ]))
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    assert_eq!(server.balance(&key).await, 2, "nothing charged");
    let (_, messages) = server.get(&key, "/v1/messages").await;
    assert!(
        messages["data"].as_array().unwrap().is_empty(),
        "nothing stored: {messages}"
    );
    // Two fit.
    let r = server
        .http
        .post(server.url("/v2/messages"))
        .header("x-api-key", &key)
        .json(&json!([request("+31612345671"), request("+31612345672")]))
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"].as_array().unwrap().len(), 2);
    assert_eq!(server.balance(&key).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_of_a_running_server_is_whole_and_an_unusable_database_is_named() {
    let server = Server::start();
    let (_, key) = server.account("acme", 10).await;
    for i in 0..3 {
        let (status, _) = server
            .post(&key, "/v1/messages", text_to(&format!("+3161234567{i}")))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let out = std::process::Command::new(crate::support::binary())
        .arg("backup")
        .arg(&copy)
        .arg("--db")
        .arg(server.db())
        .env("SMSGATE_ADMIN_TOKEN", crate::support::ADMIN_TOKEN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The copy is a database of its own with what was accepted.
    let listed = std::process::Command::new(crate::support::binary())
        .args(["accounts", "list", "--db"])
        .arg(&copy)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("\"acme\""), "{text}");
    assert!(
        text.contains("\"balance\":\"7.0000\"") || text.contains("\"balance\": \"7.0000\""),
        "{text}"
    );
    // Never over an existing file.
    let again = std::process::Command::new(crate::support::binary())
        .arg("backup")
        .arg(&copy)
        .arg("--db")
        .arg(server.db())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // A database that cannot be used is named, with what is wrong.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 8192]).unwrap();
    for (db, says) in [
        (junk, "is not an SQLite database"),
        (
            dir.path().join("no/such/dir/x.db"),
            "cannot be opened or created",
        ),
    ] {
        let out = std::process::Command::new(crate::support::binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .env("SMSGATE_ADMIN_TOKEN", crate::support::ADMIN_TOKEN)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{}: {err}", db.display());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn protected_sender_ids_need_their_registration_approved() {
    let server = Server::start();
    let (id, key) = server.account("acme", 10).await;
    let from = |sender: &str| json!({"to": "+31612345678", "from": sender, "text": "Your account is locked"});
    for sender in ["PayPal", "PAYPA1", "112", "DHL"] {
        let (status, body) = server.post(&key, "/v1/messages", from(sender)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{sender}: {body}");
        assert_eq!(body["errors"][0]["field"], "from", "{body}");
        assert!(body.to_string().contains("protected"), "{body}");
    }
    // Through a dialect as well, in its own shape.
    let r = server
        .http
        .get(server.url(&format!(
            "/api/http/sms/send?api_token={key}&recipient=31612345678&sender_id=PayPal&message=hi"
        )))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(server.balance(&key).await, 10, "nothing charged");
    // Registered, then approved by the operator: allowed.
    let (status, sender) = server
        .post(&key, "/v1/senders", json!({"sender_id": "PayPal"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sender}");
    let (status, _) = server.post(&key, "/v1/messages", from("PayPal")).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "pending is not approved"
    );
    let (status, _) = server
        .admin(
            reqwest::Method::POST,
            &format!(
                "/admin/v1/senders/{}/approve",
                sender["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server.post(&key, "/v1/messages", from("PayPal")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let _ = id;
    // Ordinary names need nothing.
    let (status, _) = server.post(&key, "/v1/messages", from("Acme")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_may_have_its_own_request_limit() {
    let server = Server::start();
    let (id, key) = server.account("acme", 10).await;
    let (_, other) = server.account("other", 10).await;
    let patch = |body: Value| server.patch_account(id, body);
    let (status, body) = patch(json!({"rate_limit": {"burst": 0, "per_minute": 5}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = patch(json!({"rate_limit": {"burst": 2, "per_minute": 1}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rate_limit"]["burst"], 2);
    let client = http_client(Duration::from_secs(5));
    let balance = |k: &str| client.get(server.url("/v1/balance")).bearer_auth(k).send();
    for _ in 0..2 {
        assert_eq!(balance(&key).await.unwrap().status(), StatusCode::OK);
    }
    let refused = balance(&key).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["ratelimit-limit"], "2");
    assert_eq!(
        balance(&other).await.unwrap().status(),
        StatusCode::OK,
        "others keep theirs"
    );
    // Back to the server's default.
    let (status, body) = patch(json!({ "rate_limit": null })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["rate_limit"].is_null());
    assert_eq!(balance(&key).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_stops_arriving_is_answered_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start_with(&[("SMSGATE_HTTP__BODY_READ_TIMEOUT_SECS", "1")]);
    let (_, key) = server.account("acme", 10).await;
    // The native API, and a dialect in its own shape.
    for (head, says) in [
        (
            format!(
                "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"to\":"
            ),
            "request-timeout",
        ),
        (
            format!(
                "POST /v2/message HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"body\":"
            ),
            "did not arrive in time",
        ),
    ] {
        let mut s = tokio::net::TcpStream::connect(address(&server))
            .await
            .unwrap();
        s.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut answer))
            .await
            .expect("an answer, not a hang")
            .unwrap();
        let text = String::from_utf8_lossy(&answer[..n]);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains(says), "{text}");
    }
    assert_eq!(server.balance(&key).await, 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn destinations_out_of_reach_and_pumped_ranges_are_refused_with_their_own_codes() {
    let server = Server::start_with(&[
        ("SMSGATE_ENGINE__VELOCITY__PER_PREFIX__PER_MINUTE", "2"),
        ("SMSGATE_ENGINE__VELOCITY__PER_PREFIX__BLOCK_SECS", "600"),
    ]);
    let (id, key) = server.account("acme", 100).await;
    let patch = |body: Value| server.patch_account(id, body);
    // Bad settings are refused by name and change nothing.
    for (body, field) in [
        (json!({"allowed_countries": ["XX"]}), "allowed_countries"),
        (
            json!({"allowed_number_types": ["mobile"]}),
            "allowed_number_types",
        ),
        (
            json!({"allowed_number_types": ["premium"]}),
            "allowed_number_types",
        ),
        (
            json!({"velocity": {"per_prefix": {"per_minute": 5, "block_secs": 0},
                                "per_account": {"per_minute": 0, "block_secs": 0}}}),
            "velocity",
        ),
    ] {
        let (status, answer) = patch(body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{answer}");
    }
    let (_, account) = server
        .admin(
            reqwest::Method::GET,
            &format!("/admin/v1/accounts/{id}"),
            None,
        )
        .await;
    assert!(account["allowed_countries"].is_null(), "{account}");
    assert_eq!(account["allowed_number_types"], json!([]));

    // By default a premium-rate number is refused, with its code.
    let premium = "+449098790000";
    let (status, body) = server.post(&key, "/v1/messages", text_to(premium)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["rejected"][0]["code"], "number-type-not-allowed",
        "{body}"
    );
    // The action dialect has its own code for it.
    let action = |to: &str| {
        server
            .http
            .post(server.url("/api/v1/action"))
            .header("x-api-key", &key)
            .json(&json!({"action": "sendsms", "message-text": "Hi", "to": to, "from": "00000"}))
            .send()
    };
    let (status, body) = read(action(premium).await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error-code"], "E125", "{body}");

    // NL only, premium rate allowed: the settings show as set.
    let (status, account) = patch(json!({"allowed_countries": ["nl"],
                                         "allowed_number_types": ["premium-rate"]}))
    .await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(account["allowed_countries"], json!(["NL"]));
    assert_eq!(account["allowed_number_types"], json!(["premium-rate"]));
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": ["+31906123456", premium], "from": "Acme", "text": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["rejected"][0]["code"], "country-not-allowed", "{body}");

    // Two messages a minute to +316100…, then that range is blocked.
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": ["+31610000001", "+31610000002", "+31610000003"],
                   "from": "Acme", "text": "code 1234"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);
    assert_eq!(body["rejected"][0]["code"], "velocity-limited", "{body}");
    let (status, body) = read(action("+31610000004").await.unwrap()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error-code"], "E151", "{body}");
    let (status, _) = server
        .post(&key, "/v1/messages", text_to("+31620000001"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "other ranges still reach");
    // Refusals and blocks are counted.
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("smsgate_velocity_blocks_total{scope=\"prefix\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("smsgate_recipients_refused_total{reason=\"number-type-not-allowed\"}"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_in_the_query_are_not_anonymous_and_anonymous_429s_keep_each_face_s_shape() {
    let server = Server::start_with(&[
        ("SMSGATE_ENGINE__LIMITS__PER_ADDRESS__BURST", "3"),
        ("SMSGATE_ENGINE__LIMITS__PER_ADDRESS__PER_MINUTE", "1"),
    ]);
    let (_, key) = server.account("acme", 10).await;
    let client = http_client(Duration::from_secs(5));
    // A client of the ultimate dialect puts its token in the query: it is
    // limited by its key, not as an anonymous address.
    for _ in 0..6 {
        let r = client
            .get(server.url(&format!("/api/http/balance?api_token={key}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = client
            .get(server.url(&format!("/v2/simple/message?apikey=x%2C{key}&phone_number=31612345678&message=hi&sender=Acme")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    }
    // Requests without a key use up the address's three.
    for _ in 0..3 {
        let r = client
            .get(server.url("/api/http/balance"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Then each face refuses in its own shape.
    let shapes: [(reqwest::RequestBuilder, &str, Value); 6] = [
        (
            client.get(server.url("/api/http/balance")),
            "ultimate",
            json!({"status": "error", "message": "Too Many Attempts."}),
        ),
        (
            client.get(server.url("/api/v1/get-sms-balance")),
            "thesmspoint",
            json!({"status": "error", "message": "Too Many Requests"}),
        ),
        (
            client.post(server.url("/v2/message")).json(&json!({})),
            "smsmanager",
            json!({"status": 429, "error": "too many requests"}),
        ),
        (
            client.get(server.url("/API/v1.0/REST/login?username=a&password=b")),
            "session",
            json!({"result": "KO", "error": "too many requests"}),
        ),
        (
            client.post(server.url("/api/v1/action")).json(&json!({})),
            "action",
            json!("E150"),
        ),
        (
            client.get(server.url("/v1/balance")),
            "native",
            json!("/problems/rate-limited"),
        ),
    ];
    for (request, face, expected) in shapes {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{face}");
        assert!(r.headers().contains_key("retry-after"), "{face}");
        let body: Value = r.json().await.unwrap();
        match face {
            "action" => assert_eq!(body["error-code"], expected, "{face}: {body}"),
            "native" => assert!(
                body["type"]
                    .as_str()
                    .unwrap()
                    .ends_with(expected.as_str().unwrap()),
                "{face}: {body}"
            ),
            _ => assert_eq!(body, expected, "{face}"),
        }
    }
}
