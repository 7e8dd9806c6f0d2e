//! [`Ports`]: every port a process, a contract suite or an example runs on, in one
//! value.

use std::sync::Arc;

use super::{
    ApiTokenStore, AuditCheckpoints, AuditStore, CalendarFeedStore, Clock, ConversationStore, EventLog, LlmBudget,
    LoginAttempts, ReminderStore, SavedFilterStore, SystemClock, TaskRepository, UserRepository,
};

/// Every store port, implemented by one adapter: the SQL stores of todo-store,
/// the in-memory store of `todo_core::memory` (feature `test-util`).
pub trait AllPorts:
    TaskRepository
    + UserRepository
    + LoginAttempts
    + EventLog
    + AuditStore
    + ReminderStore
    + ConversationStore
    + AuditCheckpoints
    + LlmBudget
    + SavedFilterStore
    + ApiTokenStore
    + CalendarFeedStore
    + 'static
{
}

impl<T> AllPorts for T where
    T: TaskRepository
        + UserRepository
        + LoginAttempts
        + EventLog
        + AuditStore
        + ReminderStore
        + ConversationStore
        + AuditCheckpoints
        + LlmBudget
        + SavedFilterStore
        + ApiTokenStore
        + CalendarFeedStore
        + 'static
{
}

/// The adapters behind every port: what the services of a process are built
/// from. Usually all from one store ([`Ports::from_one`]), with the event log
/// replaced where another adapter carries it (Kafka: [`Ports::with_log`]).
#[derive(Clone)]
pub struct Ports {
    /// Tasks and the transactional outbox.
    pub tasks: Arc<dyn TaskRepository>,
    /// User accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sign-in attempts, per (account, client address).
    pub login_attempts: Arc<dyn LoginAttempts>,
    /// The per-user audit hash chains.
    pub audit: Arc<dyn AuditStore>,
    /// The reminder schedule, fired notifications and the webhook outbox.
    pub reminders: Arc<dyn ReminderStore>,
    /// Chat conversations and their messages.
    pub conversations: Arc<dyn ConversationStore>,
    /// Checkpoints of verified audit chains.
    pub checkpoints: Arc<dyn AuditCheckpoints>,
    /// The per-user daily LLM budget.
    pub llm_budget: Arc<dyn LlmBudget>,
    /// The users' saved filters.
    pub saved_filters: Arc<dyn SavedFilterStore>,
    /// API tokens, by the hash of their secret.
    pub api_tokens: Arc<dyn ApiTokenStore>,
    /// Calendar feeds, by the hash of their secret.
    pub calendar_feeds: Arc<dyn CalendarFeedStore>,
    /// The event log services consume: the store's own, or Kafka.
    pub log: Arc<dyn EventLog>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl Ports {
    /// Every port from one adapter that implements them all, with its own event
    /// log and the system clock.
    pub fn from_one<S: AllPorts>(store: Arc<S>) -> Self {
        Self {
            tasks: store.clone(),
            users: store.clone(),
            login_attempts: store.clone(),
            audit: store.clone(),
            reminders: store.clone(),
            conversations: store.clone(),
            checkpoints: store.clone(),
            llm_budget: store.clone(),
            saved_filters: store.clone(),
            api_tokens: store.clone(),
            calendar_feeds: store.clone(),
            log: store,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same ports with `log` as the event log services consume.
    pub fn with_log(self, log: Arc<dyn EventLog>) -> Self {
        Self { log, ..self }
    }

    /// The same ports with `clock` as the time.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }
}
