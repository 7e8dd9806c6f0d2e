//! Group commit: every write of a store goes through one writer, which gathers the
//! jobs waiting at that moment into one transaction and one commit (one fsync).
//!
//! Outcomes are not shared. A job that fails is taken out and the others run again
//! without it in a fresh transaction; after they commit, the failed job runs alone,
//! in a transaction of its own, and its caller gets that run's outcome. When the
//! shared commit itself fails, every job runs alone. So no caller ever sees an error
//! caused by another job, and nobody hears "done" before their own commit is durable.
//!
//! Jobs that mostly insert rows (every create: a task and its events; a chat turn
//! that creates one: the same, then the conversation) carry those rows as data
//! ([`Inserts`]), with a closure for the rest: the writer inserts the rows of all
//! of them in its transaction together, one multi-row statement per table, then
//! runs each job's rest. If the shared insert fails, the transaction is rolled back
//! and every job runs on its own statements, as above.
//!
//! Requests come first. Jobs arrive on two lanes: foreground (requests) and
//! background (consumers, the scheduler, the relay's positions). A transaction takes
//! every queued foreground job (up to [`MAX_JOBS`]) and at most one background job,
//! so a request waits behind at most one background batch, whatever the backlog,
//! and background work still advances with every commit. See
//! `docs/adr/0016-group-commit.md`.

use std::ops::DerefMut;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::error::{Result, StoreError};
use crate::inserts::Inserts;
use crate::sql::Exec;

/// Most jobs in one transaction.
pub(crate) const MAX_JOBS: usize = 256;

/// Who is waiting for a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// A request: goes into the next transaction.
    Foreground,
    /// Consumers, schedulers, relays: one job per transaction at most.
    Background,
}

/// What a writer needs of a database: write transactions on a connection of its own.
#[async_trait]
pub trait WriteTarget: Send + Sync + 'static {
    /// A connection, on which statements run.
    type Connection: Exec;
    /// A write transaction.
    type Tx: DerefMut<Target = Self::Connection> + Send;

    async fn begin(&self) -> Result<Self::Tx>;

    /// Commits `tx`. `appended`: it added to the event log, so readers are woken.
    async fn commit(&self, tx: Self::Tx, appended: bool) -> Result<()>;

    /// Rolls `tx` back (errors are moot: an unfinished transaction never commits).
    async fn rollback(&self, tx: Self::Tx);
}

/// One caller's write, type-erased for the queue.
#[async_trait]
trait Job<C: Send>: Send {
    fn lane(&self) -> Lane;

    /// Whether the job may append to the event log (readers are woken after its commit).
    fn appends(&self) -> bool;

    /// Runs the job's statements in the open transaction and keeps the outcome;
    /// `true` if it succeeded. May run again (in another transaction) after `false`
    /// or after a failed commit.
    async fn run(&mut self, c: &mut C) -> bool;

    /// The commit of the job's transaction failed: that is its outcome.
    fn commit_failed(&mut self, e: StoreError);

    /// Hands the kept outcome to the caller.
    fn finish(self: Box<Self>);

    /// The rows the job inserts first, which the writer may insert together with
    /// other jobs' rows.
    fn inserts(&self) -> Option<&Inserts> {
        None
    }

    /// The job's rows were inserted with others' in the open transaction: runs the
    /// rest of it and keeps the outcome, like [`Job::run`].
    async fn run_rest(&mut self, _c: &mut C) -> bool {
        true
    }
}

/// A caller's outcome: kept while its job may still run again, then handed over.
struct Outcome<T> {
    kept: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T> Outcome<T> {
    fn new(reply: oneshot::Sender<Result<T>>) -> Self {
        Self { kept: None, reply }
    }

    /// Keeps `outcome`; `true` if it is a success.
    fn keep(&mut self, outcome: Result<T>) -> bool {
        let ok = outcome.is_ok();
        self.kept = Some(outcome);
        ok
    }

    fn finish(self) {
        let outcome = self.kept.unwrap_or_else(|| Err(StoreError::Internal("write job never ran".into())));
        // The caller may have gone away (its request was cancelled): the write stands.
        let _ = self.reply.send(outcome);
    }
}

/// The closure of a job: statements on a connection in an open transaction.
pub(crate) type Work<C, T> = dyn for<'c> Fn(&'c mut C) -> BoxFuture<'c, Result<T>> + Send + Sync;

