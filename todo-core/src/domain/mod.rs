//! Domain values: parsed, never merely checked. Once a value exists it is valid.

/// A closed set of lowercase names (`Status`, `Priority`, `RepeatFrom`): the enum,
/// its parser with the error message users see, `Display` and `FromStr`.
macro_rules! str_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $s:literal),+ $(,)? } field = $field:literal) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema,
        )]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The lowercase name, as on the wire.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// Parses the name, ignoring case and surrounding whitespace.
            pub fn parse(s: &str) -> ::std::result::Result<Self, $crate::domain::ValidationError> {
                // The names are lowercase ASCII: comparing without case needs no lowercased copy.
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($s) {
                    return ::std::result::Result::Ok($name::$variant);
                })+
                ::std::result::Result::Err($crate::domain::ValidationError::new(
                    $field,
                    format!(concat!($field, " must be one of: {}; got {:?}"), [$($s),+].join(", "), s),
                ))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::ValidationError;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

pub mod audit;
pub mod conversation;
pub mod credential;
pub mod ids;
pub mod notification;
pub mod page;
pub mod query;
pub mod recurrence;
pub mod reminder;
pub mod rfc3339;
pub mod saved_filter;
pub mod task;
pub mod user;

use std::borrow::Cow;

pub use audit::{AuditEntry, AuditPage, AuditQuery, VerifyReport};
pub use conversation::{
    Action, BulkAction, ChangeRecord, Conversation, ConversationContext, Message, MessagePage, PendingAction,
    RecentMessage, Revision, Role,
};
pub use credential::{ApiToken, CalendarFeed, Principal, Scope, Scopes, SecretHash, TokenId, TokenName, TokenView};
pub use ids::{ConversationId, EventId, FilterId, SeriesId, TaskId, UserId};
pub use notification::{Notification, NotificationPage, WebhookDelivery};
pub use page::{Page, PageItem, PageLimit};
pub use query::{Cursor, SortField, SortSpec, StatusFilter, TaskPage, TaskQuery};
pub use recurrence::{Recurrence, RepeatFrom};
pub use saved_filter::{FilterName, FilterQuery, SavedFilter};
pub use task::{Description, NewTask, Priority, Status, Tag, Tags, Task, TaskPatch, TaskTitle};
pub use user::{Email, Timezone, User, UserView};

/// A value that failed to parse: which field, and why, in words a user can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// The field (or parameter) that failed, e.g. `title`.
    pub field: Cow<'static, str>,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl ValidationError {
    /// A failure of `field` with `message`.
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Serializes string newtypes (`struct X(String)`) as their text, by reference:
/// serde's `into = "String"` clones each value before writing it, and a page of
/// tasks cloned every title, description and tag.
macro_rules! serialize_as_str {
    ($($ty:ty),*) => {$(
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    )*};
}
pub(crate) use serialize_as_str;
