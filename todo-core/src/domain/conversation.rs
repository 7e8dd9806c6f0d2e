//! Chat conversations and their messages (the seed's Phase III model).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ids::{ConversationId, TaskId, UserId};

/// A conversation of one user with the assistant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub id: ConversationId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The tasks of the last listing shown, in order: what "task 2" refers to.
    pub last_listing: Vec<TaskId>,
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

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
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Position in the conversation, from 1.
    pub seq: i64,
    pub conversation_id: ConversationId,
    pub role: Role,
    pub content: String,
    #[serde(default)]
    pub actions: Vec<Action>,
    pub created_at: DateTime<Utc>,
}
