//! The PostgreSQL adapter: the shared SQL (`crate::sql`) on PostgreSQL,
//! through one group-committing writer connection and a few readers per
//! node, with the schema migrated at start.
//!
//! The driver is `postgres` (the blocking face of `tokio-postgres`) on the
//! pool's own threads, as SQLite's connections are: the same jobs run on
//! either backend. Measured on this machine against `sqlx` (bench/RESULTS.md):
//! the same round trip per statement, half the crates and half the build.

use std::sync::{Arc, Weak};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use tokio::sync::broadcast;

use crate::sql::pg::PgConn;
use crate::sql::pool::{PoolConn, Readers, Writer};
use crate::sql::{Backend, Db, SqlStore};
use crate::{Change, Result, StoreError};

/// Schema migrations, applied in order; `smsgate_schema` counts them.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_schema.sql"),
    include_str!("migrations/0002_cluster.sql"),
    include_str!("migrations/0003_money.sql"),
    include_str!("migrations/0004_rate_plans.sql"),
    include_str!("migrations/0005_transfers.sql"),
    include_str!("migrations/0006_message_country.sql"),
    include_str!("migrations/0007_operators_audit.sql"),
    include_str!("migrations/0008_usage.sql"),
    include_str!("migrations/0009_retention.sql"),
];

/// Read connections per node.
const READERS: usize = 4;

/// Any number, the same on every node: nodes starting together migrate
/// one at a time.
const MIGRATION_LOCK: i64 = 0x736d_7367_6174_6501;

/// The store on a PostgreSQL database.
pub type PostgresStore = SqlStore<Postgres>;

/// PostgreSQL's connections: one group-committing writer, a few readers.
#[derive(Clone)]
pub struct Postgres {
    writer: Writer<PgConn>,
    readers: Readers<PgConn>,
    /// What the listener hears; it stops once the last store is dropped.
    feed: Arc<broadcast::Sender<Change>>,
}

impl Backend for Postgres {
    type Conn = PgConn;

    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&PgConn) -> Result<T> + Send + 'static,
    {
        self.readers.read(f)
    }

    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&PgConn) -> Result<T> + Send + 'static,
    {
        self.writer.write(f)
    }

    fn write_alone<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&PgConn) -> Result<T> + Send + 'static,
    {
        self.writer.write_alone(f)
    }

    async fn announce(&self, change: Change) -> Result<()> {
        // Sent when the transaction commits, to every listening session.
        self.writer
            .write(move |c| {
                c.exec(
                    &format!("SELECT pg_notify('{CHANNEL}', ?1)"),
                    crate::sql::args![change.as_str()],
                )
            })
            .await
            .map(drop)
    }

    fn changes(&self) -> broadcast::Receiver<Change> {
        self.feed.subscribe()
    }
}

/// The `LISTEN`/`NOTIFY` channel of changes.
const CHANNEL: &str = "smsgate_changes";

/// Listens for changes on a connection of its own, passing them to `feed`
/// until the store is gone. After the connection was lost (and made
/// again) every change is reported once: any may have been missed.
fn listen(
    url: String,
    feed: Weak<broadcast::Sender<Change>>,
    listening: std::sync::mpsc::Sender<()>,
) {
    let mut reconnected = false;
    while feed.strong_count() > 0 {
        let mut client = match connect(&url) {
            Ok(mut c) => match c.batch_execute(&format!("LISTEN {CHANNEL}")) {
                Ok(()) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for changes");
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for changes");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        let _ = listening.send(());
        if reconnected && let Some(tx) = feed.upgrade() {
            for c in Change::ALL {
                let _ = tx.send(c);
            }
        }
        reconnected = true;
        loop {
            let next = client
                .notifications()
                .timeout_iter(Duration::from_millis(500))
                .next()
                .map(|n| n.map(|n| n.payload().to_string()));
            match next {
                Ok(Some(payload)) => {
                    let Some(tx) = feed.upgrade() else { return };
                    if let Some(change) = Change::parse(&payload) {
                        let _ = tx.send(change);
                    }
                }
                Ok(None) if client.is_closed() => break,
                Ok(None) if feed.strong_count() == 0 => return,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "lost the connection listening for changes");
                    break;
                }
            }
        }
    }
}

