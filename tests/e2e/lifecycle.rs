//! A message's life through the real server and the simulator.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Server, credits, text_to};

fn statuses(message: &serde_json::Value) -> Vec<String> {
    message["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn message_goes_from_accepted_to_delivered_and_is_charged_once() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    let (status, body) = s.post(&key, "/v1/messages", text_to("+31612345678")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let m = &body["messages"][0];
    assert_eq!(
        (
            m["to"].as_str(),
            m["status"].as_str(),
            m["segments"].as_i64()
        ),
        (Some("+31612345678"), Some("queued"), Some(1))
    );
    assert_eq!(
        (m["encoding"].as_str(), credits(&m["cost"])),
        (Some("gsm7"), Some(1))
    );
    assert_eq!(body["balance"], "9.0000");
    assert_eq!(body["rejected"], json!([]));

    let done = s
        .wait_for(&key, m["id"].as_str().unwrap(), "delivered")
        .await;
    assert_eq!(
        statuses(&done),
        ["accepted", "queued", "submitting", "sent", "delivered"]
    );
    assert_eq!(done["connector"], "simulator");
    assert!(done["carrier_id"].as_str().unwrap().starts_with("sim"));
    assert_eq!(done["error"], json!(null));
    assert_eq!(done["refunded"], false);
    assert_eq!(s.balance(&key).await, 9);
}

#[tokio::test]
async fn long_and_unicode_texts_are_charged_per_segment() {
    let s = Server::start();
    let (_, key) = s.account("acme", 100).await;
    let body = json!({"to": "+31612345678", "from": "Acme", "text": "a".repeat(161)});
    let (status, body) = s.post(&key, "/v1/messages", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        (
            body["messages"][0]["segments"].as_i64(),
            credits(&body["messages"][0]["cost"])
        ),
        (Some(2), Some(2))
    );
    let body = json!({"to": "+31612345678", "from": "Acme", "text": "Привет ".repeat(10)});
    let (_, body) = s.post(&key, "/v1/messages", body).await;
    assert_eq!(body["messages"][0]["encoding"], "ucs2");
    assert_eq!(body["messages"][0]["segments"], 1);
    assert_eq!(body["balance"], "97.0000");
}

#[tokio::test]
async fn partial_acceptance_charges_only_accepted_recipients() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    let body = json!({"to": ["+31612345678", "12", "+447911123456", "0031612345678"], "from": "Acme", "text": "hi"});
    let (status, body) = s.post(&key, "/v1/messages", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);
    let rejected = body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["to"], "12");
    assert_eq!(rejected[1]["reason"], "duplicate recipient");
    assert_eq!(body["balance"], "8.0000");
}

#[tokio::test]
async fn scheduled_message_waits_then_is_delivered() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = json!({"to": "+31612345678", "from": "Acme", "text": "later", "schedule_at": at});
    let (status, body) = s.post(&key, "/v1/messages", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["messages"][0]["status"], "scheduled");
    let id = body["messages"][0]["id"].as_str().unwrap().to_string();
    let (_, m) = s.get(&key, &format!("/v1/messages/{id}")).await;
    assert_eq!(m["status"], "scheduled");
    let done = s.wait_for(&key, &id, "delivered").await;
    assert_eq!(
        statuses(&done),
        [
            "accepted",
            "scheduled",
            "queued",
            "submitting",
            "sent",
            "delivered"
        ]
    );
    let queued_at = &done["history"][2]["at"];
    assert!(
        queued_at.as_str().unwrap() >= at.as_str().get(..19).unwrap(),
        "queued {queued_at} before {at}"
    );
}

