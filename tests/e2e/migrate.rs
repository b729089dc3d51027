//! `smsgate migrate` moves an SQLite installation to PostgreSQL.

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn an_sqlite_installation_moves_to_postgresql_and_goes_on() {
    let mut s = Server::start();
    let (_, key) = s.account("mover", 20).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (st, body) = s
            .post(&key, "/v1/messages", text_to(&format!("+3161234567{i}")))
            .await;
        assert!(st.is_success(), "{body}");
        ids.push(body["messages"][0]["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        s.wait_for(&key, id, "delivered").await;
    }
    let (st, hook) = s
        .post(
            &key,
            "/v1/webhooks",
            json!({"url": "https://example.com/hook"}),
        )
        .await;
    assert!(st.is_success(), "{hook}");
    let before: Vec<Value> = shown(&s, &key, &ids).await;
    let balance = s.balance(&key).await;
    assert!(s.terminate().success());

    let pg = PgDatabase::create();
    let out = std::process::Command::new(binary())
        .args(["migrate", "--json", "--from"])
        .arg(s.db())
        .args(["--to", &pg.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copied: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = |table: &str| {
        copied
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == table)
            .unwrap_or_else(|| panic!("no {table} in {copied}"))["rows"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(rows("accounts"), 1);
    assert_eq!(rows("messages"), 3);
    assert_eq!(rows("webhook_endpoints"), 1);
    assert!(rows("transitions") >= 9, "{copied}");
    assert_eq!(rows("ledger"), 4, "the opening balance and three debits");

    // A second copy into the same database is refused, and changes nothing.
    let again = std::process::Command::new(binary())
        .args(["migrate", "--from"])
        .arg(s.db())
        .args(["--to", &pg.url])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds 1 accounts"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The same server on PostgreSQL: the old key, balance, messages with
    // their history and webhooks are all there, and new work goes on.
    s.postgres = Some(pg);
    s.spawn("127.0.0.1:0");
    assert_eq!(s.balance(&key).await, balance);
    assert_eq!(shown(&s, &key, &ids).await, before);
    let (_, hooks) = s.get(&key, "/v1/webhooks").await;
    assert_eq!(hooks["data"][0]["id"], hook["id"], "{hooks}");
    let (st, body) = s.post(&key, "/v1/messages", text_to("+31612345679")).await;
    assert!(st.is_success(), "{body}");
    s.wait_for(
        &key,
        body["messages"][0]["id"].as_str().unwrap(),
        "delivered",
    )
    .await;
    assert_eq!(s.balance(&key).await, balance - 1);
    let (st, second) = s
        .post(
            &key,
            "/v1/webhooks",
            json!({"url": "https://example.com/other"}),
        )
        .await;
    assert!(st.is_success(), "ids go on after the copied ones: {second}");
}

/// The messages as the API shows them.
async fn shown(s: &Server, key: &str, ids: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        let (_, m) = s.get(key, &format!("/v1/messages/{id}")).await;
        out.push(m);
    }
    out
}
