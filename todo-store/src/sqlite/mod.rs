//! SQLite: the store of the embedded single-process mode, a WAL file holding the
//! tasks, the users and the durable event log.

mod codec;
mod db;
mod log;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use todo_core::ports::{Checkpoint, StartFrom, next_log_id};

pub use self::db::SqliteBackend;
use self::db::{FileState, SqliteWrites, prepare_file};
use self::log::SqliteLogSource;
use crate::backend::{Internals, SqlStore};
use crate::error::{Result, StoreError};
use crate::options::{StoreKind, StoreOptions};
use crate::sql::{Dialect, Stmt};
use crate::writer::Writer;

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Every table of todo-events, the embedded event log included, in one SQLite
/// file: the store of the embedded single-process mode.
///
/// One process owns the file: writers take turns in this process, and consumer
/// groups are exclusive among the subscribers of this process.
pub type SqliteStore = SqlStore<SqliteBackend>;

impl SqlStore<SqliteBackend> {
    /// Opens `sqlite://path/todo.db` (created with its directory if missing),
    /// `sqlite:relative.db` or `sqlite::memory:`.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let parsed =
            SqliteConnectOptions::from_str(url).map_err(|e| StoreError::UnsupportedUrl(format!("{url}: {e}")))?;
        Self::open_with(parsed, memory, options).await
    }

    /// Opens (and creates if missing, with its directory) the database file at `path`.
    pub async fn open(path: impl AsRef<Path>, options: &StoreOptions) -> Result<Self> {
        Self::open_with(SqliteConnectOptions::new().filename(path), false, options).await
    }

    async fn open_with(connect: SqliteConnectOptions, memory: bool, options: &StoreOptions) -> Result<Self> {
        let connect = connect.foreign_keys(true).busy_timeout(BUSY_TIMEOUT);
        let (pool, write_pool, key) = if memory {
            // One connection: an in-memory database lives as long as its connections,
            // and each new private one would be a different, empty database. The
            // writer takes it in turn with the readers.
            let key = connect.get_filename().display().to_string();
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(connect)
                .await?;
            (pool.clone(), pool, key)
        } else {
            // WAL lets readers run beside the writer. synchronous=FULL, not NORMAL: in WAL
            // mode NORMAL does not sync the WAL at commit, so a power loss can undo
            // transactions already reported committed, i.e. lose outbox events.
            let connect = connect
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full);
            let key = prepare_file(connect.get_filename())?;
            // The writer has a connection of its own: readers never hold it up.
            // No ping before each use: a file has no server to drop the connection,
            // and the ping is a trip through the connection's worker thread.
            let pool_options = || SqlitePoolOptions::new().test_before_acquire(false);
            let write_pool = pool_options().max_connections(1).connect_with(connect.clone()).await?;
            let pool = pool_options().max_connections(options.max_connections.max(1)).connect_with(connect).await?;
            (pool, write_pool, key)
        };
        let file = FileState::of(&key);
        let writes = Arc::new(SqliteWrites { pool: write_pool, file: file.clone() });
        // One writer: SQLite has one anyway.
        let writer = Writer::start(writes.clone(), 1);
        let backend = SqliteBackend { pool, file, writes, writer, log_id: next_log_id() };
        Ok(SqlStore::new(backend, options))
    }

    /// The connection pool, for tables of other crates in the same file.
    pub fn pool(&self) -> &SqlitePool {
        &self.backend().pool
    }
}

#[async_trait]
impl Internals for SqliteBackend {
    type Connection = SqliteConnection;
    type Conn = PoolConnection<Sqlite>;
    type Source = SqliteLogSource;

    const KIND: StoreKind = StoreKind::Sqlite;

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn connection(&self) -> Result<PoolConnection<Sqlite>> {
        Ok(self.pool.acquire().await?)
    }

    fn writer(&self) -> &Writer<SqliteConnection> {
        &self.writer
    }

    fn log_id(&self) -> u64 {
        self.log_id
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
        self.writes.pool.close().await;
    }

    fn join_group(&self, group: &str, start: StartFrom) -> Stmt {
        log::join_group(group, start)
    }