#[tokio::test]
async fn canceling_a_scheduled_message_refunds_it() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    let body = json!({"to": "+31612345678", "from": "Acme", "text": "x".repeat(200), "schedule_at": "2099-01-01T00:00:00Z"});
    let (status, body) = s.post(&key, "/v1/messages", body).await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY,
        "more than 366 days ahead must be refused: {body}"
    );
    let at = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body =
        json!({"to": "+31612345678", "from": "Acme", "text": "x".repeat(200), "schedule_at": at});
    let (_, body) = s.post(&key, "/v1/messages", body).await;
    assert_eq!(body["balance"], "8.0000");
    let id = body["messages"][0]["id"].as_str().unwrap();

    let (status, body) = s.delete(&key, &format!("/v1/messages/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["status"].as_str(),
            credits(&body["refunded"]),
            credits(&body["balance"])
        ),
        (Some("canceled"), Some(2), Some(10))
    );
    let (_, m) = s.get(&key, &format!("/v1/messages/{id}")).await;
    assert_eq!(
        (m["status"].as_str(), m["refunded"].as_bool()),
        (Some("canceled"), Some(true))
    );

    let (status, body) = s.delete(&key, &format!("/v1/messages/{id}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["type"], "/problems/not-cancelable");
    assert_eq!(
        s.balance(&key).await,
        10,
        "a second cancel must not refund again"
    );

    let ledger = s
        .admin(reqwest::Method::GET, "/admin/v1/accounts/1/ledger", None)
        .await
        .1;
    let kinds: Vec<_> = ledger["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["refund", "debit", "topup"]);
}

#[tokio::test]
async fn sent_messages_cannot_be_canceled() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    let (_, body) = s.post(&key, "/v1/messages", text_to("+31612345678")).await;
    let id = body["messages"][0]["id"].as_str().unwrap();
    s.wait_for(&key, id, "delivered").await;
    let (status, body) = s.delete(&key, &format!("/v1/messages/{id}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("delivered"));
    assert_eq!(s.balance(&key).await, 9);
}

#[tokio::test]
async fn carrier_rejections_are_refunded_and_undelivered_are_not() {
    let s = Server::start_with(&[("SMSGATE_ENGINE__SIMULATOR__REJECTED_RATIO", "1")]);
    let (_, key) = s.account("acme", 10).await;
    let (_, body) = s.post(&key, "/v1/messages", text_to("+31612345678")).await;
    assert_eq!(body["balance"], "9.0000");
    let m = s
        .wait_for(
            &key,
            body["messages"][0]["id"].as_str().unwrap(),
            "rejected",
        )
        .await;
    assert_eq!(m["refunded"], true);
    assert!(m["error"].as_str().unwrap().contains("rejected"));
    assert_eq!(s.balance(&key).await, 10);

    let s = Server::start_with(&[("SMSGATE_ENGINE__SIMULATOR__UNDELIVERED_RATIO", "1")]);
    let (_, key) = s.account("acme", 10).await;
    let (_, body) = s.post(&key, "/v1/messages", text_to("+31612345678")).await;
    let m = s
        .wait_for(
            &key,
            body["messages"][0]["id"].as_str().unwrap(),
            "undelivered",
        )
        .await;
    assert_eq!(m["refunded"], false);
    assert_eq!(s.balance(&key).await, 9);
}

#[tokio::test]
async fn temporary_failures_are_retried_until_they_fail_and_are_refunded() {
    let s = Server::start_with(&[
        ("SMSGATE_ENGINE__SIMULATOR__TEMPORARY_FAILURE_RATIO", "1"),
        ("SMSGATE_ENGINE__DISPATCH__MAX_ATTEMPTS", "3"),
        ("SMSGATE_ENGINE__DISPATCH__RETRY_BASE_MS", "50"),
        ("SMSGATE_ENGINE__DISPATCH__POLL_MS", "20"),
    ]);
    let (_, key) = s.account("acme", 10).await;
    let (_, body) = s.post(&key, "/v1/messages", text_to("+31612345678")).await;
    let m = s
        .wait_for(&key, body["messages"][0]["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(m["attempts"], 3);
    assert!(
        m["error"]
            .as_str()
            .unwrap()
            .contains("gave up after 3 attempts"),
        "{m}"
    );
    let submits = m["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["status"] == "submitting")
        .count();
    assert_eq!(submits, 3);
    assert_eq!(s.balance(&key).await, 10);
}

#[tokio::test]
async fn validity_expires_messages_that_cannot_be_sent_in_time() {
    let s = Server::start_with(&[
        ("SMSGATE_ENGINE__SIMULATOR__TEMPORARY_FAILURE_RATIO", "1"),
        ("SMSGATE_ENGINE__DISPATCH__RETRY_BASE_MS", "120000"),
    ]);
    let (_, key) = s.account("acme", 10).await;
    let body = json!({"to": "+31612345678", "from": "Acme", "text": "otp 1234", "validity": 30});
    let (_, body) = s.post(&key, "/v1/messages", body).await;
    let m = s
        .wait_for(&key, body["messages"][0]["id"].as_str().unwrap(), "expired")
        .await;
    assert!(m["error"].as_str().unwrap().contains("validity"), "{m}");
    assert_eq!(m["refunded"], true);
    assert_eq!(s.balance(&key).await, 10);
}

#[tokio::test]
async fn listing_filters_and_paginates_newest_first() {
    let s = Server::start();
    let (_, key) = s.account("acme", 100).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let to = format!("+3161234567{i}");
        let body = json!({"to": to, "from": "Acme", "text": "hi", "reference": if i % 2 == 0 { "even" } else { "odd" }});
        let (status, body) = s.post(&key, "/v1/messages", body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.push(body["messages"][0]["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/messages?limit=3&cursor={c}"),
            None => "/v1/messages?limit=3".to_string(),
        };
        let (status, page) = s.get(&key, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    ids.reverse();
    assert_eq!(seen, ids);

    let (_, page) = s.get(&key, "/v1/messages?reference=even").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 4);
    let (_, page) = s.get(&key, "/v1/messages?to=%2B31612345673").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"][0]["reference"], "odd");
    s.wait_for(&key, &ids[0], "delivered").await;
    let (_, page) = s.get(&key, "/v1/messages?status=delivered&limit=500").await;
    assert!(!page["data"].as_array().unwrap().is_empty());
    assert!(
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "delivered")
    );
    let (_, page) = s.get(&key, "/v1/messages?since=2099-01-01T00:00:00Z").await;
    assert_eq!(page["data"], json!([]));
    let (status, page) = s.get(&key, "/v1/messages?status=lost").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer_and_charges_once() {
    let s = Server::start();
    let (_, key) = s.account("acme", 10).await;
    let send = |body: serde_json::Value, idem: &'static str| {
        let req = s
            .http
            .post(s.url("/v1/messages"))
            .bearer_auth(&key)
            .header("Idempotency-Key", idem)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let first = send(text_to("+31612345678"), "order-17").await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = first.json::<serde_json::Value>().await.unwrap();
    let again = send(text_to("+31612345678"), "order-17").await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<serde_json::Value>().await.unwrap(), first);
    assert_eq!(s.balance(&key).await, 9);

    let other = send(text_to("+447911123456"), "order-17").await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        other.json::<serde_json::Value>().await.unwrap()["type"],
        "/problems/idempotency-conflict"
    );
    assert_eq!(s.balance(&key).await, 9);
    let (_, page) = s.get(&key, "/v1/messages").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_sends_never_overspend() {
    let s = Server::start();
    let (_, key) = s.account("acme", 50).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let req = s
            .http
            .post(s.url("/v1/messages"))
            .bearer_auth(&key)
            .json(&json!({"to": format!("+3161{:07}", i), "from": "Acme", "text": "race"}));
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut accepted = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::PAYMENT_REQUIRED => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((accepted, refused), (50, 150));
    assert_eq!(s.balance(&key).await, 0);
    let (_, page) = s.get(&key, "/v1/messages?limit=500").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn preview_charges_nothing() {
    let s = Server::start();
    let (_, key) = s.account("acme", 5).await;
    let body = json!({"to": ["+31612345678", "+447911123456", "x"], "from": "Acme", "text": "€".repeat(81)});
    let (status, body) = s.post(&key, "/v1/messages/preview", body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total_cost"], "4.0000");
    assert_eq!(body["messages"][0]["segments"], 2);
    assert_eq!(body["rejected"][0]["to"], "x");
    assert_eq!(s.balance(&key).await, 5);
    let (_, page) = s.get(&key, "/v1/messages").await;
    assert_eq!(page["data"], json!([]));
}

#[tokio::test]
async fn batches_accept_items_on_their_own_and_count_statuses() {
    let s = Server::start();
    let (_, key) = s.account("acme", 5_000).await;
    let mut items: Vec<_> = (0..1000)
        .map(|i| json!({"to": format!("+3162{:07}", i), "text": format!("Hi #{i}")}))
        .collect();
    items[10] = json!({"to": "not a number"});
    items[20] = json!({"to": "+31620000000", "text": "duplicate"});
    let body =
        json!({"from": "Acme", "text": "default text", "reference": "campaign-1", "items": items});
    let (status, body) = s.post(&key, "/v1/batches", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["messages"].as_array().unwrap().len(), 998);
    assert_eq!(body["rejected"].as_array().unwrap().len(), 2);
    assert_eq!(body["balance"], "4002.0000");
    let batch = body["batch_id"].as_str().unwrap().to_string();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, b) = s.get(&key, &format!("/v1/batches/{batch}")).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(
            (
                b["accepted"].as_i64(),
                b["rejected"].as_i64(),
                b["reference"].as_str()
            ),
            (Some(998), Some(2), Some("campaign-1"))
        );
        if b["statuses"]["delivered"] == 998 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "batch not delivered: {b}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, page) = s
        .get(&key, &format!("/v1/messages?batch_id={batch}&limit=1"))
        .await;
    assert_eq!(page["data"][0]["batch_id"], batch.as_str());
    // The item without its own text took the batch's.
    let id = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["to"] == "+31620000000")
        .unwrap()["id"]
        .as_str()
        .unwrap();
    let (_, m) = s.get(&key, &format!("/v1/messages/{id}")).await;
    assert_eq!(m["text"], "Hi #0");
}

// The same tests with the server on PostgreSQL.
crate::support::on_postgres!(
    message_goes_from_accepted_to_delivered_and_is_charged_once,
    long_and_unicode_texts_are_charged_per_segment,
    partial_acceptance_charges_only_accepted_recipients,
    scheduled_message_waits_then_is_delivered,
    canceling_a_scheduled_message_refunds_it,
    sent_messages_cannot_be_canceled,
    carrier_rejections_are_refunded_and_undelivered_are_not,
    temporary_failures_are_retried_until_they_fail_and_are_refunded,
    validity_expires_messages_that_cannot_be_sent_in_time,
    listing_filters_and_paginates_newest_first,
    idempotency_key_replays_the_first_answer_and_charges_once,
    concurrent_sends_never_overspend,
    preview_charges_nothing,
    batches_accept_items_on_their_own_and_count_statuses,
);
