//! What the two SQL adapters share: the statements and the logic around
//! them, written once against [`Db`], a connection inside a transaction.
//!
//! SQLite and PostgreSQL agree on most of the SQL smsgate needs (upserts,
//! `RETURNING`, partial indexes, savepoints). Where they differ, a
//! function asks [`Db::DIALECT`] (claims skip rows another node has
//! locked on PostgreSQL; a request's messages go in one `UNNEST` there).
//! Reads that decide a write (a message's status before its change) lock
//! the row on PostgreSQL, where several nodes write at once. Statements
//! are written with SQLite's `?N` placeholders; the PostgreSQL connection
//! numbers them its way when it prepares them. Values bound are the few types in [`Arg`]:
//! integers are `i64` (PostgreSQL's `BIGINT`), flags `bool`, ids bytes.

pub(crate) mod accounts;
pub(crate) mod audit;
pub(crate) mod balances;
pub(crate) mod bulk_apply;
pub(crate) mod bulk_intake;
pub(crate) mod campaigns;
pub(crate) mod cluster;
pub(crate) mod events;
pub(crate) mod inbound;
pub(crate) mod links;
pub(crate) mod lite;
pub(crate) mod messages;
pub(crate) mod operators;
pub(crate) mod pg;
pub(crate) mod plans;
pub(crate) mod pool;
pub(crate) mod receipts;
pub(crate) mod registry;
pub(crate) mod retention;
pub(crate) mod suppressions;
pub(crate) mod usage;
pub(crate) mod webhooks;

use crate::{BackendError, BackendKind, Result, StoreError};

/// Which SQL a connection speaks, where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection inside a transaction (the writer's or a reader's).
pub trait Db {
    const DIALECT: Dialect;

    /// Runs a statement; how many rows it changed.
    fn exec(&self, sql: &str, args: &[&dyn Arg]) -> Result<usize>;

    /// The first row of a query, decoded by `f`.
    fn one<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        f: impl FnOnce(&Rec<'_>) -> Result<T>,
    ) -> Result<Option<T>>;

    /// Every row of a query, each decoded by `f`.
    fn all<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        f: impl FnMut(&Rec<'_>) -> Result<T>,
    ) -> Result<Vec<T>>;

    /// The one row a query always has (a count, a sum), decoded by `f`.
    fn single<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        f: impl FnOnce(&Rec<'_>) -> Result<T>,
    ) -> Result<T> {
        self.one(sql, args, f)?
            .ok_or_else(|| StoreError::Corrupt(format!("no row from {sql:?}")))
    }

    /// What a store's writer keeps back for its group commit: the usage
    /// counters' changes (`None`: a reader, or a bare connection).
    fn kept_back(&self) -> Option<&usage::Pending> {
        None
    }

    /// Adds to a row of the usage counters in this transaction: kept back
    /// until the group commits where the connection keeps them.
    fn add_usage(&self, key: usage::Key, sums: usage::Sums) -> Result<()>
    where
        Self: Sized,
    {
        match self.kept_back() {
            Some(p) => {
                p.add(key, sums);
                Ok(())
            }
            None => usage::upsert(self, &key, sums, 0),
        }
    }

    /// Runs an `INSERT` of one row into a table with an `id` key; its id.
    fn insert_id(&self, sql: &str, args: &[&dyn Arg]) -> Result<i64>;

    fn dialect(&self) -> Dialect {
        Self::DIALECT
    }

    /// `" FOR NO KEY UPDATE SKIP LOCKED"` where a query picks rows to
    /// claim that another node may be claiming at once (PostgreSQL).
    ///
    /// Rows are locked as an update of their non-key columns locks them:
    /// `FOR UPDATE` would also conflict with the `KEY SHARE` that inserts
    /// of rows referencing them hold (a transition, an event), and two
    /// nodes each holding one and asking for the other deadlock.
    fn skip_locked(&self) -> &'static str {
        match Self::DIALECT {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR NO KEY UPDATE SKIP LOCKED",
        }
    }

    /// `" FOR NO KEY UPDATE"` where a row read decides how it is changed
    /// and another node may change it at once (PostgreSQL).
    fn for_update(&self) -> &'static str {
        match Self::DIALECT {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR NO KEY UPDATE",
        }
    }

    /// A text column's bytes (UTF-8), as an expression.
    fn text_as_bytes(&self, column: &str) -> String {
        match Self::DIALECT {
            Dialect::Sqlite => format!("CAST({column} AS BLOB)"),
            Dialect::Postgres => format!("convert_to({column}, 'UTF8')"),
        }
    }
}

