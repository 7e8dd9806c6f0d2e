//! One PostgreSQL database: the backend's pools and writers, the write
//! transactions (which notify [`CHANNEL`] when they append), and the listener
//! that wakes the event log's readers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::{Notify, OnceCell};
use tokio::task::JoinHandle;
use tracing::warn;

use super::reads::Stash;
use crate::error::Result;
use crate::sql::{Arg, Exec, Stmt};
use crate::writer::{WriteTarget, Writer};

/// The channel notified by every transaction that appends to the event log.
pub(super) const CHANNEL: &str = "todo_event_log";

/// A PostgreSQL database under a [`SqlStore`](crate::SqlStore): a pool of readers, writer
/// connections of their own, and a session per consumer group member.
#[derive(Clone)]
pub struct PostgresBackend {
    /// For reads.
    pub(super) pool: PgPool,
    /// Read connections between uses.
    pub(super) reads: Arc<Stash>,
    /// For the dedicated session of each consumer group member.
    pub(super) connect: PgConnectOptions,
    pub(super) shared: Arc<PgShared>,
    pub(super) writes: Arc<PgWrites>,
    pub(super) writer: Writer<PgConnection>,
    pub(super) log_id: u64,
}

/// Where the writers write: connections of their own.
pub(super) struct PgWrites {
    pub(super) pool: PgPool,
}

#[async_trait]
impl WriteTarget for PgWrites {
    type Connection = PgConnection;
    type Tx = Transaction<'static, Postgres>;

    async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    async fn commit(&self, mut tx: Transaction<'static, Postgres>, appended: bool) -> Result<()> {
        if appended {
            // Delivered to listeners when (and only if) the transaction commits.
            tx.run(&Stmt::new("SELECT pg_notify($1, '')", vec![Arg::Text(CHANNEL.to_owned())])).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rollback(&self, tx: Transaction<'static, Postgres>) {
        if let Err(e) = tx.rollback().await {
            warn!(error = %e, "rollback failed");
        }
    }
}

/// What the clones of one store share.
pub(super) struct PgShared {
    /// Signalled on every notification of [`CHANNEL`].
    pub(super) wake: Arc<Notify>,
    /// The task forwarding notifications to `wake`, started by the first subscription.
    pub(super) listener: OnceCell<ListenerTask>,
}

/// Stops the listener when the last handle of the store goes away.
pub(super) struct ListenerTask(pub(super) JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(super) async fn forward(mut listener: PgListener, wake: Arc<Notify>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(_)) => wake.notify_waiters(),
            // The connection was lost and re-established: notifications may be missed.
            Ok(None) => wake.notify_waiters(),
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                warn!(error = %e, channel = CHANNEL, "listening for appends failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
