//! The PostgreSQL adapter against the machine's server: the behaviour
//! suite, on a fresh database per test.

use super::PostgresStore;

/// A fresh database on the server at `SMSGATE_TEST_PG` (or the local
/// one), dropped with the guard.
pub(crate) struct TestDb {
    admin: String,
    name: String,
    pub(crate) url: String,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = on_server(&self.admin, &sql);
    }
}

/// Runs `sql` on the server (on a thread: the driver may not block a
/// task's thread).
fn on_server(admin: &str, sql: &str) -> Result<(), postgres::Error> {
    std::thread::scope(|s| {
        s.spawn(|| postgres::Client::connect(admin, postgres::NoTls)?.batch_execute(sql))
            .join()
            .expect("no panic")
    })
}

pub(crate) fn server() -> String {
    std::env::var("PG_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub(crate) fn fresh_db() -> TestDb {
    let admin = server();
    let name = format!("smsgate_test_{}", crate::sql::random_id("", 8));
    on_server(&admin, &format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("the tests need PostgreSQL at {admin} (PG_TEST_URL): {e}"));
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    TestDb {
        url: format!("{base}/{name}"),
        admin,
        name,
    }
}

fn open() -> (TestDb, PostgresStore) {
    let db = fresh_db();
    let store = PostgresStore::open(&db.url).unwrap();
    (db, store)
}

crate::testing::behaviour_suite!(open());

#[test]
fn opening_twice_migrates_once() {
    let db = fresh_db();
    drop(PostgresStore::open(&db.url).unwrap());
    drop(PostgresStore::open(&db.url).unwrap());
}

#[tokio::test]
async fn a_job_undone_takes_its_usage_counts_back() {
    let (_db, store) = open();
    crate::testing::a_job_undone_takes_its_usage_counts_back(&store).await;
}

/// Two nodes count in rows of their own: messages accepted on both and
/// moved by one add up in the report, and neither waited on the other's
/// counters.
#[tokio::test]
async fn nodes_count_usage_in_rows_of_their_own_that_add_up() {
    use crate::testing::*;
    use crate::*;
    use smsgate_core::{Status, Timestamp};
    let db = fresh_db();
    let nodes: Vec<PostgresStore> = (0..2)
        .map(|_| PostgresStore::open(&db.url).unwrap())
        .collect();
    let a = account(&nodes[0], "shared", 100).await;
    let sends = (0..20)
        .map(|i| {
            nodes[i % 2].accept(
                vec![submission(
                    a,
                    vec![message(&format!("+3161234{i:04}"), 1, None)],
                )],
                Timestamp(10),
            )
        })
        .collect();
    for answer in join_all(sends).await {
        assert!(answer.unwrap()[0].is_ok());
    }
    let claimed = nodes[1]
        .claim(NodeId(0), Timestamp(20), Timestamp(1_000), 100, None)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 20);
    let sent = claimed
        .iter()
        .map(|m| {
            let mut u = StatusUpdate::new(Target::Message(m.id), Status::Sent, Timestamp(30));
            u.connector = Some("c".into());
            u
        })
        .collect();
    nodes[1].apply(sent).await.unwrap();
    let rows = nodes[0]
        .usage(UsageQuery {
            from: Timestamp(0),
            to: Timestamp(3_600_000),
            accounts: None,
            interval: UsageInterval::Whole,
            groups: UsageGroups {
                status: true,
                ..UsageGroups::default()
            },
        })
        .await
        .unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.status.unwrap(), r.counts.messages))
        .collect();
    assert_eq!(got, [(UsageStatus::Sent, 20)]);
    let shards: i64 = nodes[0]
        .backend
        .read(|c| {
            use crate::sql::Db;
            c.single(
                "SELECT COUNT(DISTINCT shard) FROM usage_counters",
                &[],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(shards, 2, "a node's rows each");
}

/// Four nodes on one database, 50 sends of one credit each from every
/// node at once, on a balance of 50: exactly 50 are charged in all (the
/// conditional debit holds across connections), and the ledger adds up.
#[tokio::test]
async fn debits_from_several_nodes_never_overdraw() {
    use crate::testing::*;
    use crate::*;
    let db = fresh_db();
    let nodes: Vec<PostgresStore> = (0..4)
        .map(|_| PostgresStore::open(&db.url).unwrap())
        .collect();
    let a = account(&nodes[0], "shared", 50).await;
    let sends = (0..200)
        .map(|i| {
            nodes[i % 4].accept(
                vec![submission(
                    a,
                    vec![message(&format!("+3161234{i:04}"), 1, None)],
                )],
                smsgate_core::Timestamp(10),
            )
        })
        .collect();
    let answers = join_all(sends).await;
    let accepted = answers
        .iter()
        .filter(|r| r.as_ref().unwrap()[0].is_ok())
        .count();
    assert_eq!(accepted, 50);
    assert_eq!(balance(&nodes[3], a).await, 0);
    let ledger = nodes[1].ledger(a, 1000).await.unwrap();
    assert_eq!(
        ledger.iter().map(|e| e.amount.whole_credits()).sum::<i64>(),
        0
    );
}

/// The server drops every connection (a restart, a failover): the calls
/// made while it happens may fail, and the store then goes on by itself,
/// on new connections, with nothing acknowledged lost.
#[tokio::test]
async fn connections_the_server_dropped_are_made_again() {
    use crate::testing::*;
    use crate::*;
    let (db, store) = open();
    let a = account(&store, "kept", 10).await;
    on_server(
        &server(),
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name
        ),
    )
    .unwrap();
    // The first write and read on each dropped connection may fail.
    for _ in 0..2 {
        let _ = store
            .adjust_credits(
                a,
                Amount::credits(1),
                None,
                &crate::Audit::cli(smsgate_core::Timestamp(2)),
            )
            .await;
    }
    for _ in 0..8 {
        let _ = store.account(a).await;
    }
    let before = balance(&store, a).await;
    assert_eq!(
        store
            .adjust_credits(
                a,
                Amount::credits(5),
                None,
                &crate::Audit::cli(smsgate_core::Timestamp(3))
            )
            .await
            .unwrap()
            .whole_credits(),
        before + 5
    );
    assert_eq!(balance(&store, a).await, before + 5);
}

/// Nodes on one database: a name serves once at a time, and what one
/// node announces every other hears.
#[tokio::test]
async fn nodes_hear_each_other_and_a_name_serves_once() {
    use crate::*;
    let db = fresh_db();
    let (a, b) = (
        PostgresStore::open(&db.url).unwrap(),
        PostgresStore::open(&db.url).unwrap(),
    );
    let t = smsgate_core::Timestamp(1);
    a.join("n1", "", t).await.unwrap();
    assert!(matches!(
        b.join("n1", "", t).await,
        Err(StoreError::NodeRunning(name)) if name == "n1"
    ));
    let n2 = b.join("n2", "", t).await.unwrap();
    let mut heard = b.changes();
    // The listener may still be connecting: announce until heard.
    let got = loop {
        a.announce(Change::Keys).await.unwrap();
        match tokio::time::timeout(std::time::Duration::from_millis(500), heard.recv()).await {
            Ok(got) => break got.unwrap(),
            Err(_) => continue,
        }
    };
    assert_eq!(got, Change::Keys);
    // A node that left frees its name at once.
    b.leave(n2, t).await.unwrap();
    a.join("n2", "", t).await.unwrap();
}

/// Another node inserting rows that name an account or a message (an
/// event, a transition) holds `KEY SHARE` on that row until it commits.
/// Charging the account and moving the message must not wait for it: a
/// group commit that did (rows locked `FOR UPDATE`) deadlocked with
/// another node's doing the same the other way round.
#[tokio::test]
async fn charges_and_status_changes_do_not_wait_for_rows_naming_them() {
    use crate::testing::*;
    use crate::*;
    use smsgate_core::{MessageId, Status, Timestamp};
    async fn within<F: std::future::Future>(
        f: F,
    ) -> Result<F::Output, tokio::time::error::Elapsed> {
        tokio::time::timeout(std::time::Duration::from_secs(3), f).await
    }
    let (db, store) = open();
    let a = account(&store, "shared", 10).await;
    let m = message("+31612345678", 1, None);
    let id = m.id;
    store
        .accept(vec![submission(a, vec![m])], Timestamp(10))
        .await
        .unwrap();
    store
        .claim(NodeId(0), Timestamp(20), Timestamp(1_000), 10, None)
        .await
        .unwrap();
    // Another node's transaction, open while the store works.
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held_tx, held) = std::sync::mpsc::channel();
    let url = db.url.clone();
    let other = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tx = client.transaction().unwrap();
        tx.execute(
            "SELECT 1 FROM accounts WHERE id = $1 FOR KEY SHARE",
            &[&a.0],
        )
        .unwrap();
        tx.execute(
            "SELECT 1 FROM messages WHERE id = $1 FOR KEY SHARE",
            &[&&id.as_bytes()[..]],
        )
        .unwrap();
        held_tx.send(()).unwrap();
        let _ = released.recv();
        tx.rollback().unwrap();
    });
    held.recv().unwrap();
    let charged = within(store.accept(
        vec![
            submission(a, vec![message("+31612345601", 1, None)]),
            submission(a, vec![message("+31612345602", 1, None)]),
        ],
        Timestamp(30),
    ))
    .await
    .expect("charged without waiting for the other transaction")
    .unwrap();
    assert!(charged.iter().all(|r| r.is_ok()));
    let mut sent = StatusUpdate::new(Target::Message(id), Status::Sent, Timestamp(40));
    sent.connector = Some("c".into());
    sent.carrier_ids = vec!["c1".into()];
    let moved = within(store.apply(vec![
        sent,
        StatusUpdate::new(
            Target::Message(MessageId::generate()),
            Status::Sent,
            Timestamp(40),
        ),
    ]))
    .await
    .expect("moved without waiting for the other transaction")
    .unwrap();
    assert!(matches!(moved[0], ApplyOutcome::Applied { .. }));
    release.send(()).unwrap();
    other.join().unwrap();
}

/// The audit log refuses to be rewritten, even by SQL past the store.
#[tokio::test]
async fn the_audit_log_is_append_only() {
    use crate::CreditStore;
    use crate::testing::{T0, account, by};
    let (db, store) = open();
    store
        .adjust_credits(
            account(&store, "a", 0).await,
            smsgate_core::Amount::credits(1),
            None,
            &by(T0),
        )
        .await
        .unwrap();
    for sql in [
        "UPDATE audit_log SET actor = 'cli'",
        "DELETE FROM audit_log",
    ] {
        let e = on_server(&db.url, sql).unwrap_err();
        assert!(format!("{e:?}").contains("append-only"), "{sql}: {e:?}");
    }
}