/// A value a statement binds: a type both drivers write the same way.
/// Integers go to PostgreSQL as `BIGINT`, what every integer column is
/// there (its driver would bind a `u32` as an `OID`).
pub trait Arg: Sync {
    fn lite(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>>;
    fn pg(&self) -> PgArg<'_>;
}

/// An argument as the PostgreSQL connection binds it.
#[derive(Debug)]
pub enum PgArg<'a> {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<&'a str>),
    Bytes(Option<&'a [u8]>),
    /// What only PostgreSQL binds (arrays for `UNNEST`).
    Only(&'a (dyn postgres::types::ToSql + Sync)),
}

/// An argument only PostgreSQL binds: an array for `UNNEST`, in SQL that
/// runs there alone.
pub(crate) struct PgOnly<T>(pub T);

impl<T: postgres::types::ToSql + Sync> Arg for PgOnly<T> {
    fn lite(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Err(rusqlite::Error::ToSqlConversionFailure(
            "an array is bound on PostgreSQL only".into(),
        ))
    }
    fn pg(&self) -> PgArg<'_> {
        PgArg::Only(&self.0)
    }
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn lite(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                rusqlite::ToSql::to_sql(self)
            }
            fn pg(&self) -> PgArg<'_> {
                PgArg::Int(Some(i64::from(*self)))
            }
        }
        impl Arg for Option<$t> {
            fn lite(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                rusqlite::ToSql::to_sql(self)
            }
            fn pg(&self) -> PgArg<'_> {
                PgArg::Int(self.map(i64::from))
            }
        }
    )*};
}
int_args!(i64, i32, u32, u16, u8);

macro_rules! arg {
    ($t:ty, |$v:ident| $pg:expr) => {
        impl Arg for $t {
            fn lite(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                rusqlite::ToSql::to_sql(self)
            }
            fn pg(&self) -> PgArg<'_> {
                let $v = self;
                $pg
            }
        }
    };
}
arg!(bool, |v| PgArg::Bool(Some(*v)));
arg!(Option<bool>, |v| PgArg::Bool(*v));
arg!(str, |v| PgArg::Text(Some(v)));
arg!(String, |v| PgArg::Text(Some(v)));
arg!(Option<&str>, |v| PgArg::Text(*v));
arg!(Option<String>, |v| PgArg::Text(v.as_deref()));
arg!(Option<&String>, |v| PgArg::Text(v.map(String::as_str)));
arg!([u8], |v| PgArg::Bytes(Some(v)));
arg!(Vec<u8>, |v| PgArg::Bytes(Some(v)));
arg!(Option<&[u8]>, |v| PgArg::Bytes(*v));
arg!(Option<Vec<u8>>, |v| PgArg::Bytes(v.as_deref()));

impl<T: Arg + ?Sized> Arg for &T {
    fn lite(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        (**self).lite()
    }
    fn pg(&self) -> PgArg<'_> {
        (**self).pg()
    }
}

/// `prefix` and `bytes` random bytes in hex: the public ids of objects a
/// tenant owns (`wh_…`), and webhook secrets.
pub(crate) fn random_id(prefix: &str, bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("the system's random source");
    format!("{prefix}{}", hex::encode(b))
}

/// Arguments built at run time, as a statement takes them.
pub(crate) fn refs(args: &[Box<dyn Arg>]) -> Vec<&dyn Arg> {
    args.iter().map(|a| &**a).collect()
}

