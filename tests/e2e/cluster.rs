//! Several nodes on one PostgreSQL database: they share every account and
//! message, hear of each other's changes at once, hold each connector on
//! exactly one node, and take over the claims and the connector of a node
//! that dies.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::smsc::Smsc;
use crate::support::*;

/// Seconds without a heartbeat before a node is dead, in these tests.
const DEAD_AFTER: u64 = 4;

fn node_env(name: &str) -> Vec<(String, String)> {
    vec![
        ("SMSGATE_ENGINE__CLUSTER__NODE".into(), name.into()),
        (
            "SMSGATE_ENGINE__CLUSTER__DEAD_AFTER_SECS".into(),
            DEAD_AFTER.to_string(),
        ),
    ]
}

fn start_node(toml: &str, name: &str, url: &str, extra: &[(&str, &str)]) -> Server {
    let env = node_env(name);
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    Server::node(toml, &all, url)
}

async fn cluster(server: &Server) -> Value {
    let (status, body) = server.admin(Method::GET, "/admin/v1/cluster", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The names of the nodes alive in a `GET /admin/v1/cluster` answer,
/// newest first.
fn alive(cluster: &Value) -> Vec<String> {
    cluster["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["alive"] == true)
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect()
}

/// The node holding `connector` where it can take messages, as `server`
/// sees it.
async fn holder(server: &Server, connector: &str) -> Option<String> {
    let c = cluster(server).await;
    c["leases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["connector"] == connector && l["available"] == true)
        .map(|l| l["node_name"].as_str().unwrap().to_string())
}

/// Polls `check` every 20 ms until it holds; panics after `secs`.
async fn within<F: std::future::Future<Output = bool>>(
    secs: u64,
    what: &str,
    mut check: impl FnMut() -> F,
) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "not within {secs} s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

/// The auth cache of a node keeps answers for 5 s; a change heard of
/// through the database reaches it well before.
const HEARD_WITHIN: u64 = 3;

#[tokio::test(flavor = "multi_thread")]
async fn nodes_share_the_data_and_hear_each_other_s_changes() {
    let pg = PgDatabase::create();
    let a = start_node("", "a", &pg.url, &[]);
    let b = start_node("", "b", &pg.url, &[]);
    let (id, key) = a.account("shop", 50).await;
    // What one node accepts, another shows; each delivers through its own
    // simulator.
    let (st, sent) = b.post(&key, "/v1/messages", text_to("+31612345678")).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{sent}");
    let msg = sent["messages"][0]["id"].as_str().unwrap();
    a.wait_for(&key, msg, "delivered").await;
    assert_eq!(a.balance(&key).await, b.balance(&key).await);

    // Both nodes alive, each listed once.
    assert_eq!(alive(&cluster(&a).await), ["b", "a"]);

    // Prices set on one node price the next send on the other.
    let (st, body) = a
        .admin(
            Method::PUT,
            "/admin/v1/prices",
            Some(json!({"route_class": "standard", "prefix": "31", "price": 3})),
        )
        .await;
    assert!(st.is_success(), "{body}");
    let heard = within(HEARD_WITHIN, "the price reaches b", || async {
        let (_, quote) = b
            .post(&key, "/v1/messages/preview", text_to("+31612345678"))
            .await;
        quote["total_cost"] == "3.0000"
    })
    .await;
    eprintln!("cluster: a price change heard on another node after {heard:?}");

    // Routing set on one node is in force on the other; the new connector
    // is held by exactly one of them.
    let routing = json!({
        "connectors": [{"kind": "simulator", "name": "sim-b"}],
        "routes": [{"prefix": "", "connector": "sim-b"}],
    });
    let (st, body) = a
        .admin(Method::PUT, "/admin/v1/routing", Some(routing))
        .await;
    assert!(st.is_success(), "{body}");
    let heard = within(HEARD_WITHIN, "the routing reaches b", || async {
        let (_, r) = b.admin(Method::GET, "/admin/v1/routing", None).await;
        r["connectors"][0]["name"] == "sim-b"
    })
    .await;
    eprintln!("cluster: a routing change heard on another node after {heard:?}");
    within(HEARD_WITHIN, "one node takes the new connector", || async {
        holder(&b, "sim-b").await.is_some()
    })
    .await;
    let c = cluster(&b).await;
    assert_eq!(c["leases"].as_array().unwrap().len(), 1, "{c}");
    // The same through the command line.
    let shown = crate::cli::run(&[
        "cluster",
        "--json",
        "--url",
        &b.base,
        "--admin-token",
        ADMIN_TOKEN,
    ]);
    assert_eq!(shown["leases"][0]["connector"], "sim-b", "{shown}");
    assert_eq!(shown["nodes"].as_array().unwrap().len(), 2, "{shown}");
    assert!(shown["this_node"].as_i64().unwrap() > 0, "{shown}");
    // Sent through either node, a message goes out on the holder.
    for node in [&a, &b] {
        let (st, sent) = node
            .post(&key, "/v1/messages", text_to("+31612345679"))
            .await;
        assert_eq!(st, StatusCode::ACCEPTED, "{sent}");
        let m = a
            .wait_for(
                &key,
                sent["messages"][0]["id"].as_str().unwrap(),
                "delivered",
            )
            .await;
        assert_eq!(m["connector"], "sim-b", "{m}");
    }

    // A key used on b (and cached there) and revoked on a is refused on
    // b at once.
    let (st, extra) = a
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/keys"),
            Some(json!({})),
        )
        .await;
    assert!(st.is_success(), "{extra}");
    let extra_key = extra["api_key"].as_str().unwrap().to_string();
    assert_eq!(b.get(&extra_key, "/v1/balance").await.0, StatusCode::OK);
    let (st, body) = a
        .admin(
            Method::DELETE,
            &format!("/admin/v1/keys/{}", extra["id"]),
            None,
        )
        .await;
    assert!(st.is_success(), "{body}");
    let heard = within(HEARD_WITHIN, "the revoked key is refused on b", || async {
        b.get(&extra_key, "/v1/balance").await.0 == StatusCode::UNAUTHORIZED
    })
    .await;
    eprintln!("cluster: a revoked key refused on another node after {heard:?}");
    // An account disabled on a is refused on b.
    assert_eq!(b.get(&key, "/v1/balance").await.0, StatusCode::OK);
    let (st, body) = a.patch_account(id, json!({"status": "disabled"})).await;
    assert!(st.is_success(), "{body}");
    let heard = within(
        HEARD_WITHIN,
        "the disabled account is refused on b",
        || async { b.get(&key, "/v1/balance").await.0 != StatusCode::OK },
    )
    .await;
    eprintln!("cluster: a disabled account refused on another node after {heard:?}");

    // Two nodes may not share a name.
    let out = std::process::Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--db", &pg.url])
        .envs(a.env.iter().cloned())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a node named \"a\" is serving this database"),
        "{stderr}"
    );
}

fn smpp_toml(smsc: &Smsc) -> String {
    crate::smpp::connector_toml(smsc, "")
}

/// Sends until `stop` (or the node is gone), each message with its own
/// text; returns the acknowledged ones as (id, text).
async fn send_until(
    base: String,
    key: String,
    node: &'static str,
    stop: Arc<AtomicBool>,
) -> Vec<(String, String)> {
    let http = http_client(Duration::from_secs(10));
    let mut acked = Vec::new();
    let mut i = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let text = format!("{node}-{i}");
        let to = format!("+316123{:05}", i);
        i += 1;
        let response = http
            .post(format!("{base}/v1/messages"))
            .bearer_auth(&key)
            .json(&json!({"to": to, "from": "Shop", "text": text}))
            .send()
            .await;
        let Ok(response) = response else { break };
        let (status, body) = read(response).await;
        if status != StatusCode::ACCEPTED {
            eprintln!("{node}: sending ends: {status} {body}");
            break;
        }
        acked.push((
            body["messages"][0]["id"].as_str().unwrap().to_string(),
            text,
        ));
    }
    acked
}

