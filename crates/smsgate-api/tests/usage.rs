//! Usage reports over HTTP: what a customer, a reseller and the operator
//! each see, by period and group, as JSON and CSV, and the questions that
//! are refused.

mod common;

use axum::http::{Method, StatusCode};
use common::App;
use serde_json::{Value, json};
use smsgate_core::Timestamp;
use smsgate_core::clock::Clock;

const HOUR: i64 = 3_600_000;

/// `from` and `to` of the hour the clock is in, and of the next.
fn this_hour(app: &App) -> (String, String) {
    let now = app.clock.now().0;
    let start = now - now % HOUR;
    (
        Timestamp(start).to_rfc3339(),
        Timestamp(start + 2 * HOUR).to_rfc3339(),
    )
}

async fn send(app: &App, key: &str, to: &str, extra: Value) -> Value {
    let mut body = json!({"to": to, "from": "Acme", "text": "hi"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, body) = app
        .call(Method::POST, "/v1/messages", Some(key), Some(body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body
}

#[tokio::test]
async fn usage_is_counted_by_period_and_group_and_shown_to_whom_may_see_it() {
    let app = App::new().await;
    let (acme, key) = app.account("acme", "10").await;
    let (_, other) = app.account("other", "10").await;
    app.admin(
        Method::PUT,
        "/admin/v1/prices",
        Some(json!({"prefix": "31", "price": "0.035"})),
    )
    .await;
    send(&app, &key, "+31612345678", json!({})).await;
    send(&app, &key, "+31612345679", json!({"text": "x".repeat(200)})).await;
    send(&app, &key, "+447400123456", json!({})).await;
    let later = Timestamp(app.clock.now().0 + 30 * HOUR).to_rfc3339();
    let sent = send(&app, &key, "+31612345670", json!({"schedule_at": later})).await;
    let id = sent["messages"][0]["id"].as_str().unwrap();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/messages/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}");
    send(&app, &other, "+31612345671", json!({})).await;

    let (from, to) = this_hour(&app);
    let (status, report) = app
        .call(
            Method::GET,
            &format!("/v1/usage?from={from}&to={to}&interval=total&group_by=country,status"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["group_by"], json!(["country", "status"]));
    let lines: Vec<_> = report["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["country"].as_str().unwrap().to_string(),
                l["status"].as_str().unwrap().to_string(),
                l["messages"].as_u64().unwrap(),
                l["segments"].as_u64().unwrap(),
                l["price"].as_str().unwrap().to_string(),
                l["refunded"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let line = |c: &str, s: &str, m, seg, p: &str, r: &str| {
        (
            c.to_string(),
            s.to_string(),
            m,
            seg,
            p.to_string(),
            r.to_string(),
        )
    };
    assert_eq!(
        lines,
        [
            line("GB", "pending", 1, 1, "1.0000", "0.0000"),
            line("NL", "pending", 2, 3, "0.1050", "0.0000"),
            line("NL", "canceled", 1, 1, "0.0350", "0.0350"),
        ],
        "{report}"
    );
    let first = &report["data"][0];
    assert!(
        first.get("carrier_cost").is_none() && first.get("margin").is_none(),
        "the operator's figures are not the customer's: {first}"
    );
    assert!(first.get("account_id").is_none(), "not grouped by account");

    // Ungrouped, by hour: one line of the hour, by status in its counts.
    let (_, hourly) = app
        .call(
            Method::GET,
            &format!("/v1/usage?from={from}&to={to}&interval=hour"),
            Some(&key),
            None,
        )
        .await;
    let data = hourly["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{hourly}");
    assert_eq!(data[0]["period"], from.as_str());
    assert_eq!(data[0]["messages"], 4);
    assert_eq!(data[0]["statuses"]["pending"], 3);
    assert_eq!(data[0]["statuses"]["canceled"], 1);
    assert_eq!(data[0]["delivery_rate"], Value::Null, "none left the queue");

    // As CSV.
    let (_, csv) = app
        .call(
            Method::GET,
            &format!("/v1/usage?from={from}&to={to}&interval=total&group_by=country&format=csv"),
            Some(&key),
            None,
        )
        .await;
    let csv = csv.as_str().unwrap();
    let mut rows = csv.lines();
    assert_eq!(
        rows.next().unwrap(),
        "period,country,messages,segments,price,refunded,pending,sent,delivered,undelivered,expired,rejected,failed,canceled,delivery_rate,average_latency_ms"
    );
    assert_eq!(
        rows.collect::<Vec<_>>(),
        [
            format!("{from},GB,1,1,1.0000,0.0000,1,0,0,0,0,0,0,0,,"),
            format!("{from},NL,3,4,0.1400,0.0350,2,0,0,0,0,0,0,1,,"),
        ]
    );

    // The operator sees every account, the carriers' cost and the margin.
    let (status, all) = app
        .admin(
            Method::GET,
            &format!(
                "/admin/v1/usage?from={from}&to={to}&interval=total&group_by=account,connector"
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let data = all["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{all}");
    assert_eq!(data[0]["account_id"], acme.0);
    assert_eq!(data[0]["connector"], Value::Null, "not sent yet");
    assert_eq!(data[0]["price"], "1.1400");
    assert_eq!(data[0]["carrier_cost"], "0.0000");
    assert_eq!(data[0]["margin"], "1.1050", "price less refunds and cost");
    let (_, one) = app
        .admin(
            Method::GET,
            &format!("/admin/v1/usage?from={from}&to={to}&account={}", acme.0),
            None,
        )
        .await;
    assert_eq!(one["data"][0]["messages"], 4, "{one}");
}

#[tokio::test]
async fn a_reseller_reads_its_sub_accounts_usage_and_no_one_else_s() {
    let app = App::new().await;
    let (reseller, rkey) = app.account("reseller", "100").await;
    let (stranger, skey) = app.account("stranger", "5").await;
    let (_, child) = app
        .call(
            Method::POST,
            "/v1/subaccounts",
            Some(&rkey),
            Some(json!({"name": "shop"})),
        )
        .await;
    let (child_id, ckey) = (
        child["id"].as_i64().unwrap(),
        child["api_key"].as_str().unwrap().to_string(),
    );
    app.call(
        Method::POST,
        &format!("/v1/subaccounts/{child_id}/transfers"),
        Some(&rkey),
        Some(json!({"amount": "5"})),
    )
    .await;
    send(&app, &ckey, "+31612345678", json!({})).await;
    send(&app, &ckey, "+31612345679", json!({})).await;
    send(&app, &rkey, "+31612345670", json!({})).await;
    send(&app, &skey, "+31612345671", json!({})).await;
    let (from, to) = this_hour(&app);
    let q = format!("/v1/usage?from={from}&to={to}&interval=total");

    let messages = |v: &Value| -> Vec<(Option<i64>, u64)> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["account_id"].as_i64(), l["messages"].as_u64().unwrap()))
            .collect()
    };
    let (_, own) = app.call(Method::GET, &q, Some(&rkey), None).await;
    assert_eq!(messages(&own), [(None, 1)], "{own}");
    let (_, theirs) = app
        .call(
            Method::GET,
            &format!("{q}&account={child_id}"),
            Some(&rkey),
            None,
        )
        .await;
    assert_eq!(messages(&theirs), [(None, 2)], "{theirs}");
    let (status, both) = app
        .call(
            Method::GET,
            &format!("{q}&subaccounts=true&group_by=account"),
            Some(&rkey),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{both}");
    let mut got = messages(&both);
    got.sort();
    assert_eq!(got, [(Some(reseller.0), 1), (Some(child_id), 2)], "{both}");

    // No one reads a parent's, a sibling's or a stranger's.
    for (who, account) in [(&ckey, stranger.0), (&rkey, stranger.0), (&skey, child_id)] {
        let (status, body) = app
            .call(
                Method::GET,
                &format!("{q}&account={account}"),
                Some(who),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let (_, childs_own) = app
        .call(
            Method::GET,
            &format!("{q}&subaccounts=true"),
            Some(&ckey),
            None,
        )
        .await;
    assert_eq!(
        messages(&childs_own),
        [(None, 2)],
        "no sub-accounts of its own"
    );
}

#[tokio::test]
async fn questions_a_usage_report_cannot_answer_are_refused_by_name() {
    let app = App::new().await;
    let (_, key) = app.account("acme", "10").await;
    let (from, to) = this_hour(&app);
    let bad = [
        (format!("/v1/usage?to={to}"), "from"),
        (format!("/v1/usage?from={from}&to={from}"), "to"),
        (
            format!("/v1/usage?from=2026-11-01T00:30:00Z&to={to}"),
            "from",
        ),
        (format!("/v1/usage?from=yesterday&to={to}"), "from"),
        (
            "/v1/usage?from=2026-01-01&to=2026-03-01&interval=hour".to_string(),
            "to",
        ),
        ("/v1/usage?from=2025-01-01&to=2026-03-01".to_string(), "to"),
        (
            format!("/v1/usage?from={from}&to={to}&interval=week"),
            "interval",
        ),
        (
            format!("/v1/usage?from={from}&to={to}&group_by=connector"),
            "group_by",
        ),
        (
            format!("/v1/usage?from={from}&to={to}&group_by=account"),
            "group_by",
        ),
        (
            format!("/v1/usage?from={from}&to={to}&group_by=planet"),
            "group_by",
        ),
        (
            format!("/v1/usage?from={from}&to={to}&format=xml"),
            "format",
        ),
        (
            format!("/v1/usage?from={from}&to={to}&account=1&subaccounts=true"),
            "account",
        ),
        (format!("/v1/usage?from={from}&to={to}&colour=red"), "query"),
    ];
    for (path, field) in bad {
        let (status, body) = app.call(Method::GET, &path, Some(&key), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
    }
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/admin/v1/usage?from={from}&to={to}&subaccounts=true"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/admin/v1/usage?from={from}&to={to}&account=999"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such account: {body}");
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/admin/v1/usage?from={from}&to={to}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a customer's key is not the operator's"
    );
}
