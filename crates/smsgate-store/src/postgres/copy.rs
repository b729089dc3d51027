//! `smsgate migrate`: an SQLite installation copied into an empty
//! PostgreSQL database, every table with its ids, in one transaction, with
//! the rows counted on both sides.

use std::path::Path;

use rusqlite::types::Value;

use crate::sql::pg::PgConn;
use crate::sql::{Arg, Db, args, refs};
use crate::{Result, StoreError};

/// Every table, parents before the rows that refer to them.
const TABLES: &[&str] = &[
    "rate_plans",
    "plan_prices",
    "accounts",
    "account_prices",
    "connector_costs",
    "api_keys",
    "ledger",
    "settings",
    "batches",
    "messages",
    "transitions",
    "idempotency",
    "message_parts",
    "pending_receipts",
    "numbers",
    "inbound_messages",
    "inbound_parts",
    "events",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
    "keywords",
    "suppressions",
    "senders",
    "templates",
    "sessions",
    "campaigns",
    "campaign_subscribers",
    "links",
    "category_balances",
    "operators",
    "operator_tokens",
    "audit_log",
];

/// Arguments per `INSERT` at most (PostgreSQL takes 65,535).
const ARGS_PER_INSERT: usize = 30_000;

/// How many rows a table had, and has now on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: &'static str,
    pub rows: u64,
}

/// Copies the SQLite database at `from` into the PostgreSQL database at
/// `to`, which must hold no accounts yet (its schema is made if needed).
/// The copy is one snapshot of `from`: what is written there after it
/// began is not copied, so stop smsgate first. Blocking.
pub fn sqlite_to_postgres(from: &Path, to: &str) -> Result<Vec<Copied>> {
    if !from.exists() {
        return Err(StoreError::Unusable(format!(
            "the database {} does not exist",
            from.display()
        )));
    }
    // Brings the file to this version's schema first.
    drop(crate::sqlite::SqliteStore::open(from)?);
    std::thread::scope(|s| {
        s.spawn(|| copy(from, to))
            .join()
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the copy panicked".into())))
    })
}

fn copy(from: &Path, to: &str) -> Result<Vec<Copied>> {
    let target = super::open_conn(to)?;
    super::migrate(&target)?;
    let accounts: i64 = target.single("SELECT count(*) FROM accounts", args![], |r| r.get(0))?;
    if accounts > 0 {
        return Err(StoreError::Unusable(format!(
            "{} already holds {accounts} accounts; smsgate migrate copies into an empty database",
            super::redacted(to)
        )));
    }
    let source = rusqlite::Connection::open_with_flags(
        from,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // One snapshot of the source, one transaction on the target.
    source.execute_batch("BEGIN")?;
    target.batch("BEGIN")?;
    let copied = (|| {
        // The schema's own default plan gives way to the copied one.
        target.batch("DELETE FROM plan_prices; DELETE FROM rate_plans")?;
        let mut copied = Vec::with_capacity(TABLES.len());
        for &table in TABLES {
            let rows = copy_table(&source, &target, table)?;
            let there: i64 =
                target.single(&format!("SELECT count(*) FROM {table}"), args![], |r| {
                    r.get(0)
                })?;
            if there != rows as i64 {
                return Err(StoreError::Corrupt(format!(
                    "{table}: {rows} rows read, {there} on PostgreSQL"
                )));
            }
            copied.push(Copied { table, rows });
        }
        resume_identities(&target)?;
        Ok(copied)
    })();
    match copied {
        Ok(c) => {
            target.batch("COMMIT")?;
            Ok(c)
        }
        Err(e) => {
            let _ = target.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// A column of the target table and how values go into it.
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
}

fn columns(target: &PgConn, table: &str) -> Result<Vec<Column>> {
    target.all(
        "SELECT column_name, data_type FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position",
        args![table],
        |r| {
            let name: String = r.get(0)?;
            let kind = match r.get::<String>(1)?.as_str() {
                "bigint" => Kind::Int,
                "boolean" => Kind::Bool,
                "text" => Kind::Text,
                "bytea" => Kind::Bytes,
                other => return Err(StoreError::Corrupt(format!("{table}.{name}: type {other}"))),
            };
            Ok(Column { name, kind })
        },
    )
}

fn copy_table(source: &rusqlite::Connection, target: &PgConn, table: &str) -> Result<u64> {
    let columns = columns(target, table)?;
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let mut select = source.prepare(&format!("SELECT {} FROM {table}", names.join(", ")))?;
    let mut rows = select.query([])?;
    let per_insert = (ARGS_PER_INSERT / columns.len()).max(1);
    let mut batch: Vec<Box<dyn Arg>> = Vec::with_capacity(per_insert * columns.len());
    let mut total = 0u64;
    while let Some(row) = rows.next()? {
        for (i, c) in columns.iter().enumerate() {
            batch.push(value(table, c, row.get::<_, Value>(i)?)?);
        }
        total += 1;
        if batch.len() == per_insert * columns.len() {
            insert(target, table, &names, &batch)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        insert(target, table, &names, &batch)?;
    }
    Ok(total)
}

/// An SQLite value as the PostgreSQL column takes it.
fn value(table: &str, c: &Column, v: Value) -> Result<Box<dyn Arg>> {
    let wrong = |v: &Value| {
        StoreError::Corrupt(format!(
            "{table}.{}: {:?} does not fit the column",
            c.name,
            v.data_type()
        ))
    };
    Ok(match (c.kind, v) {
        (Kind::Int, Value::Null) => Box::new(None::<i64>),
        (Kind::Bool, Value::Null) => Box::new(None::<bool>),
        (Kind::Text, Value::Null) => Box::new(None::<String>),
        (Kind::Bytes, Value::Null) => Box::new(None::<Vec<u8>>),
        (Kind::Int, Value::Integer(i)) => Box::new(i),
        (Kind::Bool, Value::Integer(i)) => Box::new(i != 0),
        (Kind::Text, Value::Text(t)) => Box::new(t),
        (Kind::Bytes, Value::Blob(b)) => Box::new(b),
        // SQLite keeps what it was given; a number in a text column is
        // its text.
        (Kind::Text, Value::Integer(i)) => Box::new(i.to_string()),
        (_, v) => return Err(wrong(&v)),
    })
}

fn insert(target: &PgConn, table: &str, names: &[&str], values: &[Box<dyn Arg>]) -> Result<()> {
    let width = names.len();
    let tuples: Vec<String> = (0..values.len() / width)
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) OVERRIDING SYSTEM VALUE VALUES {}",
        names.join(", "),
        tuples.join(", ")
    );
    target.exec_unprepared(&sql, &refs(values))?;
    Ok(())
}

/// Identity columns go on from the largest id copied.
fn resume_identities(target: &PgConn) -> Result<()> {
    let identities: Vec<(String, String)> = target.all(
        "SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = current_schema() AND is_identity = 'YES'",
        args![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    for (table, column) in identities {
        target.batch(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                           GREATEST((SELECT MAX({column}) FROM {table}), 1),
                           (SELECT MAX({column}) FROM {table}) IS NOT NULL)"
        ))?;
    }
    Ok(())
}