/// Three nodes, one SMPP connector: the node holding it is killed while
/// all three take messages. Another node binds it within the lease (the
/// SMSC never sees two binds at once), every acknowledged message is
/// delivered (a duplicate only where a submit was on the wire when the
/// holder died), and the credits add up.
#[tokio::test(flavor = "multi_thread")]
async fn the_node_holding_the_connector_dies_and_nothing_is_lost() {
    let pg = PgDatabase::create();
    let smsc = Smsc::start();
    // Answers take a little while, so submits are on the wire at the kill.
    smsc.configure(json!({"response_delay_ms": 20}));
    let toml = smpp_toml(&smsc);
    let mut a = start_node(&toml, "a", &pg.url, &[]);
    within(10, "a binds the connector", || async {
        holder(&a, "carrier-a").await.as_deref() == Some("a")
    })
    .await;
    let b = start_node(&toml, "b", &pg.url, &[]);
    let c = start_node(&toml, "c", &pg.url, &[]);
    const CREDITS: i64 = 100_000;
    let (_, key) = a.account("shop", CREDITS).await;
    assert_eq!(holder(&c, "carrier-a").await.as_deref(), Some("a"));

    let stop_a = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = [(&a, "a", &stop_a), (&b, "b", &stop), (&c, "c", &stop)]
        .into_iter()
        .map(|(node, name, stop)| {
            tokio::spawn(send_until(
                node.base.clone(),
                key.clone(),
                name,
                stop.clone(),
            ))
        })
        .collect();
    // Mid-load: some messages through every node, then the holder dies.
    within(20, "the SMSC takes 150 submits", || async {
        smsc.state()["counters"]["submits"].as_u64().unwrap() >= 150
    })
    .await;
    a.kill();
    stop_a.store(true, Ordering::Relaxed);
    // Connections so far were the dead node's.
    let dead_sessions = smsc.state()["counters"]["connections"].as_u64().unwrap();
    let taken = within(
        DEAD_AFTER + 5,
        "another node binds the connector",
        || async { matches!(holder(&b, "carrier-a").await.as_deref(), Some("b" | "c")) },
    )
    .await;
    // Load goes on through the survivors for a while.
    let submits = smsc.state()["counters"]["submits"].as_u64().unwrap();
    within(20, "the new holder submits", || async {
        smsc.state()["counters"]["submits"].as_u64().unwrap() >= submits + 100
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }

    // Every acknowledged message is delivered.
    let st = smsc.state();
    eprintln!(
        "smsc: {} pending {} binds {}",
        st["counters"], st["pending_receipts"], st["binds"]
    );
    for (id, _) in &acked {
        b.wait_for(&key, id, "delivered").await;
    }
    // Once each at the SMSC, but where the dead node had submitted a
    // message without recording it: SMPP cannot tell whether that one
    // arrived, so it is sent again, once, by the new holder.
    let state = smsc.state();
    let mut seen: HashMap<&str, Vec<u64>> = HashMap::new();
    for s in state["submits"].as_array().unwrap() {
        let session = s["session"].as_u64().unwrap();
        seen.entry(s["text"].as_str().unwrap())
            .or_default()
            .push(session);
    }
    let mut duplicates = 0;
    for (id, text) in &acked {
        let sessions = seen.get(text.as_str()).cloned().unwrap_or_default();
        assert!(
            !sessions.is_empty(),
            "message {id} ({text}) never reached the SMSC"
        );
        if sessions.len() > 1 {
            duplicates += sessions.len() - 1;
            assert!(
                sessions.len() == 2 && sessions[0] <= dead_sessions && sessions[1] > dead_sessions,
                "message {id} ({text}) sent more than once other than across the takeover: sessions {sessions:?}"
            );
        }
    }
    assert_eq!(
        state["counters"]["max_bound"], 1,
        "two binds of the connector at once: {}",
        state["counters"]
    );
    eprintln!(
        "cluster failover: {} acknowledged, taken over after {taken:?}, {duplicates} duplicates",
        acked.len()
    );

    // Credits add up: every message stored is charged once, none refunded.
    let stored = pg_i64(&pg.url, "SELECT COUNT(*) FROM messages");
    let charged = pg_i64(
        &pg.url,
        "SELECT COALESCE(SUM(cost), 0)::BIGINT FROM messages",
    );
    assert!(stored >= acked.len() as i64);
    assert_eq!(
        charged,
        stored * 10_000,
        "one credit (10,000 minor units) each"
    );
    assert_eq!(b.balance(&key).await, CREDITS - stored);
    within(20, "every stored message is delivered", || async {
        pg_i64(
            &pg.url,
            "SELECT COUNT(*) FROM messages WHERE status <> 'delivered'",
        ) == 0
    })
    .await;
}

/// Holds node `name`'s row locked, as a database that stopped answering
/// that node would: its heartbeats wait. Until the returned sender is
/// dropped.
fn stall_heartbeats(url: &str, name: &str) -> std::sync::mpsc::Sender<()> {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let (url, name) = (url.to_string(), name.to_string());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let mut tx = client.transaction().expect("begin");
        tx.execute(
            "SELECT id FROM nodes WHERE name = $1 AND ended_at IS NULL FOR UPDATE",
            &[&name],
        )
        .expect("lock");
        locked_tx.send(()).unwrap();
        let _ = released.recv();
        drop(tx);
    });
    locked.recv().expect("locked");
    release
}

