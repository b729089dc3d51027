//! [`Db`] on an SQLite connection: cached statements, arguments bound in
//! place (nothing allocated per statement).

use rusqlite::{CachedStatement, Connection};

use super::usage::Pending;
use super::{Arg, Db, Dialect, Rec};
use crate::{BackendError, BackendKind, Result, StoreError};

fn bound<'c>(conn: &'c Connection, sql: &str, args: &[&dyn Arg]) -> Result<CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql)?;
    for (i, a) in args.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, a.lite()?)?;
    }
    Ok(stmt)
}

impl Db for Connection {
    const DIALECT: Dialect = Dialect::Sqlite;

    fn exec(&self, sql: &str, args: &[&dyn Arg]) -> Result<usize> {
        Ok(bound(self, sql, args)?.raw_execute()?)
    }

    fn one<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        f: impl FnOnce(&Rec<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut stmt = bound(self, sql, args)?;
        let mut rows = stmt.raw_query();
        match rows.next()? {
            Some(row) => f(&Rec::Lite(row)).map(Some),
            None => Ok(None),
        }
    }

    fn all<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        mut f: impl FnMut(&Rec<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = bound(self, sql, args)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(f(&Rec::Lite(row))?);
        }
        Ok(out)
    }

    fn insert_id(&self, sql: &str, args: &[&dyn Arg]) -> Result<i64> {
        bound(self, sql, args)?.raw_execute()?;
        Ok(self.last_insert_rowid())
    }
}

/// A connection of an SQLite store. The writer's keeps the usage
/// counters' changes of its group commit and writes them, summed, just
/// before it commits; a reader's has none to keep.
pub struct LiteConn {
    conn: Connection,
    pending: Option<Pending>,
}

impl LiteConn {
    pub(crate) fn reader(conn: Connection) -> LiteConn {
        LiteConn {
            conn,
            pending: None,
        }
    }

    pub(crate) fn writer(conn: Connection) -> LiteConn {
        LiteConn {
            conn,
            // One writer a file: one shard.
            pending: Some(Pending::new(0)),
        }
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl Db for LiteConn {
    const DIALECT: Dialect = Dialect::Sqlite;

    fn exec(&self, sql: &str, args: &[&dyn Arg]) -> Result<usize> {
        self.conn.exec(sql, args)
    }

    fn one<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        f: impl FnOnce(&Rec<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        self.conn.one(sql, args, f)
    }

    fn all<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        f: impl FnMut(&Rec<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.conn.all(sql, args, f)
    }

    fn insert_id(&self, sql: &str, args: &[&dyn Arg]) -> Result<i64> {
        self.conn.insert_id(sql, args)
    }

    fn kept_back(&self) -> Option<&Pending> {
        self.pending.as_ref()
    }
}

/// SQLite's errors become the store's here, and only here.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        let kind = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => BackendKind::Busy,
                ErrorCode::ReadOnly => BackendKind::ReadOnly,
                ErrorCode::CannotOpen => BackendKind::CannotOpen,
                ErrorCode::NotADatabase => BackendKind::NotADatabase,
                ErrorCode::PermissionDenied => BackendKind::PermissionDenied,
                ErrorCode::ConstraintViolation
                    if matches!(
                        f.extended_code,
                        rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                            | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    ) =>
                {
                    BackendKind::Unique
                }
                _ => BackendKind::Other,
            },
            _ => BackendKind::Other,
        };
        StoreError::Backend(BackendError::new(kind, e.to_string()))
    }
}
