//! Events: the CloudEvents 1.0 envelope (structured JSON mode), the typed `data`
//! payloads of every event type (with the field names of the hackathon's Phase V
//! schemas), the topics they travel on, and the factory that derives the exact
//! set of events for each task change.

mod envelope;
mod factory;
mod payload;

pub use envelope::{CloudEvent, EventError, EventType, SPEC_VERSION};
pub use factory::{EventFactory, TaskChange};
pub use payload::{
    ChangeType, DomainEvent, ReminderData, ReminderDueData, TaskEventData, TaskEventKind, TaskUpdateData,
};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The three topics of the event catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    /// Task lifecycle: created, updated, completed, deleted.
    TaskEvents,
    /// Reminder scheduling: scheduled, cancelled.
    Reminders,
    /// What live clients see: task changes and reminders that fired.
    TaskUpdates,
}

impl Topic {
    /// Every topic of the catalog.
    pub const ALL: [Topic; 3] = [Topic::TaskEvents, Topic::Reminders, Topic::TaskUpdates];

    /// The topic's base name, as in the catalog.
    pub fn as_str(&self) -> &'static str {
        match self {
            Topic::TaskEvents => "task-events",
            Topic::Reminders => "reminders",
            Topic::TaskUpdates => "task-updates",
        }
    }

    /// The topic with base name `s`.
    pub fn from_name(s: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Physical topic names: the catalog names behind an optional prefix (tests use a
/// fresh prefix each, deployments may namespace environments).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicNames {
    /// Put before every base name (empty: none).
    pub prefix: String,
}

impl TopicNames {
    /// The names under `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self { prefix: prefix.into() }
    }

    /// The physical name of `topic`: prefix + base name.
    pub fn name(&self, topic: Topic) -> String {
        format!("{}{}", self.prefix, topic.as_str())
    }

    /// The dead-letter topic of `topic`: `<topic>.dlq`.
    pub fn dlq(&self, topic: Topic) -> String {
        dlq_name(&self.name(topic))
    }

    /// The logical topic of a physical name, if it is one of ours.
    pub fn topic_of(&self, name: &str) -> Option<Topic> {
        name.strip_prefix(&self.prefix).and_then(Topic::from_name)
    }
}

/// The dead-letter topic for a physical topic name.
pub fn dlq_name(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// An event on its way out through the outbox: where it goes, its key, and itself.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEvent {
    /// The catalog topic it goes to.
    pub topic: Topic,
    /// The record key: the user id, so each user's events stay in order.
    pub key: String,
    /// The event.
    pub event: CloudEvent,
}

impl OutboxEvent {
    /// The event serialized as one structured-mode CloudEvent JSON document.
    pub fn payload(&self) -> Vec<u8> {
        self.event.to_json_bytes()
    }
}
