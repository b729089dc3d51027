//! The SQLite adapter against a real database file.

use smsgate_core::{AccountId, Status, Timestamp};

use super::SqliteStore;
use crate::testing::*;
use crate::*;

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    (dir, store)
}

#[tokio::test]
async fn a_receipt_before_its_acknowledgement_waits_on_disk() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("t.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store
                .apply(vec![receipt("0x77", Status::Delivered, 25)])
                .await
                .unwrap(),
            [ApplyOutcome::Deferred]
        );
        assert_eq!(
            store
                .apply(vec![receipt("C0FFEE", Status::Delivered, 26)])
                .await
                .unwrap(),
            [ApplyOutcome::Deferred]
        );
    }
    // Across a restart: the acknowledgement finds the waiting receipt.
    let store = SqliteStore::open(&path).unwrap();
    let id = sent_with(&store, "+31612345678", &["c0ffee"]).await;
    assert_eq!(status(&store, id).await, Status::Delivered);
    let detail = store.message(None, id).await.unwrap().unwrap();
    assert_eq!(detail.parts[0].status, Some(Status::Delivered));
    // The unmatched one is purged once old.
    assert_eq!(
        store
            .purge_pending_receipts(Timestamp::now().plus_millis(1))
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn reopening_keeps_everything_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        account(&store, "kept", 7).await;
    }
    let store = SqliteStore::open(&path).unwrap();
    let accounts = store.accounts().await.unwrap();
    assert_eq!(
        (accounts.len(), accounts[0].balance.whole_credits()),
        (1, 7)
    );
}

/// A database written when amounts were whole credits reads back the same
/// amounts in minor units (migration 21), its prices as the default rate
/// plan's (migration 22).
#[tokio::test]
async fn whole_credits_of_an_older_database_become_exact_amounts() {
    use smsgate_core::Amount;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let conn = super::conn::open(&path, false).unwrap();
        for sql in &super::MIGRATIONS[..20] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 20;
             INSERT INTO accounts (id, name, balance, created_at) VALUES (1, 'old', 7, 1);
             INSERT INTO ledger (account_id, amount, kind, created_at) VALUES (1, 7, 'topup', 1);
             INSERT INTO prices (route_class, prefix, price) VALUES ('standard', '31', 2);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let a = store.account(AccountId(1)).await.unwrap().unwrap();
    assert_eq!(a.balance, Amount::credits(7));
    assert_eq!(
        store.ledger(a.id, 10).await.unwrap()[0].amount,
        Amount::credits(7)
    );
    let plans = store.plans(None).await.unwrap();
    assert_eq!(plans.len(), 1);
    assert!(plans[0].is_default);
    assert_eq!(plans[0].prices[0].per_segment, Amount::credits(2));
    assert_eq!(store.pricing().await.unwrap().default, Some(plans[0].id));
}

/// Messages stored before the usage counters existed are counted by the
/// migration that brings them.
#[tokio::test]
async fn messages_of_an_older_database_are_counted_when_it_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let before = super::MIGRATIONS
        .iter()
        .position(|m| m.contains("CREATE TABLE usage_counters"))
        .unwrap();
    {
        let conn = super::conn::open(&path, false).unwrap();
        for sql in &super::MIGRATIONS[..before] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(&format!(
            "PRAGMA user_version = {before};
             INSERT INTO accounts (id, name, balance, created_at) VALUES (1, 'old', 100000, 1);"
        ))
        .unwrap();
        // As the release before wrote them (the counters' statements
        // were not there yet).
        for (id, to, status) in [
            (1u8, "+31612345678", "delivered"),
            (2, "+31612345679", "queued"),
        ] {
            conn.execute(
                "INSERT INTO messages (id, account_id, recipient, sender, body, encoding, segments, cost,
                     category, route_class, status, created_at, updated_at, due_at, connector)
                 VALUES (?1, 1, ?2, 'Acme', 'hi', 'gsm7', 1, 20000, 'transactional', 'standard', ?3,
                     7200005, CASE ?3 WHEN 'delivered' THEN 7200505 ELSE 7200005 END, 7200005, 'c')",
                rusqlite::params![vec![id; 16], to, status],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    let rows = store
        .usage(UsageQuery {
            from: Timestamp(0),
            to: Timestamp(3 * 3_600_000),
            accounts: None,
            interval: UsageInterval::Hour,
            groups: UsageGroups {
                connector: true,
                ..UsageGroups::default()
            },
        })
        .await
        .unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.period.0,
                r.connector.clone().unwrap(),
                r.counts.messages,
                r.counts.price,
                r.counts.latency_ms,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (7_200_000, None, 1, Amount::credits(2), 0),
            (7_200_000, Some("c".to_string()), 1, Amount::credits(2), 500),
        ]
    );
}

