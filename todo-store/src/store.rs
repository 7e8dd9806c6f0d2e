//! [`Store`]: the store a URL names, whichever the backend, as the ports of
//! `todo_core` plus the few operations that are not ports (migrate, close).

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use todo_core::ports::{
    ApiTokenStore, AuditCheckpoints, AuditStore, CalendarFeedStore, ConversationStore, EventLog, LlmBudget,
    LoginAttempts, Ports, ReminderStore, SavedFilterStore, TaskRepository, UserRepository,
};

use crate::backend::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::options::{StoreKind, StoreOptions};
use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;

/// A store on whichever backend the URL named; hands out its ports. Cloning is
/// cheap and shares the pools.
#[derive(Clone)]
pub struct Store {
    ports: Ports,
    admin: Arc<dyn Admin>,
}

/// What a [`Store`] does besides handing out ports: implemented by every
/// [`SqlStore`], so that `Store` needs no match over the backends.
#[async_trait]
trait Admin: Send + Sync + 'static {
    fn kind(&self) -> StoreKind;
    async fn migrate(&self) -> Result<()>;
    async fn close(&self);
    /// The typed store, for [`Store::as_sqlite`] and [`Store::as_postgres`].
    fn as_any(&self) -> &dyn Any;
    #[cfg(feature = "test-util")]
    async fn raw_list(&self, query: &todo_core::domain::TaskQuery) -> Result<usize>;
    #[cfg(feature = "test-util")]
    fn list_sql(&self, query: &todo_core::domain::TaskQuery) -> (String, Vec<String>);
    #[cfg(feature = "test-util")]
    async fn append_holding(&self, topic: &str, payload: &[u8], hold: std::time::Duration) -> todo_core::Result<()>;
    #[cfg(feature = "test-util")]
    async fn tamper_audit_event(
        &self,
        user_id: todo_core::domain::UserId,
        seq: i64,
        event_json: &str,
    ) -> todo_core::Result<u64>;
}

#[async_trait]
impl<B: Backend> Admin for SqlStore<B> {
    fn kind(&self) -> StoreKind {
        B::KIND
    }

    async fn migrate(&self) -> Result<()> {
        SqlStore::migrate(self).await
    }

    async fn close(&self) {
        SqlStore::close(self).await;
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    #[cfg(feature = "test-util")]
    async fn raw_list(&self, query: &todo_core::domain::TaskQuery) -> Result<usize> {
        SqlStore::raw_list(self, query).await
    }

    #[cfg(feature = "test-util")]
    fn list_sql(&self, query: &todo_core::domain::TaskQuery) -> (String, Vec<String>) {
        SqlStore::list_sql(self, query)
    }

    #[cfg(feature = "test-util")]
    async fn append_holding(&self, topic: &str, payload: &[u8], hold: std::time::Duration) -> todo_core::Result<()> {
        SqlStore::append_holding(self, topic, payload, hold).await
    }

    #[cfg(feature = "test-util")]
    async fn tamper_audit_event(
        &self,
        user_id: todo_core::domain::UserId,
        seq: i64,
        event_json: &str,
    ) -> todo_core::Result<u64> {
        SqlStore::tamper_audit_event(self, user_id, seq, event_json).await
    }
}

impl<B: Backend> From<SqlStore<B>> for Store {
    fn from(store: SqlStore<B>) -> Self {
        let store = Arc::new(store);
        Self { ports: Ports::from_one(store.clone()), admin: store }
    }
}

/// Connects to `database_url` with default [`StoreOptions`].
pub async fn connect(database_url: &str) -> Result<Store> {
    connect_with(database_url, &StoreOptions::default()).await
}

/// Connects to `database_url`: `sqlite:...` (a file, created with its directory if
/// missing, or `sqlite::memory:`) or `postgres://...` (also `postgresql://`).
/// Does not migrate: call [`Store::migrate`].
pub async fn connect_with(database_url: &str, options: &StoreOptions) -> Result<Store> {
    if database_url.starts_with("sqlite:") {
        Ok(SqliteStore::connect(database_url, options).await?.into())
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(PostgresStore::connect(database_url, options).await?.into())
    } else {
        Err(StoreError::UnsupportedUrl(database_url.to_owned()))
    }
}

impl Store {
    /// The backend in use.
    pub fn kind(&self) -> StoreKind {
        self.admin.kind()
    }

