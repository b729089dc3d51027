//! SQLite connections: how they are opened and configured, and how the
//! shared pool (`sql::pool`) drives them.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::sql::lite::LiteConn;
use crate::sql::pool::PoolConn;
use crate::{Result, StoreError};

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Savepoint sub-journals stay in memory rather than in temp files.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

pub(crate) fn open(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    if !read_only {
        // WAL lets readers run while the writer commits.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Migration(format!(
                "journal_mode is {mode}, not WAL"
            )));
        }
    }
    configure(&conn)?;
    Ok(conn)
}

impl PoolConn for LiteConn {
    // Takes the write lock at once: the writer is the only one anyway.
    const BEGIN: &'static str = "BEGIN IMMEDIATE";

    /// Through the statement cache: `execute_batch` would parse the
    /// statement anew every time.
    fn control(&self, sql: &str) -> Result<()> {
        self.connection().prepare_cached(sql)?.execute([])?;
        Ok(())
    }
}
