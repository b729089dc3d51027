//! Exact amounts on the HTTP faces: prices of a fraction of a credit,
//! charged to the minor unit; decimals shown as text with four places on
//! the native and admin APIs, as each dialect's clients read them there.

mod common;

use axum::http::{Method, StatusCode};
use common::App;
use serde_json::json;

/// A three-part message at 0.035 a part costs 0.105, exactly.
#[tokio::test]
async fn a_fraction_of_a_credit_is_charged_exactly() {
    let app = App::new().await;
    let (_, key) = app.account("acme", "10").await;
    // As text or as a JSON number; shown as text with four places.
    for price in [json!("0.035"), json!(0.035)] {
        let (status, body) = app
            .admin(
                Method::PUT,
                "/admin/v1/prices",
                Some(json!({"prefix": "31", "price": price})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, prices) = app.admin(Method::GET, "/admin/v1/prices", None).await;
    assert_eq!(prices["data"][0]["price"], "0.0350", "{prices}");
    assert_eq!(prices["default_price"], "1.0000");

    let text = "x".repeat(400);
    let send = json!({"to": "+31612345678", "from": "Acme", "text": text});
    let (_, quote) = app
        .call(
            Method::POST,
            "/v1/messages/preview",
            Some(&key),
            Some(send.clone()),
        )
        .await;
    assert_eq!(quote["total_cost"], "0.1050", "{quote}");
    let (status, body) = app
        .call(Method::POST, "/v1/messages", Some(&key), Some(send))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["messages"][0]["cost"], "0.1050");
    assert_eq!(body["balance"], "9.8950");
    let (_, balance) = app.call(Method::GET, "/v1/balance", Some(&key), None).await;
    assert_eq!(balance["balance"], "9.8950");

    // Ultimate's clients read numbers: the cost as its decimal, the
    // balance as its own.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/http/sms/send",
            Some(&key),
            Some(json!({"recipient": "31612345678", "sender_id": "Acme", "type": "plain", "message": "hi"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["cost"], json!(0.035), "{body}");
    let (_, body) = app
        .call(Method::GET, "/api/http/balance", Some(&key), None)
        .await;
    assert_eq!(body["data"]["remaining_unit"], json!(9.86), "{body}");
}

/// An amount with a fifth decimal place is refused, never rounded, and
/// changes nothing.
#[tokio::test]
async fn more_than_four_places_are_refused_and_change_nothing() {
    let app = App::new().await;
    let (id, _) = app.account("acme", "1").await;
    for body in [
        json!({"prefix": "31", "price": "0.00001"}),
        json!({"prefix": "31", "price": 0.00001}),
        json!({"prefix": "31", "price": "1e-3"}),
    ] {
        let (status, answer) = app
            .admin(Method::PUT, "/admin/v1/prices", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
    }
    let (_, prices) = app.admin(Method::GET, "/admin/v1/prices", None).await;
    assert_eq!(prices["data"], json!([]));

    let path = format!("/admin/v1/accounts/{}/credits", id.0);
    let (status, answer) = app
        .admin(Method::POST, &path, Some(json!({"amount": "0.12345"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer.to_string().contains("at most 4 decimal places"),
        "the reason is named: {answer}"
    );
    let (status, answer) = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"amount": "-0.0001", "note": "a fraction"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["balance"], "0.9999");
    let (_, ledger) = app
        .admin(
            Method::GET,
            &format!("/admin/v1/accounts/{}/ledger", id.0),
            None,
        )
        .await;
    let amounts: Vec<_> = ledger["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["amount"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(amounts, ["-0.0001", "1.0000"], "{ledger}");
}
