//! All five dialects against one account: the same text costs the same
//! credits whichever face sent it, each message reaches `delivered` and
//! the native API shows it; a template refuses the same mismatch through
//! every face that takes one; another account's ids are not found; and
//! with every dialect switched off, every dialect path answers 404.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, read};

const TEXT: &str = "This is Alice";

async fn post(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (StatusCode, Value) {
    let mut req = server
        .http
        .post(server.url(path))
        .header("Content-Type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.body(body.to_string()).send().await.unwrap()).await
}

/// One message through each dialect, to `to`; the message ids.
async fn send_through_all(server: &Server, account: i64, key: &str, to: &str) -> Vec<String> {
    let digits = to.trim_start_matches('+');
    let mut ids = Vec::new();

    let (s, b) = post(server, "/api/http/sms/send", &[], json!({"api_token": key, "recipient": digits, "sender_id": "SENDER", "type": "plain", "message": TEXT})).await;
    assert_eq!(s, StatusCode::OK, "ultimate: {b}");
    ids.push(b["data"]["uid"].as_str().unwrap().to_string());

    // The session dialect's user key is the account id.
    let account = account.to_string();
    let (s, b) = post(
        server,
        "/sms",
        &[("user_key", &account), ("Access_token", key)],
        json!({"message": TEXT, "recipient": [to], "sender": "SENDER"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "session: {b}");
    let (_, list) = server
        .get(
            key,
            &format!(
                "/v1/messages?batch_id={}",
                b["internal_order_id"].as_str().unwrap()
            ),
        )
        .await;
    ids.push(list["data"][0]["id"].as_str().unwrap().to_string());

    let (s, b) = post(server, "/api/v1/send-single-sms", &[("key", key)], json!({"recipient": digits, "message": TEXT, "sender_id": "SENDER", "template_id": "TEMPLATE", "channel": 1, "is_unicode": 0})).await;
    assert_eq!(s, StatusCode::OK, "thesmspoint: {b}");
    ids.push(
        b["data"]["MessageData"][0]["message_id"]
            .as_str()
            .unwrap()
            .to_string(),
    );

    let (s, b) = post(
        server,
        "/api/v1/action",
        &[("x-api-key", key)],
        json!({"action": "sendsms", "message-text": TEXT, "to": to, "from": "12345"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "action: {b}");
    ids.push(b["tracking-id"].as_str().unwrap().to_string());

    let (s, b) = post(server, "/v2/message", &[("x-api-key", key)], json!({"body": TEXT, "to": [{"phone_number": digits}], "sender": "SENDER", "tag": "transactional"})).await;
    assert_eq!(s, StatusCode::OK, "smsmanager: {b}");
    let job = b["accepted"][0]["message_id"]
        .as_str()
        .unwrap()
        .trim_end_matches("-0")
        .to_string();
    let (_, list) = server
        .get(key, &format!("/v1/messages?batch_id={job}"))
        .await;
    ids.push(list["data"][0]["id"].as_str().unwrap().to_string());
    ids
}

async fn with_sender_and_template(server: &Server, id: i64) {
    let (_, sender) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/senders"),
            Some(json!({"sender_id": "SENDER"})),
        )
        .await;
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
    let (_, template) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/templates"),
            Some(json!({"name": "t", "template_id": "TEMPLATE", "sender_id": "SENDER", "text": "This is {#var#}"})),
        )
        .await;
    server
        .admin(
            Method::POST,
            &format!(
                "/admin/v1/templates/{}/approve",
                template["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
}

#[tokio::test]
async fn every_face_charges_alike_and_delivers_what_the_native_api_shows() {
    let server = Server::start();
    let (id, key) = server.account("acme", 100).await;
    with_sender_and_template(&server, id).await;
    // One price list: +44 costs 7 a segment on the standard route.
    let (status, body) = server
        .admin(
            reqwest::Method::PUT,
            "/admin/v1/prices",
            Some(json!({"prefix": "44", "price": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, quote) = server
        .post(
            &key,
            "/v1/messages/preview",
            json!({"to": "+447911123456", "from": "SENDER", "text": TEXT}),
        )
        .await;
    assert_eq!(quote["total_cost"], "7.0000", "{quote}");
    let mut ids = send_through_all(&server, id, &key, "+447911123456").await;
    assert_eq!(ids.len(), 5);
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+447911123456", "from": "SENDER", "text": TEXT}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    ids.push(body["messages"][0]["id"].as_str().unwrap().to_string());
    // One segment each, charged what the preview quoted, by every face.
    assert_eq!(server.balance(&key).await, 100 - 6 * 7);
    for id in &ids {
        let m = server.wait_for(&key, id, "delivered").await;
        assert_eq!(m["text"], TEXT);
        assert_eq!(m["segments"], 1);
        assert_eq!(m["cost"], "7.0000", "{m}");
        assert_eq!(m["to"], "+447911123456");
    }
    // Each face's own status call agrees.
    let r = server
        .http
        .get(server.url(&format!("/api/http/sms/{}?api_token={key}", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(read(r).await.1["data"]["status"], "Delivered");
    let (_, t) = post(
        &server,
        "/api/v1/sms-delivery-status",
        &[("key", &key)],
        json!({"message_id": ids[2]}),
    )
    .await;
    assert_eq!(t["data"]["status"], "Delivered", "{t}");

    // The same template mismatch is refused by every face that names one.
    let (s, b) = post(&server, "/api/http/sms/send", &[], json!({"api_token": key, "recipient": "447911123456", "sender_id": "SENDER", "type": "plain", "message": "Hello Alice", "dlt_template_id": "TEMPLATE"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("does not match the template")
    );
    let (s, b) = post(&server, "/api/v1/send-single-sms", &[("key", &key)], json!({"recipient": "447911123456", "message": "Hello Alice", "sender_id": "SENDER", "template_id": "TEMPLATE", "channel": 1, "is_unicode": 0})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("does not match the template")
    );
    let (s, b) = server
        .post(&key, "/v1/messages", json!({"to": "+447911123456", "from": "SENDER", "text": "Hello Alice", "template_id": "TEMPLATE"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b.to_string().contains("does not match the template"));
    assert_eq!(server.balance(&key).await, 58, "refusals cost nothing");
}

#[tokio::test]
async fn no_face_shows_another_account_s_messages() {
    let server = Server::start();
    let (id, key) = server.account("acme", 100).await;
    with_sender_and_template(&server, id).await;
    let ids = send_through_all(&server, id, &key, "+447911123456").await;
    let (_, other) = server.account("other", 100).await;
    for id in &ids {
        let (s, _) = server.get(&other, &format!("/v1/messages/{id}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let r = server
            .http
            .get(server.url(&format!("/api/http/sms/{id}?api_token={other}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let (s, b) = post(
            &server,
            "/api/v1/sms-delivery-status",
            &[("key", &other)],
            json!({"message_id": id}),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        assert_eq!(b["message"], "Invalid Message ID");
    }
    let (_, list) = server.get(&other, "/v1/messages").await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn switched_off_dialects_answer_404() {
    let server = Server::start_with(&[
        ("SMSGATE_DIALECTS__ULTIMATE", "false"),
        ("SMSGATE_DIALECTS__SESSION", "false"),
        ("SMSGATE_DIALECTS__THESMSPOINT", "false"),
        ("SMSGATE_DIALECTS__ACTION", "false"),
        ("SMSGATE_DIALECTS__SMSMANAGER", "false"),
    ]);
    let (_, key) = server.account("acme", 10).await;
    for (method, path) in [
        (Method::POST, "/api/http/sms/send"),
        (Method::GET, "/login?username=acme&password=x"),
        (Method::POST, "/sms"),
        (Method::POST, "/api/v1/send-single-sms"),
        (Method::POST, "/api/v1/action"),
        (Method::POST, "/v2/message"),
        (Method::GET, "/v2/simple/message"),
        (Method::GET, "/openapi/ultimate.json"),
        (Method::GET, "/openapi/session.json"),
        (Method::GET, "/openapi/thesmspoint.json"),
        (Method::GET, "/openapi/action.json"),
        (Method::GET, "/openapi/smsmanager.json"),
    ] {
        let r = server
            .http
            .request(method, server.url(path))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The native API is still there.
    assert_eq!(server.balance(&key).await, 10);
}

// The same tests with the server on PostgreSQL.
crate::support::on_postgres!(
    every_face_charges_alike_and_delivers_what_the_native_api_shows,
    no_face_shows_another_account_s_messages,
);