    /// Every port, with the store's own event log and the system clock.
    pub fn ports(&self) -> Ports {
        self.ports.clone()
    }

    /// The tasks and the transactional outbox.
    pub fn tasks(&self) -> Arc<dyn TaskRepository> {
        self.ports.tasks.clone()
    }

    /// The user accounts.
    pub fn users(&self) -> Arc<dyn UserRepository> {
        self.ports.users.clone()
    }

    /// The sign-in attempts, per (account, client address).
    pub fn login_attempts(&self) -> Arc<dyn LoginAttempts> {
        self.ports.login_attempts.clone()
    }

    /// Checkpoints of verified audit chains.
    pub fn audit_checkpoints(&self) -> Arc<dyn AuditCheckpoints> {
        self.ports.checkpoints.clone()
    }

    /// The per-user daily LLM budget.
    pub fn llm_budget(&self) -> Arc<dyn LlmBudget> {
        self.ports.llm_budget.clone()
    }

    /// The event log in the database (the outbox table, read in commit order).
    pub fn event_log(&self) -> Arc<dyn EventLog> {
        self.ports.log.clone()
    }

    /// The audit trail: one append-only hash chain per user.
    pub fn audit(&self) -> Arc<dyn AuditStore> {
        self.ports.audit.clone()
    }

    /// The reminder schedule, fired notifications and the webhook outbox.
    pub fn reminders(&self) -> Arc<dyn ReminderStore> {
        self.ports.reminders.clone()
    }

    /// Chat conversations and their messages.
    pub fn conversations(&self) -> Arc<dyn ConversationStore> {
        self.ports.conversations.clone()
    }

    /// The users' saved filters.
    pub fn saved_filters(&self) -> Arc<dyn SavedFilterStore> {
        self.ports.saved_filters.clone()
    }

    /// API tokens, by the hash of their secret.
    pub fn api_tokens(&self) -> Arc<dyn ApiTokenStore> {
        self.ports.api_tokens.clone()
    }

    /// Calendar feeds, by the hash of their secret.
    pub fn calendar_feeds(&self) -> Arc<dyn CalendarFeedStore> {
        self.ports.calendar_feeds.clone()
    }

    /// Creates or updates the schema.
    pub async fn migrate(&self) -> Result<()> {
        self.admin.migrate().await
    }

    /// Closes the connection pools.
    pub async fn close(&self) {
        self.admin.close().await;
    }

    /// The SQLite store, if that is the backend.
    pub fn as_sqlite(&self) -> Option<&SqliteStore> {
        self.admin.as_any().downcast_ref()
    }

    /// The PostgreSQL store, if that is the backend.
    pub fn as_postgres(&self) -> Option<&PostgresStore> {
        self.admin.as_any().downcast_ref()
    }
}

/// Entry points for tests and benchmarks only (feature `test-util`).
#[cfg(feature = "test-util")]
impl Store {
    /// Runs the listing SQL of `query`, fetching its rows without decoding them:
    /// the SQL alone, for benchmarks. Returns the number of rows.
    pub async fn raw_list(&self, query: &todo_core::domain::TaskQuery) -> Result<usize> {
        self.admin.raw_list(query).await
    }

    /// The listing SQL of `query` and its arguments (for benchmarks and query plans).
    pub fn list_sql(&self, query: &todo_core::domain::TaskQuery) -> (String, Vec<String>) {
        self.admin.list_sql(query)
    }

    /// Appends a raw record and keeps its transaction open for `hold` before the
    /// commit: for tests of readers against slow writers.
    pub async fn append_holding(
        &self,
        topic: &str,
        payload: &[u8],
        hold: std::time::Duration,
    ) -> todo_core::Result<()> {
        self.admin.append_holding(topic, payload, hold).await
    }

    /// Overwrites the stored event text of audit entry `seq` of `user_id`, going
    /// around the append-only guard (see [`SqlStore::tamper_audit_event`]): for
    /// tests that show tampering is detected.
    pub async fn tamper_audit_event(
        &self,
        user_id: todo_core::domain::UserId,
        seq: i64,
        event_json: &str,
    ) -> todo_core::Result<u64> {
        self.admin.tamper_audit_event(user_id, seq, event_json).await
    }
}
