//! [`Db`] on a PostgreSQL connection: statements numbered the PostgreSQL
//! way and prepared once per connection.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::error::SqlState;
use postgres::{Client, Statement};

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::{Arg, Db, Dialect, PgArg, Rec};
use crate::{BackendError, BackendKind, Result, StoreError};

/// One PostgreSQL session, used by one thread at a time.
pub struct PgConn {
    url: String,
    /// Always `Some` but while dropping.
    client: RefCell<Option<Client>>,
    prepared: RefCell<HashMap<String, Statement>>,
    /// The writer's: the usage counters' changes of its group commit.
    pending: Option<super::usage::Pending>,
}

impl PgConn {
    pub(crate) fn new(url: &str, client: Client) -> PgConn {
        PgConn {
            url: url.to_string(),
            client: RefCell::new(Some(client)),
            prepared: RefCell::new(HashMap::new()),
            pending: None,
        }
    }

    /// The connection as a node's writer, counting usage in rows of its
    /// own (`shard`).
    pub(crate) fn writing(mut self, shard: i64) -> PgConn {
        self.pending = Some(super::usage::Pending::new(shard));
        self
    }

    /// Where it connects to.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A new session in place of a broken one; its statements are
    /// prepared again.
    pub(crate) fn replace(&mut self, client: Client) {
        self.client = RefCell::new(Some(client));
        self.prepared.get_mut().clear();
    }

    fn client(&self) -> std::cell::RefMut<'_, Client> {
        std::cell::RefMut::map(self.client.borrow_mut(), |c| {
            c.as_mut()
                .expect("a connection is only taken when it is dropped")
        })
    }

    /// Runs statements without arguments or results (transaction
    /// control, the schema).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client().batch_execute(sql)?)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client().is_closed()
    }

    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.prepared.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.client().prepare(&numbered(sql))?;
        self.prepared
            .borrow_mut()
            .insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Runs a one-off statement (a bulk copy's), not kept prepared.
    pub(crate) fn exec_unprepared(&self, sql: &str, args: &[&dyn Arg]) -> Result<u64> {
        let values: Vec<PgArg<'_>> = args.iter().map(|a| a.pg()).collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        Ok(self.client().execute(numbered(sql).as_str(), &params)?)
    }

    fn query(&self, sql: &str, args: &[&dyn Arg]) -> Result<Vec<postgres::Row>> {
        let stmt = self.statement(sql)?;
        let values: Vec<PgArg<'_>> = args.iter().map(|a| a.pg()).collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        Ok(self.client().query(&stmt, &params)?)
    }
}

impl Db for PgConn {
    const DIALECT: Dialect = Dialect::Postgres;

    fn kept_back(&self) -> Option<&super::usage::Pending> {
        self.pending.as_ref()
    }

    fn exec(&self, sql: &str, args: &[&dyn Arg]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        let values: Vec<PgArg<'_>> = args.iter().map(|a| a.pg()).collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        let n = self.client().execute(&stmt, &params)?;
        Ok(n as usize)
    }

    fn one<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        f: impl FnOnce(&Rec<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.query(sql, args)?.first() {
            Some(row) => f(&Rec::Pg(row)).map(Some),
            None => Ok(None),
        }
    }

    fn all<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        mut f: impl FnMut(&Rec<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.query(sql, args)?
            .iter()
            .map(|row| f(&Rec::Pg(row)))
            .collect()
    }

    fn insert_id(&self, sql: &str, args: &[&dyn Arg]) -> Result<i64> {
        let sql = format!("{sql} RETURNING id");
        let rows = self.query(&sql, args)?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::Corrupt("an INSERT returned no id".into()))?;
        Ok(row.try_get(0)?)
    }
}

impl ToSql for PgArg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            PgArg::Int(v) => v.to_sql_checked(ty, out),
            PgArg::Bool(v) => v.to_sql_checked(ty, out),
            PgArg::Text(v) => v.to_sql_checked(ty, out),
            PgArg::Bytes(v) => v.to_sql_checked(ty, out),
            PgArg::Only(v) => v.to_sql_checked(ty, out),
        }
    }

    // Each variant checks its own type in `to_sql`.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The driver runs each connection on a runtime of its own, which may not
/// be dropped where a task runs (a store dropped in async code would
/// panic): a connection is closed on a thread of its own.
impl Drop for PgConn {
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take() {
            let _ = std::thread::Builder::new()
                .name("smsgate-pg-close".into())
                .spawn(move || drop(client));
        }
    }
}

/// `?N` placeholders as `$N`, outside quoted strings and identifiers; a
/// bare `?` is one more than the largest number so far, as in SQLite.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut largest = 0u32;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                let n = digits.parse().unwrap_or(largest + 1);
                largest = largest.max(n);
                out.push_str(&format!("${n}"));
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// PostgreSQL's errors become the store's here, and only here.
impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        let kind = match e.code() {
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => BackendKind::Unique,
            Some(c)
                if *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::LOCK_NOT_AVAILABLE
                    || *c == SqlState::TOO_MANY_CONNECTIONS =>
            {
                BackendKind::Busy
            }
            Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => BackendKind::ReadOnly,
            Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => BackendKind::PermissionDenied,
            Some(c) if *c == SqlState::INVALID_CATALOG_NAME => BackendKind::CannotOpen,
            _ => BackendKind::Other,
        };
        // The driver's Display leaves out the server's message.
        let message = match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        };
        StoreError::Backend(BackendError::new(kind, message))
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ?1 AND c = '?' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $12"
        );
        assert_eq!(
            numbered("a = ? AND b = ? AND c = ?2 AND d = ?"),
            "a = $1 AND b = $2 AND c = $2 AND d = $3"
        );
    }
}