/// A row as a decoder sees it.
pub enum Rec<'a> {
    Lite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Rec<'_> {
    /// Column `i` (0-based).
    pub(crate) fn get<T: Cell>(&self, i: usize) -> Result<T> {
        match self {
            Rec::Lite(r) => T::lite(r, i),
            Rec::Pg(r) => T::pg(r, i),
        }
    }
}

/// A type a column is read as.
pub trait Cell: Sized {
    fn lite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self>;
    fn pg(r: &postgres::Row, i: usize) -> Result<Self>;
}

macro_rules! cells_read_as_is {
    ($($t:ty),*) => {$(
        impl Cell for $t {
            fn lite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self> {
                Ok(r.get(i)?)
            }
            fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
                Ok(r.try_get(i)?)
            }
        }
        impl Cell for Option<$t> {
            fn lite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self> {
                Ok(r.get(i)?)
            }
            fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
                Ok(r.try_get(i)?)
            }
        }
    )*};
}
cells_read_as_is!(i64, bool, String, Vec<u8>);

/// Narrower integers are `BIGINT` columns read and checked.
macro_rules! cells_narrowed {
    ($($t:ty),*) => {$(
        impl Cell for $t {
            fn lite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self> {
                narrow(<i64 as Cell>::lite(r, i)?)
            }
            fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
                narrow(<i64 as Cell>::pg(r, i)?)
            }
        }
        impl Cell for Option<$t> {
            fn lite(r: &rusqlite::Row<'_>, i: usize) -> Result<Self> {
                <Option<i64> as Cell>::lite(r, i)?.map(narrow).transpose()
            }
            fn pg(r: &postgres::Row, i: usize) -> Result<Self> {
                <Option<i64> as Cell>::pg(r, i)?.map(narrow).transpose()
            }
        }
    )*};
}
cells_narrowed!(u8, u16, u32, i32, usize, u64);

fn narrow<T: TryFrom<i64>>(v: i64) -> Result<T> {
    T::try_from(v).map_err(|_| StoreError::Corrupt(format!("integer {v} out of range")))
}

/// Arguments of a statement: `args![a, b]` is `&[&a, &b]` as `&dyn Arg`.
macro_rules! args {
    () => { &[] as &[&dyn $crate::sql::Arg] };
    ($($a:expr),+ $(,)?) => { &[$(&$a as &dyn $crate::sql::Arg),+] as &[&dyn $crate::sql::Arg] };
}
pub(crate) use args;

impl BackendError {
    /// A row broke a unique key.
    pub(crate) fn is_unique_violation(&self) -> bool {
        self.kind() == BackendKind::Unique
    }
}

impl StoreError {
    /// A row broke a unique key (a name taken, a duplicate).
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Backend(b) if b.is_unique_violation())
    }
}

/// Where a store's connections come from: a writer that commits jobs in
/// groups, and readers.
pub trait Backend: Send + Sync + 'static {
    type Conn: Db;

    /// Runs `f` on a read connection.
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Self::Conn) -> Result<T> + Send + 'static;

    /// Runs `f` in the next group commit; its result once that commit is
    /// durable. If `f` fails, only its own changes are undone.
    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Self::Conn) -> Result<T> + Send + 'static;

    /// Runs `f` in a transaction of its own (see `Writer::write_alone`).
    fn write_alone<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&Self::Conn) -> Result<T> + Send + 'static;

    /// Tells every node serving the database of `change`.
    fn announce(&self, change: crate::Change) -> impl Future<Output = Result<()>> + Send;

    /// What is announced on the database from now on.
    fn changes(&self) -> tokio::sync::broadcast::Receiver<crate::Change>;
}

/// A store on an SQL backend: every port, written once.
#[derive(Clone)]
pub struct SqlStore<B> {
    pub(crate) backend: B,
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&B::Conn) -> Result<T> + Send + 'static,
    {
        self.backend.read(f).await
    }

    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&B::Conn) -> Result<T> + Send + 'static,
    {
        self.backend.write(f).await
    }

    pub(crate) async fn write_alone<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&B::Conn) -> Result<T> + Send + 'static,
    {
        self.backend.write_alone(f).await
    }
}