/// `work` boxed as a job's closure.
pub(crate) fn work_of<C, T, F>(work: F) -> Box<Work<C, T>>
where
    F: for<'c> Fn(&'c mut C) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
{
    Box::new(work)
}

struct TypedJob<C: 'static, T> {
    lane: Lane,
    appends: bool,
    work: Box<Work<C, T>>,
    outcome: Outcome<T>,
}

#[async_trait]
impl<C: Exec + 'static, T: Send + 'static> Job<C> for TypedJob<C, T> {
    fn lane(&self) -> Lane {
        self.lane
    }

    fn appends(&self) -> bool {
        self.appends
    }

    async fn run(&mut self, c: &mut C) -> bool {
        let outcome = (self.work)(c).await;
        self.outcome.keep(outcome)
    }

    fn commit_failed(&mut self, e: StoreError) {
        self.outcome.keep(Err(e));
    }

    fn finish(self: Box<Self>) {
        self.outcome.finish();
    }
}

/// A job that inserts rows, then runs the rest of its statements.
struct InsertJob<C: 'static> {
    lane: Lane,
    rows: Inserts,
    rest: Option<Box<Work<C, ()>>>,
    outcome: Outcome<()>,
}

#[async_trait]
impl<C: Exec + 'static> Job<C> for InsertJob<C> {
    fn lane(&self) -> Lane {
        self.lane
    }

    fn appends(&self) -> bool {
        self.rows.appends()
    }

    async fn run(&mut self, c: &mut C) -> bool {
        let outcome = Inserts::run_all(c, &[&self.rows]).await;
        self.outcome.keep(outcome) && self.run_rest(c).await
    }

    fn commit_failed(&mut self, e: StoreError) {
        self.outcome.keep(Err(e));
    }

    fn finish(self: Box<Self>) {
        self.outcome.finish();
    }

    fn inserts(&self) -> Option<&Inserts> {
        Some(&self.rows)
    }

    async fn run_rest(&mut self, c: &mut C) -> bool {
        let outcome = match &self.rest {
            Some(rest) => rest(c).await,
            None => Ok(()),
        };
        self.outcome.keep(outcome)
    }
}

type Queue<C> = mpsc::UnboundedReceiver<Box<dyn Job<C>>>;

/// The queues of one writer.
struct Queues<C: Send> {
    foreground: Queue<C>,
    background: Queue<C>,
}

/// Hands write jobs to the writer task(s) of one database. Cloning shares them;
/// the tasks end when the last handle is dropped.
pub struct Writer<C: Send> {
    foreground: mpsc::UnboundedSender<Box<dyn Job<C>>>,
    background: mpsc::UnboundedSender<Box<dyn Job<C>>>,
}

impl<C: Send> Clone for Writer<C> {
    fn clone(&self) -> Self {
        Self { foreground: self.foreground.clone(), background: self.background.clone() }
    }
}

impl<C: Exec + 'static> Writer<C> {
    /// Starts `workers` writer tasks on `target` (SQLite: one, the database has one
    /// writer anyway; PostgreSQL: a few, so one commit's round trip overlaps the
    /// next transaction's statements).
    pub fn start<W: WriteTarget<Connection = C>>(target: Arc<W>, workers: usize) -> Self {
        let (fg_tx, fg_rx) = mpsc::unbounded_channel();
        let (bg_tx, bg_rx) = mpsc::unbounded_channel();
        let queues = Arc::new(Mutex::new(Queues { foreground: fg_rx, background: bg_rx }));
        for _ in 0..workers.max(1) {
            tokio::spawn(work(target.clone(), queues.clone()));
        }
        Self { foreground: fg_tx, background: bg_tx }
    }

    /// Runs `work` in the next shared transaction and returns its outcome once that
    /// transaction (or, after a failure, its own) committed. `appends`: the work may
    /// append to the event log.
    pub async fn write<T, F>(&self, lane: Lane, appends: bool, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut C) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        let (reply, outcome) = oneshot::channel();
        self.send(Box::new(TypedJob { lane, appends, work: work_of(work), outcome: Outcome::new(reply) }))?;
        outcome.await.map_err(|_| StoreError::Internal("the database writer dropped a write".into()))?
    }

    /// Inserts `rows` in the next shared transaction (with the rows of the other
    /// such jobs in it), then runs `rest` there; returns once that transaction, or
    /// its own, committed.
    pub(crate) async fn insert(&self, lane: Lane, rows: Inserts, rest: Option<Box<Work<C, ()>>>) -> Result<()> {
        let (reply, outcome) = oneshot::channel();
        self.send(Box::new(InsertJob { lane, rows, rest, outcome: Outcome::new(reply) }))?;
        outcome.await.map_err(|_| StoreError::Internal("the database writer dropped a write".into()))?
    }

    fn send(&self, job: Box<dyn Job<C>>) -> Result<()> {
        let queue = match job.lane() {
            Lane::Foreground => &self.foreground,
            Lane::Background => &self.background,
        };
        queue.send(job).map_err(|_| StoreError::Internal("the database writer has stopped".into()))
    }
}