impl PoolConn for PgConn {
    const BEGIN: &'static str = "BEGIN";

    fn control(&self, sql: &str) -> Result<()> {
        self.batch(sql)
    }

    /// Reconnects when the server went away (restarted, failed over).
    fn repair(&mut self) {
        if !self.is_closed() {
            return;
        }
        match connect(self.url()) {
            Ok(c) => {
                tracing::info!("reconnected to PostgreSQL");
                self.replace(c);
            }
            Err(e) => tracing::error!(error = %e, "cannot reconnect to PostgreSQL"),
        }
    }
}

fn open_conn(url: &str) -> Result<PgConn> {
    Ok(PgConn::new(url, connect(url)?))
}

fn connect(url: &str) -> Result<Client> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Unusable(format!("the database URL {url:?}: {e}")))?;
    config
        .connect_timeout(Duration::from_secs(10))
        .application_name("smsgate");
    config.connect(NoTls).map_err(|e| {
        StoreError::Unusable(format!(
            "cannot connect to PostgreSQL at {}: {}",
            redacted(url),
            StoreError::from(e)
        ))
    })
}

/// The URL without its password, for messages and logs.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host/db`) and
    /// migrates it. Blocks until done (on a thread of its own: the driver
    /// may not block a task's thread).
    pub fn open(url: &str) -> Result<PostgresStore> {
        std::thread::scope(|s| {
            s.spawn(|| PostgresStore::open_here(url))
                .join()
                .unwrap_or_else(|_| Err(StoreError::Corrupt("opening PostgreSQL panicked".into())))
        })
    }

    fn open_here(url: &str) -> Result<PostgresStore> {
        let writer = open_conn(url)?;
        migrate(&writer)?;
        // Any number other writers do not have: this run's counter rows.
        let mut shard = [0u8; 8];
        getrandom::fill(&mut shard)
            .map_err(|e| StoreError::Unusable(format!("no random numbers: {e}")))?;
        let writer = writer.writing(i64::from_le_bytes(shard) & i64::MAX);
        let readers = (0..READERS)
            .map(|_| open_conn(url))
            .collect::<Result<Vec<_>>>()?;
        let feed = Arc::new(broadcast::channel(crate::sqlite::FEED_BUFFER).0);
        let (url, weak) = (url.to_string(), Arc::downgrade(&feed));
        let (listening, ready) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("smsgate-pg-listen".into())
            .spawn(move || listen(url, weak, listening))
            .map_err(|e| StoreError::Unusable(format!("cannot start a thread: {e}")))?;
        // Changes are heard from the moment the store is open. A listener
        // that cannot connect yet keeps trying; the store opens anyway.
        let _ = ready.recv_timeout(Duration::from_secs(5));
        Ok(SqlStore {
            backend: Postgres {
                writer: Writer::start("smsgate-pg-writer", writer),
                readers: Readers::new(readers),
                feed,
            },
        })
    }
}

fn migrate(conn: &PgConn) -> Result<()> {
    let failed = |i: usize, e: StoreError| StoreError::Migration(format!("migration {i}: {e}"));
    conn.batch(&format!(
        "SELECT pg_advisory_lock({MIGRATION_LOCK});
         CREATE TABLE IF NOT EXISTS smsgate_schema (version BIGINT NOT NULL);"
    ))?;
    let applied = (|| {
        let version: i64 =
            crate::sql::Db::one(conn, "SELECT version FROM smsgate_schema", &[], |r| {
                r.get(0)
            })?
            .unwrap_or(0);
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            return Err(StoreError::Migration(format!(
                "the database is at schema version {version}, newer than this smsgate ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let n = i + 1;
            conn.batch(&format!(
                "BEGIN;
                 {sql}
                 DELETE FROM smsgate_schema;
                 INSERT INTO smsgate_schema (version) VALUES ({n});
                 COMMIT;"
            ))
            .map_err(|e| {
                let _ = conn.batch("ROLLBACK");
                failed(n, e)
            })?;
            tracing::info!(version = n, "applied schema migration");
        }
        Ok(())
    })();
    conn.batch(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
    applied
}

pub mod copy;
#[cfg(test)]
mod tests;
