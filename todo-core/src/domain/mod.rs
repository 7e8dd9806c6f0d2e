//! Domain values: parsed, never merely checked. Once a value exists it is valid.

pub mod audit;
pub mod conversation;
pub mod credential;
pub mod ids;
pub mod notification;
pub mod query;
pub mod recurrence;
pub mod reminder;
pub mod saved_filter;
pub mod task;
pub mod user;

use std::borrow::Cow;

pub use audit::{AuditEntry, AuditPage, AuditQuery, VerifyReport};
pub use conversation::{
    Action, BulkAction, ChangeRecord, Conversation, ConversationContext, Message, PendingAction, RecentMessage,
    Revision, Role,
};
pub use credential::{ApiToken, CalendarFeed, Principal, Scope, Scopes, SecretHash, TokenId, TokenName, TokenView};
pub use ids::{ConversationId, EventId, FilterId, SeriesId, TaskId, UserId};
pub use notification::{Notification, WebhookDelivery};
pub use query::{Cursor, SortField, SortSpec, StatusFilter, TaskPage, TaskQuery};
pub use recurrence::Recurrence;
pub use saved_filter::{FilterName, FilterQuery, SavedFilter};
pub use task::{Description, Priority, RepeatFrom, Status, Tag, Tags, Task, TaskTitle};
pub use user::{Email, Timezone, User, UserView};

/// A value that failed to parse: which field, and why, in words a user can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: Cow<'static, str>,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}
