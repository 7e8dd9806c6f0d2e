//! One SQLite database in this process: the backend's pools and writer, the state
//! the handles of one file share (its write turn, its consumer groups, the signal
//! of appends), and the write transactions.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

use async_trait::async_trait;
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Notify, OwnedMutexGuard, Semaphore};

use crate::error::{Result, StoreError};
use crate::writer::{WriteTarget, Writer};

/// Creates the directory of the database file; returns the file's canonical path,
/// which names it in this process's registry.
pub(super) fn prepare_file(path: &Path) -> Result<String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|source| StoreError::Directory { path: dir.clone(), source })?;
    let dir = dir.canonicalize().map_err(|source| StoreError::Directory { path: dir.clone(), source })?;
    Ok(dir.join(path.file_name().unwrap_or_default()).display().to_string())
}

/// What the handles of one database file share in this process.
pub(super) struct FileState {
    /// Signalled after every commit that appended to the event log.
    pub(super) appended: Arc<Notify>,
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
    pub(super) fn of(key: &str) -> Arc<FileState> {
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
    pub(super) fn group(&self, group: &str) -> Arc<Semaphore> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups.entry(group.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(1))).clone()
    }
}

/// A SQLite database under a [`SqlStore`](crate::SqlStore): a WAL file (or an in-memory
/// database) with a pool of readers and one writer.
#[derive(Clone)]
pub struct SqliteBackend {
    /// For reads.
    pub(super) pool: SqlitePool,
    pub(super) file: Arc<FileState>,
    pub(super) writes: Arc<SqliteWrites>,
    pub(super) writer: Writer<SqliteConnection>,
    pub(super) log_id: u64,
}

/// Where the writer writes: the write connection, and this process's turn on the file.
pub(super) struct SqliteWrites {
    pub(super) pool: SqlitePool,
    pub(super) file: Arc<FileState>,
}

/// A write transaction, begun `IMMEDIATE` (the write lock up front, so it never
/// fails midway to upgrade a read lock), holding this process's write turn.
pub(super) struct SqliteWriteTx {
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
