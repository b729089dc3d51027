//! The real binary delivering over SMPP to a third-party SMSC (node-smpp,
//! `tests/smsc`): submit and receipts, long messages in every
//! concatenation mode, UCS-2, receipts before their acknowledgement and in
//! another base, and the SMSC misbehaving (throttling, system errors,
//! refusals, dropped connections, restarts, a wrong password).

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::smsc::Smsc;
use crate::support::Server;

pub(crate) fn connector_toml(smsc: &Smsc, extra: &str) -> String {
    format!(
        r#"
[[connectors]]
name = "carrier-a"
kind = "smpp"
host = "127.0.0.1"
port = {}
system_id = "smsgate"
password = "secret"
bind = "transceiver"
binds = 1
window = 50
tps = 0
reconnect_min_ms = 100
reconnect_max_ms = 500
response_timeout_ms = 2000
{extra}

[[routes]]
prefix = ""
connector = "carrier-a"
"#,
        smsc.smpp_port
    )
}

async fn gateway(smsc: &Smsc, extra: &str) -> (Server, String) {
    let server = Server::start_configured(&connector_toml(smsc, extra), &[]);
    wait_bound(&server, 1).await;
    let (_, key) = server.account("acme", 1000).await;
    (server, key)
}

/// Polls the connector's status until `ready` holds (panics after 10 s).
async fn wait_connector(server: &Server, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = connector(server).await;
        if ready(&c) {
            return c;
        }
        assert!(Instant::now() < deadline, "never {what}: {c}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the connector has `n` bound binds.
async fn wait_bound(server: &Server, n: usize) -> Value {
    wait_connector(server, "bound", |c| {
        c["binds"]
            .as_array()
            .map_or(0, |b| b.iter().filter(|b| b["state"] == "bound").count())
            >= n
    })
    .await
}

/// The first bind's last error, if any.
fn last_error(c: &Value) -> &str {
    c["binds"][0]["last_error"].as_str().unwrap_or("")
}

async fn connector(server: &Server) -> Value {
    let (status, body) = server
        .admin(Method::GET, "/admin/v1/connectors", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "carrier-a")
        .cloned()
        .unwrap_or(Value::Null)
}

async fn send(server: &Server, key: &str, to: &str, text: &str) -> String {
    let (status, body) = server
        .post(
            key,
            "/v1/messages",
            json!({"to": to, "from": "Acme", "text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["messages"][0]["id"].as_str().unwrap().to_string()
}

/// Sends `n` messages to distinct numbers starting with `prefix`.
async fn send_many(server: &Server, key: &str, prefix: &str, n: usize, text: &str) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(
            send(
                server,
                key,
                &format!("{prefix}{i:02}"),
                &format!("{text} {i}"),
            )
            .await,
        );
    }
    ids
}

async fn all_delivered(server: &Server, key: &str, ids: &[String]) {
    for id in ids {
        server.wait_for(key, id, "delivered").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_is_submitted_and_its_receipt_delivers_it() {
    let smsc = Smsc::start();
    let (server, key) = gateway(&smsc, "").await;
    let id = send(&server, &key, "+31612345678", "Hello over SMPP").await;
    let m = server.wait_for(&key, &id, "delivered").await;
    let submits = smsc.submits();
    assert_eq!(submits.len(), 1);
    assert_eq!(submits[0]["text"], "Hello over SMPP");
    assert_eq!(submits[0]["destination_addr"], "31612345678");
    assert_eq!(submits[0]["source_addr"], "Acme");
    assert_eq!(submits[0]["source_addr_ton"], 5);
    assert_eq!(submits[0]["registered_delivery"], 1);
    assert_eq!(m["connector"], "carrier-a");
    assert_eq!(m["carrier_id"], submits[0]["message_id"]);
    assert_eq!(m["parts"][0]["status"], "delivered");
    let statuses: Vec<&str> = m["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["accepted", "queued", "submitting", "sent", "delivered"]
    );
    // The receipt was answered only after it was committed: answered OK.
    smsc.wait_until(5, "the receipt answered", |s| {
        s["counters"]["deliver_sm_resps"]["0"].as_u64() == Some(1)
    });
    let c = connector(&server).await;
    assert_eq!(c["acknowledged"], 1);
    assert_eq!(c["receipts"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn long_messages_in_every_concatenation_mode() {
    let text: String = (0..31)
        .map(|i| format!("part{i:02} "))
        .collect::<String>()
        .repeat(2);
    assert!(text.len() > 306 && text.len() <= 459, "three parts");
    for (mode, pdus, concat) in [
        ("udh", 3, "udh8"),
        ("udh16", 3, "udh16"),
        ("sar", 3, "sar"),
        ("payload", 1, "payload"),
    ] {
        let smsc = Smsc::start();
        let (server, key) = gateway(&smsc, &format!("concatenation = \"{mode}\"")).await;
        let id = send(&server, &key, "+31612345678", &text).await;
        let m = server.wait_for(&key, &id, "delivered").await;
        assert_eq!(m["segments"], 3);
        let submits = smsc.submits();
        assert_eq!(submits.len(), pdus, "{mode}: {submits:?}");
        let whole: String = submits
            .iter()
            .map(|s| s["text"].as_str().unwrap())
            .collect();
        assert_eq!(whole, text, "{mode}: the SMSC reassembles the text");
        for (i, s) in submits.iter().enumerate() {
            assert_eq!(s["concat"]["mode"], concat, "{mode}");
            if pdus > 1 {
                assert_eq!(s["concat"]["total"], 3);
                assert_eq!(s["concat"]["seq"], i + 1);
                assert_eq!(s["concat"]["ref"], submits[0]["concat"]["ref"]);
            }
        }
        // Every part's receipt is on the message.
        assert_eq!(m["parts"].as_array().unwrap().len(), pdus, "{mode}");
        assert!(
            m["parts"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["status"] == "delivered")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ucs2_texts_reach_the_smsc_intact() {
    let smsc = Smsc::start();
    let (server, key) = gateway(&smsc, "").await;
    let short = "Привет, мир! 😀";
    let long = "Доставка сообщения по SMPP. ".repeat(4);
    let a = send(&server, &key, "+31612345678", short).await;
    let b = send(&server, &key, "+31612345679", &long).await;
    server.wait_for(&key, &a, "delivered").await;
    let mb = server.wait_for(&key, &b, "delivered").await;
    assert_eq!(mb["encoding"], "ucs2");
    let submits = smsc.submits();
    let to = |n: &str| -> Vec<&Value> {
        submits
            .iter()
            .filter(|s| s["destination_addr"] == n)
            .collect()
    };
    assert_eq!(to("31612345678")[0]["text"], short);
    assert_eq!(to("31612345678")[0]["data_coding"], 8);
    let parts = to("31612345679");
    assert_eq!(parts.len(), 2);
    let whole: String = parts.iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert_eq!(whole, long);
}

#[tokio::test(flavor = "multi_thread")]
async fn receipts_before_the_acknowledgement_and_in_other_forms() {
    // Answers "000000000A", receipts "a"; and answers in hex, receipts in
    // decimal (which the connector is told: all-digit hex is ambiguous).
    for (receipt_format, setting) in [("hex-lower", ""), ("decimal", "receipt_ids = \"decimal\"")] {
        let smsc = Smsc::start();
        smsc.configure(json!({"receipt_order": "before", "id_format": "hex", "receipt_id_format": receipt_format}));
        let (server, key) = gateway(&smsc, setting).await;
        let ids = send_many(&server, &key, "+316123456", 20, "early receipt").await;
        all_delivered(&server, &key, &ids).await;
        let s = smsc.wait_until(5, "every receipt answered", |s| {
            s["counters"]["deliver_sm_resps"]["0"].as_u64() == Some(20)
        });
        assert_eq!(s["counters"]["submits"], 20, "{receipt_format}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn undelivered_receipts_and_permanent_refusals() {
    let smsc = Smsc::start();
    smsc.configure(json!({"stat_by_suffix": {"0": "UNDELIV"}}));
    let (server, key) = gateway(&smsc, "").await;
    let undelivered = send(&server, &key, "+31612345670", "no luck").await;
    let m = server.wait_for(&key, &undelivered, "undelivered").await;
    assert!(
        m["error"].as_str().unwrap().contains("Undeliverable"),
        "{m}"
    );
    // ESME_RINVDSTADR: rejected with the status recorded, and refunded.
    smsc.configure(json!({"fail_next": 1, "fail_status": 0x0B}));
    let before = server.balance(&key).await;
    let rejected = send(&server, &key, "+31612345671", "refused").await;
    let m = server.wait_for(&key, &rejected, "rejected").await;
    assert!(
        m["error"].as_str().unwrap().contains("ESME_RINVDSTADR"),
        "{m}"
    );
    assert_eq!(m["refunded"], true);
    assert_eq!(server.balance(&key).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_slows_down_and_loses_nothing() {
    let smsc = Smsc::start();
    let (server, key) = gateway(&smsc, "").await;
    smsc.configure(json!({"fail_next": 8, "fail_status": 0x58}));
    let ids = send_many(&server, &key, "+316123456", 30, "msg").await;
    all_delivered(&server, &key, &ids).await;
    let c = connector(&server).await;
    assert!(c["throttled"].as_u64().unwrap() >= 8, "{c}");
    assert_eq!(c["acknowledged"], 30);
    assert_eq!(
        smsc.submits().len(),
        30,
        "no duplicates: throttled submits were not taken"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn system_errors_are_retried_later() {
    let smsc = Smsc::start();
    let server = Server::start_configured(
        &connector_toml(&smsc, ""),
        &[("SMSGATE_ENGINE__DISPATCH__RETRY_BASE_MS", "100")],
    );
    wait_bound(&server, 1).await;
    let (_, key) = server.account("acme", 100).await;
    smsc.configure(json!({"fail_next": 2, "fail_status": 0x08}));
    let id = send(&server, &key, "+31612345678", "eventually").await;
    let m = server.wait_for(&key, &id, "delivered").await;
    assert_eq!(m["attempts"], 3);
    let details: Vec<String> = m["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["detail"].as_str().map(str::to_string))
        .collect();
    assert!(
        details.iter().any(|d| d.contains("ESME_RSYSERR")),
        "{details:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_connection_and_a_restarted_smsc_lose_nothing() {
    let smsc = Smsc::start();
    let (server, key) = gateway(&smsc, "").await;
    // The SMSC drops the connection on the 5th submit, with others in the window.
    smsc.configure(json!({"drop_after": 5, "response_delay_ms": 50}));
    let ids = send_many(&server, &key, "+316123456", 20, "through a drop").await;
    all_delivered(&server, &key, &ids).await;
    let c = connector(&server).await;
    assert!(c["binds"][0]["reconnects"].as_u64().unwrap() >= 1, "{c}");
    // Restart: the SMSC goes away for half a second.
    smsc.configure(json!({"response_delay_ms": 0}));
    smsc.post("/restart", json!({"ms": 500}));
    let more = send_many(&server, &key, "+316123457", 10, "after a restart").await;
    all_delivered(&server, &key, &more).await;
    // Every message reached a final state; the SMSC got each at least once,
    // more only where an answer was lost, and those were counted.
    let submits = smsc.submits();
    let c = connector(&server).await;
    let extra = submits.len() as u64 - 30;
    assert!(
        extra <= c["possible_duplicates"].as_u64().unwrap(),
        "{extra} extra, {c}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_shown_and_fixed_without_a_restart() {
    let smsc = Smsc::start();
    let toml = connector_toml(&smsc, "").replace("\"secret\"", "\"wrong\"");
    let server = Server::start_configured(&toml, &[("CARRIER_A_TEST_PASSWORD", "secret")]);
    let (_, key) = server.account("acme", 100).await;
    let id = send(&server, &key, "+31612345678", "waits for the link").await;
    let c = wait_connector(&server, "refused", |c| {
        last_error(c).contains("ESME_RINVPASWD")
    })
    .await;
    assert_eq!(c["available"], false);
    // Fix the password through the admin API.
    let (status, mut routing) = server.admin(Method::GET, "/admin/v1/routing", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        routing["connectors"][0]["password"], "********",
        "the admin API never shows a password"
    );
    routing["connectors"][0]["password"] = json!("secret");
    let (status, body) = server
        .admin(Method::PUT, "/admin/v1/routing", Some(routing))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["connectors"][0]["password"], "********", "{body}");
    server.wait_for(&key, &id, "delivered").await;
    // Sent back hidden, the password in force is kept (the link stays up).
    let (_, routing) = server.admin(Method::GET, "/admin/v1/routing", None).await;
    let (status, body) = server
        .admin(Method::PUT, "/admin/v1/routing", Some(routing))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = send(&server, &key, "+31612345678", "still bound").await;
    server.wait_for(&key, &id, "delivered").await;
    // A route to a connector that does not exist changes nothing.
    let (status, body) = server
        .admin(
            Method::PUT,
            "/admin/v1/routing",
            Some(json!({"connectors": [], "routes": [{"prefix": "", "connector": "nope"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("nope"), "{body}");
    assert_eq!(connector(&server).await["available"], true);
    // A hidden password for a connector that has none to keep is refused.
    let (_, mut fresh) = server.admin(Method::GET, "/admin/v1/routing", None).await;
    fresh["connectors"][0]["name"] = json!("carrier-new");
    fresh["routes"] = json!([{"prefix": "", "connector": "carrier-new"}]);
    let (status, answer) = server
        .admin(Method::PUT, "/admin/v1/routing", Some(fresh.clone()))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    // password_env: the password comes from the server's environment; a
    // variable that is not set is refused.
    fresh["connectors"][0]["password"] = json!("");
    fresh["connectors"][0]["password_env"] = json!("CARRIER_NO_SUCH_PASSWORD_VARIABLE");
    let (status, answer) = server
        .admin(Method::PUT, "/admin/v1/routing", Some(fresh.clone()))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .contains("CARRIER_NO_SUCH_PASSWORD_VARIABLE")
    );
    fresh["connectors"][0]["password_env"] = json!("CARRIER_A_TEST_PASSWORD");
    let (status, answer) = server
        .admin(Method::PUT, "/admin/v1/routing", Some(fresh))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let id = send(
        &server,
        &key,
        "+31612345678",
        "password from the environment",
    )
    .await;
    server.wait_for(&key, &id, "delivered").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transmitter_and_receiver_pair() {
    let smsc = Smsc::start();
    let server = Server::start_configured(
        &connector_toml(&smsc, "").replace("bind = \"transceiver\"", "bind = \"pair\""),
        &[],
    );
    wait_bound(&server, 2).await;
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("smsgate_smpp_binds{connector=\"carrier-a\",state=\"bound\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("smsgate_smpp_binds{connector=\"carrier-a\",state=\"connecting\"} 0"),
        "{metrics}"
    );
    let (_, key) = server.account("acme", 100).await;
    let id = send(&server, &key, "+31612345678", "over a pair").await;
    server.wait_for(&key, &id, "delivered").await;
    let s = smsc.state();
    let mut binds: Vec<&str> = s["binds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    binds.sort();
    assert_eq!(binds, ["receiver", "transmitter"]);
    assert_eq!(s["submits"][0]["bind"], "transmitter");
}

async fn inbound(server: &Server, key: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = server.get(key, "/v1/inbound").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let data = body["data"].as_array().unwrap().clone();
        if data.len() >= n {
            return data;
        }
        assert!(
            Instant::now() < deadline,
            "only {} inbound: {body}",
            data.len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn inbound_messages_are_decoded_reassembled_and_listed_for_the_owner() {
    let smsc = Smsc::start();
    let (server, key) = gateway(&smsc, "").await;
    let (other_id, other_key) = server.account("other", 0).await;
    let (status, body) = server.admin(Method::GET, "/admin/v1/accounts", None).await;
    assert_eq!(status, StatusCode::OK);
    let acme = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "acme")
        .unwrap()["id"]
        .clone();
    for (number, account) in [("+3197010000001", acme), ("4400", json!(other_id))] {
        server.assign_number(number, account).await;
    }
    let (status, body) = server
        .admin(
            Method::POST,
            "/admin/v1/numbers",
            Some(json!({"number": "not a number", "account_id": other_id})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let to = "3197010000001";
    smsc.post(
        "/mo",
        json!({"from": "31612345678", "to": to, "text": "Hi there {€}"}),
    );
    smsc.post(
        "/mo",
        json!({"from": "31612345678", "to": to, "text": "Привет", "data_coding": 8}),
    );
    smsc.post(
        "/mo",
        json!({"from": "31612345678", "to": to, "text": "Café crème", "data_coding": 3}),
    );
    smsc.post("/mo", json!({"from": "31612345678", "to": to, "ref": 7, "parts": [{"text": "first half, "}, {"text": "second half"}]}));
    smsc.post("/mo", json!({"from": "31612345679", "to": to, "ref": 9, "concat": "sar", "data_coding": 8, "parts": [{"text": "Доброе "}, {"text": "утро"}]}));
    smsc.post(
        "/mo",
        json!({"from": "31612345678", "to": "4400", "text": "for the other account"}),
    );
    let mine = inbound(&server, &key, 5).await;
    let texts: Vec<&str> = mine.iter().map(|m| m["text"].as_str().unwrap()).collect();
    for expected in [
        "Hi there {€}",
        "Привет",
        "Café crème",
        "first half, second half",
        "Доброе утро",
    ] {
        assert!(texts.contains(&expected), "{expected:?} not in {texts:?}");
    }
    let long = mine
        .iter()
        .find(|m| m["text"] == "first half, second half")
        .unwrap();
    assert_eq!(long["parts"], 2);
    assert_eq!(long["from"], "31612345678");
    assert_eq!(long["to"], to);
    assert_eq!(long["connector"], "carrier-a");
    let theirs = inbound(&server, &other_key, 1).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["text"], "for the other account");
    // Every deliver_sm was answered OK, after it was stored.
    smsc.wait_until(5, "every MO answered", |s| {
        s["counters"]["deliver_sm_resps"]["0"].as_u64() == Some(8)
    });
}

/// No message of the account is left `submitting` or otherwise unfinished.
async fn all_final(server: &Server, key: &str, ids: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, m) = server.get(key, &format!("/v1/messages/{id}")).await;
            if ["delivered", "undelivered", "rejected", "expired", "failed"]
                .contains(&m["status"].as_str().unwrap())
            {
                out.push(m);
                break;
            }
            assert!(Instant::now() < deadline, "message never final: {m}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_after_the_timeout_are_retried_and_counted_as_possible_duplicates() {
    let smsc = Smsc::start();
    let server = Server::start_configured(
        &connector_toml(&smsc, "")
            .replace("response_timeout_ms = 2000", "response_timeout_ms = 300"),
        &[("SMSGATE_ENGINE__DISPATCH__RETRY_BASE_MS", "100")],
    );
    wait_bound(&server, 1).await;
    let (_, key) = server.account("acme", 100).await;
    smsc.configure(json!({"response_delay_ms": 600}));
    let ids = vec![
        send(&server, &key, "+31612345678", "slow one").await,
        send(&server, &key, "+31612345679", "slow two").await,
    ];
    // Let them time out once, then answer in time.
    smsc.wait_until(5, "the first submits", |s| {
        s["counters"]["submits"].as_u64() >= Some(2)
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    smsc.configure(json!({"response_delay_ms": 0}));
    let done = all_final(&server, &key, &ids).await;
    assert!(done.iter().all(|m| m["status"] == "delivered"), "{done:?}");
    let c = connector(&server).await;
    assert!(c["timed_out"].as_u64().unwrap() >= 2, "{c}");
    // The SMSC took more submits than there are messages: exactly the ones
    // whose answers came too late, each counted.
    let extra = smsc.counter("submits") - 2;
    assert!(
        extra >= 2 && extra <= c["possible_duplicates"].as_u64().unwrap(),
        "{extra}, {c}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_pdu_is_nacked_and_the_link_goes_on() {
    let smsc = Smsc::start();
    let (server, key) = gateway(&smsc, "").await;
    smsc.post("/malformed", json!({}));
    smsc.wait_until(5, "a generic_nack", |s| {
        s["counters"]["generic_nacks"].as_u64() == Some(1)
    });
    let id = send(&server, &key, "+31612345678", "after the noise").await;
    server.wait_for(&key, &id, "delivered").await;
    let c = connector(&server).await;
    assert_eq!(c["binds"][0]["reconnects"], 0, "{c}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smsc_that_stops_answering_enquire_link_is_left_and_rebound() {
    let smsc = Smsc::start();
    let server = Server::start_configured(
        &connector_toml(&smsc, "enquire_link_secs = 1")
            .replace("response_timeout_ms = 2000", "response_timeout_ms = 500"),
        &[("SMSGATE_ENGINE__DISPATCH__RETRY_BASE_MS", "100")],
    );
    wait_bound(&server, 1).await;
    let (_, key) = server.account("acme", 100).await;
    smsc.configure(json!({"silent": true}));
    let id = send(&server, &key, "+31612345678", "into the silence").await;
    // The link is given up on and bound again.
    let c = wait_connector(&server, "rebound", |c| {
        c["binds"][0]["reconnects"].as_u64() >= Some(1)
    })
    .await;
    assert!(last_error(&c).contains("enquire_link"), "{c}");
    smsc.configure(json!({"silent": false}));
    let m = all_final(&server, &key, &[id]).await;
    assert_eq!(m[0]["status"], "delivered");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_unbinds_every_bind_and_exits() {
    let smsc = Smsc::start();
    let mut server = Server::start_configured(
        &connector_toml(&smsc, "").replace("binds = 1", "binds = 4"),
        &[],
    );
    wait_bound(&server, 4).await;
    let (_, key) = server.account("acme", 100).await;
    let id = send(&server, &key, "+31612345678", "before the stop").await;
    server.wait_for(&key, &id, "delivered").await;
    let status = server.terminate();
    assert!(status.success(), "{status}");
    smsc.wait_until(5, "four unbinds", |s| {
        s["counters"]["unbinds"].as_u64() == Some(4)
    });
}

/// A carrier's own CA and the SMSC's certificate it signed, for 127.0.0.1
/// and localhost: (server key, server certificate, CA certificate).
fn carrier_ca(dir: &std::path::Path) -> (String, String, String) {
    let path = |name: &str| dir.join(name).display().to_string();
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl must be installed for the TLS test");
        assert!(status.success(), "openssl {args:?}");
    };
    std::fs::write(
        path("leaf.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Carrier CA",
        "-keyout",
        &path("ca.key"),
        "-out",
        &path("ca.crt"),
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &path("smsc.key"),
        "-out",
        &path("smsc.csr"),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path("smsc.csr"),
        "-CA",
        &path("ca.crt"),
        "-CAkey",
        &path("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &path("leaf.ext"),
        "-out",
        &path("smsc.crt"),
    ]);
    (path("smsc.key"), path("smsc.crt"), path("ca.crt"))
}

#[tokio::test(flavor = "multi_thread")]
async fn over_tls_with_the_carriers_own_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert, ca) = carrier_ca(dir.path());
    let smsc = Smsc::start_with(&["--tls-key", &key, "--tls-cert", &cert]);
    let (server, key) = gateway(&smsc, &format!("tls = true\ntls_ca_file = \"{ca}\"")).await;
    let id = send(&server, &key, "+31612345678", "Hello over TLS").await;
    server.wait_for(&key, &id, "delivered").await;
    assert_eq!(smsc.submits()[0]["text"], "Hello over TLS");

    // Without trusting that CA, the handshake fails and says why.
    let server = Server::start_configured(&connector_toml(&smsc, "tls = true"), &[]);
    let c = wait_connector(&server, "refused", |c| !last_error(c).is_empty()).await;
    assert!(last_error(&c).contains("TLS"), "{c}");
    assert_eq!(c["available"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_pick_the_connector_and_the_simulator_only_where_named() {
    let smsc = Smsc::start();
    let toml = connector_toml(&smsc, "").replace(
        "[[routes]]\nprefix = \"\"\nconnector = \"carrier-a\"",
        "[[routes]]\nprefix = \"31\"\nconnector = \"carrier-a\"\n\n[[routes]]\nprefix = \"44\"\nconnector = \"simulator\"",
    );
    let server = Server::start_configured(&toml, &[]);
    wait_bound(&server, 1).await;
    let (_, key) = server.account("acme", 100).await;
    let nl = send(&server, &key, "+31612345678", "to carrier-a").await;
    let uk = send(&server, &key, "+447911123456", "to the simulator").await;
    let us = send(&server, &key, "+12025550123", "nowhere").await;
    assert_eq!(
        server.wait_for(&key, &nl, "delivered").await["connector"],
        "carrier-a"
    );
    assert_eq!(
        server.wait_for(&key, &uk, "delivered").await["connector"],
        "simulator"
    );
    let m = server.wait_for(&key, &us, "failed").await;
    assert!(m["error"].as_str().unwrap().contains("no route"), "{m}");
    assert_eq!(smsc.submits().len(), 1);
}

// The same tests with the server on PostgreSQL.
crate::support::on_postgres!(
    a_message_is_submitted_and_its_receipt_delivers_it,
    long_messages_in_every_concatenation_mode,
    receipts_before_the_acknowledgement_and_in_other_forms,
    undelivered_receipts_and_permanent_refusals,
    a_dropped_connection_and_a_restarted_smsc_lose_nothing,
    inbound_messages_are_decoded_reassembled_and_listed_for_the_owner,
    sigterm_unbinds_every_bind_and_exits,
);