    fn log_source(&self, group: &str, topics: &[String]) -> SqliteLogSource {
        SqliteLogSource::new(self, group, topics)
    }

    fn store_position(&self, checkpoint: &Checkpoint) -> Result<Stmt> {
        let seq = checkpoint
            .get("seq")
            .ok_or_else(|| StoreError::Internal(format!("checkpoint without a seq: {checkpoint:?}")))?;
        Ok(log::store_position(&checkpoint.group, seq))
    }

    #[cfg(feature = "test-util")]
    /// Drops the triggers of `audit_log` inside the transaction and re-creates them
    /// from their stored definitions before the commit (SQLite cannot disable a
    /// trigger; its DDL is transactional, and the write lock keeps others out).
    async fn run_unguarded(&self, stmt: Stmt) -> Result<u64> {
        use crate::sql::Exec as _;
        use crate::sql::RowExt as _;
        use crate::writer::Lane;
        let stmt = Arc::new(stmt);
        self.writer
            .write(Lane::Foreground, false, move |tx| {
                let stmt = stmt.clone();
                Box::pin(async move {
                    let triggers = tx
                        .rows(&Stmt::new(
                            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'",
                            vec![],
                        ))
                        .await?
                        .iter()
                        .map(|r| Ok((r.text("name")?, r.text("sql")?)))
                        .collect::<Result<Vec<_>>>()?;
                    for (name, _) in &triggers {
                        tx.run(&Stmt::new(format!("DROP TRIGGER \"{name}\""), vec![])).await?;
                    }
                    let changed = tx.run(&stmt).await?;
                    for (_, sql) in &triggers {
                        tx.run(&Stmt::new(sql.clone(), vec![])).await?;
                    }
                    Ok(changed)
                })
            })
            .await
    }

    #[cfg(feature = "test-util")]
    async fn write_holding(&self, stmt: Stmt, hold: Duration) -> Result<()> {
        use crate::sql::Exec as _;
        use crate::writer::WriteTarget as _;
        let mut tx = self.writes.begin().await?;
        if let Err(e) = tx.run(&stmt).await {
            self.writes.rollback(tx).await;
            return Err(e);
        }
        tokio::time::sleep(hold).await;
        self.writes.commit(tx, true).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::sql::Exec as _;
    use crate::writer::Lane;

    /// The group-commit writer (`crate::writer`) on SQLite: whatever the background
    /// backlog, a request's write runs in the first or
    /// second transaction after it arrives: behind at most the background job in
    /// flight and the one batched with it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_pass_the_background_backlog() {
        let store = SqliteStore::connect("sqlite::memory:", &StoreOptions::default()).await.unwrap();
        let writer = store.backend().writer().clone();
        let ran = Arc::new(AtomicUsize::new(0));
        let mut backlog = Vec::new();
        for _ in 0..300 {
            let (writer, ran) = (writer.clone(), ran.clone());
            backlog.push(tokio::spawn(async move {
                writer
                    .write(Lane::Background, false, move |c| {
                        let ran = ran.clone();
                        Box::pin(async move {
                            // A heavy batch: 2 ms of work inside the transaction.
                            tokio::time::sleep(Duration::from_millis(2)).await;
                            c.run(&Stmt::new("SELECT 1", vec![])).await?;
                            ran.fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        })
                    })
                    .await
            }));
        }
        // The backlog is queued (its first job may be running).
        while ran.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let ran_before_request = writer
            .write(Lane::Foreground, false, {
                let ran = ran.clone();
                move |c| {
                    let ran = ran.clone();
                    Box::pin(async move {
                        c.run(&Stmt::new("SELECT 1", vec![])).await?;
                        Ok(ran.load(Ordering::SeqCst))
                    })
                }
            })
            .await
            .unwrap();
        assert!(
            ran_before_request <= 3,
            "the request ran after {ran_before_request} background jobs of 300: it waited behind the backlog"
        );
        for job in backlog {
            job.await.unwrap().unwrap();
        }
        assert_eq!(ran.load(Ordering::SeqCst), 300, "every background job still ran");
    }
}
