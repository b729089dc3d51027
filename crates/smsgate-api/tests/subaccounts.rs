//! A reseller's sub-accounts: funded by transfers from its balance, paying
//! its prices until given one of its own plans (never below what it pays),
//! and seeing nothing of their parent or siblings.

mod common;

use axum::http::{Method, StatusCode};
use common::App;
use serde_json::{Value, json};

async fn send(app: &App, key: &str) -> (StatusCode, Value) {
    let body = json!({"to": "+31612345678", "from": "Acme", "text": "hi"});
    app.call(Method::POST, "/v1/messages", Some(key), Some(body))
        .await
}

async fn balance(app: &App, key: &str) -> Value {
    let (_, body) = app.call(Method::GET, "/v1/balance", Some(key), None).await;
    body["balance"].clone()
}

#[tokio::test]
async fn a_reseller_funds_and_prices_its_customers_who_see_only_themselves() {
    let app = App::new().await;
    let (reseller, rkey) = app.account("reseller", "100").await;
    let (stranger, _) = app.account("stranger", "5").await;
    // The reseller buys at 0.02 to +31.
    let (_, plan) = app
        .admin(
            Method::POST,
            "/admin/v1/plans",
            Some(json!({"name": "wholesale"})),
        )
        .await;
    let wholesale = plan["id"].as_i64().unwrap();
    app.admin(
        Method::PUT,
        &format!("/admin/v1/plans/{wholesale}/prices"),
        Some(json!({"prefix": "31", "price": "0.02"})),
    )
    .await;
    app.admin(
        Method::PATCH,
        &format!("/admin/v1/accounts/{}", reseller.0),
        Some(json!({"plan": wholesale})),
    )
    .await;

    let (status, child) = app
        .call(
            Method::POST,
            "/v1/subaccounts",
            Some(&rkey),
            Some(json!({"name": "shop"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{child}");
    let (child_id, ckey) = (
        child["id"].as_i64().unwrap(),
        child["api_key"].as_str().unwrap().to_string(),
    );
    assert_eq!(child["balance"], "0.0000");
    let (status, _) = app
        .call(
            Method::POST,
            "/v1/subaccounts",
            Some(&rkey),
            Some(json!({"name": "rich", "credits": 5})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "credits come by transfer only"
    );
    let (_, sibling) = app
        .call(
            Method::POST,
            "/v1/subaccounts",
            Some(&rkey),
            Some(json!({"name": "other-shop"})),
        )
        .await;
    let sibling_id = sibling["id"].as_i64().unwrap();

    assert_eq!(send(&app, &ckey).await.0, StatusCode::PAYMENT_REQUIRED);
    let transfers = format!("/v1/subaccounts/{child_id}/transfers");
    let (status, moved) = app
        .call(
            Method::POST,
            &transfers,
            Some(&rkey),
            Some(json!({"amount": "10", "note": "May"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{moved}");
    assert_eq!(
        (
            moved["balance"].clone(),
            moved["subaccount_balance"].clone()
        ),
        (json!("90.0000"), json!("10.0000"))
    );
    // Taking back more than it has, nothing, or the most negative amount
    // (it has no positive opposite) changes nothing.
    for amount in [json!("-10.0001"), json!(0), json!("-922337203685477.5808")] {
        let (status, body) = app
            .call(
                Method::POST,
                &transfers,
                Some(&rkey),
                Some(json!({"amount": amount})),
            )
            .await;
        assert!(status.is_client_error(), "{amount}: {status} {body}");
        assert_ne!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(
        (balance(&app, &rkey).await, balance(&app, &ckey).await),
        (json!("90.0000"), json!("10.0000"))
    );

    // Without a plan of its parent's it pays its parent's price.
    let (status, body) = send(&app, &ckey).await;
    assert_eq!(
        (status, body["messages"][0]["cost"].clone()),
        (StatusCode::ACCEPTED, json!("0.0200")),
        "{body}"
    );

    // The reseller's own plan: never below what it pays.
    let (status, plan) = app
        .call(
            Method::POST,
            "/v1/plans",
            Some(&rkey),
            Some(json!({"name": "retail"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let retail = plan["id"].as_i64().unwrap();
    let prices = format!("/v1/plans/{retail}/prices");
    let (status, body) = app
        .call(
            Method::PUT,
            &prices,
            Some(&rkey),
            Some(json!({"prefix": "316", "price": "0.015"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("below"), "{body}");
    let (status, body) = app
        .call(
            Method::PUT,
            &prices,
            Some(&rkey),
            Some(json!({"prefix": "31", "price": "0.05"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let child_path = format!("/v1/subaccounts/{child_id}");
    let (status, body) = app
        .call(
            Method::PATCH,
            &child_path,
            Some(&rkey),
            Some(json!({"plan": retail})),
        )
        .await;
    assert_eq!(
        (status, body["plan"].as_i64()),
        (StatusCode::OK, Some(retail)),
        "{body}"
    );
    let (_, body) = send(&app, &ckey).await;
    assert_eq!(body["messages"][0]["cost"], "0.0500");
    let (_, body) = app
        .call(
            Method::POST,
            "/api/http/sms/send",
            Some(&ckey),
            Some(json!({"recipient": "31612345678", "sender_id": "Acme", "type": "plain", "message": "hi"})),
        )
        .await;
    assert_eq!(
        body["data"]["cost"],
        json!(0.05),
        "a dialect quotes the same: {body}"
    );
    assert_eq!(balance(&app, &ckey).await, "9.8800");

    // The reseller sees its customers; they see nothing of it or of each
    // other, and cannot use its plans.
    let (_, listed) = app
        .call(Method::GET, "/v1/subaccounts", Some(&rkey), None)
        .await;
    let ids: Vec<_> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [child_id, sibling_id]);
    let (_, listed) = app
        .call(Method::GET, "/v1/subaccounts", Some(&ckey), None)
        .await;
    assert_eq!(listed["data"], json!([]));
    for path in [
        format!("/v1/subaccounts/{}", reseller.0),
        format!("/v1/subaccounts/{sibling_id}"),
        format!("/v1/subaccounts/{}", stranger.0),
    ] {
        let (status, _) = app.call(Method::GET, &path, Some(&ckey), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/subaccounts/{}/transfers", stranger.0),
            Some(&rkey),
            Some(json!({"amount": "1"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only to its own");
    let (_, plans) = app.call(Method::GET, "/v1/plans", Some(&ckey), None).await;
    assert_eq!(plans["data"], json!([]));
    let (_, grandchild) = app
        .call(
            Method::POST,
            "/v1/subaccounts",
            Some(&ckey),
            Some(json!({"name": "shop-customer"})),
        )
        .await;
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/v1/subaccounts/{}", grandchild["id"]),
            Some(&ckey),
            Some(json!({"plan": retail})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not its plan: {body}"
    );

    // Both ledgers hold the transfer, naming each other; the parent reads
    // its customer's, never the other way round.
    let (_, ledger) = app
        .call(Method::GET, "/v1/ledger?kind=transfer", Some(&ckey), None)
        .await;
    let entry = &ledger["data"][0];
    assert_eq!(
        (
            entry["amount"].clone(),
            entry["counterparty"].as_i64(),
            entry["note"].clone()
        ),
        (json!("10.0000"), Some(reseller.0), json!("May")),
        "{ledger}"
    );
    let (_, ledger) = app
        .call(Method::GET, "/v1/ledger?kind=transfer", Some(&rkey), None)
        .await;
    assert_eq!(ledger["data"][0]["amount"], "-10.0000");
    assert_eq!(ledger["data"][0]["counterparty"], child_id);
    let (status, theirs) = app
        .call(
            Method::GET,
            &format!("/v1/subaccounts/{child_id}/ledger"),
            Some(&rkey),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        theirs["data"].as_array().unwrap().len(),
        4,
        "a transfer, three sends: {theirs}"
    );
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/subaccounts/{}/ledger", reseller.0),
            Some(&ckey),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The ledger in pages by cursor, each entry once, filtered by kind and
/// time; a bad filter is named.
#[tokio::test]
async fn the_ledger_pages_by_cursor_and_filters() {
    let app = App::new().await;
    let (id, key) = app.account("acme", "10").await;
    for amount in ["1", "-0.5", "2.25"] {
        app.admin(
            Method::POST,
            &format!("/admin/v1/accounts/{}/credits", id.0),
            Some(json!({"amount": amount})),
        )
        .await;
    }
    send(&app, &key).await;
    let mut seen = Vec::new();
    let mut path = "/v1/ledger?limit=2".to_string();
    loop {
        let (status, page) = app.call(Method::GET, &path, Some(&key), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for e in page["data"].as_array().unwrap() {
            seen.push((
                e["kind"].as_str().unwrap().to_string(),
                e["amount"].as_str().unwrap().to_string(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/ledger?limit=2&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<(String, String)> = [
        ("debit", "-1.0000"),
        ("topup", "2.2500"),
        ("adjustment", "-0.5000"),
        ("topup", "1.0000"),
        ("topup", "10.0000"),
    ]
    .iter()
    .map(|(k, a)| (k.to_string(), a.to_string()))
    .collect();
    assert_eq!(seen, expected);
    let (_, page) = app
        .call(
            Method::GET,
            "/v1/ledger?kind=adjustment,debit",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2, "{page}");
    let (_, page) = app
        .call(
            Method::GET,
            "/v1/ledger?until=2000-01-01T00:00:00Z",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(page["data"], json!([]));
    for bad in ["kind=gift", "since=yesterday", "limit=0", "cursor=abc"] {
        let (status, body) = app
            .call(Method::GET, &format!("/v1/ledger?{bad}"), Some(&key), None)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
}
