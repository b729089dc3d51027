//! Starts the real `smsgate` binary on a loopback port with a temporary
//! database, and talks to it over HTTP.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "sgadm_test_4f1c9a7e2b8d6053e1a9c7f4b2d8e6a0";

pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database it runs on, when it does (see
    /// [`on_postgres`]); else the SQLite file in `dir`.
    pub postgres: Option<PgDatabase>,
    /// The PostgreSQL URL of a database shared with other nodes.
    pub shared: Option<String>,
    pub env: Vec<(String, String)>,
    pub http: Client,
}

/// Webhook receivers of the tests listen on loopback over plain http,
/// which the default destination policy refuses: tests with a receiver
/// allow it for themselves.
pub const LOCAL_RECEIVERS: &[(&str, &str)] = &[
    ("SMSGATE_ENGINE__WEBHOOKS__ALLOW_PRIVATE", "true"),
    ("SMSGATE_ENGINE__WEBHOOKS__ALLOW_HTTP", "true"),
];

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_smsgate")
}

impl Server {
    /// A server whose simulator answers quickly.
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// A server with extra `SMSGATE_*` settings, e.g.
    /// `("SMSGATE_ENGINE__SIMULATOR__REJECTED_RATIO", "1")`.
    pub fn start_with(env: &[(&str, &str)]) -> Server {
        Server::start_configured("", env)
    }

    /// A server with a TOML config file (e.g. `[[connectors]]`) and extra
    /// `SMSGATE_*` settings.
    pub fn start_configured(toml: &str, env: &[(&str, &str)]) -> Server {
        Server::start_on(toml, env, STORE.get().then(PgDatabase::create), None)
    }

    /// A node of a cluster: a server on the PostgreSQL database at `url`,
    /// shared with others.
    pub fn node(toml: &str, env: &[(&str, &str)], url: &str) -> Server {
        Server::start_on(toml, env, None, Some(url.to_string()))
    }

