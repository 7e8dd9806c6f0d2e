//! PostgreSQL: the store of the distributed mode, shared by every service; its
//! `event_log` table is the outbox (drained to Kafka) or, without Kafka, the log.

mod codec;
mod log;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool, Postgres, Transaction};
use todo_core::ports::StartFrom;
use tokio::sync::{Notify, OnceCell};
use tokio::task::JoinHandle;
use tracing::warn;

use self::log::PgLogSource;
use crate::StoreOptions;
use crate::engine::{Backend, Engine, finish, impl_store};
use crate::error::{Result, StoreError};
use crate::sql::{Arg, Dialect, Exec, Stmt};

/// The channel notified by every transaction that appends to the event log.
const CHANNEL: &str = "todo_event_log";

/// Tasks, users, login attempts and the event log in a PostgreSQL database
/// (version 13 or later). Cloning is cheap and shares the pool.
#[derive(Clone)]
pub struct PostgresStore {
    engine: Arc<Engine<PgBackend>>,
}

impl_store!(PostgresStore);

impl PostgresStore {
    /// Connects to `postgres://user:password@host:port/database`.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        let connect = PgConnectOptions::from_str(url).map_err(|e| StoreError::UnsupportedUrl(format!("{e}")))?;
        // One direct connection first: an unreachable server fails now, with its cause,
        // where the pool would retry until its acquire timeout and report only that.
        PgConnection::connect_with(&connect).await?.close().await?;
        let pool =
            PgPoolOptions::new().max_connections(options.max_connections.max(2)).connect_with(connect.clone()).await?;
        let shared = Arc::new(PgShared { wake: Arc::new(Notify::new()), listener: OnceCell::new() });
        let backend = PgBackend { pool, connect, shared };
        Ok(Self { engine: Engine::shared(backend, options) })
    }

    /// The connection pool, for tables of other crates in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.engine.backend.pool
    }
}

#[derive(Clone)]
pub(crate) struct PgBackend {
    pool: PgPool,
    /// For the dedicated session of each consumer group member.
    connect: PgConnectOptions,
    shared: Arc<PgShared>,
}

/// What the clones of one store share.
pub(crate) struct PgShared {
    /// Signalled on every notification of [`CHANNEL`].
    wake: Arc<Notify>,
    /// The task forwarding notifications to `wake`, started by the first subscription.
    listener: OnceCell<ListenerTask>,
}

/// Stops the listener when the last handle of the store goes away.
struct ListenerTask(JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn forward(mut listener: PgListener, wake: Arc<Notify>) {
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

#[async_trait]
impl Backend for PgBackend {
    type Connection = PgConnection;
    type Conn = PoolConnection<Postgres>;
    type WriteTx = Transaction<'static, Postgres>;
    type Source = PgLogSource;

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn connection(&self) -> Result<PoolConnection<Postgres>> {
        Ok(self.pool.acquire().await?)
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    async fn commit_write(&self, mut tx: Transaction<'static, Postgres>, appended: bool) -> Result<()> {
        if appended {
            // Delivered to listeners when (and only if) the transaction commits.
            tx.run(&Stmt::new("SELECT pg_notify($1, '')", vec![Arg::Text(CHANNEL.to_owned())])).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rollback_write(&self, tx: Transaction<'static, Postgres>) {
        if let Err(e) = tx.rollback().await {
            warn!(error = %e, "rollback failed");
        }
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts listening on [`CHANNEL`] (once per store).
    async fn prepare_log(&self) -> Result<()> {
        self.shared
            .listener
            .get_or_try_init(|| async {
                let mut listener = PgListener::connect_with(&self.pool).await?;
                listener.listen(CHANNEL).await?;
                Ok::<_, StoreError>(ListenerTask(tokio::spawn(forward(listener, self.shared.wake.clone()))))
            })
            .await?;
        Ok(())
    }

    fn join_group(&self, group: &str, start: StartFrom) -> Stmt {
        log::join_group(group, start)
    }

    fn log_source(&self, group: &str, topics: &[String]) -> PgLogSource {
        PgLogSource::new(self, group, topics)
    }

    /// Disables the `audit_log_append_only` trigger inside the transaction and
    /// enables it again before the commit. `ALTER TABLE` takes an ACCESS EXCLUSIVE
    /// lock held to the end of the transaction, so no other session ever writes to
    /// `audit_log` while the trigger is off. It needs the table's owner (the role
    /// that migrated), not a superuser as `session_replication_role` would.
    async fn run_unguarded(&self, stmt: &Stmt) -> Result<u64> {
        const TRIGGER: &str = "audit_log_append_only";
        let mut tx = self.begin_write().await?;
        let result = async {
            tx.run(&Stmt::new(format!("ALTER TABLE audit_log DISABLE TRIGGER {TRIGGER}"), vec![])).await?;
            let changed = tx.run(stmt).await?;
            tx.run(&Stmt::new(format!("ALTER TABLE audit_log ENABLE TRIGGER {TRIGGER}"), vec![])).await?;
            Ok(changed)
        }
        .await;
        finish(self, tx, result, false).await
    }
}
