//! API keys limited to client networks: refused from elsewhere, on the
//! native API and the dialects alike, until the limit includes the client.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, read, text_to};

async fn ultimate(server: &Server, key: &str) -> (StatusCode, Value) {
    let r = server
        .http
        .post(server.url("/api/http/sms/send"))
        .json(&json!({"api_token": key, "recipient": "31612345678", "sender_id": "Acme", "type": "plain", "message": "hi"}))
        .send()
        .await
        .unwrap();
    read(r).await
}

#[tokio::test]
async fn a_key_works_only_from_its_networks() {
    let server = Server::start();
    let (id, _) = server.account("acme", 100).await;
    // A bad network, an empty list, too many: refused, and no key made
    // (an empty list used to make the key, then refuse the list).
    let too_many: Vec<String> = (0..101).map(|i| format!("10.0.{i}.0/24")).collect();
    for bad in [json!(["10.0.0.0/33"]), json!([]), json!(too_many)] {
        let (status, body) = server
            .admin(
                Method::POST,
                &format!("/admin/v1/accounts/{id}/keys"),
                Some(json!({ "allowed_ips": bad })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (_, keys) = server
            .admin(Method::GET, &format!("/admin/v1/accounts/{id}/keys"), None)
            .await;
        assert_eq!(
            keys["data"].as_array().unwrap().len(),
            1,
            "the bad request {bad} made no key"
        );
    }

    let (status, key) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/keys"),
            Some(json!({"label": "office", "allowed_ips": ["10.0.0.0/8", "2001:db8::/32"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    assert_eq!(key["allowed_ips"], json!(["10.0.0.0/8", "2001:db8::/32"]));
    let secret = key["api_key"].as_str().unwrap().to_string();

    // The tests connect from 127.0.0.1: refused everywhere.
    let (status, body) = server
        .post(&secret, "/v1/messages", text_to("+31612345678"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .ends_with("address-not-allowed"),
        "{body}"
    );
    let (status, body) = ultimate(&server, &secret).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["status"], "error");
    let r = server
        .http
        .post(server.url("/api/v1/action"))
        .header("x-api-key", &secret)
        .json(&json!({"action": "sendsms", "message-text": "hi", "to": "+447911123456", "from": "00000"}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error-code"], "E108", "{body}");
    assert_eq!(
        server.balance(&key_of(&server, id).await).await,
        100,
        "nothing sent"
    );

    // Let loopback in.
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/keys/{}", key["id"]),
            Some(json!({"allowed_ips": ["127.0.0.1"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server
        .post(&secret, "/v1/messages", text_to("+31612345678"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, _) = ultimate(&server, &secret).await;
    assert_eq!(status, StatusCode::OK);
    // And lift the limit.
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/keys/{}", key["id"]),
            Some(json!({"allowed_ips": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["allowed_ips"].is_null());
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/keys/{}", key["id"]),
            Some(json!({"allowed_ips": ["nope"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

/// A fresh unrestricted key of the account, to read its balance.
async fn key_of(server: &Server, id: i64) -> String {
    let (_, key) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/keys"),
            Some(json!({})),
        )
        .await;
    key["api_key"].as_str().unwrap().to_string()
}
