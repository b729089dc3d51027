//! Rate plans and accounts' own prices through the admin API: each
//! account is quoted and charged its own price, on every face, from the
//! next send after a change.

mod common;

use axum::http::{Method, StatusCode};
use common::App;
use serde_json::{Value, json};

async fn cost(app: &App, key: &str) -> Value {
    let send = json!({"to": "+31612345678", "from": "Acme", "text": "hi"});
    let (status, body) = app
        .call(Method::POST, "/v1/messages", Some(key), Some(send))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["messages"][0]["cost"].clone()
}

#[tokio::test]
async fn an_account_pays_its_plan_then_its_own_price_from_the_next_send() {
    let app = App::new().await;
    let (a, key) = app.account("acme", "100").await;
    let (_, other) = app.account("other", "100").await;
    let (status, gold) = app
        .admin(
            Method::POST,
            "/admin/v1/plans",
            Some(json!({"name": "gold"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{gold}");
    let gold_id = gold["id"].as_i64().unwrap();
    let (status, body) = app
        .admin(
            Method::PUT,
            &format!("/admin/v1/plans/{gold_id}/prices"),
            Some(json!({"prefix": "31", "price": "0.02"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The default plan is there from the start, and its own.
    let (_, plans) = app.admin(Method::GET, "/admin/v1/plans", None).await;
    let names: Vec<_> = plans["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["is_default"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("default", true), ("gold", false)]);

    assert_eq!(cost(&app, &key).await, "1.0000", "the default plan");
    let account = format!("/admin/v1/accounts/{}", a.0);
    let (status, body) = app
        .admin(Method::PATCH, &account, Some(json!({"plan": gold_id})))
        .await;
    assert_eq!(
        (status, body["plan"].as_i64()),
        (StatusCode::OK, Some(gold_id)),
        "{body}"
    );
    assert_eq!(cost(&app, &key).await, "0.0200");
    assert_eq!(cost(&app, &other).await, "1.0000", "others keep theirs");
    let preview = json!({"to": "+31612345678", "from": "Acme", "text": "hi"});
    let (_, quote) = app
        .call(
            Method::POST,
            "/v1/messages/preview",
            Some(&key),
            Some(preview),
        )
        .await;
    assert_eq!(quote["total_cost"], "0.0200");
    // A dialect quotes the same price (ultimate's clients read numbers).
    let (_, body) = app
        .call(
            Method::POST,
            "/api/http/sms/send",
            Some(&key),
            Some(json!({"recipient": "31612345678", "sender_id": "Acme", "type": "plain", "message": "hi"})),
        )
        .await;
    assert_eq!(body["data"]["cost"], json!(0.02), "{body}");

    // Its own price comes before the plan's, whatever the prefix.
    let prices = format!("{account}/prices");
    let (status, body) = app
        .admin(
            Method::PUT,
            &prices,
            Some(json!({"prefix": "", "price": "0.015"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(cost(&app, &key).await, "0.0150");
    let (_, own) = app.admin(Method::GET, &prices, None).await;
    assert_eq!(own["data"][0]["price"], "0.0150", "{own}");
    let (status, _) = app
        .admin(Method::DELETE, &format!("{prices}?prefix="), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(cost(&app, &key).await, "0.0200");

    // A plan in use stays; an unknown plan is refused by name.
    let plan = format!("/admin/v1/plans/{gold_id}");
    let (status, body) = app.admin(Method::DELETE, &plan, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = app
        .admin(Method::PATCH, &account, Some(json!({"plan": 999})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "plan", "{body}");
    assert_eq!(cost(&app, &key).await, "0.0200", "unchanged");

    // Made the default, the plan prices every account given none.
    let (status, _) = app
        .admin(Method::POST, &format!("{plan}/default"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cost(&app, &other).await, "0.0200");
    let (_, prices) = app.admin(Method::GET, "/admin/v1/prices", None).await;
    assert_eq!(
        prices["data"][0]["price"], "0.0200",
        "the default plan's: {prices}"
    );
    let (status, body) = app
        .admin(Method::PATCH, &account, Some(json!({"plan": null})))
        .await;
    assert_eq!(
        (status, body["plan"].clone()),
        (StatusCode::OK, Value::Null)
    );
    let (_, plans) = app.admin(Method::GET, "/admin/v1/plans", None).await;
    let old_default = plans["data"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .admin(
            Method::DELETE,
            &format!("/admin/v1/plans/{old_default}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app.admin(Method::DELETE, &plan, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "the default stays: {body}");
}

#[tokio::test]
async fn bad_plans_and_prices_are_refused_and_change_nothing() {
    let app = App::new().await;
    for (body, status) in [
        (json!({"name": ""}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"name": "x".repeat(65)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"name": "default"}), StatusCode::CONFLICT),
        (json!({"nom": "gold"}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (got, answer) = app
            .admin(Method::POST, "/admin/v1/plans", Some(body.clone()))
            .await;
        assert_eq!(got, status, "{body}: {answer}");
    }
    let (_, plans) = app.admin(Method::GET, "/admin/v1/plans", None).await;
    assert_eq!(plans["data"].as_array().unwrap().len(), 1);
    let id = plans["data"][0]["id"].as_i64().unwrap();
    for body in [
        json!({"prefix": "+31", "price": "1"}),
        json!({"prefix": "31", "price": "-1"}),
        json!({"prefix": "31", "price": "0.00001"}),
        json!({"prefix": "31", "route_class": "", "price": "1"}),
    ] {
        let (status, answer) = app
            .admin(
                Method::PUT,
                &format!("/admin/v1/plans/{id}/prices"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
    }
    let (status, _) = app
        .admin(
            Method::PUT,
            "/admin/v1/plans/77/prices",
            Some(json!({"prefix": "31", "price": "1"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, plan) = app
        .admin(Method::GET, &format!("/admin/v1/plans/{id}"), None)
        .await;
    assert_eq!(plan["prices"], json!([]), "{plan}");
    let (status, _) = app
        .admin(
            Method::PUT,
            "/admin/v1/costs",
            Some(json!({"connector": "", "prefix": "31", "cost": "0.01"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, costs) = app.admin(Method::GET, "/admin/v1/costs", None).await;
    assert_eq!(costs["data"], json!([]));
}
