//! [`SqlStore`], the one store over either database, and [`Backend`], what differs
//! between the databases: connections, the dialect, the group-commit [`Writer`],
//! reading the event log, migrations, and going around the audit trail's guard.
//! Each port of `todo_core` is implemented for every `SqlStore<B>` in the module
//! named for it (`tasks`, `users`, `event_log`, `audit`, `reminders`, ...).

use std::ops::DerefMut;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use todo_core::events::TopicNames;
use todo_core::ports::{Checkpoint, StartFrom};

use crate::error::Result;
use crate::options::{StoreKind, StoreOptions};
use crate::sql::{Dialect, Exec, Stmt};
use crate::subscription::LogSource;
use crate::writer::{Lane, Writer};

/// The database under a [`SqlStore`]: [`SqliteBackend`](crate::SqliteBackend) or
/// [`PostgresBackend`](crate::PostgresBackend). Sealed: its methods are the
/// store's internals.
pub trait Backend: Internals {}

impl<B: Internals> Backend for B {}

/// What a backend supplies (see the module docs). Public in name only: this module
/// is private, so no other crate can name or implement it.
#[async_trait]
pub trait Internals: Send + Sync + 'static {
    /// A connection, on which statements run.
    type Connection: Exec + 'static;
    /// A pooled connection; statements run through it (not through its
    /// `DerefMut`) let it know they ran to the end.
    type Conn: DerefMut<Target = Self::Connection> + Exec<Row = <Self::Connection as Exec>::Row> + Send;
    /// The event-log reader of one consumer group member.
    type Source: LogSource;

    /// Which database this is.
    const KIND: StoreKind;

    fn dialect(&self) -> Dialect;

    /// Creates or updates the schema.
    async fn migrate(&self) -> Result<()>;

    /// Closes the pool's connections (after their current work).
    async fn close(&self);

    /// A connection for reads.
    async fn connection(&self) -> Result<Self::Conn>;

    /// Where every write goes: one shared transaction per batch of writers.
    fn writer(&self) -> &Writer<Self::Connection>;

    /// This store's event log, as [`Checkpoint::log`] names it.
    fn log_id(&self) -> u64;

    /// Readies the event log for subscribers (PostgreSQL: starts listening).
    async fn prepare_log(&self) -> Result<()> {
        Ok(())
    }

    /// Stores the starting position of `group` if the group is new.
    fn join_group(&self, group: &str, start: StartFrom) -> Stmt;

    /// A member of `group` reading `topics`.
    fn log_source(&self, group: &str, topics: &[String]) -> Self::Source;

    /// The statement that stores `checkpoint` (a checkpoint of this log) as its
    /// group's position, never moving it back.
    fn store_position(&self, checkpoint: &Checkpoint) -> Result<Stmt>;

    /// Runs `stmt` in a write transaction with the append-only guard of `audit_log`
    /// lifted for that transaction alone: for tests that tamper with the trail.
    #[cfg(feature = "test-util")]
    async fn run_unguarded(&self, stmt: Stmt) -> Result<u64>;

    /// Runs `stmt` in a transaction of its own, outside the writer, kept open for
    /// `hold` before the commit: for tests of readers against slow writers.
    #[cfg(feature = "test-util")]
    async fn write_holding(&self, stmt: Stmt, hold: std::time::Duration) -> Result<()>;
}

/// Runs one statement in the next shared write transaction.
pub(crate) async fn write_one<B: Backend>(backend: &B, lane: Lane, stmt: Stmt) -> Result<u64> {
    let stmt = Arc::new(stmt);
    backend
        .writer()
        .write(lane, false, move |c| {
            let stmt = stmt.clone();
            Box::pin(async move { c.run(&stmt).await })
        })
        .await
}

/// Tasks, users, the event log and every other table of todo-events in one
/// database; implements every port of `todo_core` (each in the module of its
/// port). Cloning is cheap and shares the pools.
///
/// [`SqliteStore`](crate::SqliteStore) and [`PostgresStore`](crate::PostgresStore)
/// name the two; [`crate::connect`] picks one from a URL.
pub struct SqlStore<B> {
    shared: Arc<Shared<B>>,
}

struct Shared<B> {
    backend: B,
    topics: TopicNames,
}

impl<B> Clone for SqlStore<B> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

impl<B: Backend> SqlStore<B> {
    /// A store over `backend`.
    pub(crate) fn new(backend: B, options: &StoreOptions) -> Self {
        Self { shared: Arc::new(Shared { backend, topics: options.topic_names.clone() }) }
    }

    pub(crate) fn backend(&self) -> &B {
        &self.shared.backend
    }

    /// The physical names of the catalog topics.
    pub(crate) fn topics(&self) -> &TopicNames {
        &self.shared.topics
    }

    /// Creates or updates the schema.
    pub async fn migrate(&self) -> Result<()> {
        self.backend().migrate().await
    }

    /// Closes the pool's connections (after their current work).
    pub async fn close(&self) {
        self.backend().close().await;
    }

    /// Runs `work` in the next shared write transaction (see [`Writer::write`]).
    pub(crate) async fn write<T, F>(&self, lane: Lane, appends: bool, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut B::Connection) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        self.backend().writer().write(lane, appends, work).await
    }

    /// Runs one statement in the next shared write transaction.
    pub(crate) async fn write_one(&self, lane: Lane, stmt: Stmt) -> Result<u64> {
        write_one(self.backend(), lane, stmt).await
    }

    /// `checkpoint` if it is a position of this store's log, with the statement
    /// that stores it; a checkpoint of another log is left to its consumer.
    pub(crate) fn own_checkpoint(&self, checkpoint: Option<&Checkpoint>) -> Result<Option<(Checkpoint, Stmt)>> {
        match checkpoint {
            Some(cp) if cp.log == self.backend().log_id() => Ok(Some((cp.clone(), self.backend().store_position(cp)?))),
            _ => Ok(None),
        }
    }

    /// Runs `stmts` in order in one transaction with `checkpoint` (of this log),
    /// then marks the checkpoint stored.
    pub(crate) async fn write_all(&self, mut stmts: Vec<Stmt>, checkpoint: Option<&Checkpoint>) -> Result<()> {
        let checkpoint = self.own_checkpoint(checkpoint)?;
        stmts.extend(checkpoint.as_ref().map(|(_, s)| s.clone()));
        if stmts.is_empty() {
            return Ok(());
        }
        let stmts = Arc::new(stmts);
        self.write(Lane::Background, false, move |c| {
            let stmts = stmts.clone();
            Box::pin(async move {
                for s in stmts.iter() {
                    c.run(s).await?;
                }
                Ok(())
            })
        })
        .await?;
        if let Some((cp, _)) = checkpoint {
            cp.mark_stored();
        }
        Ok(())
    }
}

#[cfg(feature = "test-util")]
impl<B: Backend> SqlStore<B> {
    /// Runs `stmt` with the append-only guard of `audit_log` lifted (see
    /// [`Internals::run_unguarded`]).
    pub(crate) async fn run_unguarded(&self, stmt: Stmt) -> Result<u64> {
        self.backend().run_unguarded(stmt).await
    }
}
