//! Tasks and the atomic commit of a change (task writes, events, claimed keys).

use async_trait::async_trait;

use super::Checkpoint;
use crate::Result;
use crate::domain::{Conversation, Message, Task, TaskId, TaskPage, TaskQuery, UserId};
use crate::events::OutboxEvent;

/// One write to the task table.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskWrite {
    /// Insert a new task.
    Insert(Task),
    /// Replace the stored task if it is still at `expected_version`
    /// (else [`crate::Error::VersionMismatch`]).
    Update {
        /// The task as it is after the change.
        task: Task,
        /// The version the caller read.
        expected_version: i64,
    },
    /// Delete the stored task if it is still at `expected_version`
    /// (else [`crate::Error::VersionMismatch`]).
    Delete {
        /// The task's owner.
        user_id: UserId,
        /// The task's id.
        id: TaskId,
        /// The version the caller read.
        expected_version: i64,
    },
}

/// A key that may be claimed once, ever: "this consumer group processed this
/// event", "this occurrence already has its successor". Claimed in the same
/// transaction as the effect, so an effect and its claim exist together or not at all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProcessedKey {
    /// The consumer group (or other owner) of the key.
    pub scope: String,
    /// The key within the scope (e.g. an event id).
    pub key: String,
}

impl ProcessedKey {
    /// The key `key` in `scope`.
    pub fn new(scope: impl Into<String>, key: impl Into<String>) -> Self {
        Self { scope: scope.into(), key: key.into() }
    }
}

/// A unit of work: task writes, the events they produce and the keys they claim,
/// committed in one transaction (transactional outbox) or not at all.
/// A claimed key that already exists fails the whole change with
/// [`crate::Error::Duplicate`].
///
/// A change may also carry the chat turn that made it (stored in the same
/// transaction) and a consumer group's [`Checkpoint`] (stored with it, when the
/// store holds that group's log). A change that claims keys or carries a checkpoint
/// is a consumer's: stores that share commits between callers give requests
/// precedence over it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Change {
    /// Task inserts, updates and deletes, in order.
    pub writes: Vec<TaskWrite>,
    /// The events of the change, appended to the outbox in order.
    pub events: Vec<OutboxEvent>,
    /// Keys claimed once, ever; one that exists fails the change with [`crate::Error::Duplicate`].
    pub claims: Vec<ProcessedKey>,
    /// Keys claimed before that this change gives back, because it undoes the
    /// effect they guard (an "undo" that removes the next occurrence of a
    /// recurring task, so completing it again makes a new one). Released after
    /// the claims are made.
    pub releases: Vec<ProcessedKey>,
    /// The chat turn that made the change.
    pub turn: Option<ChatTurn>,
    /// The consumer group position reached once the change is durable.
    pub checkpoint: Option<Checkpoint>,
}

impl Change {
    /// Whether a consumer (not a request) makes this change.
    pub fn is_background(&self) -> bool {
        !self.claims.is_empty() || self.checkpoint.is_some()
    }

    /// Adds `other`'s writes, events and claims after this change's; its turn and
    /// checkpoint, when set, replace this change's.
    pub fn merge(&mut self, other: Change) {
        self.writes.extend(other.writes);
        self.events.extend(other.events);
        self.claims.extend(other.claims);
        self.releases.extend(other.releases);
        if other.turn.is_some() {
            self.turn = other.turn;
        }
        if other.checkpoint.is_some() {
            self.checkpoint = other.checkpoint;
        }
    }
}

/// A chat turn, recorded in the transaction of the change it made.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatTurn {
    /// The conversation after the turn: its `last_listing`, `context`,
    /// `updated_at` and `version` are saved, if the stored conversation is still
    /// at `version - 1` (else [`crate::Error::VersionMismatch`]: another turn
    /// came first).
    pub conversation: Conversation,
    /// The turn starts the conversation: it is created, not updated.
    pub new_conversation: bool,
    /// The turn's messages in order; the store assigns their `seq`.
    pub messages: Vec<Message>,
}

/// Tasks, and the atomic commit of a change with its events.
#[async_trait]
pub trait TaskRepository: Send + Sync {
    /// The task if it exists and belongs to `user_id`.
    async fn get(&self, user_id: UserId, id: TaskId) -> Result<Option<Task>>;

    /// One page of `query` (filters, order and cursor exactly as [`TaskQuery::apply`]).
    async fn list(&self, query: &TaskQuery) -> Result<TaskPage>;

    /// Commits `change` atomically: every write, every event appended to the
    /// outbox/event log, every claim; or nothing.
    async fn commit(&self, change: Change) -> Result<()>;
}