    fn start_on(
        toml: &str,
        env: &[(&str, &str)],
        postgres: Option<PgDatabase>,
        shared: Option<String>,
    ) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("smsgate.toml");
        std::fs::write(&config, toml).expect("write config");
        let mut all = vec![
            ("SMSGATE_ADMIN_TOKEN".to_string(), ADMIN_TOKEN.to_string()),
            ("SMSGATE_DEMO_CREDITS".into(), "0".into()),
            (
                "SMSGATE_ENGINE__SIMULATOR__DELIVERY_DELAY_MS".into(),
                "20".into(),
            ),
            (
                "SMSGATE_ENGINE__DISPATCH__RETRY_BASE_MS".into(),
                "100".into(),
            ),
            ("SMSGATE_LOG".into(), "warn".into()),
            ("SMSGATE_CONFIG".into(), config.display().to_string()),
        ];
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut server = Server {
            child: None,
            base: String::new(),
            postgres,
            shared,
            dir,
            env: all,
            http: http_client(Duration::from_secs(30)),
        };
        server.spawn("127.0.0.1:0");
        server
    }

    /// The server's resident memory and its peak, in KiB (Linux).
    pub fn rss_kib(&self) -> (u64, u64) {
        let pid = self.child.as_ref().expect("running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// The SQLite file (on SQLite).
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("smsgate.db")
    }

    /// What `--db` says: the SQLite file or the PostgreSQL URL.
    pub fn db_arg(&self) -> std::ffi::OsString {
        match (&self.postgres, &self.shared) {
            (Some(pg), _) => pg.url.clone().into(),
            (None, Some(url)) => url.clone().into(),
            (None, None) => self.db().into(),
        }
    }

    /// Starts the process (again) on the same database.
    pub fn spawn(&mut self, listen: &str) {
        let mut child = Command::new(binary())
            .args(["serve", "--listen", listen, "--db"])
            .arg(self.db_arg())
            .envs(self.env.iter().cloned())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start smsgate");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next()
            .expect("smsgate printed nothing")
            .expect("stdout readable");
        let base = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_string();
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.base = base;
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        let pid = c.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = c.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "smsgate did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(method, ADMIN_TOKEN, path, body).await
    }

    /// `PATCH /admin/v1/accounts/{id}`.
    pub async fn patch_account(&self, id: i64, body: Value) -> (StatusCode, Value) {
        self.admin(
            reqwest::Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(body),
        )
        .await
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Creates an account with `credits` and returns (id, api key).
    pub async fn account(&self, name: &str, credits: i64) -> (i64, String) {
        let (status, body) = self
            .admin(
                reqwest::Method::POST,
                "/admin/v1/accounts",
                Some(json!({"name": name, "credits": credits})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_i64().unwrap(),
            body["api_key"].as_str().unwrap().to_string(),
        )
    }

    /// Routes the inbound messages to `number` to `account`.
    pub async fn assign_number(&self, number: &str, account: Value) {
        let (status, body) = self
            .admin(
                reqwest::Method::POST,
                "/admin/v1/numbers",
                Some(json!({"number": number, "account_id": account})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// A request with an API key, and its answer.
    async fn call(
        &self,
        method: reqwest::Method,
        key: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await.expect("request")).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, key, path, Some(body))
            .await
    }

    pub async fn put(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PUT, key, path, Some(body)).await
    }

    pub async fn patch(&self, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PATCH, key, path, Some(body))
            .await
    }

    pub async fn get(&self, key: &str, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, key, path, None).await
    }

    pub async fn delete(&self, key: &str, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::DELETE, key, path, None).await
    }

    pub async fn balance(&self, key: &str) -> i64 {
        let (status, body) = self.get(key, "/v1/balance").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        credits(&body["balance"]).unwrap()
    }

    /// Polls a message until it reaches `status` (panics after 15 s).
    pub async fn wait_for(&self, key: &str, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (code, body) = self.get(key, &format!("/v1/messages/{id}")).await;
            assert_eq!(code, StatusCode::OK, "{body}");
            if body["status"] == status {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "message {id} never became {status}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

thread_local! {
    /// Servers this thread starts run on PostgreSQL.
    static STORE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs an e2e test (a `#[tokio::test]`, which runs on the calling
/// thread) with its servers on PostgreSQL: a fresh database each, on the
/// server at `PG_TEST_URL` (default: the local one, user postgres).
pub fn run_on_postgres(test: fn()) {
    STORE.set(true);
    let done = std::panic::catch_unwind(test);
    STORE.set(false);
    if let Err(panic) = done {
        std::panic::resume_unwind(panic);
    }
}

/// `on_postgres!(a, b)` in a test module: `a` and `b` again, as
/// `on_postgres::a` and `on_postgres::b`, with their servers on PostgreSQL.
macro_rules! on_postgres {
    ($($name:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[test]
                fn $name() {
                    crate::support::run_on_postgres(super::$name);
                }
            )*
        }
    };
}
pub(crate) use on_postgres;

/// A database of its own for one server, dropped with it.
pub struct PgDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> PgDatabase {
        let admin = std::env::var("PG_TEST_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("smsgate_e2e_{:016x}", fastrand::u64(..));
        pg(&admin, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("the tests need PostgreSQL at {admin} (PG_TEST_URL): {e}"));
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        PgDatabase {
            url: format!("{base}/{name}"),
            admin,
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = pg(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs SQL on a thread of its own: the driver may not block a task's.
fn pg(url: &str, sql: &str) -> Result<(), postgres::Error> {
    std::thread::scope(|s| {
        s.spawn(|| postgres::Client::connect(url, postgres::NoTls)?.batch_execute(sql))
            .join()
            .expect("no panic")
    })
}

/// One number from the database at `url` (e.g. a `COUNT(*)`).
pub fn pg_i64(url: &str, sql: &str) -> i64 {
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
            client.query_one(sql, &[]).expect("query").get::<_, i64>(0)
        })
        .join()
        .expect("no panic")
    })
}

/// An HTTP client for the tests. reqwest is built with rustls without a
/// default crypto provider (the binary installs ring), so install it here.
pub fn http_client(timeout: Duration) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .timeout(timeout)
        .build()
        .expect("HTTP client")
}

pub async fn read(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// A send to one recipient.
pub fn text_to(to: &str) -> Value {
    json!({"to": to, "from": "Acme", "text": "Hello from the tests"})
}

/// An amount as the native and admin APIs show it (text with four places,
/// `"12.0000"`) in whole credits; `None` if it is not such a text or has a
/// fraction.
pub fn credits(v: &Value) -> Option<i64> {
    let (whole, fraction) = v.as_str()?.split_once('.')?;
    (fraction == "0000").then(|| whole.parse().ok())?
}
