//! The command line: first start, the printed quickstart, admin commands.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

use serde_json::Value;

use crate::support::{Server, binary, credits};

/// Runs the binary, which must succeed and print JSON.
pub(crate) fn run(args: &[&str]) -> Value {
    let out = Command::new(binary())
        .args(args)
        .output()
        .expect("run smsgate");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[tokio::test]
async fn admin_commands_work_on_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let db = db.to_str().unwrap();
    // A database that does not exist is not made up by a typo.
    let out = Command::new(binary())
        .args(["accounts", "list", "--db", db])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--create"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!std::path::Path::new(db).exists(), "nothing was created");
    let account = run(&[
        "accounts",
        "create",
        "shop",
        "--credits",
        "7",
        "--db",
        db,
        "--create",
    ]);
    assert_eq!(
        (account["name"].as_str(), credits(&account["balance"])),
        (Some("shop"), Some(7))
    );
    assert!(account["api_key"].as_str().unwrap().starts_with("sg_"));
    let id = account["id"].to_string();
    assert_eq!(
        run(&["credits", "add", &id, "3", "--note", "gift", "--db", db])["balance"],
        "10.0000"
    );
    // A negative amount is an amount, not an option.
    assert_eq!(
        run(&["credits", "add", &id, "-4", "--db", db])["balance"],
        "6.0000"
    );
    let key = run(&["keys", "create", &id, "--label", "second", "--db", db]);
    let listed = run(&["keys", "list", &id, "--db", db]);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let revoked = run(&["keys", "revoke", &key["id"].to_string(), "--db", db]);
    assert!(revoked["revoked_at"].is_number());
    // By name: the account's name, a key's label or prefix.
    assert_eq!(
        run(&["credits", "add", "shop", "-1", "--db", db])["balance"],
        "5.0000"
    );
    let labelled = run(&["keys", "create", "shop", "--label", "till", "--db", db]);
    assert_eq!(labelled["account_id"].to_string(), id);
    let revoked = run(&["keys", "revoke", "till", "--db", db]);
    assert_eq!(revoked["id"], labelled["id"]);
    let first_prefix = listed[0]["prefix"].as_str().unwrap().to_string();
    assert_eq!(
        run(&["keys", "revoke", &first_prefix, "--db", db])["prefix"],
        first_prefix.as_str()
    );
    assert_eq!(
        run(&["accounts", "disable", "shop", "--db", db])["status"],
        "disabled"
    );
    assert_eq!(
        run(&["accounts", "enable", &id, "--db", db])["status"],
        "active"
    );
    let out = Command::new(binary())
        .args(["credits", "add", "nobody", "5", "--db", db])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no account with the id or name \"nobody\"")
    );
    // Completions for the shells.
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(binary())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("accounts"),
            "{shell}"
        );
    }
    assert_eq!(
        run(&["accounts", "list", "--db", db])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let out = Command::new(binary())
        .args(["accounts", "create", "shop", "--db", db])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

/// Starts `serve` on `db` as a fresh install would (no admin token set).
fn serve(db: &std::path::Path) -> (Child, BufReader<ChildStdout>) {
    let mut child = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .env_remove("SMSGATE_ADMIN_TOKEN")
        .env("SMSGATE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdout)
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    assert!(
        stdout.read_line(&mut line).unwrap() > 0,
        "smsgate stopped printing"
    );
    line
}

#[tokio::test]
async fn first_start_prints_a_quickstart_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let (mut child, mut stdout) = serve(&db);
    let mut printed = String::new();
    while !printed.contains("then follow it") {
        printed.push_str(&read_line(&mut stdout));
    }
    assert!(printed.contains("admin token"), "{printed}");
    let curl: String = printed
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("curl"))
        .take(2)
        .map(|l| l.trim().trim_end_matches('\\'))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("sh")
        .args(["-c", &curl])
        .output()
        .expect("curl");
    let answer: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{curl}: {out:?}"));
    assert_eq!(answer["messages"][0]["status"], "queued", "{answer}");
    assert_eq!(answer["balance"], "999.0000");
    let _ = child.kill();
    let _ = child.wait();

    // A restart on the same database creates no second demo account and
    // prints no new admin token. Bootstrap runs before the server answers,
    // so once /healthz answers everything it would print is printed.
    let (mut restarted, mut stdout) = serve(&db);
    let first = read_line(&mut stdout);
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let health = crate::support::http_client(std::time::Duration::from_secs(10))
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    let _ = restarted.kill();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let _ = restarted.wait();
    assert!(
        !rest.contains("admin token") && !rest.contains("demo account"),
        "{rest}"
    );
    let accounts = run(&["accounts", "list", "--db", db.to_str().unwrap()]);
    assert_eq!(accounts.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn send_and_status_through_a_running_server() {
    let s = Server::start();
    let (_, key) = s.account("acme", 5).await;
    let answer = run(&[
        "send",
        "--url",
        &s.base,
        "--key",
        &key,
        "--to",
        "+31612345678",
        "--from",
        "Acme",
        "--text",
        "from the CLI",
    ]);
    assert_eq!(answer["balance"], "4.0000");
    let ready = run(&["status", "--url", &s.base]);
    assert_eq!(ready["status"], "ready");
}

/// `--log-format json`: every line the server writes, the start banner
/// too, is one JSON object with flat fields on stderr; each request has an
/// access line, which never carries the query string (keys travel there).
#[tokio::test]
async fn json_logs_hold_everything_and_one_access_line_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let mut child = Command::new(binary())
        .args([
            "serve",
            "--log-format",
            "json",
            "--listen",
            "127.0.0.1:0",
            "--db",
        ])
        .arg(&db)
        .env_remove("SMSGATE_ADMIN_TOKEN")
        .env("SMSGATE_LOG", "info,smsgate_engine=debug")
        .env("SMSGATE_ENGINE__SIMULATOR__DELIVERY_DELAY_MS", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read on a thread, so that a line that never comes fails the test.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines: Vec<Value> = Vec::new();
    let next = |lines: &mut Vec<Value>| {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("smsgate logged no such line within 10 s");
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        lines.push(v.clone());
        v
    };
    // The banner: address, admin token, demo key and first send as fields.
    let listening = loop {
        let v = next(&mut lines);
        if v["message"] == "listening" {
            break v;
        }
    };
    let base = listening["address"].as_str().unwrap().to_string();
    let demo = loop {
        let v = next(&mut lines);
        if v["api_key"].is_string() {
            break v;
        }
    };
    assert!(lines.iter().any(|v| {
        v["admin_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("sgadm_"))
    }));
    let key = demo["api_key"].as_str().unwrap().to_string();
    assert!(demo["first_send"].as_str().unwrap().contains(&key));

    let http = crate::support::http_client(std::time::Duration::from_secs(10));
    let r = http
        .get(format!("{base}/v1/balance"))
        .bearer_auth(&key)
        .header("x-request-id", "trace-me-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(format!("{base}/api/http/balance?api_token={key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let access: Vec<Value> = std::iter::from_fn(|| Some(next(&mut lines)))
        .filter(|v| v["target"] == "smsgate::access")
        .take(2)
        .collect();
    let native = &access[0];
    assert_eq!(native["method"], "GET");
    assert_eq!(native["path"], "/v1/balance");
    assert_eq!(native["status"], 200);
    assert_eq!(native["request_id"], "trace-me-1");
    assert!(native["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(native["account"], demo_account_id(&base, &key).await);
    assert_eq!(access[1]["path"], "/api/http/balance");
    assert_eq!(access[1]["account"], native["account"]);
    // A debug line per status change of a message, from acceptance to
    // the receipt.
    let sent: Value = http
        .post(format!("{base}/v1/messages"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"to": "+31612345678", "from": "smsgate", "text": "hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = sent["messages"][0]["id"].as_str().unwrap().to_string();
    let changes: Vec<String> = std::iter::from_fn(|| Some(next(&mut lines)))
        .filter(|v| v["message"] == "message status changed" && v["message_id"] == id.as_str())
        .map(|v| v["to"].as_str().unwrap().to_string())
        .take_while(|to| to != "delivered")
        .collect();
    assert_eq!(changes, ["queued", "submitting", "sent"]);
    let _ = child.kill();
    let _ = child.wait();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "", "JSON mode prints nothing else");
    // The key is only in the line that hands it over, never in access lines.
    for v in &lines {
        if v["target"] != "smsgate::start" {
            assert!(!v.to_string().contains(&key), "{v}");
        }
    }
}

async fn demo_account_id(base: &str, key: &str) -> Value {
    let v: Value = crate::support::http_client(std::time::Duration::from_secs(10))
        .get(format!("{base}/v1/balance"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["account_id"].clone()
}
