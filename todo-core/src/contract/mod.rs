//! Contract test suites every adapter of a port must pass (feature `test-util`).
//! Each adapter crate runs them against its own adapters: memory, SQLite,
//! PostgreSQL, Kafka. A failing contract panics with a message naming the rule.

pub mod audit;
pub mod conversations;
pub mod event_log;
pub mod reminders;
pub mod task_repo;
