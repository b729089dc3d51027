//! The SQLite adapter: WAL, `synchronous=FULL`, embedded migrations, one
//! group-committing writer thread and a small read pool.

mod conn;
#[cfg(test)]
mod tests;

use std::path::Path;

use crate::sql::lite::LiteConn;
use crate::sql::pool::{Readers, Writer};
use crate::sql::{Backend, SqlStore};
use crate::*;

/// Schema migrations, applied in order; `PRAGMA user_version` counts them.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_spine.sql"),
    include_str!("migrations/0002_parts_and_receipts.sql"),
    include_str!("migrations/0003_inbound.sql"),
    include_str!("migrations/0004_events.sql"),
    include_str!("migrations/0005_webhooks.sql"),
    include_str!("migrations/0006_routing_optout_replies.sql"),
    include_str!("migrations/0007_senders_templates.sql"),
    include_str!("migrations/0008_sessions.sql"),
    include_str!("migrations/0009_message_item_payload.sql"),
    include_str!("migrations/0010_campaigns_links.sql"),
    include_str!("migrations/0011_category_balances.sql"),
    include_str!("migrations/0012_key_networks.sql"),
    include_str!("migrations/0013_opaque_ids.sql"),
    include_str!("migrations/0014_account_rate_limit.sql"),
    include_str!("migrations/0015_account_reach.sql"),
    include_str!("migrations/0016_message_campaign.sql"),
    include_str!("migrations/0017_account_number_check.sql"),
    include_str!("migrations/0018_batches_by_time.sql"),
    include_str!("migrations/0019_inbound_by_time.sql"),
    include_str!("migrations/0020_cluster.sql"),
    include_str!("migrations/0021_money.sql"),
    include_str!("migrations/0022_rate_plans.sql"),
    include_str!("migrations/0023_transfers.sql"),
    include_str!("migrations/0024_message_country.sql"),
    include_str!("migrations/0025_operators_audit.sql"),
    include_str!("migrations/0026_usage.sql"),
    include_str!("migrations/0027_retention.sql"),
];

/// Changes a slow listener may fall behind by (it then hears that it
/// lagged, and treats everything as changed).
pub(crate) const FEED_BUFFER: usize = 256;

/// Read connections; reads are short, so a few serve many requests.
const READERS: usize = 4;

/// The store on one SQLite file.
pub type SqliteStore = SqlStore<Sqlite>;

/// SQLite's connections: one group-committing writer, a few readers.
#[derive(Clone)]
pub struct Sqlite {
    writer: Writer<LiteConn>,
    readers: Readers<LiteConn>,
    path: std::path::PathBuf,
    /// One node serves a file: changes are announced within the process.
    feed: tokio::sync::broadcast::Sender<crate::Change>,
}

impl Backend for Sqlite {
    type Conn = LiteConn;

    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&LiteConn) -> Result<T> + Send + 'static,
    {
        self.readers.read(f)
    }

    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&LiteConn) -> Result<T> + Send + 'static,
    {
        self.writer.write(f)
    }

    fn write_alone<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&LiteConn) -> Result<T> + Send + 'static,
    {
        self.writer.write_alone(f)
    }

    async fn announce(&self, change: crate::Change) -> Result<()> {
        // Nobody listening is no failure.
        let _ = self.feed.send(change);
        Ok(())
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<crate::Change> {
        self.feed.subscribe()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    /// A file that cannot be written, opened or read as a database is a
    /// clear error naming it, not a failure later on the first write.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut conn = conn::open(path, false).map_err(|e| unusable(path, e))?;
        // A read-only file opens; the first write says so.
        conn.execute_batch("BEGIN IMMEDIATE; COMMIT;")
            .map_err(|e| unusable(path, StoreError::from(e)))?;
        migrate(&mut conn)?;
        let readers = Readers::new(
            (0..READERS)
                .map(|_| conn::open(path, true).map(LiteConn::reader))
                .collect::<Result<Vec<_>>>()?,
        );
        Ok(SqlStore {
            backend: Sqlite {
                writer: Writer::start("smsgate-sqlite-writer", LiteConn::writer(conn)),
                readers,
                path: path.to_path_buf(),
                feed: tokio::sync::broadcast::channel(FEED_BUFFER).0,
            },
        })
    }

    /// Moves everything in the write-ahead log into the database file and
    /// empties the log, so a clean shutdown leaves one whole file. Call it
    /// when nothing writes any more (after the engine's shutdown).
    pub async fn checkpoint(&self) -> Result<()> {
        let path = self.backend.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn::open(&path, false)?;
            let (busy, _, _): (i64, i64, i64) =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            if busy != 0 {
                return Err(StoreError::Backup(
                    "the checkpoint was blocked by a reader; the log is kept".into(),
                ));
            }
            Ok(())
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// A consistent copy of the database at `to` while it is in use
    /// (`VACUUM INTO` reads one snapshot); `to` must not exist.
    pub async fn backup(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(StoreError::Backup(format!(
                "{} already exists",
                to.display()
            )));
        }
        let target = to.to_string_lossy().into_owned();
        self.read(move |c| {
            c.connection()
                .execute("VACUUM INTO ?1", [&target])
                .map_err(|e| StoreError::Backup(format!("{target}: {e}")))?;
            Ok(())
        })
        .await
    }
}

/// What is wrong with a database file that cannot be used, in words.
fn unusable(path: &Path, e: StoreError) -> StoreError {
    let StoreError::Backend(b) = &e else {
        return e;
    };
    let why = match b.kind() {
        BackendKind::ReadOnly => {
            "is read-only: smsgate writes every message to it (check the permissions of the file, its -wal and -shm files and its directory, and the mount)"
        }
        BackendKind::CannotOpen => {
            "cannot be opened or created (does its directory exist and may smsgate write there?)"
        }
        BackendKind::NotADatabase => "is not an SQLite database",
        BackendKind::PermissionDenied => "may not be opened by this user",
        BackendKind::Busy | BackendKind::Unique | BackendKind::Other => return e,
    };
    StoreError::Unusable(format!("the database {} {why}", path.display()))
}

fn migrate(conn: &mut rusqlite::Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::Migration(format!(
            "the database is at schema version {version}, newer than this smsgate ({})",
            MIGRATIONS.len()
        )));
    }
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    // Rebuilding a table (SQLite's way to change a primary key) drops it,
    // which foreign keys would refuse; they are checked before each commit
    // instead, as SQLite's ALTER TABLE documentation prescribes.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let applied = (|| {
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let failed =
                |e: rusqlite::Error| StoreError::Migration(format!("migration {}: {e}", i + 1));
            let tx = conn.transaction()?;
            tx.execute_batch(sql).map_err(failed)?;
            let violations: i64 = tx
                .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })
                .map_err(failed)?;
            if violations > 0 {
                return Err(StoreError::Migration(format!(
                    "migration {}: {violations} rows break foreign keys",
                    i + 1
                )));
            }
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "applied schema migration");
        }
        Ok(())
    })();
    conn.pragma_update(None, "foreign_keys", "ON")?;
    applied
}
