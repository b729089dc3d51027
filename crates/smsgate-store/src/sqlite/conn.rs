//! Connections: one writer thread with group commit, and a read pool.
//!
//! SQLite allows one writer at a time. Rather than let writers queue on the
//! file lock, every write is a job sent to one thread that owns the only
//! write connection. The thread takes every job waiting, runs them in one
//! transaction (each inside its own savepoint, so one failing job does not
//! undo the others), commits once (one fsync with `synchronous=FULL`), and
//! only then answers the callers. Under load this turns N commits into one.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Semaphore, oneshot};

use crate::{Result, StoreError};

/// Jobs committed together at most; bounds the latency of one commit.
const MAX_JOBS_PER_COMMIT: usize = 512;

type Finish = Box<dyn FnOnce(bool) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Finish + Send>;

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

/// The write side: a handle to the writer thread.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(crate) fn start(conn: Connection) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("smsgate-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx))
            .expect("spawn the SQLite writer thread");
        Writer { jobs: tx }
    }

    /// Runs `f` in the next group commit and returns its result once the
    /// commit is durable. If `f` fails, only its own changes are undone.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = in_savepoint(conn, f);
            Box::new(move |committed| {
                let _ = tx.send(match result {
                    Ok(v) if committed => Ok(v),
                    Ok(_) => Err(StoreError::CommitFailed("the group commit failed".into())),
                    Err(e) => Err(e),
                });
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// Runs a transaction-control statement through the statement cache:
/// `execute_batch` would parse it anew every time.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn in_savepoint<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    control(conn, "SAVEPOINT job")?;
    let result = catch_unwind(AssertUnwindSafe(|| f(conn)))
        .unwrap_or_else(|_| Err(StoreError::Corrupt("a store job panicked".into())));
    match &result {
        Ok(_) => control(conn, "RELEASE job")?,
        Err(_) => {
            control(conn, "ROLLBACK TO job")?;
            control(conn, "RELEASE job")?;
        }
    }
    result
}

fn writer_loop(conn: Connection, jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_JOBS_PER_COMMIT);
    let mut finishers: Vec<Finish> = Vec::with_capacity(MAX_JOBS_PER_COMMIT);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < MAX_JOBS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let began = control(&conn, "BEGIN IMMEDIATE");
        if let Err(e) = began {
            tracing::error!(error = %e, "cannot begin a write transaction");
            // Without a transaction no job may run; dropping them answers
            // their callers with `StoreError::Closed`.
            batch.clear();
            continue;
        }
        for job in batch.drain(..) {
            finishers.push(job(&conn));
        }
        let committed = match control(&conn, "COMMIT") {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                let _ = conn.execute_batch("ROLLBACK");
                false
            }
        };
        metrics::histogram!("smsgate_store_group_commit_jobs").record(finishers.len() as f64);
        for finish in finishers.drain(..) {
            finish(committed);
        }
    }
}

/// The read side: a few read-only connections used from blocking threads.
#[derive(Clone)]
pub(crate) struct Readers {
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(crate) fn open(path: &Path, n: usize) -> Result<Readers> {
        let conns = (0..n)
            .map(|_| open(path, true))
            .collect::<Result<Vec<_>>>()?;
        Ok(Readers {
            idle: Arc::new(Mutex::new(conns)),
            permits: Arc::new(Semaphore::new(n)),
        })
    }

    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let idle = self.idle.clone();
        tokio::task::spawn_blocking(move || {
            let conn = idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = conn.ok_or(StoreError::Closed)?;
            let result = catch_unwind(AssertUnwindSafe(|| f(&conn)))
                .unwrap_or_else(|_| Err(StoreError::Corrupt("a store read panicked".into())));
            idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}
