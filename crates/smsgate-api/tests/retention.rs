//! Retention through the faces: the operator sets an account's rule, the
//! server has its own, and once they are due the texts and numbers of old
//! messages are gone while statuses, prices and usage stay.

mod common;

use axum::http::{Method, StatusCode};
use common::App;
use serde_json::{Value, json};
use smsgate_core::Timestamp;
use smsgate_core::clock::Clock;
use smsgate_engine::EngineConfig;
use smsgate_engine::retention::RetentionConfig;

const DAY_SECS: i64 = 24 * 3600;

/// Sends one message and cancels it (final, so retention may take it).
async fn sent_and_canceled(app: &App, key: &str, to: &str) -> String {
    let later = Timestamp(app.clock.now().0 + 3_600_000).to_rfc3339();
    let body =
        json!({"to": to, "from": "Acme", "text": "your code is 123456", "schedule_at": later});
    let (status, sent) = app
        .call(Method::POST, "/v1/messages", Some(key), Some(body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let id = sent["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/messages/{id}"),
            Some(key),
            None,
        )
        .await;
    assert!(status.is_success());
    id
}

async fn message(app: &App, key: &str, id: &str) -> Value {
    app.call(Method::GET, &format!("/v1/messages/{id}"), Some(key), None)
        .await
        .1
}

#[tokio::test]
async fn an_account_s_rule_removes_its_old_texts_and_masks_its_old_numbers() {
    let app = App::new().await;
    let (acme, key) = app.account("acme", "10").await;
    let (_, other) = app.account("other", "10").await;
    let (status, account) = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{}", acme.0),
            Some(json!({"keep_texts_days": 30, "keep_numbers_days": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(
        (&account["keep_texts_days"], &account["keep_numbers_days"]),
        (&json!(30), &json!(60))
    );
    let mine = sent_and_canceled(&app, &key, "+31612345678").await;
    let theirs = sent_and_canceled(&app, &other, "+31612345679").await;
    let start = app.clock.now().0 - app.clock.now().0 % 3_600_000;
    let (from, to) = (
        Timestamp(start).to_rfc3339(),
        Timestamp(start + 90 * 24 * 3_600_000).to_rfc3339(),
    );
    let usage = || async {
        app.call(
            Method::GET,
            &format!("/v1/usage?from={from}&to={to}&interval=total&group_by=status"),
            Some(&key),
            None,
        )
        .await
        .1["data"]
            .clone()
    };
    let before = usage().await;

    // Not yet due: nothing changes.
    app.clock.advance_secs(29 * DAY_SECS);
    let done = app.engine.apply_retention(app.clock.now()).await.unwrap();
    assert_eq!((done.texts, done.numbers), (0, 0));
    assert_eq!(
        message(&app, &key, &mine).await["text"],
        "your code is 123456"
    );

    app.clock.advance_secs(2 * DAY_SECS);
    let done = app.engine.apply_retention(app.clock.now()).await.unwrap();
    assert_eq!((done.texts, done.numbers), (1, 0));
    let m = message(&app, &key, &mine).await;
    assert_eq!(
        (&m["text"], &m["to"]),
        (&json!(""), &json!("+31612345678")),
        "{m}"
    );
    assert_eq!(
        (&m["status"], &m["cost"]),
        (&json!("canceled"), &json!("1.0000")),
        "{m}"
    );

    app.clock.advance_secs(30 * DAY_SECS);
    let done = app.engine.apply_retention(app.clock.now()).await.unwrap();
    assert_eq!((done.texts, done.numbers), (0, 1));
    assert_eq!(message(&app, &key, &mine).await["to"], "+316*****678");
    // The other account keeps the server's rule: for ever.
    let t = message(&app, &other, &theirs).await;
    assert_eq!(
        (&t["text"], &t["to"]),
        (&json!("your code is 123456"), &json!("+31612345679"))
    );
    assert_eq!(usage().await, before, "usage stays");

    // Back to the server's rule; out of range is refused by name.
    for (body, field) in [
        (json!({"keep_texts_days": 0}), "keep_texts_days"),
        (json!({"keep_numbers_days": 36_501}), "keep_numbers_days"),
    ] {
        let (status, problem) = app
            .admin(
                Method::PATCH,
                &format!("/admin/v1/accounts/{}", acme.0),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (_, account) = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{}", acme.0),
            Some(json!({"keep_texts_days": null})),
        )
        .await;
    assert_eq!(
        (&account["keep_texts_days"], &account["keep_numbers_days"]),
        (&Value::Null, &json!(60))
    );
}

#[tokio::test]
async fn the_server_s_rule_holds_for_accounts_without_their_own() {
    let app = App::with_config(EngineConfig {
        retention: RetentionConfig {
            texts_days: Some(7),
            numbers_days: None,
        },
        ..EngineConfig::default()
    })
    .await;
    let (_, key) = app.account("acme", "10").await;
    let (keeper_id, keeper) = app.account("keeper", "10").await;
    app.admin(
        Method::PATCH,
        &format!("/admin/v1/accounts/{}", keeper_id.0),
        Some(json!({"keep_texts_days": 365})),
    )
    .await;
    let mine = sent_and_canceled(&app, &key, "+31612345678").await;
    let kept = sent_and_canceled(&app, &keeper, "+31612345679").await;
    app.clock.advance_secs(8 * DAY_SECS);
    let done = app.engine.apply_retention(app.clock.now()).await.unwrap();
    assert_eq!(done.texts, 1);
    assert_eq!(message(&app, &key, &mine).await["text"], "");
    assert_eq!(
        message(&app, &keeper, &kept).await["text"],
        "your code is 123456",
        "its own rule is longer"
    );
}

#[test]
fn a_server_rule_out_of_range_is_refused_at_start() {
    for days in [0, 36_501] {
        let config = RetentionConfig {
            texts_days: Some(days),
            numbers_days: None,
        };
        assert!(config.validate().is_err(), "{days}");
    }
    assert!(RetentionConfig::default().validate().is_ok());
}
