//! Where the data lives (`db =`, `--db`): an SQLite file (the default,
//! `./smsgate.db`) or a PostgreSQL database (`postgres://user@host/db`),
//! and opening it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smsgate_store::Store;
use smsgate_store::postgres::{self, PostgresStore};
use smsgate_store::sqlite::SqliteStore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    /// A connection URL, password and all.
    Postgres(String),
}

impl Database {
    pub fn parse(s: &str) -> Database {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Database::Postgres(s.to_string())
        } else {
            Database::Sqlite(PathBuf::from(s))
        }
    }
}

impl Default for Database {
    fn default() -> Self {
        Database::Sqlite(PathBuf::from("smsgate.db"))
    }
}

/// As a person reads it: a PostgreSQL URL without its password.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres(url) => f.write_str(&postgres::redacted(url)),
        }
    }
}

impl Serialize for Database {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Database {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Database::parse(&String::deserialize(d)?))
    }
}

/// An open store, and what only its backend can do.
#[derive(Clone)]
pub enum Opened {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
}

impl Opened {
    /// Opens `db`. An SQLite file must exist unless `may_create`: a
    /// mistyped `--db` would otherwise make a new, empty one.
    pub fn open(db: &Database, may_create: bool) -> anyhow::Result<Opened> {
        match db {
            Database::Sqlite(path) => {
                if !may_create && !path.exists() {
                    anyhow::bail!(
                        "the database {} does not exist; check --db, or pass --create to make a new one",
                        path.display()
                    );
                }
                let store = SqliteStore::open(path)
                    .with_context(|| format!("cannot open the database {}", path.display()))?;
                Ok(Opened::Sqlite(Arc::new(store)))
            }
            Database::Postgres(url) => {
                let store = PostgresStore::open(url)
                    .with_context(|| format!("cannot open the database {db}"))?;
                Ok(Opened::Postgres(Arc::new(store)))
            }
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Opened::Sqlite(s) => s.clone(),
            Opened::Postgres(s) => s.clone(),
        }
    }

    /// After the engine stopped: SQLite leaves one whole file, not a file
    /// and its log.
    pub async fn close(&self) {
        if let Opened::Sqlite(s) = self
            && let Err(e) = s.checkpoint().await
        {
            tracing::warn!(error = %e, "the write-ahead log was not checkpointed");
        }
    }
}