/// The node holding a connector cannot reach the database any more: it
/// unbinds before its lease runs out, and only then does another node
/// bind; when it can again, it does not take the connector back.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_cut_off_from_the_database_lets_its_connector_go_first() {
    let pg = PgDatabase::create();
    let smsc = Smsc::start();
    let toml = smpp_toml(&smsc);
    let a = start_node(&toml, "a", &pg.url, &[]);
    within(10, "a binds the connector", || async {
        holder(&a, "carrier-a").await.as_deref() == Some("a")
    })
    .await;
    let b = start_node(&toml, "b", &pg.url, &[]);
    let (_, key) = b.account("shop", 100).await;
    let stalled = stall_heartbeats(&pg.url, "a");
    within(DEAD_AFTER + 5, "b binds the connector", || async {
        holder(&b, "carrier-a").await.as_deref() == Some("b")
    })
    .await;
    let counters = smsc.state()["counters"].clone();
    assert_eq!(counters["binds"], 2, "{counters}");
    assert_eq!(
        counters["max_bound"], 1,
        "never two binds at once: {counters}"
    );
    drop(stalled);
    // a beats again, alive, and leaves the connector to b.
    let (st, sent) = a.post(&key, "/v1/messages", text_to("+31612345678")).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{sent}");
    let m = b
        .wait_for(
            &key,
            sent["messages"][0]["id"].as_str().unwrap(),
            "delivered",
        )
        .await;
    assert_eq!(m["connector"], "carrier-a");
    assert_eq!(holder(&a, "carrier-a").await.as_deref(), Some("b"));
    assert_eq!(alive(&cluster(&a).await), ["b", "a"]);
    assert_eq!(smsc.state()["counters"]["binds"], 2);
}
