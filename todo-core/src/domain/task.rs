//! The task aggregate and its parsed values.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ValidationError;
use super::ids::{SeriesId, TaskId, UserId};
use super::recurrence::Recurrence;

/// Longest title, in characters, after trimming.
pub const TITLE_MAX_CHARS: usize = 200;
/// Longest description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
/// Longest tag, in characters.
pub const TAG_MAX_CHARS: usize = 32;
/// Most tags on one task.
pub const TAGS_MAX: usize = 20;

/// A task title: 1..=200 characters after trimming surrounding whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskTitle(String);

impl TaskTitle {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(ValidationError::new("title", "title must not be empty"));
        }
        let n = t.chars().count();
        if n > TITLE_MAX_CHARS {
            return Err(ValidationError::new(
                "title",
                format!("title is {n} characters; the limit is {TITLE_MAX_CHARS}"),
            ));
        }
        if t.chars().any(|c| c.is_control()) {
            return Err(ValidationError::new("title", "title must not contain control characters"));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TaskTitle {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TaskTitle> for String {
    fn from(t: TaskTitle) -> Self {
        t.0
    }
}

impl fmt::Display for TaskTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text, at most 10,000 characters (may be empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let n = s.chars().count();
        if n > DESCRIPTION_MAX_CHARS {
            return Err(ValidationError::new(
                "description",
                format!("description is {n} characters; the limit is {DESCRIPTION_MAX_CHARS}"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Description {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Description> for String {
    fn from(d: Description) -> Self {
        d.0
    }
}

/// A tag: lowercase `[a-z0-9_-]{1,32}`. Parsing lowercases and drops one leading `#`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        let t = t.strip_prefix('#').unwrap_or(t).to_lowercase();
        let valid_chars = t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if t.is_empty() || t.chars().count() > TAG_MAX_CHARS || !valid_chars {
            return Err(ValidationError::new(
                "tags",
                format!("tag {s:?} must be 1 to {TAG_MAX_CHARS} characters of a-z, 0-9, '_' or '-'"),
            ));
        }
        Ok(Self(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Tag> for String {
    fn from(t: Tag) -> Self {
        t.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of at most 20 tags, kept sorted (so equal sets serialize equally).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<Tag>", into = "Vec<Tag>")]
pub struct Tags(BTreeSet<Tag>);

impl Tags {
    pub fn parse<I, S>(items: I) -> Result<Self, ValidationError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let tags = items.into_iter().map(|s| Tag::parse(s.as_ref())).collect::<Result<Vec<_>, _>>()?;
        Self::try_from(tags)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }

    pub fn contains(&self, tag: &Tag) -> bool {
        self.0.contains(tag)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The union with `more`, still bounded by [`TAGS_MAX`].
    pub fn with(&self, more: impl IntoIterator<Item = Tag>) -> Result<Self, ValidationError> {
        Self::try_from(self.0.iter().cloned().chain(more).collect::<Vec<_>>())
    }

    /// This set without `less`.
    pub fn without<'a>(&self, less: impl IntoIterator<Item = &'a Tag>) -> Self {
        let mut set = self.0.clone();
        for t in less {
            set.remove(t);
        }
        Self(set)
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().map(|t| t.0.clone()).collect()
    }
}

impl TryFrom<Vec<Tag>> for Tags {
    type Error = ValidationError;
    fn try_from(v: Vec<Tag>) -> Result<Self, Self::Error> {
        let set: BTreeSet<Tag> = v.into_iter().collect();
        if set.len() > TAGS_MAX {
            return Err(ValidationError::new("tags", format!("{} tags given; the limit is {TAGS_MAX}", set.len())));
        }
        Ok(Self(set))
    }
}

impl From<Tags> for Vec<Tag> {
    fn from(t: Tags) -> Self {
        t.0.into_iter().collect()
    }
}

/// OpenAPI schemas of the string newtypes, with their limits.
mod schemas {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
    use utoipa::{PartialSchema, ToSchema};

    use super::*;

    fn string(min: Option<usize>, max: usize, pattern: Option<&str>, example: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(min)
            .max_length(Some(max))
            .pattern(pattern)
            .examples([example])
            .into()
    }

    impl PartialSchema for TaskTitle {
        fn schema() -> RefOr<Schema> {
            string(Some(1), TITLE_MAX_CHARS, None, "buy milk")
        }
    }
    impl ToSchema for TaskTitle {}

    impl PartialSchema for Description {
        fn schema() -> RefOr<Schema> {
            string(None, DESCRIPTION_MAX_CHARS, None, "2 litres, oat")
        }
    }
    impl ToSchema for Description {}

    impl PartialSchema for Tag {
        fn schema() -> RefOr<Schema> {
            string(Some(1), TAG_MAX_CHARS, Some("^[a-z0-9_-]{1,32}$"), "groceries")
        }
    }
    impl ToSchema for Tag {}

    impl PartialSchema for Tags {
        fn schema() -> RefOr<Schema> {
            ArrayBuilder::new().items(Tag::schema()).max_items(Some(TAGS_MAX)).unique_items(true).into()
        }
    }
    impl ToSchema for Tags {}
}

macro_rules! str_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $s:literal),+ $(,)? } field = $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Result<Self, ValidationError> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($s => Ok($name::$variant),)+
                    _ => Err(ValidationError::new(
                        $field,
                        format!(concat!($field, " must be one of: {}; got {:?}"),
                            [$($s),+].join(", "), s),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

str_enum!(
    /// Whether a task is done.
    Status { #[default] Pending = "pending", Completed = "completed" } field = "status"
);

str_enum!(
    /// How important a task is. Orders `low < medium < high`.
    Priority { Low = "low", #[default] Medium = "medium", High = "high" } field = "priority"
);

str_enum!(
    /// Where the next occurrence of a recurring task counts from: its due date
    /// (a fixed schedule) or the moment it was completed (Todoist's `every!`).
    RepeatFrom { #[default] Due = "due", Completion = "completion" } field = "repeat_from"
);

impl Priority {
    /// 0 (low) to 2 (high): the order used for sorting.
    pub fn rank(&self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Medium => 1,
            Priority::High => 2,
        }
    }
}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Priority {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// One task, as stored and as sent on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub id: TaskId,
    pub user_id: UserId,
    pub title: TaskTitle,
    #[serde(default)]
    pub description: Description,
    pub status: Status,
    pub priority: Priority,
    #[serde(default)]
    pub tags: Tags,
    /// Due time (UTC). For all-day tasks, local midnight of the due date.
    pub due_at: Option<DateTime<Utc>>,
    /// The user gave a date without a time.
    #[serde(default)]
    pub all_day: bool,
    pub remind_at: Option<DateTime<Utc>>,
    /// RFC 5545 RRULE without the `RRULE:` prefix, e.g. `FREQ=WEEKLY;BYDAY=MO`.
    pub recurrence: Option<Recurrence>,
    #[serde(default)]
    pub repeat_from: RepeatFrom,
    /// Shared by every occurrence of a recurring task.
    pub series_id: Option<SeriesId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Increments on every change; send it back in `If-Match` for optimistic concurrency.
    pub version: i64,
}

impl Task {
    pub fn is_pending(&self) -> bool {
        self.status == Status::Pending
    }

    /// `due_at - remind_at`, the reminder's lead time, when both are set.
    pub fn reminder_offset(&self) -> Option<chrono::Duration> {
        Some(self.due_at? - self.remind_at?)
    }

    /// Whether this task has a reminder that should still fire.
    pub fn has_live_reminder(&self) -> bool {
        self.is_pending() && self.remind_at.is_some()
    }
}
