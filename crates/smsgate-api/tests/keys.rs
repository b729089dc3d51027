//! A customer's own API keys: made, listed, revoked, rotated with an
//! overlap in which both work; another account's are not there.

mod common;

use axum::http::{Method, StatusCode};
use common::App;
use serde_json::json;

async fn works(app: &App, key: &str) -> StatusCode {
    app.call(Method::GET, "/v1/balance", Some(key), None)
        .await
        .0
}

#[tokio::test]
async fn keys_are_made_listed_rotated_with_an_overlap_and_revoked() {
    let app = App::new().await;
    let (_, key) = app.account("acme", "1").await;
    let (_, other) = app.account("other", "1").await;
    let (status, made) = app
        .call(
            Method::POST,
            "/v1/keys",
            Some(&key),
            Some(json!({"label": "ci", "allowed_ips": ["127.0.0.0/8"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let ci = made["api_key"].as_str().unwrap().to_string();
    let ci_id = made["id"].as_i64().unwrap();
    assert_eq!(works(&app, &ci).await, StatusCode::OK);
    let (_, listed) = app.call(Method::GET, "/v1/keys", Some(&key), None).await;
    let labels: Vec<_> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["label"].clone())
        .collect();
    assert_eq!(labels, [json!("default"), json!("ci")]);
    assert!(
        listed["data"][1].get("api_key").is_none(),
        "a secret is shown once"
    );

    // Another account's key is not there for it.
    for (method, path) in [
        (Method::DELETE, format!("/v1/keys/{ci_id}")),
        (Method::POST, format!("/v1/keys/{ci_id}/rotate")),
    ] {
        let (status, _) = app.call(method, &path, Some(&other), Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/keys/{ci_id}/rotate"),
            Some(&key),
            Some(json!({"overlap_secs": 2_592_001})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(works(&app, &ci).await, StatusCode::OK, "nothing changed");

    // Rotated: both work for the overlap, then only the new one.
    let (status, rotated) = app
        .call(
            Method::POST,
            &format!("/v1/keys/{ci_id}/rotate"),
            Some(&key),
            Some(json!({"overlap_secs": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert_eq!(
        (rotated["label"].clone(), rotated["allowed_ips"].clone()),
        (json!("ci"), json!(["127.0.0.0/8"]))
    );
    let new = rotated["api_key"].as_str().unwrap().to_string();
    assert_eq!(
        (works(&app, &ci).await, works(&app, &new).await),
        (StatusCode::OK, StatusCode::OK)
    );
    app.clock.advance_secs(61);
    assert_eq!(
        works(&app, &ci).await,
        StatusCode::UNAUTHORIZED,
        "the overlap ended"
    );
    assert_eq!(works(&app, &new).await, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/keys/{ci_id}/rotate"),
            Some(&key),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an ended key is not rotated again"
    );

    // Revoked at once, the key of the request too.
    let new_id = rotated["id"].as_i64().unwrap();
    let (status, revoked) = app
        .call(
            Method::DELETE,
            &format!("/v1/keys/{new_id}"),
            Some(&new),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(works(&app, &new).await, StatusCode::UNAUTHORIZED);
    assert_eq!(works(&app, &key).await, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::POST,
            "/v1/keys",
            Some(&key),
            Some(json!({"label": "x".repeat(65)})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
