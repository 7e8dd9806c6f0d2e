//! SQLite: the store of the embedded single-process mode, a WAL file holding the
//! tasks, the users and the durable event log.

mod codec;
mod log;

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use todo_core::ports::{Checkpoint, StartFrom, next_log_id};
use tokio::sync::{Notify, OwnedMutexGuard, Semaphore};

use self::log::SqliteLogSource;
use crate::backend::{Internals, SqlStore};
use crate::error::{Result, StoreError};
use crate::sql::{Dialect, Stmt};
use crate::writer::{WriteTarget, Writer};
use crate::{StoreKind, StoreOptions};

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

/// Creates the directory of the database file; returns the file's canonical path,
/// which names it in this process's registry.
fn prepare_file(path: &Path) -> Result<String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|source| StoreError::Directory { path: dir.clone(), source })?;
    let dir = dir.canonicalize().map_err(|source| StoreError::Directory { path: dir.clone(), source })?;
    Ok(dir.join(path.file_name().unwrap_or_default()).display().to_string())
}

/// What the handles of one database file share in this process.
pub(crate) struct FileState {
    /// Signalled after every commit that appended to the event log.
    appended: Arc<Notify>,
    /// This process's turn to write: SQLite has one writer at a time anyway, and
    /// waiting here is fair and cheaper than retrying on SQLITE_BUSY (two stores
    /// open on one file each have a writer; tests hold transactions open).
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// One permit per consumer group: its active member holds it.
    groups: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// The state of every database file open in this process, by canonical path.
static FILES: LazyLock<Mutex<HashMap<String, Weak<FileState>>>> = LazyLock::new(Default::default);

impl FileState {
    fn of(key: &str) -> Arc<FileState> {
        let mut files = FILES.lock().unwrap_or_else(PoisonError::into_inner);
        files.retain(|_, state| state.strong_count() > 0);
        if let Some(state) = files.get(key).and_then(Weak::upgrade) {
            return state;
        }
        let state = Arc::new(FileState {
            appended: Arc::new(Notify::new()),
            write_turn: Arc::new(tokio::sync::Mutex::new(())),
            groups: Mutex::new(HashMap::new()),
        });
        files.insert(key.to_owned(), Arc::downgrade(&state));
        state
    }

    /// The permit of consumer group `group`.
    fn group(&self, group: &str) -> Arc<Semaphore> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups.entry(group.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(1))).clone()
    }
}

/// A SQLite database under a [`SqlStore`]: a WAL file (or an in-memory
/// database) with a pool of readers and one writer.
#[derive(Clone)]
pub struct SqliteBackend {
    /// For reads.
    pool: SqlitePool,
    file: Arc<FileState>,
    writes: Arc<SqliteWrites>,
    writer: Writer<SqliteConnection>,
    log_id: u64,
}

/// Where the writer writes: the write connection, and this process's turn on the file.
struct SqliteWrites {
    pool: SqlitePool,
    file: Arc<FileState>,
}

/// A write transaction, begun `IMMEDIATE` (the write lock up front, so it never
/// fails midway to upgrade a read lock), holding this process's write turn.
struct SqliteWriteTx {
    tx: Transaction<'static, Sqlite>,
    turn: OwnedMutexGuard<()>,
}

impl Deref for SqliteWriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for SqliteWriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

#[async_trait]
impl WriteTarget for SqliteWrites {
    type Connection = SqliteConnection;
    type Tx = SqliteWriteTx;

    async fn begin(&self) -> Result<SqliteWriteTx> {
        let turn = self.file.write_turn.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(SqliteWriteTx { tx, turn })
    }

    async fn commit(&self, tx: SqliteWriteTx, appended: bool) -> Result<()> {
        let SqliteWriteTx { tx, turn } = tx;
        tx.commit().await?;
        drop(turn);
        if appended {
            self.file.appended.notify_waiters();
        }
        Ok(())
    }

    async fn rollback(&self, tx: SqliteWriteTx) {
        let SqliteWriteTx { tx, turn } = tx;
        if let Err(e) = tx.rollback().await {
            tracing::warn!(error = %e, "rollback failed");
        }
        drop(turn);
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
        use crate::rows::RowExt as _;
        use crate::sql::Exec as _;
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
        let mut tx = self.writes.begin().await?;
        if let Err(e) = tx.run(&stmt).await {
            self.writes.rollback(tx).await;
            return Err(e);
        }
        tokio::time::sleep(hold).await;
        self.writes.commit(tx, true).await
    }
}
