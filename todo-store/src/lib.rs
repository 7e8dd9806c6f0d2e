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
mod backend;
mod conversations;
mod credentials;
mod error;
mod event_log;
mod filter;
mod login;
mod postgres;
mod reminders;
mod rows;
mod saved_filters;
mod sql;
mod sqlite;
mod store;
mod subscription;
mod tasks;
#[cfg(feature = "test-util")]
pub mod testing;
mod usage;
mod users;
mod writer;

use todo_core::events::TopicNames;

pub use backend::{Backend, SqlStore};
pub use error::{Result, StoreError};
pub use postgres::{PostgresBackend, PostgresStore};
pub use sqlite::{SqliteBackend, SqliteStore};
pub use store::{Store, connect, connect_with};

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