/// A writer task: takes the next batch, runs it, repeats until the queues close.
async fn work<W: WriteTarget>(target: Arc<W>, queues: Arc<Mutex<Queues<W::Connection>>>) {
    loop {
        let batch = {
            let mut q = queues.lock().await;
            match next_batch(&mut q).await {
                Some(batch) => batch,
                None => return,
            }
        };
        metrics::histogram!("todo_store_commit_batch_jobs").record(batch.len() as f64);
        run_batch(&*target, batch).await;
    }
}

/// Waits for a job, then takes every queued foreground job (up to [`MAX_JOBS`])
/// and at most one background job. `None` when both queues are closed and empty.
async fn next_batch<C: Send>(q: &mut Queues<C>) -> Option<Vec<Box<dyn Job<C>>>> {
    let first = tokio::select! {
        biased;
        Some(job) = q.foreground.recv() => job,
        Some(job) = q.background.recv() => job,
        else => return None,
    };
    let has_background = first.lane() == Lane::Background;
    let mut batch = vec![first];
    while batch.len() < MAX_JOBS {
        match q.foreground.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    if !has_background && let Ok(job) = q.background.try_recv() {
        batch.push(job);
    }
    Some(batch)
}

/// Runs `batch` in one transaction: the rows of the jobs that insert rows
/// together, then every job (the rest of those); jobs that fail are set aside and
/// the others run again (on their own statements, if the rows inserted together
/// failed); then each job set aside runs alone.
async fn run_batch<W: WriteTarget>(target: &W, mut batch: Vec<Box<dyn Job<W::Connection>>>) {
    let mut alone = Vec::new();
    let mut together = true;
    while !batch.is_empty() {
        let mut tx = match target.begin().await {
            Ok(tx) => tx,
            Err(e) => {
                // Not any job's fault: each tries on its own (and reports its own error).
                tracing::warn!(error = %e, jobs = batch.len(), "beginning a shared write transaction failed");
                alone.append(&mut batch);
                break;
            }
        };
        let rows: Vec<&Inserts> = batch.iter().filter_map(|j| j.inserts()).collect();
        let inserted = together && rows.len() > 1;
        if inserted && Inserts::run_all(&mut *tx, &rows).await.is_err() {
            target.rollback(tx).await;
            together = false;
            continue;
        }
        let mut failed = None;
        for (i, job) in batch.iter_mut().enumerate() {
            let ok =
                if inserted && job.inserts().is_some() { job.run_rest(&mut tx).await } else { job.run(&mut tx).await };
            if !ok {
                failed = Some(i);
                break;
            }
        }
        if let Some(i) = failed {
            target.rollback(tx).await;
            alone.push(batch.remove(i));
            continue;
        }
        let appended = batch.iter().any(|j| j.appends());
        match target.commit(tx, appended).await {
            Ok(()) => batch.drain(..).for_each(|job| job.finish()),
            Err(e) => {
                tracing::warn!(error = %e, jobs = batch.len(), "a shared commit failed; running each write alone");
                alone.append(&mut batch);
            }
        }
    }
    for mut job in alone {
        run_alone(target, &mut *job).await;
        job.finish();
    }
}

/// Runs one job in a transaction of its own, keeping its outcome.
async fn run_alone<W: WriteTarget>(target: &W, job: &mut dyn Job<W::Connection>) {
    let mut tx = match target.begin().await {
        Ok(tx) => tx,
        Err(e) => return job.commit_failed(e),
    };
    if job.run(&mut tx).await {
        if let Err(e) = target.commit(tx, job.appends()).await {
            job.commit_failed(e);
        }
    } else {
        target.rollback(tx).await;
    }
}
