//! The fixture of the HTTP faces' tests: the whole router on an offline
//! engine (no delivery) over a real SQLite store in a temporary directory,
//! called in process (`oneshot`), no socket.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use smsgate_api::AppState;
use smsgate_core::clock::ManualClock;
use smsgate_core::{AccountId, Amount};
use smsgate_engine::{AccountRequest, Engine, EngineConfig};
use smsgate_store::sqlite::SqliteStore;
use tower::ServiceExt;

pub const ADMIN: &str = "admin-token-of-the-tests";

pub struct App {
    pub engine: Engine,
    /// The engine's time: tests move it instead of sleeping.
    pub clock: Arc<ManualClock>,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

impl App {
    pub async fn new() -> App {
        App::with_config(EngineConfig::default()).await
    }

    pub async fn with_config(config: EngineConfig) -> App {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).unwrap());
        let clock = Arc::new(ManualClock::starting_now());
        let engine = Engine::with_clock(store, config, false, clock.clone())
            .await
            .unwrap();
        let router = smsgate_api::router(AppState {
            engine: engine.clone(),
            admin_token_hash: smsgate_engine::accounts::hash_key(ADMIN),
            metrics: None,
            dialects: Default::default(),
            bodies: Default::default(),
        });
        App {
            engine,
            clock,
            router,
            _dir: dir,
        }
    }

    /// Calls `path` with a JSON body (or none) and `Authorization: Bearer`;
    /// the answer's status and JSON (`Null` when it has no body, the text
    /// as a JSON string when it is not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, json)
    }

    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(method, path, Some(ADMIN), body).await
    }

    /// A new account with `credits` and its first key.
    pub async fn account(&self, name: &str, credits: &str) -> (AccountId, String) {
        let (account, key) = self
            .engine
            .create_account(
                &smsgate_engine::By::cli(),
                AccountRequest {
                    name: name.into(),
                    credits: Some(Amount::parse(credits).unwrap()),
                    ..AccountRequest::default()
                },
            )
            .await
            .unwrap();
        (account.id, key.secret)
    }
}