/// SQLite silently recompiles some statements on every new binding (an
/// ORDER BY after a partial-index lookup did, 49 times in 50). The
/// statements every message passes through must never be recompiled.
#[test]
fn per_message_statements_are_never_recompiled() {
    use rusqlite::StatementStatus;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = super::conn::open(&path, false).unwrap();
    conn.execute(
        "INSERT INTO accounts (name, balance, created_at) VALUES ('a', 10000000, 1)",
        [],
    )
    .unwrap();
    for i in 0..20i64 {
        let now = Timestamp(10 + i);
        let m = message(&format!("+3161234{i:04}"), 1, None);
        crate::sql::messages::accept(&conn, submission(AccountId(1), vec![m.clone()]), now)
            .unwrap()
            .unwrap();
        assert_eq!(
            crate::sql::messages::claim(&conn, NodeId(0), now, Timestamp(1_000 + i), 10, None)
                .unwrap()
                .len(),
            1
        );
        let mut sent = StatusUpdate::new(Target::Message(m.id), Status::Sent, now);
        sent.connector = Some("c".into());
        sent.carrier_ids = vec![format!("id{i}")];
        let receipt = StatusUpdate::new(
            Target::Carrier {
                connector: "c".into(),
                carrier_id: format!("id{i}"),
            },
            Status::Delivered,
            now,
        );
        for u in [sent, receipt] {
            assert!(matches!(
                crate::sql::messages::apply(&conn, u).unwrap(),
                ApplyOutcome::Applied { .. }
            ));
        }
    }
    for (sql, runs) in [
        (crate::sql::receipts::FIND_PART.to_string(), 20),
        (crate::sql::messages::UPDATE_STATUS.to_string(), 40),
        (crate::sql::messages::claim_sql(&conn, true), 20),
        (crate::sql::messages::claim_sql(&conn, false), 20),
        // Each message counted once, moved twice (sent, delivered).
        (crate::sql::usage::UPSERT.to_string(), 20 + 2 * 2 * 20),
    ] {
        let stmt = conn.prepare_cached(&sql).unwrap();
        assert_eq!(stmt.get_status(StatementStatus::Run), runs, "{sql}");
        assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0, "{sql}");
    }
}

