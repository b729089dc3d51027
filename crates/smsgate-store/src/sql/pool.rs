//! Connections for either backend: one writer thread with group commit,
//! and a read pool.
//!
//! Rather than let writers queue on the database's locks, every write is a
//! job sent to one thread that owns the node's only write connection. The
//! thread takes every job waiting, runs them in one transaction (each
//! inside its own savepoint, so one failing job does not undo the others),
//! commits once (one fsync, one WAL flush), and only then answers the
//! callers. Under load this turns N commits into one.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::{Semaphore, oneshot};

use super::Db;
use crate::{Result, StoreError};

/// Jobs committed together at most; bounds the latency of one commit.
const MAX_JOBS_PER_COMMIT: usize = 512;

/// A connection the pool drives.
pub trait PoolConn: Db + Send + 'static {
    /// The statement that begins a write transaction.
    const BEGIN: &'static str;
    /// Runs a transaction-control statement (`BEGIN`, `SAVEPOINT job`, …).
    fn control(&self, sql: &str) -> Result<()>;
    /// Makes a broken connection usable again where it can (after a
    /// database server restarted); called before each use.
    fn repair(&mut self) {}
    /// A job of the group begins (its savepoint is set).
    fn job_begins(&self) {
        if let Some(p) = self.kept_back() {
            p.job_begins();
        }
    }
    /// The running job's changes were rolled back to its savepoint.
    fn job_undone(&self) {
        if let Some(p) = self.kept_back() {
            p.job_undone();
        }
    }
    /// Writes what was kept back for the group, just before it commits.
    fn before_commit(&self) -> Result<()>
    where
        Self: Sized,
    {
        match self.kept_back() {
            Some(p) => p.write(self),
            None => Ok(()),
        }
    }
    /// The group's transaction was rolled back.
    fn group_undone(&self) {
        if let Some(p) = self.kept_back() {
            p.clear();
        }
    }
}

type Finish = Box<dyn FnOnce(bool) + Send>;

struct Job<C> {
    run: Box<dyn FnOnce(&C) -> Finish + Send>,
    /// Committed in a transaction of its own, not with the others.
    alone: bool,
}

/// The write side: a handle to the writer thread.
pub(crate) struct Writer<C> {
    jobs: mpsc::Sender<Job<C>>,
}

impl<C> Clone for Writer<C> {
    fn clone(&self) -> Self {
        Writer {
            jobs: self.jobs.clone(),
        }
    }
}

impl<C: PoolConn> Writer<C> {
    pub(crate) fn start(name: &str, conn: C) -> Writer<C> {
        let (tx, rx) = mpsc::channel::<Job<C>>();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || writer_loop(conn, rx))
            .expect("spawn the store's writer thread");
        Writer { jobs: tx }
    }

    /// Runs `f` in the next group commit and returns its result once the
    /// commit is durable. If `f` fails, only its own changes are undone.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&C) -> Result<T> + Send + 'static,
    {
        self.send(f, false).await
    }

    /// Runs `f` in a transaction of its own. For writes that lock rows
    /// other nodes lock too (connector leases): inside a group commit they
    /// would hold those locks as long as the group, and wait while holding
    /// the group's (an account's balance), which can deadlock with another
    /// node's group doing the same the other way round.
    pub(crate) async fn write_alone<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&C) -> Result<T> + Send + 'static,
    {
        self.send(f, true).await
    }

    async fn send<T, F>(&self, f: F, alone: bool) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&C) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let run = Box::new(move |conn: &C| -> Finish {
            let result = in_savepoint(conn, f);
            Box::new(move |committed| {
                let _ = tx.send(match result {
                    Ok(v) if committed => Ok(v),
                    Ok(_) => Err(StoreError::CommitFailed("the group commit failed".into())),
                    Err(e) => Err(e),
                });
            })
        });
        let job = Job { run, alone };
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn in_savepoint<C: PoolConn, T>(conn: &C, f: impl FnOnce(&C) -> Result<T>) -> Result<T> {
    conn.control("SAVEPOINT job")?;
    conn.job_begins();
    let result = catch_unwind(AssertUnwindSafe(|| f(conn)))
        .unwrap_or_else(|_| Err(StoreError::Corrupt("a store job panicked".into())));
    let ended = match &result {
        Ok(_) => conn.control("RELEASE job"),
        Err(_) => conn
            .control("ROLLBACK TO job")
            .and_then(|()| conn.control("RELEASE job")),
    };
    if result.is_err() || ended.is_err() {
        conn.job_undone();
    }
    ended?;
    result
}

fn writer_loop<C: PoolConn>(mut conn: C, jobs: mpsc::Receiver<Job<C>>) {
    let mut batch: Vec<Job<C>> = Vec::with_capacity(MAX_JOBS_PER_COMMIT);
    let mut finishers: Vec<Finish> = Vec::with_capacity(MAX_JOBS_PER_COMMIT);
    // A job to commit alone, met while gathering a group: it goes next.
    let mut next: Option<Job<C>> = None;
    loop {
        let Some(first) = next.take().or_else(|| jobs.recv().ok()) else {
            break;
        };
        let alone = first.alone;
        batch.push(first);
        while !alone && batch.len() < MAX_JOBS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) if job.alone => {
                    next = Some(job);
                    break;
                }
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        conn.repair();
        if let Err(e) = conn.control(C::BEGIN) {
            tracing::error!(error = %e, "cannot begin a write transaction");
            // Without a transaction no job may run; dropping them answers
            // their callers with `StoreError::Closed`.
            batch.clear();
            continue;
        }
        for job in batch.drain(..) {
            finishers.push((job.run)(&conn));
        }
        let committed = match conn.before_commit().and_then(|()| conn.control("COMMIT")) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                let _ = conn.control("ROLLBACK");
                conn.group_undone();
                false
            }
        };
        metrics::histogram!("smsgate_store_group_commit_jobs").record(finishers.len() as f64);
        for finish in finishers.drain(..) {
            finish(committed);
        }
    }
}

/// The read side: a few connections used from blocking threads.
pub(crate) struct Readers<C> {
    idle: Arc<Mutex<Vec<C>>>,
    permits: Arc<Semaphore>,
}

impl<C> Clone for Readers<C> {
    fn clone(&self) -> Self {
        Readers {
            idle: self.idle.clone(),
            permits: self.permits.clone(),
        }
    }
}

impl<C: PoolConn> Readers<C> {
    pub(crate) fn new(conns: Vec<C>) -> Readers<C> {
        Readers {
            permits: Arc::new(Semaphore::new(conns.len())),
            idle: Arc::new(Mutex::new(conns)),
        }
    }

    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&C) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let idle = self.idle.clone();
        tokio::task::spawn_blocking(move || {
            let conn = idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut conn = conn.ok_or(StoreError::Closed)?;
            conn.repair();
            let result = catch_unwind(AssertUnwindSafe(|| f(&conn)))
                .unwrap_or_else(|_| Err(StoreError::Corrupt("a store read panicked".into())));
            idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}
