//! # todo-store
//!
//! SQLite and PostgreSQL adapters of the todo-core ports: [`TaskRepository`],
//! [`UserRepository`], [`LoginAttempts`], [`EventLog`], [`AuditStore`],
//! [`ReminderStore`], [`ConversationStore`], [`SavedFilterStore`], [`ApiTokenStore`] and
//! [`CalendarFeedStore`], with their migrations.
//!
//! - **Transactional outbox.** [`TaskRepository::commit`] writes the tasks, claims
//!   the idempotency keys and appends the events to the `event_log` table in one
//!   transaction, or does nothing.
//! - **Embedded event log.** Without Kafka, that table *is* the log: consumer groups
//!   read it in commit order (SQLite: `seq`; PostgreSQL: below the oldest running
//!   transaction, see the `postgres::log` module), one active member per group, with
//!   durable positions.
//! - **Listings** implement [`todo_core::domain::TaskQuery`] exactly, keyset cursors
//!   included, in SQL: its condition (fixed parameters and filter queries alike,
//!   see [`todo_core::filter`]) is compiled to SQL with bound parameters.
//! - **Audit trail.** One hash chain per user, appended under a per-user lock; the
//!   stored event is the exact canonical JSON that was hashed. PostgreSQL rejects
//!   every `UPDATE`, `DELETE` and `TRUNCATE` of `audit_log` with a trigger (SQLite:
//!   `UPDATE` and `DELETE`).
//! - **Reminders fire once.** [`ReminderStore::fire_due`] marks a batch fired and
//!   appends its `todo.reminder.due.v1` events in one transaction; on PostgreSQL
//!   `FOR UPDATE SKIP LOCKED` gives concurrent instances disjoint batches. A
//!   reminder whose task was completed, deleted or moved does not fire
//!   (`docs/adr/0008-reminder-firing-guard.md`).
//!
//! [`connect`] picks the backend from the URL: `sqlite://path/todo.db` (created if
//! missing, WAL), `sqlite::memory:`, or `postgres://user:password@host/db`.
//!
//! ```
//! use todo_core::domain::{Email, TaskTitle, Timezone, User, UserId};
//! use todo_core::events::{EventFactory, Topic};
//! use todo_core::ports::{StartFrom, SystemClock};
//! use todo_core::service::{NewTask, TaskService};
//! use std::sync::Arc;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = todo_store::connect("sqlite::memory:").await?;
//! store.migrate().await?;
//!
//! let user = User {
//!     id: UserId::new(),
//!     email: Email::parse("ada@example.com")?,
//!     password_hash: String::new(),
//!     timezone: Timezone::default(),
//!     created_at: chrono::Utc::now(),
//! };
//! store.users().create(&user).await?;
//! let tasks = TaskService::new(store.tasks(), store.users(), Arc::new(SystemClock), EventFactory::new("/example"));
//! let task = tasks.create(user.id, NewTask::titled(TaskTitle::parse("buy milk")?)).await?;
//!
//! // The change and its event committed together; a consumer group reads the event.
//! let log = store.event_log();
//! let topic = log.topic_names().name(Topic::TaskEvents);
//! let mut sub = log.subscribe("example", &[topic], StartFrom::Earliest).await?;
//! let record = sub.next().await?;
//! assert_eq!(record.header("ce_type"), Some("todo.task.created.v1"));
//! assert_eq!(record.key, Some(user.id.to_string()));
//! sub.commit(&record).await?;
//! # let _ = task;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod audit;
mod audit_verify;
mod conversations;
mod credentials;
mod engine;
mod error;
mod filter;
mod login;
mod postgres;
mod reminders;
mod rows;
mod saved_filters;
mod sql;
mod sqlite;
mod subscription;
#[cfg(feature = "test-util")]
pub mod testing;
mod usage;
mod writer;

use std::sync::Arc;

use todo_core::events::TopicNames;
use todo_core::ports::{
    ApiTokenStore, AuditCheckpoints, AuditStore, CalendarFeedStore, ConversationStore, EventLog, LlmBudget,
    LoginAttempts, Ports, ReminderStore, SavedFilterStore, TaskRepository, UserRepository,
};

pub use error::{Result, StoreError};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// How a store connects.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Physical names of the catalog topics in the event log (default: no prefix).
    pub topic_names: TopicNames,
    /// Most pooled connections for reads (default 10). An in-memory SQLite database
    /// has one, shared with its writer.
    pub max_connections: u32,
    /// PostgreSQL: writer tasks, each with a connection of its own, that commit
    /// the queued writes in shared transactions (default 2). SQLite has one writer.
    pub pg_writers: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { topic_names: TopicNames::default(), max_connections: 10, pg_writers: 2 }
    }
}

/// Which database a [`Store`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// A SQLite file or in-memory database.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A store on whichever backend the URL named; hands out its ports.
#[derive(Clone)]
pub struct Store {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Connects to `database_url` with default [`StoreOptions`].
pub async fn connect(database_url: &str) -> Result<Store> {
    connect_with(database_url, &StoreOptions::default()).await
}

/// Connects to `database_url`: `sqlite:...` (a file, created with its directory if
/// missing, or `sqlite::memory:`) or `postgres://...` (also `postgresql://`).
/// Does not migrate: call [`Store::migrate`].
pub async fn connect_with(database_url: &str, options: &StoreOptions) -> Result<Store> {
    let inner = if database_url.starts_with("sqlite:") {
        Inner::Sqlite(SqliteStore::connect(database_url, options).await?)
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Inner::Postgres(PostgresStore::connect(database_url, options).await?)
    } else {
        return Err(StoreError::UnsupportedUrl(database_url.to_owned()));
    };
    Ok(Store { inner })
}

impl Store {
    /// The backend in use.
    pub fn kind(&self) -> StoreKind {
        match &self.inner {
            Inner::Sqlite(_) => StoreKind::Sqlite,
            Inner::Postgres(_) => StoreKind::Postgres,
        }
    }

