//! # todo-store
//!
//! SQLite and PostgreSQL adapters of every todo-core port: [`TaskRepository`],
//! [`UserRepository`], [`LoginAttempts`], [`EventLog`], [`AuditStore`],
//! [`AuditCheckpoints`], [`ReminderStore`], [`ConversationStore`],
//! [`SavedFilterStore`], [`LlmBudget`], [`ApiTokenStore`] and [`CalendarFeedStore`],
//! with their migrations.
//!
//! ## Shape
//!
//! - **One store.** [`SqlStore<B>`](SqlStore) implements every port itself, each in
//!   the module named for its port (`tasks`, `users`, `login`, `event_log`, `audit`,
//!   `audit_verify`, `reminders`, `conversations`, `saved_filters`, `credentials`,
//!   `usage`), with the same SQL on both databases.
//! - **The backend is the difference.** `B` is a [`Backend`]: [`SqliteBackend`] or
//!   [`PostgresBackend`] (modules `sqlite`, `postgres`) supply connecting, the
//!   dialect's few differences, row locking, the group-commit writer, reading the
//!   event log in commit order, and migrations. [`SqliteStore`] and
//!   [`PostgresStore`] name the two stores.
//! - **Any URL.** [`connect`] returns a [`Store`]: the [`Ports`] bundle of the store
//!   the URL named, plus `migrate`, `close` and `kind`, with no match over the
//!   backends; [`Store::as_sqlite`] / [`Store::as_postgres`] give the typed store
//!   (its pool) back.
//! - **Domain rules stay in the domain.** Adapters import ports, domain values and
//!   the event catalog, never a service: which reminder fires, and what its firing
//!   records, is [`todo_core::domain::reminder`] and
//!   [`EventFactory::fire_reminder`](todo_core::events::EventFactory::fire_reminder).
//! - **Test entry points** (`tamper_audit_event`, `append_holding`, `raw_list`,
//!   `list_sql`, the `testing` fixtures) exist only with the `test-util` feature.
//!
//! ## What the stores guarantee
//!
//! - **Transactional outbox.** [`TaskRepository::commit`] writes the tasks, claims
//!   the idempotency keys and appends the events to the `event_log` table in one
//!   transaction, or does nothing. Writes of concurrent callers share transactions
//!   (group commit, `docs/adr/0016-group-commit.md`), never outcomes.
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
mod inserts;
mod listing;
mod login;
mod options;
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

#[cfg(doc)]
use todo_core::ports::{
    ApiTokenStore, AuditCheckpoints, AuditStore, CalendarFeedStore, ConversationStore, EventLog, LlmBudget,
    LoginAttempts, Ports, ReminderStore, SavedFilterStore, TaskRepository, UserRepository,
};

pub use backend::{Backend, SqlStore};
pub use error::{Result, StoreError};
pub use options::{StoreKind, StoreOptions};
pub use postgres::{PostgresBackend, PostgresStore};
pub use sqlite::{SqliteBackend, SqliteStore};
pub use store::{Store, connect, connect_with};

// The README's example compiles (`no_run`: it would write todo.db).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
