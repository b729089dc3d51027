//! [`Db`] on an SQLite connection: cached statements, arguments bound in
//! place (nothing allocated per statement).

use rusqlite::{CachedStatement, Connection};

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
