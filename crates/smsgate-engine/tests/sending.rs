//! What a send gets when it leaves something out, at the engine on a real
//! SQLite store.

mod common;

use common::{fixture, request};
use smsgate_core::send::{Field, FieldErrorKind};
use smsgate_core::{Status, Timestamp};
use smsgate_engine::{EngineConfig, EngineError};
use smsgate_store::AccountPatch;

fn without_sender() -> smsgate_core::SendRequest {
    smsgate_core::SendRequest {
        from: None,
        ..request(&["+31612345678"])
    }
}

/// The sender a send that names none was stored with.
async fn sender_of_a_send_without_one(f: &common::Fixture) -> String {
    let caller = f.caller().await;
    let a = f
        .engine
        .send(&caller, without_sender(), None, None)
        .await
        .unwrap();
    f.engine
        .store()
        .message(Some(f.account), a.messages[0].id)
        .await
        .unwrap()
        .unwrap()
        .message
        .from
}

#[tokio::test]
async fn a_send_without_a_sender_takes_the_account_s_then_the_server_s() {
    // Neither set: refused on `from`.
    let f = fixture(EngineConfig::default()).await;
    let caller = f.caller().await;
    match f.engine.send(&caller, without_sender(), None, None).await {
        Err(EngineError::Invalid(fields)) => {
            assert_eq!(fields[0].field, Field::From);
            assert_eq!(fields[0].kind, FieldErrorKind::Required("sender"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // The server's default.
    let f = fixture(EngineConfig {
        default_sender: Some("Gateway".into()),
        ..EngineConfig::default()
    })
    .await;
    assert_eq!(sender_of_a_send_without_one(&f).await, "Gateway");

    // The account's own wins.
    f.patch(AccountPatch {
        default_sender: Some(Some("Acme".into())),
        ..AccountPatch::default()
    })
    .await;
    assert_eq!(sender_of_a_send_without_one(&f).await, "Acme");
}

#[tokio::test]
async fn a_server_default_sender_that_is_not_a_sender_id_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = smsgate_store::sqlite::SqliteStore::open(&dir.path().join("db")).unwrap();
    let config = EngineConfig {
        default_sender: Some("Far Too Long A Name".into()),
        ..EngineConfig::default()
    };
    assert!(matches!(
        smsgate_engine::Engine::offline_with(std::sync::Arc::new(store), config).await,
        Err(EngineError::Config(
            smsgate_engine::config::ConfigError::DefaultSender(_)
        ))
    ));
}

#[tokio::test]
async fn a_possible_number_check_sends_to_ranges_newer_than_the_metadata() {
    let unknown_range = "+31671234567";
    let f = fixture(EngineConfig::default()).await;
    let caller = f.caller().await;
    let refused = f
        .engine
        .send(&caller, request(&[unknown_range]), None, None)
        .await;
    match refused {
        Err(EngineError::NoValidRecipient(r)) => {
            assert_eq!(r[0].reason.code(), "invalid-number");
            assert!(r[0].reason.to_string().contains("number_check \"valid\""));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The account's own check.
    f.patch(AccountPatch {
        number_check: Some(Some(smsgate_core::NumberCheck::Possible)),
        ..AccountPatch::default()
    })
    .await;
    let caller = f.caller().await;
    let a = f
        .engine
        .send(&caller, request(&[unknown_range]), None, None)
        .await
        .unwrap();
    assert_eq!(a.messages.len(), 1);

    // The server's, for accounts with none of their own.
    let f = fixture(EngineConfig {
        number_check: smsgate_core::NumberCheck::Possible,
        ..EngineConfig::default()
    })
    .await;
    let caller = f.caller().await;
    let a = f
        .engine
        .send(&caller, request(&[unknown_range, "+3167"]), None, None)
        .await
        .unwrap();
    assert_eq!(a.messages.len(), 1);
    assert_eq!(
        a.rejected[0].code, "invalid-number",
        "too short is still refused"
    );
}

#[tokio::test]
async fn a_message_without_a_receipt_ends_expired_after_the_receipt_timeout() {
    let mut config = EngineConfig::default();
    config.simulator.delivery_delay_ms = 0;
    config.simulator.drop_ratio = 1.0; // acknowledged, never receipted
    let f = common::delivering(config).await;
    let caller = f.caller().await;
    let sent = f
        .engine
        .send(
            &caller,
            common::request(&["+31612345678", "+31612345679"]),
            None,
            None,
        )
        .await
        .unwrap();
    let id = sent.messages[0].id;
    common::wait_for(&f, id, Status::Sent).await;
    common::wait_for(&f, sent.messages[1].id, Status::Sent).await;
    let balance = f.balance().await;

    let now = Timestamp::now();
    let hour = 3_600_000;
    // Not before the default 72 h.
    assert_eq!(
        f.engine
            .end_unreceipted(now.plus_millis(71 * hour))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        f.engine
            .end_unreceipted(now.plus_millis(73 * hour))
            .await
            .unwrap(),
        2
    );
    let m = f.engine.store().message(None, id).await.unwrap().unwrap();
    assert_eq!(m.message.status, Status::Expired);
    let last = m.history.last().unwrap();
    assert_eq!(last.status, Status::Expired);
    assert!(
        last.detail
            .as_deref()
            .unwrap()
            .contains("no receipt within the receipt timeout (259200 s)"),
        "{last:?}"
    );
    // The carrier took it: no refund.
    assert_eq!(f.balance().await, balance);
    // Each change is walked once: nothing is ended twice.
    assert_eq!(
        f.engine
            .end_unreceipted(now.plus_millis(74 * hour))
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_delivered_message_is_not_ended_and_a_zero_timeout_waits_for_ever() {
    let mut config = EngineConfig::default();
    config.simulator.delivery_delay_ms = 0;
    let f = common::delivering(config).await;
    common::wait_for(&f, send_one(&f).await, Status::Delivered).await;
    let far = Timestamp::now().plus_millis(365 * 24 * 3_600_000);
    assert_eq!(f.engine.end_unreceipted(far).await.unwrap(), 0);

    let mut config = EngineConfig::default();
    config.simulator.drop_ratio = 1.0;
    config.dispatch.receipt_timeout_secs = 0;
    let f = common::delivering(config).await;
    common::wait_for(&f, send_one(&f).await, Status::Sent).await;
    assert_eq!(f.engine.end_unreceipted(far).await.unwrap(), 0);
}

async fn send_one(f: &common::Fixture) -> smsgate_core::MessageId {
    let caller = f.caller().await;
    let sent = f
        .engine
        .send(&caller, common::request(&["+31612345678"]), None, None)
        .await
        .unwrap();
    sent.messages[0].id
}
