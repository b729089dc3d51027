//! The `ultimate` dialect (seed 000) as its own samples call it: JSON
//! POSTs, a GET with a query string, a GET with a JSON body, the
//! multiple-numbers sample with its `"schedule_time=…"` member, form and
//! multipart bodies; every documented error in the dialect's shape; the
//! message followed to `Delivered` through the dialect and seen the same
//! through the native API.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, read};

async fn call(
    server: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = server
        .http
        .request(method, server.url(path))
        .header("Accept", "application/json");
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    read(req.send().await.unwrap()).await
}

async fn raw(server: &Server, path: &str, content_type: &str, body: String) -> (StatusCode, Value) {
    let r = server
        .http
        .post(server.url(path))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    read(r).await
}

/// A day 40 days from now, `Y-m-d` (schedules must be within 366 days).
fn future_day() -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(40);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn report_fields_are_there(r: &Value) {
    for field in [
        "uid",
        "to",
        "from",
        "message",
        "status",
        "sms_count",
        "cost",
        "created_at",
    ] {
        assert!(!r[field].is_null(), "{field} missing in {r}");
    }
}

/// Polls `GET /api/http/sms/{uid}` (with the token in a JSON body, as the
/// sample does) until the report says `status`.
async fn wait_status(server: &Server, key: &str, uid: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, body) = call(
            server,
            Method::GET,
            &format!("/api/http/sms/{uid}"),
            Some(json!({"api_token": key})),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        if body["data"]["status"] == status {
            return body;
        }
        assert!(Instant::now() < deadline, "never {status}: {body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn the_seed_samples_send_and_follow_a_message_to_delivered() {
    let server = Server::start();
    let (_, key) = server.account("acme", 100).await;

    // "Example request for Single Number".
    let (status, body) = call(
        &server,
        Method::POST,
        "/api/http/sms/send",
        Some(json!({
            "api_token": key,
            "recipient": "31612345678",
            "sender_id": "YourName",
            "type": "plain",
            "message": "This is a test message"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "success");
    assert!(body["message"].is_string());
    let report = &body["data"];
    report_fields_are_there(report);
    assert_eq!(report["to"], "31612345678");
    assert_eq!(report["from"], "YourName");
    assert_eq!(report["message"], "This is a test message");
    assert_eq!(report["sms_count"], 1);
    assert_eq!(report["cost"], 1);
    assert_eq!(report["type"], "plain");
    let uid = report["uid"].as_str().unwrap().to_string();

    // "View an SMS": a GET whose token is in a JSON body.
    let delivered = wait_status(&server, &key, &uid, "Delivered").await;
    assert_eq!(delivered["status"], "success");
    report_fields_are_there(&delivered["data"]);
    // The same message through the native API.
    let (_, native) = server.get(&key, &format!("/v1/messages/{uid}")).await;
    assert_eq!(native["status"], "delivered");
    assert_eq!(native["to"], "+31612345678");

    // "Example request for GET method": everything in the query string.
    let (status, body) = call(
        &server,
        Method::GET,
        &format!(
            "/api/http/sms/send?recipient=31612345679&sender_id=YourName&message=Hello%20there&type=unicode&api_token={key}"
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["type"], "unicode");
    assert_eq!(body["data"]["to"], "31612345679");

    // "Example request for Multiple Numbers", as written: its
    // `"schedule_time=…"` member and a date long past (sent at once, as
    // the original service would), and a second number that cannot be
    // valid (refused alone).
    let sample = format!(
        "{{\n  \"api_token\": \"{key}\",\n  \"recipient\": \"31612345678,880172145789\",\n  \"sender_id\": \"YourName\",\n  \"type\": \"plain\",\n  \"message\": \"This is a test message\",\n  \"schedule_time=2021-12-20 07:00\"\n}}"
    );
    let (status, body) = raw(&server, "/api/http/sms/send", "application/json", sample).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reports = body["data"].as_array().unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0]["schedule_time"].is_null(), "{body}");
    // The same with a time to come: scheduled.
    let day = future_day();
    let (_, later) = call(
        &server,
        Method::POST,
        "/api/http/sms/send",
        Some(json!({"api_token": key, "recipient": "31612345678", "sender_id": "YourName", "type": "plain", "message": "later", "schedule_time": format!("{day} 07:00")})),
    )
    .await;
    assert_eq!(later["data"]["status"], "Scheduled", "{later}");
    assert_eq!(later["data"]["schedule_time"], format!("{day} 07:00:00"));
    assert_eq!(body["rejected"][0]["to"], "880172145789");
    // Both valid: an array of two reports.
    let (status, body) = call(
        &server,
        Method::POST,
        "/api/http/sms/send",
        Some(json!({"api_token": key, "recipient": "31612345678, 447911123456", "sender_id": "31970100", "type": "plain", "message": "hi"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);

    // "View all messages": newest first, with the page fields.
    let (status, body) = call(
        &server,
        Method::GET,
        "/api/http/sms",
        Some(json!({"api_token": key})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = &body["data"];
    assert_eq!(page["total"], 6);
    assert_eq!(page["current_page"], 1);
    assert_eq!(page["last_page"], 1);
    assert_eq!(page["data"].as_array().unwrap().len(), 6);
    assert_eq!(page["data"][5]["uid"], uid.as_str(), "oldest last");
    let (_, body) = call(
        &server,
        Method::GET,
        &format!("/api/http/sms?api_token={key}&page=2&per_page=2"),
        None,
    )
    .await;
    assert_eq!(body["data"]["last_page"], 3);
    assert_eq!(body["data"]["from"], 3);
    assert_eq!(body["data"]["to"], 4);
    assert_eq!(body["data"]["data"].as_array().unwrap().len(), 2);

    let (_, body) = call(
        &server,
        Method::GET,
        &format!("/api/http/balance?api_token={key}"),
        None,
    )
    .await;
    assert_eq!(body["data"]["remaining_unit"], 100 - 6);
}

#[tokio::test]
async fn form_multipart_and_bearer_clients_are_understood() {
    let server = Server::start();
    let (_, key) = server.account("acme", 100).await;
    let form = format!(
        "api_token={key}&recipient=31612345678&sender_id=YourName&type=plain&message=From+a+form"
    );
    let (status, body) = raw(
        &server,
        "/api/http/sms/send",
        "application/x-www-form-urlencoded",
        form.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["message"], "From a form");
    // A form body sent with a JSON content type (a common client mistake).
    let (status, _) = raw(&server, "/api/http/sms/send", "application/json", form).await;
    assert_eq!(status, StatusCode::OK);
    // PHP's curl with an array: multipart/form-data.
    let boundary = "------------------------d74496d66958873e";
    let mut multipart = String::new();
    for (name, value) in [
        ("api_token", key.as_str()),
        ("recipient", "31612345678"),
        ("sender_id", "YourName"),
        ("type", "plain"),
        ("message", "From PHP"),
    ] {
        multipart.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    multipart.push_str(&format!("--{boundary}--\r\n"));
    let (status, body) = raw(
        &server,
        "/api/http/sms/send",
        &format!("multipart/form-data; boundary={boundary}"),
        multipart,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["message"], "From PHP");
    // The token as a bearer header.
    let r = server
        .http
        .post(server.url("/api/http/sms/send"))
        .bearer_auth(&key)
        .json(&json!({"recipient": "31612345678", "sender_id": "YourName", "type": "plain", "message": "bearer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_error_is_in_the_dialect_s_shape() {
    let server = Server::start();
    let (_, key) = server.account("acme", 1).await;
    let (_, other) = server.account("other", 10).await;
    let send = |body: Value| {
        let server = &server;
        async move { call(server, Method::POST, "/api/http/sms/send", Some(body)).await }
    };
    let good = json!({"api_token": key, "recipient": "31612345678", "sender_id": "YourName", "type": "plain", "message": "hi"});
    let with = |field: &str, value: Value| {
        let mut b = good.clone();
        b[field] = value;
        b
    };
    let without = |field: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(field);
        b
    };
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            without("api_token"),
            StatusCode::UNAUTHORIZED,
            "Unauthenticated.",
        ),
        (
            with("api_token", json!("255|nope")),
            StatusCode::UNAUTHORIZED,
            "Unauthenticated.",
        ),
        (
            without("recipient"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "The recipient field is required.",
        ),
        (
            without("sender_id"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "The sender_id field is required.",
        ),
        (
            without("type"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "The type field is required.",
        ),
        (
            without("message"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "The message field is required.",
        ),
        (
            with("type", json!("voice")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "plain or unicode",
        ),
        (
            with("sender_id", json!("WayTooLongSender")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "sender_id",
        ),
        (
            with("recipient", json!("12")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "No valid recipient",
        ),
        (
            with("schedule_time", json!("20 December")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Y-m-d H:i",
        ),
        (
            with("schedule_time", json!("2099-12-20 07:00")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "schedule_time",
        ),
        (
            with("message", json!("x".repeat(200))),
            StatusCode::PAYMENT_REQUIRED,
            "sms unit",
        ),
        (
            with("dlt_template_id", json!("nope")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "dlt_template_id",
        ),
    ];
    for (body, status, text) in cases {
        let (got, answer) = send(body.clone()).await;
        assert_eq!(got, status, "{body} -> {answer}");
        assert_eq!(answer["status"], "error", "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(text),
            "{text:?} not in {answer}"
        );
    }
    let (got, answer) = raw(
        &server,
        "/api/http/sms/send",
        "application/json",
        "{\"api_token\": ".into(),
    )
    .await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    assert_eq!(answer["status"], "error");
    // Nothing was charged for any of it.
    assert_eq!(server.balance(&key).await, 1);

    // Another account's message, or no message at all: not found.
    let (_, sent) = send(good.clone()).await;
    let uid = sent["data"]["uid"].as_str().unwrap();
    for (token, path) in [
        (other.as_str(), format!("/api/http/sms/{uid}")),
        (key.as_str(), "/api/http/sms/606812e63f78b".to_string()),
    ] {
        let (got, answer) = call(
            &server,
            Method::GET,
            &path,
            Some(json!({"api_token": token})),
        )
        .await;
        assert_eq!(got, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(answer["status"], "error");
    }
    let (_, list) = call(
        &server,
        Method::GET,
        &format!("/api/http/sms?api_token={other}"),
        None,
    )
    .await;
    assert_eq!(list["data"]["total"], 0);
}

#[tokio::test]
async fn local_times_and_templates() {
    let server = Server::start();
    let (id, key) = server.account("acme", 100).await;
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"timezone": "Mars/Base"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"timezone": "Asia/Kolkata"})),
        )
        .await;
    // India keeps +05:30 all year: 09:00 there is 03:30 UTC.
    let day = future_day();
    let (_, body) = call(
        &server,
        Method::POST,
        "/api/http/sms/send",
        Some(json!({"api_token": key, "recipient": "31612345678", "sender_id": "YourName", "type": "plain", "message": "later", "schedule_time": format!("{day} 09:00")})),
    )
    .await;
    assert_eq!(
        body["data"]["schedule_time"],
        format!("{day} 09:00:00"),
        "{body}"
    );
    let uid = body["data"]["uid"].as_str().unwrap();
    let (_, native) = server.get(&key, &format!("/v1/messages/{uid}")).await;
    assert_eq!(native["schedule_at"], format!("{day}T03:30:00.000Z"));

    // A DLT template bound to a sender, pending, then approved.
    let (status, sender) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/senders"),
            Some(json!({"sender_id": "ACME", "category": "otp", "purpose": "OTP"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sender}");
    assert_eq!(sender["status"], "pending");
    let (status, template) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/templates"),
            Some(json!({"name": "otp", "template_id": "1107161", "category": "otp", "sender_id": "ACME", "text": "Your OTP is {#var#}. Do not share it."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{template}");
    assert_eq!(template["status"], "pending");
    let send = |text: &str, sender: &str| {
        let body = json!({"api_token": key, "recipient": "31612345678", "sender_id": sender, "type": "plain", "message": text, "dlt_template_id": "1107161"});
        let server = &server;
        async move { call(server, Method::POST, "/api/http/sms/send", Some(body)).await }
    };
    let (status, body) = send("Your OTP is 123456. Do not share it.", "ACME").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"].as_str().unwrap().contains("not approved"),
        "{body}"
    );
    let (status, _) = server
        .admin(
            Method::POST,
            &format!(
                "/admin/v1/templates/{}/approve",
                template["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send("Your OTP is 123456. Do not share it.", "ACME").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send("Your OTP is 123456. Share it!", "ACME").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("does not match the template"),
        "{body}"
    );
    let (status, body) = send("Your OTP is 123456. Do not share it.", "OTHER").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("ACME"), "{body}");

    // An account that requires approved senders: ACME is not approved yet.
    server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"require_approved_sender": true})),
        )
        .await;
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+31612345678", "from": "ACME", "text": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("not approved"), "{body}");
    server
        .admin(
            Method::POST,
            &format!(
                "/admin/v1/senders/{}/approve",
                sender["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+31612345678", "from": "ACME", "text": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+31612345678", "from": "Unknown", "text": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("not registered"), "{body}");
}

#[tokio::test]
async fn a_switched_off_dialect_answers_404() {
    let server = Server::start_with(&[("SMSGATE_DIALECTS__ULTIMATE", "false")]);
    let (_, key) = server.account("acme", 10).await;
    let (status, _) = call(
        &server,
        Method::POST,
        "/api/http/sms/send",
        Some(json!({"api_token": key, "recipient": "31612345678", "sender_id": "YourName", "type": "plain", "message": "hi"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&server, Method::GET, "/openapi/ultimate.json", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let on = Server::start();
    let (status, doc) = call(&on, Method::GET, "/openapi/ultimate.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/api/http/sms/send"].is_object(), "{doc}");
}

// The same tests with the server on PostgreSQL.
crate::support::on_postgres!(the_seed_samples_send_and_follow_a_message_to_delivered,);
