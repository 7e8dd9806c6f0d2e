//! Ports: everything that touches the outside world is one of these traits.
//! Adapters live in todo-store (SQLite, PostgreSQL, embedded event log),
//! todo-kafka (Kafka) and bins (clock, HTTP); in-memory ones in
//! `todo_core::memory` behind the `test-util` feature.

mod audit;
mod bundle;
mod clock;
mod log;
mod reminders;
mod tasks;
mod user_data;
mod users;

pub use audit::{AuditCheckpoint, AuditCheckpoints, AuditStore};
pub use bundle::{AllPorts, Ports};
pub use clock::{Clock, SystemClock, truncate_micros};
pub use log::{Checkpoint, EventLog, PartitionReader, Record, StartFrom, Subscription, dlq_headers, next_log_id};
pub use reminders::{ReminderStore, ScheduleChange, WebhookSender, WebhookTarget};
pub use tasks::{Change, ChatTurn, ProcessedKey, TaskRepository, TaskWrite};
pub use user_data::{ApiTokenStore, CalendarFeedStore, ConversationStore, SavedFilterStore};
pub use users::{AttemptWindow, LlmBudget, LoginAttempts, UserRepository};
