//! The fixture of the engine's integration tests: an offline engine (no
//! delivery) on a real SQLite store in a temporary directory.

#![allow(dead_code)]

use std::sync::Arc;

use smsgate_core::clock::{Clock, SystemClock};
use smsgate_core::send::Recipient;
use smsgate_core::{AccountId, SendRequest};
use smsgate_engine::{AccountRequest, Caller, Engine, EngineConfig, EngineError};
use smsgate_store::AccountPatch;
use smsgate_store::sqlite::SqliteStore;

pub struct Fixture {
    pub engine: Engine,
    pub secret: String,
    pub account: AccountId,
    _dir: tempfile::TempDir,
}

pub async fn fixture(config: EngineConfig) -> Fixture {
    build(config, false).await
}

/// A fixture whose engine delivers: dispatcher, scheduler and the
/// built-in simulator run.
pub async fn delivering(config: EngineConfig) -> Fixture {
    build(config, true).await
}

/// An offline fixture whose engine reads `clock`.
pub async fn with_clock(config: EngineConfig, clock: Arc<dyn Clock>) -> Fixture {
    build_with(config, false, clock).await
}

/// A delivering fixture whose engine reads `clock`.
pub async fn delivering_with_clock(config: EngineConfig, clock: Arc<dyn Clock>) -> Fixture {
    build_with(config, true, clock).await
}

async fn build(config: EngineConfig, delivering: bool) -> Fixture {
    build_with(config, delivering, Arc::new(SystemClock)).await
}

async fn build_with(config: EngineConfig, delivering: bool, clock: Arc<dyn Clock>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).unwrap());
    let engine = Engine::with_clock(store, config, delivering, clock)
        .await
        .unwrap();
    let (account, key) = engine
        .create_account(
            &smsgate_engine::By::cli(),
            AccountRequest {
                name: "acme".into(),
                credits: Some(smsgate_core::Amount::credits(1_000)),
                ..AccountRequest::default()
            },
        )
        .await
        .unwrap();
    Fixture {
        engine,
        secret: key.secret,
        account: account.id,
        _dir: dir,
    }
}

impl Fixture {
    pub async fn caller(&self) -> Caller {
        self.engine
            .identify(&self.secret, None)
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn patch(&self, patch: AccountPatch) {
        self.engine
            .update_account(&smsgate_engine::By::cli(), self.account, patch)
            .await
            .unwrap();
    }

    /// Sends to `to`: how many were accepted and the codes of the refused
    /// recipients, or the error.
    pub async fn send(&self, to: &[&str]) -> Result<(usize, Vec<String>), EngineError> {
        let caller = self.caller().await;
        let a = self.engine.send(&caller, request(to), None, None).await?;
        Ok((
            a.messages.len(),
            a.rejected.iter().map(|r| r.code.clone()).collect(),
        ))
    }

    pub async fn balance(&self) -> i64 {
        self.engine
            .store()
            .account(self.account)
            .await
            .unwrap()
            .unwrap()
            .balance
            .whole_credits()
    }
}

pub fn request(to: &[&str]) -> SendRequest {
    SendRequest {
        recipients: to
            .iter()
            .map(|t| Recipient {
                to: t.to_string(),
                text: None,
            })
            .collect(),
        from: Some("Acme".into()),
        text: Some("hello".into()),
        route_class: "standard".into(),
        max_recipients: 1_000,
        ..SendRequest::default()
    }
}

/// Waits until the message is in `status` (the simulator answers within
/// milliseconds; the bound only keeps a broken run from hanging).
pub async fn wait_for(f: &Fixture, id: smsgate_core::MessageId, status: smsgate_core::Status) {
    for _ in 0..500 {
        let m = f.engine.store().message(None, id).await.unwrap().unwrap();
        if m.message.status == status {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{id} never reached {status:?}");
}
