//! Chat conversations and their messages (the seed's Phase III model).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ids::{ConversationId, TaskId, UserId};
use super::task::Task;

/// A conversation of one user with the assistant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The conversation's id.
    pub id: ConversationId,
    /// Whose conversation it is.
    pub user_id: UserId,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// When its last turn was recorded.
    pub updated_at: DateTime<Utc>,
    /// The tasks of the last listing shown, in order: what "task 2" refers to.
    pub last_listing: Vec<TaskId>,
    /// What the conversation remembers between turns: "it", undo, a pending question.
    #[serde(default)]
    pub context: ConversationContext,
    /// Turns recorded so far: a turn saves the conversation only if no other turn
    /// did meanwhile (two chat-api instances, two browser tabs).
    #[serde(default)]
    pub version: i64,
}

impl Conversation {
    /// A new, empty conversation of `user_id`, started at `now`.
    pub fn start(user_id: UserId, now: DateTime<Utc>) -> Self {
        Self {
            id: ConversationId::new(),
            user_id,
            created_at: now,
            updated_at: now,
            last_listing: vec![],
            context: ConversationContext::default(),
            version: 0,
        }
    }
}

/// Changes a conversation keeps for "undo".
pub const UNDO_DEPTH: usize = 10;
/// Task snapshots kept for "undo", over all kept changes (a bulk action counts each task).
pub const UNDO_TASKS: usize = 100;
/// Messages kept for an interpreter that reads the conversation (an LLM).
pub const RECENT_MESSAGES: usize = 6;
/// Characters kept of each of those messages.
pub const RECENT_CHARS: usize = 500;

/// What a conversation remembers between turns, stored with it (so it survives
/// restarts and every chat-api instance sees it) and saved in the transaction of
/// the turn that changed it, together with the turn's task changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationContext {
    /// The tasks the last turn added, changed or listed, in order: what "it",
    /// "that" and "them" mean.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub focus: Vec<TaskId>,
    /// The focus is what a listing showed (not what a turn added or changed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub listed: bool,
    /// The changes this conversation made, oldest first: "undo" reverts the last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ChangeRecord>,
    /// A bulk action waiting for the user's "yes".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingAction>,
    /// The user's message that was answered with "which one?": a turn that
    /// picks a task ("the second one") runs it on that task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked: Option<String>,
    /// The last messages, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<RecentMessage>,
}

impl ConversationContext {
    /// Keeps `change` for "undo", forgetting the oldest beyond [`UNDO_DEPTH`]
    /// changes or [`UNDO_TASKS`] task snapshots.
    pub fn record(&mut self, change: ChangeRecord) {
        if change.tasks.is_empty() {
            return;
        }
        self.changes.push(change);
        while self.changes.len() > UNDO_DEPTH
            || (self.changes.len() > 1 && self.changes.iter().map(|c| c.tasks.len()).sum::<usize>() > UNDO_TASKS)
        {
            self.changes.remove(0);
        }
    }

    /// Remembers a message, keeping the last [`RECENT_MESSAGES`].
    pub fn remember(&mut self, role: Role, content: &str) {
        let content = match content.char_indices().nth(RECENT_CHARS) {
            Some((cut, _)) => format!("{}…", &content[..cut]),
            None => content.to_owned(),
        };
        self.recent.push(RecentMessage { role, content });
        let excess = self.recent.len().saturating_sub(RECENT_MESSAGES);
        self.recent.drain(..excess);
    }
}

/// One change a conversation made, as the tasks were before and after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// What was done, for the reply to "undo" ("added 'call mom'").
    pub what: String,
    /// Every task the change touched.
    pub tasks: Vec<Revision>,
}

/// A task before and after a change: `before` is `None` for a task the change
/// created, `after` is `None` for one it deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// The task before the change (`None`: the change created it).
    pub before: Option<Task>,
    /// The task after the change (`None`: the change deleted it).
    pub after: Option<Task>,
}

/// What a bulk action does to each of its tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BulkAction {
    /// Complete each task.
    Complete,
    /// Delete each task.
    Delete,
}

/// A bulk action asked about and not yet confirmed: exactly the tasks shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAction {
    /// What to do.
    pub action: BulkAction,
    /// The tasks shown when the action was asked about.
    pub tasks: Vec<TaskId>,
}

/// A message kept in the context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentMessage {
    /// Who wrote it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person using the app.
    User,
    /// The assistant.
    Assistant,
}

impl Role {
    /// `user` or `assistant`, as stored.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    /// The role stored as `s`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            _ => None,
        }
    }
}

/// One tool call the assistant made for a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Action {
    /// `add_task`, `list_tasks`, `complete_task`, `delete_task`, `update_task` or `help`.
    pub tool: String,
    /// The arguments of the call.
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// What the call returned.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
}

/// A page of a conversation's messages, oldest first.
pub type MessagePage = super::Page<Message>;

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Position in the conversation, from 1.
    pub seq: i64,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Who wrote it.
    pub role: Role,
    /// What was said.
    pub content: String,
    /// The tool calls the assistant made for it (empty for the user's messages).
    #[serde(default)]
    pub actions: Vec<Action>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}
