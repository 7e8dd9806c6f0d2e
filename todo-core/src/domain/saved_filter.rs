//! Saved filters: a named filter query of one user ("work today" =
//! `today & #work`), listed in the sidebar and by chat ("show my work today list").
//! The query is kept as written and read again at every use, so its relative
//! dates stay relative.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ValidationError;
use super::ids::{FilterId, UserId};
use crate::filter::{Filter, FilterError};

/// Longest filter name, in characters.
pub const FILTER_NAME_MAX_CHARS: usize = 100;
/// Most saved filters per user.
pub const SAVED_FILTERS_MAX: usize = 200;

/// A filter's name: 1 to 100 characters after trimming, no control characters.
/// Names are unique per user regardless of case and inner spacing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "work today")]
pub struct FilterName(String);

impl FilterName {
    /// A name of 1 to 100 characters after trimming, without control characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        let n = t.chars().count();
        if n == 0 || n > FILTER_NAME_MAX_CHARS {
            return Err(ValidationError::new("name", format!("name must be 1 to {FILTER_NAME_MAX_CHARS} characters")));
        }
        if t.chars().any(char::is_control) {
            return Err(ValidationError::new("name", "name must not contain control characters"));
        }
        Ok(Self(t.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What names are compared by: lowercased, inner blanks collapsed to one space.
    pub fn key(&self) -> String {
        name_key(&self.0)
    }
}

/// The comparison key of a name as someone might type it ("Work  Today" is "work today").
pub fn name_key(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl TryFrom<String> for FilterName {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<FilterName> for String {
    fn from(n: FilterName) -> Self {
        n.0
    }
}

impl fmt::Display for FilterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A filter query that parses, kept as written (trimmed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(into = "String")]
#[schema(value_type = String, example = "(today | overdue) & #work & !p3")]
pub struct FilterQuery(String);

impl FilterQuery {
    /// A query that parses as a filter (docs/filters.md).
    pub fn parse(s: &str) -> Result<Self, FilterError> {
        // Parsed as sent, so that an error's span points into what the client sent.
        Filter::parse(s)?;
        Ok(Self(s.trim().to_owned()))
    }

    /// The query as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parsed filter.
    pub fn filter(&self) -> Filter {
        // Checked when this value was made (a stored query that no longer parses is
        // refused by the store when it is read).
        Filter::parse(&self.0).unwrap_or_else(|e| unreachable!("a FilterQuery parses: {e}"))
    }
}

impl From<FilterQuery> for String {
    fn from(q: FilterQuery) -> Self {
        q.0
    }
}

/// A user's saved filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SavedFilter {
    /// The filter's id.
    pub id: FilterId,
    /// Whose filter it is.
    pub user_id: UserId,
    /// What the user calls it (unique per user, regardless of case and spacing).
    pub name: FilterName,
    /// The filter query.
    pub query: FilterQuery,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_by_key() {
        let a = FilterName::parse("  Work   Today ").unwrap();
        assert_eq!(a.as_str(), "Work   Today");
        assert_eq!(a.key(), "work today");
        assert!(FilterName::parse(" ").is_err());
        assert!(FilterName::parse(&"x".repeat(101)).is_err());
        assert!(FilterName::parse("a\u{7}").is_err());
    }

    #[test]
    fn queries_must_parse() {
        assert_eq!(FilterQuery::parse(" today ").unwrap().as_str(), "today");
        assert_eq!(FilterQuery::parse("today &").unwrap_err().span, [7, 7]);
    }
}
