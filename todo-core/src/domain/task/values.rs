//! The parsed values of a task: title, description, tags, with their limits.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::ValidationError;

/// Longest title, in characters, after trimming.
pub const TITLE_MAX_CHARS: usize = 200;
/// Longest description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
/// Longest tag, in characters.
pub const TAG_MAX_CHARS: usize = 32;
/// Most tags on one task.
pub const TAGS_MAX: usize = 20;

/// A task title: 1..=200 characters after trimming surrounding whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct TaskTitle(String);

impl TaskTitle {
    /// Trims surrounding whitespace; refuses an empty title, one over [`TITLE_MAX_CHARS`] characters or one with control characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Ok(Self(Self::check(s)?.to_owned()))
    }

    /// `s` trimmed, if it is a valid title.
    fn check(s: &str) -> Result<&str, ValidationError> {
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
        Ok(t)
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TaskTitle {
    type Error = ValidationError;
    /// As [`TaskTitle::parse`], keeping `s` itself when it is already trimmed.
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let t = Self::check(&s)?;
        Ok(if t.len() == s.len() { Self(s) } else { Self(t.to_owned()) })
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Description(String);

impl Description {
    /// Refuses text over [`DESCRIPTION_MAX_CHARS`] characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::check(s)?;
        Ok(Self(s.to_owned()))
    }

    fn check(s: &str) -> Result<(), ValidationError> {
        // At most 4 bytes a character: no count needed below the limit.
        if s.len() <= DESCRIPTION_MAX_CHARS {
            return Ok(());
        }
        let n = s.chars().count();
        if n > DESCRIPTION_MAX_CHARS {
            return Err(ValidationError::new(
                "description",
                format!("description is {n} characters; the limit is {DESCRIPTION_MAX_CHARS}"),
            ));
        }
        Ok(())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Description {
    type Error = ValidationError;
    /// As [`Description::parse`], keeping `s` itself.
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::check(&s)?;
        Ok(Self(s))
    }
}

impl From<Description> for String {
    fn from(d: Description) -> Self {
        d.0
    }
}

/// A tag: lowercase `[a-z0-9_-]{1,32}`. Parsing lowercases and drops one leading `#`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Tag(String);

impl Tag {
    /// Trims, drops one leading `#` and lowercases; refuses anything but 1 to [`TAG_MAX_CHARS`] of `a-z`, `0-9`, `_`, `-`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        let t = t.strip_prefix('#').unwrap_or(t).to_lowercase();
        if !Self::is_canonical(&t) {
            return Err(ValidationError::new(
                "tags",
                format!("tag {s:?} must be 1 to {TAG_MAX_CHARS} characters of a-z, 0-9, '_' or '-'"),
            ));
        }
        Ok(Self(t))
    }

    /// Whether `t` is a tag as [`Tag::parse`] leaves it: 1 to [`TAG_MAX_CHARS`] of
    /// `a-z`, `0-9`, `_`, `-` (all ASCII, so bytes are characters).
    fn is_canonical(t: &str) -> bool {
        (1..=TAG_MAX_CHARS).contains(&t.len())
            && t.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
    }

    /// The tag, without `#`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = ValidationError;
    /// As [`Tag::parse`], keeping `s` itself when it is already a tag as parsed.
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if Self::is_canonical(&s) { Ok(Self(s)) } else { Self::parse(&s) }
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "Vec<Tag>")]
pub struct Tags(BTreeSet<Tag>);

impl Tags {
    /// Parses each tag; refuses more than [`TAGS_MAX`] distinct tags.
    pub fn parse<I, S>(items: I) -> Result<Self, ValidationError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let tags = items.into_iter().map(|s| Tag::parse(s.as_ref())).collect::<Result<Vec<_>, _>>()?;
        Self::try_from(tags)
    }

    /// The tags, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }

    /// Whether `tag` is one of them.
    pub fn contains(&self, tag: &Tag) -> bool {
        self.0.contains(tag)
    }

    /// How many tags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
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

    /// As [`Tags::parse`], keeping each string that is already a tag as parsed.
    pub fn from_strings(items: Vec<String>) -> Result<Self, ValidationError> {
        Self::try_from(items.into_iter().map(Tag::try_from).collect::<Result<Vec<_>, _>>()?)
    }

    /// The tags as strings, sorted.
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

crate::domain::serialize_as_str!(TaskTitle, Description, Tag);

/// As a sorted list of tags.
impl Serialize for Tags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(&self.0)
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
