//! Health, readiness, metrics and the OpenAPI document.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Server, text_to};

#[tokio::test]
async fn health_readiness_metrics_and_openapi() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    let (_, body) = s.post(&key, "/v1/messages", text_to("+31612345678")).await;
    s.wait_for(
        &key,
        body["messages"][0]["id"].as_str().unwrap(),
        "delivered",
    )
    .await;

    let r = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(
        (r.status(), r.text().await.unwrap()),
        (StatusCode::OK, "ok".to_string())
    );
    let ready: Value = s
        .http
        .get(s.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert!(ready["queue"]["queued"].is_number());

    let metrics = s.metrics().await;
    for name in [
        "smsgate_messages_accepted_total 1",
        "smsgate_message_transitions_total{status=\"delivered\"} 1",
        "smsgate_http_request_duration_seconds_bucket",
        "smsgate_intake_group_requests",
        "smsgate_receipts_total",
        // Described, and there before their first event.
        "# HELP smsgate_messages_accepted_total Messages accepted",
        "smsgate_login_failures_total 0",
        "smsgate_message_transitions_total{status=\"expired\"} 0",
        "smsgate_build_info{version=\"",
    ] {
        assert!(metrics.contains(name), "metrics lack {name}:\n{metrics}");
    }

    let doc: Value = s
        .http
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/messages",
        "/v1/messages/{id}",
        "/v1/messages/preview",
        "/v1/batches",
        "/v1/batches/{id}",
        "/v1/balance",
        "/admin/v1/accounts",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());

    // The readable reference: an index and a page per face, self-contained.
    let page = |path: &'static str| {
        let s = &s;
        async move {
            let r = s.http.get(s.url(path)).send().await.unwrap();
            let status = r.status().as_u16();
            let kind = r.headers()[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_string();
            (status, kind, r.text().await.unwrap())
        }
    };
    let (status, kind, index) = page("/docs").await;
    assert_eq!((status, kind.as_str()), (200, "text/html; charset=utf-8"));
    for face in [
        "native",
        "ultimate",
        "thesmspoint",
        "action",
        "smsmanager",
        "session",
    ] {
        assert!(index.contains(&format!("href=\"/docs/{face}\"")), "{index}");
    }
    let (status, _, session) = page("/docs/session").await;
    assert_eq!(status, 200);
    assert!(session.contains("<code>/smshistory</code>") && !session.contains("src=\"http"));
    assert_eq!(page("/docs/kannel").await.0, 404);
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_one_message_its_location() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    // A new id when the client sends none, the client's when it does, on
    // answers of every kind.
    let r = s
        .http
        .post(s.url("/v1/messages"))
        .bearer_auth(&key)
        .json(&text_to("+31612345678"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED);
    let generated = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(generated.len(), 32, "{generated}");
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "/v1/messages/{}",
            body["messages"][0]["id"].as_str().unwrap()
        )
    );
    for (path, key) in [
        ("/v1/balance", key.as_str()),
        ("/v1/balance", "wrong"),
        ("/nope", ""),
    ] {
        let r = s
            .http
            .get(s.url(path))
            .bearer_auth(key)
            .header("x-request-id", "client-7")
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["x-request-id"],
            "client-7",
            "{path} {}",
            r.status()
        );
    }
    // A value that is no id is replaced.
    let r = s
        .http
        .get(s.url("/healthz"))
        .header("x-request-id", "x".repeat(500))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"].len(), 32);
    // Two recipients: no single Location.
    let r = s
        .http
        .post(s.url("/v1/messages"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"to": ["+31612345678", "+31612345679"], "from": "Acme", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED);
    assert!(!r.headers().contains_key("location"));
}
