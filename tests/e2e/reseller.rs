//! A reseller's business over HTTP with the binary: the operator prices
//! the reseller, the reseller makes a plan and a sub-account and funds
//! it; the sub-account sends through two dialects (ultimate, smsmanager)
//! at its plan's price; both see statements that agree with each other
//! and with their ledgers; the operator's audit log shows who did what.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Server, read};

fn month() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

#[tokio::test]
async fn a_reseller_s_customer_sends_through_two_dialects_at_its_plan_s_price() {
    let server = Server::start();
    let (reseller, rkey) = server.account("reseller", 100).await;
    // The operator sells to the reseller at 0.02 a segment everywhere.
    let (status, body) = server
        .admin(
            Method::PUT,
            &format!("/admin/v1/accounts/{reseller}/prices"),
            Some(json!({"prefix": "", "price": "0.02"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The simulator's carrier charges 0.012 a segment.
    let (status, body) = server
        .admin(
            Method::PUT,
            "/admin/v1/costs",
            Some(json!({"connector": "simulator", "prefix": "", "cost": "0.012"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The reseller's plan, its customer on it, and 10 credits for it.
    let (status, plan) = server
        .post(&rkey, "/v1/plans", json!({"name": "retail"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let plan = plan["id"].as_i64().unwrap();
    let (status, body) = server
        .put(
            &rkey,
            &format!("/v1/plans/{plan}/prices"),
            json!({"prefix": "", "price": "0.0500"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, child) = server
        .post(&rkey, "/v1/subaccounts", json!({"name": "shop"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{child}");
    let child_id = child["id"].as_i64().unwrap();
    let ckey = child["api_key"].as_str().unwrap().to_string();
    let (status, body) = server
        .patch(
            &rkey,
            &format!("/v1/subaccounts/{child_id}"),
            json!({"plan": plan}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, moved) = server
        .post(
            &rkey,
            &format!("/v1/subaccounts/{child_id}/transfers"),
            json!({"amount": "10", "note": "first month"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{moved}");

    // One message through each dialect, each quoted at the plan's price.
    let r = server
        .http
        .post(server.url("/api/http/sms/send"))
        .json(&json!({
            "api_token": ckey, "recipient": "31612345678", "sender_id": "Shop",
            "type": "plain", "message": "Your order shipped",
        }))
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["cost"], json!(0.05), "{body}");
    let r = server
        .http
        .post(server.url("/v2/message"))
        .header("x-api-key", &ckey)
        .json(&json!({"body": "Your order shipped", "to": [{"phone_number": "420777123456"}]}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"].as_array().map(Vec::len), Some(1), "{body}");

    let (_, balance) = server.get(&ckey, "/v1/balance").await;
    assert_eq!(balance["balance"], "9.9000", "{balance}");

    // Both statements of the month, and the ledgers they sum.
    let statement = |key: String, path: String| {
        let server = &server;
        async move {
            let (status, s) = server.get(&key, &path).await;
            assert_eq!(status, StatusCode::OK, "{s}");
            s
        }
    };
    let m = month();
    let shop = statement(ckey.clone(), format!("/v1/statements/{m}")).await;
    assert_eq!(
        (
            &shop["opening_balance"],
            &shop["transfers_in"],
            &shop["usage_total"],
            &shop["closing_balance"]
        ),
        (
            &json!("0.0000"),
            &json!("10.0000"),
            &json!("-0.1000"),
            &json!("9.9000")
        ),
        "{shop}"
    );
    let countries: Vec<_> = shop["usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["country"].as_str().unwrap_or("?").to_string(),
                u["messages"].clone(),
            )
        })
        .collect();
    assert_eq!(
        countries,
        [("CZ".to_string(), json!(1)), ("NL".to_string(), json!(1))],
        "{shop}"
    );
    let seen_by_parent = statement(
        rkey.clone(),
        format!("/v1/subaccounts/{child_id}/statements/{m}"),
    )
    .await;
    assert_eq!(seen_by_parent, shop);
    let own = statement(rkey.clone(), format!("/v1/statements/{m}")).await;
    assert_eq!(
        (
            &own["opening_balance"],
            &own["topups"],
            &own["transfers_out"],
            &own["closing_balance"]
        ),
        (
            &json!("0.0000"),
            &json!("100.0000"),
            &json!("-10.0000"),
            &json!("90.0000")
        ),
        "{own}"
    );
    let (_, ledger) = server.get(&ckey, "/v1/ledger").await;
    let kinds: Vec<_> = ledger["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["amount"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("debit".to_string(), json!("-0.0500")),
            ("debit".to_string(), json!("-0.0500")),
            ("transfer".to_string(), json!("10.0000")),
        ]
    );

    // Usage once both are delivered: the customer's at its price, the
    // operator's with the carrier's cost and the margin.
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let from = now - now % 3_600_000;
    let span = format!(
        "from={}&to={}&interval=total",
        smsgate_core::Timestamp(from).to_rfc3339(),
        smsgate_core::Timestamp(from + 3_600_000).to_rfc3339()
    );
    let mut usage = serde_json::Value::Null;
    for _ in 0..100 {
        usage = server.get(&ckey, &format!("/v1/usage?{span}")).await.1;
        if usage["data"][0]["statuses"]["delivered"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let line = &usage["data"][0];
    assert_eq!(line["statuses"]["delivered"], 2, "{usage}");
    assert_eq!(
        (&line["messages"], &line["price"]),
        (&json!(2), &json!("0.1000"))
    );
    assert_eq!(line["delivery_rate"], 1.0);
    assert!(line["average_latency_ms"].as_u64().is_some(), "{usage}");
    assert!(line.get("carrier_cost").is_none(), "{usage}");
    let (status, all) = server
        .admin(
            Method::GET,
            &format!("/admin/v1/usage?{span}&group_by=account,connector,country"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let lines: Vec<_> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["account_id"].as_i64().unwrap(),
                l["connector"].clone(),
                l["country"].clone(),
                l["carrier_cost"].clone(),
                l["margin"].clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                child_id,
                json!("simulator"),
                json!("CZ"),
                json!("0.0120"),
                json!("0.0380")
            ),
            (
                child_id,
                json!("simulator"),
                json!("NL"),
                json!("0.0120"),
                json!("0.0380")
            ),
        ],
        "{all}"
    );

    // The operator's log: who priced, planned, moved credits.
    let (status, log) = server
        .admin(
            Method::GET,
            &format!("/admin/v1/audit?account={reseller}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let rows: Vec<(String, String)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().into(),
                r["actor"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = |a: &str, who: &str| (a.to_string(), who.to_string());
    for row in [
        want("credits.transfer", "account"),
        want("price.set", "account"),
        want("plan.create", "account"),
        want("price.set", "admin-token"),
        want("account.create", "admin-token"),
    ] {
        assert!(rows.contains(&row), "{row:?} not in {rows:?}");
    }
}