    /// Every port, with the store's own event log and the system clock.
    pub fn ports(&self) -> Ports {
        match &self.inner {
            Inner::Sqlite(s) => Ports::from_one(Arc::new(s.clone())),
            Inner::Postgres(p) => Ports::from_one(Arc::new(p.clone())),
        }
    }

    /// The tasks and the transactional outbox.
    pub fn tasks(&self) -> Arc<dyn TaskRepository> {
        self.ports().tasks
    }

    /// The user accounts.
    pub fn users(&self) -> Arc<dyn UserRepository> {
        self.ports().users
    }

    /// The sign-in attempts, per (account, client address).
    pub fn login_attempts(&self) -> Arc<dyn LoginAttempts> {
        self.ports().login_attempts
    }

    /// Checkpoints of verified audit chains.
    pub fn audit_checkpoints(&self) -> Arc<dyn AuditCheckpoints> {
        self.ports().checkpoints
    }

    /// The per-user daily LLM budget.
    pub fn llm_budget(&self) -> Arc<dyn LlmBudget> {
        self.ports().llm_budget
    }

    /// The event log in the database (the outbox table, read in commit order).
    pub fn event_log(&self) -> Arc<dyn EventLog> {
        self.ports().log
    }

    /// The audit trail: one append-only hash chain per user.
    pub fn audit(&self) -> Arc<dyn AuditStore> {
        self.ports().audit
    }

    /// The reminder schedule, fired notifications and the webhook outbox.
    pub fn reminders(&self) -> Arc<dyn ReminderStore> {
        self.ports().reminders
    }

    /// Chat conversations and their messages.
    pub fn conversations(&self) -> Arc<dyn ConversationStore> {
        self.ports().conversations
    }

    /// The users' saved filters.
    pub fn saved_filters(&self) -> Arc<dyn SavedFilterStore> {
        self.ports().saved_filters
    }

    /// API tokens, by the hash of their secret.
    pub fn api_tokens(&self) -> Arc<dyn ApiTokenStore> {
        self.ports().api_tokens
    }

    /// Calendar feeds, by the hash of their secret.
    pub fn calendar_feeds(&self) -> Arc<dyn CalendarFeedStore> {
        self.ports().calendar_feeds
    }

    /// Creates or updates the schema.
    pub async fn migrate(&self) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(s) => s.migrate().await,
            Inner::Postgres(p) => p.migrate().await,
        }
    }

    /// Runs the listing SQL of `query`, fetching its rows without decoding them:
    /// the SQL alone, for benchmarks. Returns the number of rows.
    #[doc(hidden)]
    pub async fn raw_list(&self, query: &todo_core::domain::TaskQuery) -> Result<usize> {
        match &self.inner {
            Inner::Sqlite(s) => s.raw_list(query).await,
            Inner::Postgres(p) => p.raw_list(query).await,
        }
    }

    /// The listing SQL of `query` and its arguments (for benchmarks and query plans).
    #[doc(hidden)]
    pub fn list_sql(&self, query: &todo_core::domain::TaskQuery) -> (String, Vec<String>) {
        match &self.inner {
            Inner::Sqlite(s) => s.list_sql(query),
            Inner::Postgres(p) => p.list_sql(query),
        }
    }

    /// Closes the connection pool.
    pub async fn close(&self) {
        match &self.inner {
            Inner::Sqlite(s) => s.close().await,
            Inner::Postgres(p) => p.close().await,
        }
    }

    /// Appends a raw record and keeps its transaction open for `hold` before the
    /// commit: for tests of readers against slow writers.
    #[doc(hidden)]
    pub async fn append_holding(
        &self,
        topic: &str,
        payload: &[u8],
        hold: std::time::Duration,
    ) -> todo_core::Result<()> {
        match &self.inner {
            Inner::Sqlite(s) => s.append_holding(topic, payload, hold).await,
            Inner::Postgres(p) => p.append_holding(topic, payload, hold).await,
        }
    }

    /// Overwrites the stored event text of audit entry `seq` of `user_id`, going
    /// around the append-only guard (see `PostgresStore::tamper_audit_event`): for
    /// tests that show tampering is detected.
    #[doc(hidden)]
    pub async fn tamper_audit_event(
        &self,
        user_id: todo_core::domain::UserId,
        seq: i64,
        event_json: &str,
    ) -> todo_core::Result<u64> {
        match &self.inner {
            Inner::Sqlite(s) => s.tamper_audit_event(user_id, seq, event_json).await,
            Inner::Postgres(p) => p.tamper_audit_event(user_id, seq, event_json).await,
        }
    }

    /// The SQLite store, if that is the backend.
    pub fn as_sqlite(&self) -> Option<&SqliteStore> {
        match &self.inner {
            Inner::Sqlite(s) => Some(s),
            Inner::Postgres(_) => None,
        }
    }

    /// The PostgreSQL store, if that is the backend.
    pub fn as_postgres(&self) -> Option<&PostgresStore> {
        match &self.inner {
            Inner::Postgres(p) => Some(p),
            Inner::Sqlite(_) => None,
        }
    }
}