#[test]
fn a_database_of_the_last_release_keeps_its_objects_under_new_public_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        let tx = c.transaction().unwrap();
        for sql in &super::MIGRATIONS[..12] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 12).unwrap();
        tx.execute_batch(
            "INSERT INTO accounts (id, name, created_at) VALUES (1, 'a', 0);
             INSERT INTO webhook_endpoints (id, account_id, url, secret, events, created_at)
                 VALUES (1, 1, 'https://a.example/', 's', '*', 0),
                        (2, 1, 'https://b.example/', 's', '*', 0);
             INSERT INTO events (id, account_id, type, seq, created_at)
                 VALUES (1, 1, 'inbound.received', 1, 0);
             -- Endpoint 3 was deleted with this delivery pending.
             INSERT INTO webhook_deliveries (endpoint_id, event_id, status, due_at, created_at)
                 VALUES (1, 1, 'delivered', 0, 0), (3, 1, 'pending', 0, 0);
             INSERT INTO senders (account_id, sender_id, category, created_at)
                 VALUES (1, 'ACME', 'transactional', 0);
             INSERT INTO templates (account_id, name, template_id, category, body, created_at)
                 VALUES (1, 'otp', 'T1', 'otp', 'code {#var#}', 0);
             INSERT INTO campaigns (account_id, ref, created_at) VALUES (1, 'c', 0);
             INSERT INTO campaign_subscribers (campaign_id, number, created_at)
                 VALUES (1, '+31612345678', 0);",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let hooks = store.webhooks(AccountId(1)).await.unwrap();
        assert_eq!(hooks.len(), 2);
        assert!(hooks.iter().all(|h| h.id.as_str().starts_with("wh_")));
        assert_ne!(hooks[0].id, hooks[1].id);
        let log = store
            .deliveries(AccountId(1), hooks[0].id.clone(), 10)
            .await
            .unwrap();
        assert_eq!(log.len(), 1);
        assert!(log[0].id.as_str().starts_with("dl_"));
        // The orphan of endpoint 3 is dead, and 3 is not handed out again.
        assert!(
            (&store as &dyn Store)
                .claim_all(Timestamp(1), Timestamp(2))
                .await
                .is_empty()
        );
        let new = store
            .create_webhook(
                AccountId(1),
                hook("https://c.example/", 1),
                &crate::Audit::cli(Timestamp(1)),
            )
            .await
            .unwrap();
        let key: i64 = store
            .read(move |c| {
                Ok(c.connection().query_row(
                    "SELECT id FROM webhook_endpoints WHERE uid = ?1",
                    [new.id.as_str()],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(key, 4);
        let senders = store.senders(AccountId(1)).await.unwrap();
        assert!(senders[0].id.as_str().starts_with("sd_"));
        let t = store.templates(AccountId(1)).await.unwrap();
        assert!(t[0].id.as_str().starts_with("tp_"));
        let subscribed = store
            .subscribed(AccountId(1), "c", vec!["+31612345678".into()])
            .await
            .unwrap();
        assert_eq!(
            subscribed.unwrap().len(),
            1,
            "subscribers keep their campaign"
        );
    });
}

/// SQLite's errors become the store's opaque backend error, asked by kind.
#[test]
fn sqlite_failures_are_backend_errors_asked_by_kind() {
    let failure = |code: i32| {
        StoreError::from(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            None,
        ))
    };
    let StoreError::Backend(busy) = failure(rusqlite::ffi::SQLITE_BUSY) else {
        panic!("not a backend error");
    };
    assert!(busy.is_busy() && !busy.is_read_only());
    let StoreError::Backend(locked) = failure(rusqlite::ffi::SQLITE_LOCKED) else {
        panic!("not a backend error");
    };
    assert!(locked.is_busy());
    let StoreError::Backend(read_only) = failure(rusqlite::ffi::SQLITE_READONLY) else {
        panic!("not a backend error");
    };
    assert!(read_only.is_read_only() && !read_only.is_busy());
    let StoreError::Backend(other) = StoreError::from(rusqlite::Error::InvalidQuery) else {
        panic!("not a backend error");
    };
    assert!(!other.is_busy() && !other.is_read_only());
}

/// The suite's test, and SQLite's AUTOINCREMENT: a deleted endpoint's
/// internal id is never handed out again.
#[tokio::test]
async fn a_deleted_endpoint_s_id_and_deliveries_go_to_no_one_else() {
    let (_d, store) = open();
    crate::testing::a_deleted_endpoint_s_id_and_deliveries_go_to_no_one_else(&store).await;
    let ids: Vec<i64> = store
        .read(|c| {
            Ok(c.connection()
                .prepare("SELECT id FROM webhook_endpoints")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
        .unwrap();
    assert_eq!(ids, [2], "AUTOINCREMENT: the deleted 1 is not reused");
}

mod suite {
    use super::open;

    crate::testing::behaviour_suite!(open());
}

/// The audit log refuses to be rewritten, even by SQL past the store.
#[tokio::test]
async fn the_audit_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).unwrap();
    store
        .adjust_credits(
            account(&store, "a", 0).await,
            Amount::credits(1),
            None,
            &by(T0),
        )
        .await
        .unwrap();
    drop(store);
    let c = rusqlite::Connection::open(&path).unwrap();
    for sql in [
        "UPDATE audit_log SET actor = 'cli'",
        "DELETE FROM audit_log",
    ] {
        let e = c.execute(sql, []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    let rows: i64 = c
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn a_job_undone_takes_its_usage_counts_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    crate::testing::a_job_undone_takes_its_usage_counts_back(&store).await;
}
