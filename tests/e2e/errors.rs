//! Every bad input gets a specific 4xx problem and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, credits, read, text_to};

async fn raw(s: &Server, key: &str, body: &'static str) -> (StatusCode, Value) {
    read(
        s.http
            .post(s.url("/v1/messages"))
            .bearer_auth(key)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn problem(body: &Value, kind: &str) {
    assert_eq!(body["type"], format!("/problems/{kind}"), "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string() && body["status"].is_number(),
        "{body}"
    );
}

fn field_error<'a>(body: &'a Value, field: &str) -> &'a str {
    body["errors"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["field"] == field))
        .and_then(|e| e["reason"].as_str())
        .unwrap_or_else(|| panic!("no error for {field}: {body}"))
}

#[tokio::test]
async fn malformed_and_mistyped_bodies() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;

    let (status, body) = raw(&s, &key, "{\"to\": ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    problem(&body, "malformed-json");
    let r = s
        .http
        .post(s.url("/v1/messages"))
        .bearer_auth(&key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let (status, body) = raw(&s, &key, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    problem(&body, "malformed-json");
    let (status, body) = raw(
        &s,
        &key,
        "{\"to\":\"+31612345678\",\"from\":\"A\",\"text\":\"x\"} trailing",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = raw(&s, &key, r#"{"to": 31612345678, "from": "A", "text": "x"}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    problem(&body, "invalid-request");
    assert!(field_error(&body, "to").contains("phone number"));
    let (_, body) = raw(
        &s,
        &key,
        r#"{"to": "+31612345678", "from": "A", "text": "x", "validity": "soon"}"#,
    )
    .await;
    assert!(field_error(&body, "validity").contains("invalid type"));
    let (_, body) = raw(
        &s,
        &key,
        r#"{"to": "+31612345678", "from": "A", "text": "x", "encoding": "latin1"}"#,
    )
    .await;
    assert!(field_error(&body, "encoding").contains("unknown variant"));
    let (_, body) = raw(
        &s,
        &key,
        r#"{"to": "+31612345678", "from": "A", "txt": "x"}"#,
    )
    .await;
    assert!(
        field_error(&body, "txt").contains("unknown field"),
        "{body}"
    );
    assert_eq!(s.balance(&key).await, 10);
}

#[tokio::test]
async fn invalid_fields_name_the_field_and_reason() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"to": "+31612345678", "from": "Acme", "text": ""}),
            "text",
            "empty",
        ),
        (
            json!({"to": "+31612345678", "from": "Acme"}),
            "text",
            "required",
        ),
        (
            json!({"to": "+31612345678", "from": "Acme", "text": "a".repeat(153 * 10 + 1)}),
            "text",
            "11 parts",
        ),
        (
            json!({"to": "+31612345678", "from": "Acme", "text": "☺", "encoding": "gsm7"}),
            "text",
            "GSM-7",
        ),
        (
            json!({"to": "+31612345678", "from": "TwelveChars1", "text": "x"}),
            "from",
            "11",
        ),
        (
            json!({"to": "+31612345678", "text": "x"}),
            "from",
            "required",
        ),
        (
            json!({"to": [], "from": "Acme", "text": "x"}),
            "to",
            "at least one",
        ),
        (json!({"from": "Acme", "text": "x"}), "to", "at least one"),
        (
            json!({"to": "+31612345678", "from": "Acme", "text": "x", "schedule_at": "2020-01-01T00:00:00Z"}),
            "schedule_at",
            "past",
        ),
        (
            json!({"to": "+31612345678", "from": "Acme", "text": "x", "schedule_at": "tomorrow"}),
            "schedule_at",
            "RFC 3339",
        ),
        (
            json!({"to": "+31612345678", "from": "Acme", "text": "x", "validity": 5}),
            "validity",
            "between",
        ),
        (
            json!({"to": "+31612345678", "from": "Acme", "text": "x", "reference": "r".repeat(129)}),
            "reference",
            "128",
        ),
    ];
    for (body, field, reason) in cases {
        let (status, answer) = s.post(&key, "/v1/messages", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} -> {answer}"
        );
        problem(&answer, "invalid-request");
        let got = field_error(&answer, field);
        assert!(got.contains(reason), "{field}: {got:?} lacks {reason:?}");
    }
    let too_many: Vec<String> = (0..1001).map(|i| format!("+3161{:07}", i)).collect();
    let (status, answer) = s
        .post(
            &key,
            "/v1/messages",
            json!({"to": too_many, "from": "A", "text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&answer, "to").contains("at most 1000"));
    assert_eq!(s.balance(&key).await, 10);
}

#[tokio::test]
async fn invalid_and_duplicate_numbers() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    let (status, body) = s
        .post(
            &key,
            "/v1/messages",
            json!({"to": ["+3161", "abc", "0612345678"], "from": "A", "text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    problem(&body, "no-valid-recipient");
    let reasons: Vec<_> = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons[0].contains("short") || reasons[0].contains("valid"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("'a'"));
    assert!(reasons[2].contains("default country"));
    let (_, body) = s
        .post(
            &key,
            "/v1/messages",
            json!({"to": ["+31612345678", "+31 6 12345678"], "from": "A", "text": "x"}),
        )
        .await;
    assert_eq!(body["rejected"][0]["reason"], "duplicate recipient");
    assert_eq!(s.balance(&key).await, 9);
}

#[tokio::test]
async fn national_numbers_use_the_default_country() {
    let s = Server::start();
    let (status, body) = s
        .admin(
            Method::POST,
            "/admin/v1/accounts",
            Some(json!({"name": "nl", "credits": 5, "default_country": "nl"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let key = body["api_key"].as_str().unwrap();
    let (status, body) = s.post(key, "/v1/messages", text_to("06 1234 5678")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["messages"][0]["to"], "+31612345678");
}

#[tokio::test]
async fn credits_body_size_and_unknown_ids() {
    let s = Server::start();
    let (_, key) = s.account("acme", 1).await;
    let (status, body) = s
        .post(
            &key,
            "/v1/messages",
            json!({"to": "+31612345678", "from": "A", "text": "a".repeat(200)}),
        )
        .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    problem(&body, "insufficient-credits");
    assert_eq!(
        (credits(&body["balance"]), credits(&body["needed"])),
        (Some(1), Some(2))
    );

    let huge = json!({"to": "+31612345678", "from": "A", "text": "a".repeat(300 * 1024)});
    let (status, body) = s.post(&key, "/v1/messages", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    problem(&body, "payload-too-large");

    for path in [
        "/v1/messages/01940000-0000-7000-8000-000000000000",
        "/v1/messages/not-an-id",
        "/v1/batches/nope",
    ] {
        let (status, body) = s.get(&key, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        problem(&body, "not-found");
    }
    let (status, _) = s
        .delete(&key, "/v1/messages/01940000-0000-7000-8000-000000000000")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = s.get(&key, "/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    problem(&body, "not-found");
    assert_eq!(s.balance(&key).await, 1);
}

#[tokio::test]
async fn bad_revoked_and_missing_keys_are_401() {
    let s = Server::start();
    let (id, key) = s.account("acme", 10).await;
    let (status, body) = s
        .post("sg_nope", "/v1/messages", text_to("+31612345678"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    problem(&body, "unauthorized");
    let r = s.http.get(s.url("/v1/balance")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");

    let (status, second) = s
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/keys"),
            Some(json!({"label": "ci"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let second_key = second["api_key"].as_str().unwrap();
    assert_eq!(s.balance(second_key).await, 10);
    let (status, _) = s
        .admin(
            Method::DELETE,
            &format!("/admin/v1/keys/{}", second["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s.get(second_key, "/v1/balance").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].as_str().unwrap().contains("revoked"));
    assert_eq!(s.balance(&key).await, 10, "the other key still works");

    let (status, _) = s
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s.post(&key, "/v1/messages", text_to("+31612345678")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    problem(&body, "account-disabled");
}

#[tokio::test]
async fn accounts_never_see_each_other() {
    let s = Server::start();
    let (_, alice) = s.account("alice", 10).await;
    let (_, bob) = s.account("bob", 10).await;
    let (_, body) = s.post(&alice, "/v1/messages", json!({"to": "+31612345678", "from": "A", "text": "secret", "schedule_at": "2026-12-31T00:00:00Z"})).await;
    let id = body["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = s.get(&bob, &format!("/v1/messages/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.to_string().contains("secret"));
    let (status, _) = s.delete(&bob, &format!("/v1/messages/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = s.get(&bob, "/v1/messages").await;
    assert_eq!(page["data"], json!([]));
    let (_, batch) = s
        .post(
            &alice,
            "/v1/batches",
            json!({"from": "A", "text": "x", "items": [{"to": "+31612345678"}]}),
        )
        .await;
    let (status, _) = s
        .get(
            &bob,
            &format!("/v1/batches/{}", batch["batch_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, m) = s.get(&alice, &format!("/v1/messages/{id}")).await;
    assert_eq!(m["status"], "scheduled");
}

#[tokio::test]
async fn admin_api_validates_and_needs_its_token() {
    let s = Server::start();
    let r = s
        .http
        .get(s.url("/admin/v1/accounts"))
        .bearer_auth("sg_customer_key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.account("acme", 10).await;
    let (status, body) = s
        .admin(
            Method::POST,
            "/admin/v1/accounts",
            Some(json!({"name": "acme"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    problem(&body, "name-taken");
    let (status, body) = s
        .admin(
            Method::POST,
            "/admin/v1/accounts",
            Some(json!({"name": "x", "credits": -5})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&body, "credits").contains("negative"));
    let (status, body) = s
        .admin(
            Method::POST,
            "/admin/v1/accounts",
            Some(json!({"name": "y", "default_country": "Narnia"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, list) = s.admin(Method::GET, "/admin/v1/accounts", None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let (status, body) = s
        .admin(
            Method::POST,
            "/admin/v1/accounts/1/credits",
            Some(json!({"amount": -11})),
        )
        .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    let (status, body) = s
        .admin(
            Method::POST,
            "/admin/v1/accounts/1/credits",
            Some(json!({"amount": 5, "note": "top-up"})),
        )
        .await;
    assert_eq!(
        (status, credits(&body["balance"])),
        (StatusCode::OK, Some(15))
    );
    let (status, _) = s
        .admin(
            Method::POST,
            "/admin/v1/accounts/99/credits",
            Some(json!({"amount": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, ledger) = s
        .admin(Method::GET, "/admin/v1/accounts/1/ledger", None)
        .await;
    assert_eq!(ledger["data"][0]["note"], "top-up");
}

#[tokio::test]
async fn prices_by_longest_prefix() {
    let s = Server::start();
    let (_, key) = s.account("acme", 100).await;
    for (prefix, price) in [("", 2), ("31", 3), ("316", 5)] {
        let (status, body) = s
            .admin(
                Method::PUT,
                "/admin/v1/prices",
                Some(json!({"prefix": prefix, "price": price})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = s
        .admin(
            Method::PUT,
            "/admin/v1/prices",
            Some(json!({"prefix": "+31", "price": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let body =
        json!({"to": ["+31612345678", "+31201234567", "+447911123456"], "from": "A", "text": "x"});
    let (_, body) = s.post(&key, "/v1/messages/preview", body).await;
    let costs: Vec<_> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| credits(&m["cost"]).unwrap())
        .collect();
    assert_eq!(costs, [5, 3, 2]);
    let (status, _) = s
        .admin(Method::DELETE, "/admin/v1/prices?prefix=316", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = s.post(&key, "/v1/messages", text_to("+31612345678")).await;
    assert_eq!(body["messages"][0]["cost"], "3.0000");
}

#[tokio::test]
async fn priority_is_between_0_and_10() {
    let s = crate::support::Server::start();
    let (_, key) = s.account("acme", 10).await;
    let mut body = crate::support::text_to("+31612345678");
    body["priority"] = serde_json::json!(11);
    let (status, answer) = s.post(&key, "/v1/messages", body.clone()).await;
    assert_eq!(
        status,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "{answer}"
    );
    assert!(answer.to_string().contains("priority"), "{answer}");
    body["priority"] = serde_json::json!(10);
    let (status, answer) = s.post(&key, "/v1/messages", body).await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{answer}");
    assert_eq!(s.balance(&key).await, 9);
}
