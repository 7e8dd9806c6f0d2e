//! PostgreSQL: the store of the distributed mode, shared by every service; its
//! `event_log` table is the outbox (drained to Kafka) or, without Kafka, the log.

mod codec;
mod db;
mod log;
mod reads;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool};
use todo_core::ports::{Checkpoint, StartFrom, next_log_id};
use tokio::sync::{Notify, OnceCell};

pub use self::db::PostgresBackend;
use self::db::{CHANNEL, ListenerTask, PgShared, PgWrites, forward};
use self::log::{PgLogSource, PgPosition};
use self::reads::{ReadConn, Stash};
use crate::backend::{Internals, SqlStore};
use crate::error::{Result, StoreError};
use crate::options::{StoreKind, StoreOptions};
use crate::sql::{Dialect, Stmt};
use crate::writer::Writer;

/// Every table of todo-events, the event log (or outbox) included, in a
/// PostgreSQL database (version 13 or later): the store of the distributed mode.
pub type PostgresStore = SqlStore<PostgresBackend>;

impl SqlStore<PostgresBackend> {
    /// Connects to `postgres://user:password@host:port/database`.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        let connect = PgConnectOptions::from_str(url).map_err(|e| StoreError::UnsupportedUrl(format!("{e}")))?;
        // One direct connection first: an unreachable server fails now, with its cause,
        // where the pool would retry until its acquire timeout and report only that.
        PgConnection::connect_with(&connect).await?.close().await?;
        // No ping before each use (sqlx's default): it is a round trip on every
        // query and every transaction. A connection the server dropped fails its
        // next statement instead and is discarded (a read answers 503 once; a
        // shared write reruns each job alone on a fresh connection).
        let pool_options = || PgPoolOptions::new().test_before_acquire(false);
        let pool = pool_options().max_connections(options.max_connections.max(2)).connect_with(connect.clone()).await?;
        let writers = options.pg_writers.max(1);
        let write_pool = pool_options().max_connections(writers as u32).connect_with(connect.clone()).await?;
        let writes = Arc::new(PgWrites { pool: write_pool });
        let writer = Writer::start(writes.clone(), writers);
        let shared = Arc::new(PgShared { wake: Arc::new(Notify::new()), listener: OnceCell::new() });
        // Reads leave two of the pool's connections to its other users (the
        // listener, migrations); sqlx's default acquire timeout.
        let reads = Stash::new(options.max_connections.max(3) as usize - 2, Duration::from_secs(30));
        let backend = PostgresBackend { pool, reads, connect, shared, writes, writer, log_id: next_log_id() };
        Ok(SqlStore::new(backend, options))
    }

    /// The connection pool, for tables of other crates in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.backend().pool
    }
}

#[async_trait]
impl Internals for PostgresBackend {
    type Connection = PgConnection;
    type Conn = ReadConn;
    type Source = PgLogSource;

    const KIND: StoreKind = StoreKind::Postgres;

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn connection(&self) -> Result<ReadConn> {
        self.reads.acquire(&self.pool).await
    }

    fn writer(&self) -> &Writer<PgConnection> {
        &self.writer
    }

    fn log_id(&self) -> u64 {
        self.log_id
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.reads.drain();
        self.pool.close().await;
        self.writes.pool.close().await;
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

    fn store_position(&self, checkpoint: &Checkpoint) -> Result<Stmt> {
        match (checkpoint.get("txid"), checkpoint.get("seq")) {
            (Some(txid), Some(seq)) => Ok(log::store_position(&checkpoint.group, PgPosition { txid, seq })),
            _ => Err(StoreError::Internal(format!("checkpoint without txid and seq: {checkpoint:?}"))),
        }
    }

    #[cfg(feature = "test-util")]
    /// Disables the `audit_log_append_only` trigger inside the transaction and
    /// enables it again before the commit. `ALTER TABLE` takes an ACCESS EXCLUSIVE
    /// lock held to the end of the transaction, so no other session ever writes to
    /// `audit_log` while the trigger is off. It needs the table's owner (the role
    /// that migrated), not a superuser as `session_replication_role` would.
    async fn run_unguarded(&self, stmt: Stmt) -> Result<u64> {
        use crate::sql::Exec as _;
        use crate::writer::Lane;
        const TRIGGER: &str = "audit_log_append_only";
        let stmt = Arc::new(stmt);
        self.writer
            .write(Lane::Foreground, false, move |tx| {
                let stmt = stmt.clone();
                Box::pin(async move {
                    tx.run(&Stmt::new(format!("ALTER TABLE audit_log DISABLE TRIGGER {TRIGGER}"), vec![])).await?;
                    let changed = tx.run(&stmt).await?;
                    tx.run(&Stmt::new(format!("ALTER TABLE audit_log ENABLE TRIGGER {TRIGGER}"), vec![])).await?;
                    Ok(changed)
                })
            })
            .await
    }

    /// On a pool connection of its own: the writers go on meanwhile.
    #[cfg(feature = "test-util")]
    async fn write_holding(&self, stmt: Stmt, hold: std::time::Duration) -> Result<()> {
        use crate::sql::Exec as _;
        use crate::writer::WriteTarget as _;
        let mut tx = self.pool.begin().await?;
        if let Err(e) = tx.run(&stmt).await {
            let _ = tx.rollback().await;
            return Err(e);
        }
        tokio::time::sleep(hold).await;
        PgWrites { pool: self.pool.clone() }.commit(tx, true).await
    }
}
