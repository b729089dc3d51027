//! The `action` dialect (seed 003) as its examples call it, with what it
//! relies on: campaigns and "enforce campaign check", from-mask, click
//! tracking through smsgate's own short links, postbacks with the
//! tracking-id, and the error-code table.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::receiver::{Answer, Receiver};
use crate::support::{LOCAL_RECEIVERS, Server, read};

const US: &str = "+14155552671";
const UK: &str = "+447911123456";

async fn action(server: &Server, key: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut req = server
        .http
        .post(server.url("/api/v1/action"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    read(req.send().await.unwrap()).await
}

#[tokio::test]
async fn the_examples_send_mask_track_clicks_and_check_campaigns() {
    let server = Server::start();
    let (id, key) = server.account("acme", 100).await;

    // Example 1.
    let (status, body) = action(
        &server,
        Some(&key),
        json!({"action": "sendsms", "message-text": "This message is sent for testing purposes only.", "to": US, "from": "00000"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Success");
    assert_eq!(body["to"], US);
    assert_eq!(body["from"], "00000");
    assert_eq!(
        body["status-details"],
        "SMS request accepted and queued for delivery"
    );
    let tracking = body["tracking-id"].as_str().unwrap();
    let m = server.wait_for(&key, tracking, "delivered").await;
    assert_eq!(m["from"], "00000");

    // Example 2, with its campaign created first and "SendSMS" in another
    // case. To +1 the mask is ignored; to the UK it is cut to 11.
    let (status, _) = server
        .post(
            &key,
            "/v1/campaigns",
            json!({"ref": "campaign2345", "name": "Spring"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let example2 = |to: &str| {
        json!({"action": "SendSMS", "message-text": "Visit https://www.fakeurl.com/ for more info.",
               "to": to, "from": "00000", "from-mask": "Dunder Mifflin", "campaign-ref": "campaign2345",
               "click-tracking": true})
    };
    let (status, us) = action(&server, Some(&key), example2(US)).await;
    assert_eq!(status, StatusCode::OK, "{us}");
    let (status, uk) = action(&server, Some(&key), example2(UK)).await;
    assert_eq!(status, StatusCode::OK, "{uk}");
    let us_id = us["tracking-id"].as_str().unwrap();
    let uk_id = uk["tracking-id"].as_str().unwrap();
    let (_, us_m) = server.get(&key, &format!("/v1/messages/{us_id}")).await;
    let (_, uk_m) = server.get(&key, &format!("/v1/messages/{uk_id}")).await;
    assert_eq!(us_m["from"], "00000");
    assert_eq!(uk_m["from"], "Dunder Miff");

    // The URL became a short link of this server, one per message, and
    // the short link is what was measured.
    let text = uk_m["text"].as_str().unwrap();
    let short = text.split_whitespace().nth(1).unwrap();
    assert!(short.starts_with(&server.url("/l/")), "{text}");
    assert_ne!(
        text,
        us_m["text"].as_str().unwrap(),
        "each message has its own link"
    );
    assert_eq!(uk_m["links"][0]["url"], "https://www.fakeurl.com/");
    assert_eq!(uk_m["clicks"], 0);
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Clicked five times from one address within a minute: every click
    // is redirected, one is counted (anonymous clicks cannot flood).
    for _ in 0..5 {
        let r = no_redirect.get(short).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()["location"], "https://www.fakeurl.com/");
    }
    let r = no_redirect
        .get(server.url("/l/nope1234"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, uk_m) = server.get(&key, &format!("/v1/messages/{uk_id}")).await;
    assert_eq!(uk_m["clicks"], 1);
    assert_eq!(uk_m["links"][0]["clicks"], 1);
    let (_, us_m) = server.get(&key, &format!("/v1/messages/{us_id}")).await;
    assert_eq!(us_m["clicks"], 0, "clicks count per message");
    let (_, events) = server.get(&key, "/v1/events?limit=500").await;
    let clicked: Vec<&Value> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "message.clicked")
        .collect();
    assert_eq!(clicked.len(), 1);
    assert_eq!(clicked[0]["data"]["message"]["id"], uk_id);
    assert_eq!(clicked[0]["data"]["detail"], "https://www.fakeurl.com/");

    // Without "Enforce Campaign Check" a campaign-ref is a label: one that
    // names no campaign is accepted and recorded on the message.
    let labelled = json!({"action": "sendsms", "message-text": "Hi", "to": UK, "from": "00000",
                          "campaign-ref": "spring-sale"});
    let (status, body) = action(&server, Some(&key), labelled).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tracking = body["tracking-id"].as_str().unwrap();
    let (_, m) = server.get(&key, &format!("/v1/messages/{tracking}")).await;
    assert_eq!(m["campaign_ref"], "spring-sale", "{m}");

    // "Enforce Campaign Check": the reference is required and the number
    // must be subscribed.
    server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"enforce_campaign_check": true})),
        )
        .await;
    let plain = |campaign: Option<&str>| {
        let mut b = json!({"action": "sendsms", "message-text": "Hi", "to": UK, "from": "00000"});
        if let Some(c) = campaign {
            b["campaign-ref"] = json!(c);
        }
        b
    };
    for (campaign, code) in [
        (None, "E121"),
        (Some("nope"), "E122"),
        (Some("campaign2345"), "E123"),
    ] {
        let (status, body) = action(&server, Some(&key), plain(campaign)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error-code"], code, "{body}");
        assert_eq!(body["status"], "Failure");
    }
    let (status, body) = server
        .post(
            &key,
            "/v1/campaigns/campaign2345/subscribers",
            json!({"numbers": [UK, "nope"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["added"], 1);
    assert_eq!(body["invalid"][0]["line"], 2);
    let (status, body) = action(&server, Some(&key), plain(Some("campaign2345"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = server.get(&key, "/v1/campaigns").await;
    assert_eq!(list["data"][0]["subscribers"], 1);
    let (status, _) = server
        .delete(
            &key,
            "/v1/campaigns/campaign2345/subscribers/%2B447911123456",
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = action(&server, Some(&key), plain(Some("campaign2345"))).await;
    assert_eq!(body["error-code"], "E123");
}

#[tokio::test(flavor = "multi_thread")]
async fn postbacks_carry_the_tracking_id() {
    let receiver = Receiver::start(Arc::new(|_| Answer::Status(200))).await;
    let server = Server::start_with(LOCAL_RECEIVERS);
    let (id, key) = server.account("acme", 100).await;
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"postback_url": "not a url"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"postback_url": receiver.url})),
        )
        .await;
    let (_, body) = action(
        &server,
        Some(&key),
        json!({"action": "sendsms", "message-text": "Hi", "to": UK, "from": "00000"}),
    )
    .await;
    let tracking = body["tracking-id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let statuses: HashSet<String> = receiver
            .delivered()
            .iter()
            .map(|r| {
                let p = r.json();
                assert_eq!(p["tracking-id"], tracking.as_str(), "{p}");
                assert_eq!(p["to"], UK);
                p["status"].as_str().unwrap().to_string()
            })
            .collect();
        if statuses.contains("Delivered") {
            assert!(
                statuses.contains("Queued") && statuses.contains("Sent"),
                "{statuses:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "{statuses:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_failure_has_its_code() {
    let server = Server::start();
    let (_, key) = server.account("acme", 1).await;
    server
        .post(&key, "/v1/suppressions", json!({"number": "+447911123457"}))
        .await;
    let ok = json!({"action": "sendsms", "message-text": "Hi", "to": UK, "from": "00000"});
    let with = |field: &str, value: Value| {
        let mut b = ok.clone();
        b[field] = value;
        b
    };
    let cases: Vec<(Option<&str>, Value, StatusCode, &str)> = vec![
        (None, ok.clone(), StatusCode::UNAUTHORIZED, "E101"),
        (Some("nope"), ok.clone(), StatusCode::UNAUTHORIZED, "E102"),
        (
            Some(&key),
            with("action", json!("sendmms")),
            StatusCode::BAD_REQUEST,
            "E104",
        ),
        (
            Some(&key),
            with("message-text", json!("")),
            StatusCode::BAD_REQUEST,
            "E105",
        ),
        (
            Some(&key),
            with("to", json!("12")),
            StatusCode::BAD_REQUEST,
            "E106",
        ),
        (
            Some(&key),
            with("from", json!("Acme")),
            StatusCode::BAD_REQUEST,
            "E111",
        ),
        (
            Some(&key),
            with("from-mask", json!("Bad*Mask")),
            StatusCode::BAD_REQUEST,
            "E111",
        ),
        (
            Some(&key),
            with("to", json!("+447911123457")),
            StatusCode::BAD_REQUEST,
            "E124",
        ),
        (
            Some(&key),
            with("message-text", json!("x".repeat(200))),
            StatusCode::PAYMENT_REQUIRED,
            "E130",
        ),
    ];
    for (k, body, status, code) in cases {
        let (got, answer) = action(&server, k, body.clone()).await;
        assert_eq!(got, status, "{body} -> {answer}");
        assert_eq!(answer["status"], "Failure");
        assert_eq!(answer["error-code"], code, "{answer}");
        assert!(answer["error-info"].is_string());
    }
    let (_, answer) = action(&server, Some(&key), with("from", json!("Acme"))).await;
    assert_eq!(answer["error-info"], "Invalid Sender.");
    assert_eq!(
        answer["to"], "447911123456",
        "as the document's failure example"
    );
    let r = server
        .http
        .post(server.url("/api/v1/action"))
        .header("x-api-key", &key)
        .body("{\"action\": ")
        .send()
        .await
        .unwrap();
    let (status, answer) = read(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error-code"], "E100");
    assert_eq!(server.balance(&key).await, 1, "nothing charged");
}

#[tokio::test]
async fn account_settings_have_their_codes() {
    let server = Server::start();
    let (id, key) = server.account("acme", 100).await;
    let ok = json!({"action": "sendsms", "message-text": "Hi", "to": UK, "from": "00000"});
    let expect = |answer: &Value, status: StatusCode, got: StatusCode, code: &str| {
        assert_eq!(got, status, "{code}: {answer}");
        assert_eq!(answer["error-code"], code, "{answer}");
        assert_eq!(answer["status"], "Failure");
    };
    // E107: more parts than the account allows.
    server.patch_account(id, json!({"max_parts": 1})).await;
    let mut long = ok.clone();
    long["message-text"] = json!("x".repeat(200));
    let (got, answer) = action(&server, Some(&key), long).await;
    expect(&answer, StatusCode::BAD_REQUEST, got, "E107");
    // E112: only approved senders, and 00000 is not registered.
    server
        .patch_account(id, json!({"require_approved_sender": true}))
        .await;
    let (got, answer) = action(&server, Some(&key), ok.clone()).await;
    expect(&answer, StatusCode::BAD_REQUEST, got, "E112");
    // E108: a key limited to other networks.
    let (status, limited) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/keys"),
            Some(json!({"allowed_ips": ["10.0.0.0/8"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{limited}");
    let (got, answer) = action(&server, limited["api_key"].as_str(), ok.clone()).await;
    expect(&answer, StatusCode::FORBIDDEN, got, "E108");
    // E103: the account is disabled.
    server
        .patch_account(id, json!({"status": "disabled"}))
        .await;
    let (got, answer) = action(&server, Some(&key), ok).await;
    expect(&answer, StatusCode::FORBIDDEN, got, "E103");
    let (_, account) = server
        .admin(Method::GET, &format!("/admin/v1/accounts/{id}"), None)
        .await;
    assert_eq!(account["balance"], "100.0000", "nothing charged");
}

// The same tests with the server on PostgreSQL.
crate::support::on_postgres!(the_examples_send_mask_track_clicks_and_check_campaigns,);
