//! The event feed (`GET /v1/events`): every status change of a message,
//! in order, with a cursor, for the account that owns it only.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Server, text_to};

async fn events_after(server: &Server, key: &str, after: &str) -> (Vec<Value>, String) {
    let (status, body) = server.get(key, &format!("/v1/events?after={after}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["data"].as_array().unwrap().clone(),
        body["next_cursor"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_message_s_life_is_a_numbered_sequence_of_events() {
    let server = Server::start();
    let (_, key) = server.account("acme", 10).await;
    let (_, other) = server.account("other", 10).await;
    let (_, body) = server
        .post(&key, "/v1/messages", text_to("+31612345678"))
        .await;
    let id = body["messages"][0]["id"].as_str().unwrap().to_string();
    server.wait_for(&key, &id, "delivered").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let (events, cursor) = loop {
        let (events, cursor) = events_after(&server, &key, "0").await;
        if events.len() >= 3 {
            break (events, cursor);
        }
        assert!(Instant::now() < deadline, "{events:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let seen: Vec<(&str, u64, &str)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["sequence"].as_u64().unwrap(),
                e["data"]["message"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("message.queued", 1, "queued"),
            ("message.sent", 2, "sent"),
            ("message.delivered", 3, "delivered")
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e["data"]["message"]["id"] == id.as_str())
    );
    assert_eq!(events[2]["data"]["message"]["to"], "+31612345678");
    // Event ids are opaque: nothing says how many events the server made.
    let ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert!(
        ids.iter().all(|i| i.starts_with("ev_") && i.len() == 19),
        "{ids:?}"
    );
    assert_eq!(cursor, ids[2], "the cursor is the last id");
    // A page starts after any id it is given.
    let (rest, _) = events_after(&server, &key, ids[0]).await;
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0]["id"], ids[1]);
    // Nothing new after the cursor; the cursor stays put.
    let (more, again) = events_after(&server, &key, &cursor).await;
    assert!(more.is_empty());
    assert_eq!(again, cursor);
    // Another account sees none of it.
    let (theirs, _) = events_after(&server, &other, "0").await;
    assert!(theirs.is_empty());
    let (status, body) = server.get(&key, "/v1/events?after=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}
