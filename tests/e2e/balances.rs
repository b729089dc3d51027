//! Split balances: an account so configured keeps a balance per category,
//! topped up apart, and each send is charged to (and refunded into) its
//! category's, through the native API and the dialects alike.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Server, credits};

#[tokio::test]
async fn each_category_pays_for_itself() {
    let server = Server::start();
    let (id, key) = server.account("acme", 10).await;
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"split_balances": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["split_balances"], true);
    for (category, amount) in [("otp", 5), ("Transactional", 2)] {
        let (status, body) = server
            .admin(
                Method::POST,
                &format!("/admin/v1/accounts/{id}/credits"),
                Some(json!({"amount": amount, "category": category, "note": "top-up"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(credits(&body["balance"]), Some(amount));
    }
    let (status, body) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/credits"),
            Some(json!({"amount": 1, "category": "vip"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let send = |category: &str| json!({"to": "+31612345678", "from": "Acme", "text": "x".repeat(200), "category": category});
    // 200 characters: 2 segments, 2 credits, from the OTP balance.
    let (status, body) = server.post(&key, "/v1/messages", send("otp")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["balance"], "3.0000", "what is left of the OTP balance");
    // Promotional has nothing, whatever the others hold.
    let (status, body) = server.post(&key, "/v1/messages", send("promotional")).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    let (_, balance) = server.get(&key, "/v1/balance").await;
    assert_eq!(
        balance["balances"],
        json!({"transactional": "2.0000", "promotional": "0.0000", "otp": "3.0000"})
    );
    assert_eq!(
        balance["balance"], "10.0000",
        "the main balance is not used"
    );

    // A dialect send is charged the same way (ultimate sends are
    // transactional); a refund goes back to the category.
    let r = server
        .http
        .post(server.url("/api/http/sms/send"))
        .json(&json!({"api_token": key, "recipient": "31612345678", "sender_id": "Acme", "type": "plain", "message": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, balance) = server.get(&key, "/v1/balance").await;
    assert_eq!(balance["balances"]["transactional"], "1.0000");

    let (_, body) = server
        .post(&key, "/v1/messages", json!({"to": "+31612345678", "from": "Acme", "text": "soon", "category": "otp", "schedule_at": future()}))
        .await;
    let scheduled = body["messages"][0]["id"].as_str().unwrap().to_string();
    let (_, balance) = server.get(&key, "/v1/balance").await;
    assert_eq!(balance["balances"]["otp"], "2.0000");
    let (status, _) = server
        .delete(&key, &format!("/v1/messages/{scheduled}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, balance) = server.get(&key, "/v1/balance").await;
    assert_eq!(
        balance["balances"]["otp"], "3.0000",
        "refunded into the OTP balance"
    );
    let (_, ledger) = server
        .admin(
            Method::GET,
            &format!("/admin/v1/accounts/{id}/ledger"),
            None,
        )
        .await;
    assert_eq!(ledger["data"][0]["kind"], "refund", "{ledger}");
    assert_eq!(ledger["data"][0]["category"], "otp");
}

fn future() -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}
