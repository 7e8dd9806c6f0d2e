//! Task listing: filters, sort orders and opaque keyset cursors.
//!
//! The order is total: every sort key is paired with the task id (UUID v7, so
//! creation order) as a tie-breaker, and a cursor carries both, so pages never
//! skip or repeat a task while others are added. Every store implements exactly
//! the semantics of [`TaskQuery::matches`] and [`SortSpec::key`]; the contract
//! tests hold them to it.

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ValidationError;
use super::ids::{TaskId, UserId};
use super::page::Page;
pub use super::page::{PAGE_DEFAULT, PAGE_MAX};
use super::task::{Priority, Status, Tag, Task};
use crate::filter::{Cond, Context, TagPart, TagPattern, TimeBound, TimeColumn};

/// Longest text query.
pub const QUERY_MAX_CHARS: usize = 200;

/// Which tasks by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    /// Pending tasks only (the default).
    #[default]
    Pending,
    /// Completed tasks only.
    Completed,
    /// Both.
    All,
}

impl StatusFilter {
    /// `pending`, `completed` or `all`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "pending" => Ok(Self::Pending),
            "completed" => Ok(Self::Completed),
            "all" => Ok(Self::All),
            _ => Err(ValidationError::new("status", format!("status must be pending, completed or all; got {s:?}"))),
        }
    }

    /// Whether a task with status `s` is listed.
    pub fn admits(&self, s: Status) -> bool {
        match self {
            Self::Pending => s == Status::Pending,
            Self::Completed => s == Status::Completed,
            Self::All => true,
        }
    }
}

/// What a listing is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    /// Due time; tasks without one come last in both directions.
    #[default]
    DueAt,
    /// `low < medium < high`.
    Priority,
    /// Creation time.
    CreatedAt,
    /// Case-insensitive.
    Title,
}

/// A sort field and direction, written `due_at` or `-due_at` (descending).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SortSpec {
    /// What to sort by.
    pub field: SortField,
    /// Largest first.
    pub descending: bool,
}

impl SortSpec {
    /// Parses `due_at`, `priority`, `created_at` or `title`, with a `-` prefix for descending.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let field = match name {
            "due_at" => SortField::DueAt,
            "priority" => SortField::Priority,
            "created_at" => SortField::CreatedAt,
            "title" => SortField::Title,
            _ => {
                return Err(ValidationError::new(
                    "sort",
                    format!(
                        "sort must be one of due_at, priority, created_at, title (prefix '-' for descending); got {s:?}"
                    ),
                ));
            }
        };
        Ok(Self { field, descending })
    }

    /// The text [`SortSpec::parse`] reads back, e.g. `-due_at`.
    pub fn as_string(&self) -> String {
        let name = match self.field {
            SortField::DueAt => "due_at",
            SortField::Priority => "priority",
            SortField::CreatedAt => "created_at",
            SortField::Title => "title",
        };
        if self.descending { format!("-{name}") } else { name.to_owned() }
    }

    /// The task's position under this sort, compared ascending; descending
    /// sorts reverse the comparison of the whole `(key, id)` pair.
    pub fn key(&self, t: &Task) -> SortKey {
        match self.field {
            SortField::DueAt => SortKey::Int(due_sort_value(t.due_at, self.descending)),
            SortField::Priority => SortKey::Int(t.priority.rank()),
            SortField::CreatedAt => SortKey::Int(t.created_at.timestamp_micros()),
            SortField::Title => SortKey::Text(title_sort_value(t.title.as_str())),
        }
    }

    /// Compares two tasks in listing order.
    pub fn compare(&self, a: &Task, b: &Task) -> Ordering {
        let o = (self.key(a), a.id).cmp(&(self.key(b), b.id));
        if self.descending { o.reverse() } else { o }
    }

    /// Whether `t` comes strictly after the cursor position in listing order.
    pub fn is_after(&self, t: &Task, cursor: &Cursor) -> bool {
        let o = (self.key(t), t.id).cmp(&(cursor.key.clone(), cursor.id));
        if self.descending { o == Ordering::Less } else { o == Ordering::Greater }
    }
}

/// The sortable value of `due_at`: microseconds, with missing due dates placed last.
pub fn due_sort_value(due: Option<DateTime<Utc>>, descending: bool) -> i64 {
    match due {
        Some(d) => d.timestamp_micros(),
        None if descending => i64::MIN,
        None => i64::MAX,
    }
}

/// The sortable value of a title: lowercased (Unicode), compared bytewise.
pub fn title_sort_value(title: &str) -> String {
    title.to_lowercase()
}

/// The lowercased text that `q` searches: title and description.
pub fn search_text(title: &str, description: &str) -> String {
    format!("{}\n{}", title.to_lowercase(), description.to_lowercase())
}

/// One component of a keyset position.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortKey {
    /// A number (times in microseconds, priority ranks).
    Int(i64),
    /// A lowercased title.
    Text(String),
}

/// An opaque page position: the sort it belongs to and the last task's `(key, id)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort it was made for ([`SortSpec::as_string`]).
    #[serde(rename = "s")]
    pub sort: String,
    /// The last task's sort key.
    #[serde(rename = "k")]
    pub key: SortKey,
    /// The last task's id (the tie-breaker).
    pub id: TaskId,
}

impl Cursor {
    /// The position just after `t` under `sort`.
    pub fn after(sort: SortSpec, t: &Task) -> Self {
        Self { sort: sort.as_string(), key: sort.key(t), id: t.id }
    }

    /// The cursor as clients see it: URL-safe base64 of its JSON.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursor serializes"))
    }

    /// Decodes a cursor and checks it was made for `sort`.
    pub fn decode(s: &str, sort: SortSpec) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new("cursor", "cursor is not valid for this listing; start again without it");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let kind_ok = matches!(
            (&c.key, sort.field),
            (SortKey::Text(_), SortField::Title)
                | (SortKey::Int(_), SortField::DueAt | SortField::Priority | SortField::CreatedAt)
        );
        if c.sort != sort.as_string() || !kind_ok {
            return Err(bad());
        }
        Ok(c)
    }
}

/// A validated listing request for one user.
///
/// The fixed parameters (`status`, `priority`, `tag`, `text`, the due range,
/// `overdue`) are shorthands of filter terms, and `filter` is a resolved filter
/// query: [`TaskQuery::condition`] joins them into one [`Cond`], the one thing every
/// store evaluates (in memory with [`Cond::eval`], in SQL compiled from it).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskQuery {
    /// Whose tasks (every store filters by it).
    pub user_id: UserId,
    /// Which statuses.
    pub status: StatusFilter,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only tasks with this tag.
    pub tag: Option<Tag>,
    /// Lowercased substring searched in title and description.
    pub text: Option<String>,
    /// Inclusive lower bound on `due_at`.
    pub due_after: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `due_at`.
    pub due_before: Option<DateTime<Utc>>,
    /// Only pending tasks whose due time has passed (all-day tasks: whose day has
    /// passed in `tz`): the filter term `overdue`.
    pub overdue: bool,
    /// The instant `overdue` is judged at.
    pub now: DateTime<Utc>,
    /// The user's time zone, for `overdue` (default UTC).
    pub tz: Tz,
    /// A filter query resolved at `now` in `tz` (see [`crate::filter`]), joined
    /// with the fixed parameters by AND. Set `status` to `All` to leave the
    /// statuses to the filter (which defaults to pending itself).
    pub filter: Option<Cond>,
    /// The order.
    pub sort: SortSpec,
    /// Page size (the store fetches one more; see [`TaskPage::from_overfetch`]).
    pub limit: u32,
    /// Where the page starts: after this position.
    pub cursor: Option<Cursor>,
}

impl TaskQuery {
    /// Everything pending for `user_id`, in the default order, first page.
    pub fn new(user_id: UserId, now: DateTime<Utc>) -> Self {
        Self {
            user_id,
            status: StatusFilter::Pending,
            priority: None,
            tag: None,
            text: None,
            due_after: None,
            due_before: None,
            overdue: false,
            now,
            tz: Tz::UTC,
            filter: None,
            sort: SortSpec::default(),
            limit: PAGE_DEFAULT,
            cursor: None,
        }
    }

    /// The text search `q`: trimmed, lowercased, at most [`QUERY_MAX_CHARS`] characters; `None` when empty.
    pub fn parse_text(q: &str) -> Result<Option<String>, ValidationError> {
        let q = q.trim();
        if q.chars().count() > QUERY_MAX_CHARS {
            return Err(ValidationError::new("q", format!("q is longer than {QUERY_MAX_CHARS} characters")));
        }
        // PostgreSQL stores no NUL in text: searching for one is refused, not failed.
        if q.contains('\0') {
            return Err(ValidationError::new("q", "q must not contain a NUL character"));
        }
        Ok((!q.is_empty()).then(|| q.to_lowercase()))
    }

    /// Every condition but the owner: the fixed parameters as filter terms, then
    /// the filter (kept whole, as if in parentheses).
    pub fn condition(&self) -> Cond {
        let mut parts = Vec::new();
        match self.status {
            StatusFilter::Pending => parts.push(Cond::Status(Status::Pending)),
            StatusFilter::Completed => parts.push(Cond::Status(Status::Completed)),
            StatusFilter::All => {}
        }
        if let Some(p) = self.priority {
            parts.push(Cond::Priority(vec![p]));
        }
        if let Some(tag) = &self.tag {
            parts.push(Cond::Tag(TagPattern { parts: vec![TagPart::Literal(tag.as_str().to_owned())] }));
        }
        if let Some(q) = &self.text {
            parts.push(Cond::Text(q.clone()));
        }
        if let Some(a) = self.due_after {
            parts.push(Cond::time(TimeColumn::DueAt, TimeBound::from(a)));
        }
        if let Some(b) = self.due_before {
            parts.push(Cond::time(TimeColumn::DueAt, TimeBound::before(b)));
        }
        if self.overdue {
            parts.push(crate::filter::overdue(&Context::new(self.now, self.tz)));
        }
        if let Some(f) = &self.filter {
            parts.push(f.clone());
        }
        Cond::all(parts)
    }

    /// Whether `t` passes every filter (not the cursor).
    pub fn matches(&self, t: &Task) -> bool {
        t.user_id == self.user_id && self.condition().eval(t)
    }

    /// Filters, sorts and pages `tasks` exactly as every store must.
    pub fn apply<'a>(&self, tasks: impl IntoIterator<Item = &'a Task>) -> TaskPage {
        let cond = self.condition();
        let mut hits: Vec<&Task> = tasks
            .into_iter()
            .filter(|t| t.user_id == self.user_id && cond.eval(t))
            .filter(|t| self.cursor.as_ref().is_none_or(|c| self.sort.is_after(t, c)))
            .collect();
        hits.sort_by(|a, b| self.sort.compare(a, b));
        TaskPage::from_overfetch(hits.into_iter().cloned().collect(), self)
    }
}

/// One page of a task listing.
pub type TaskPage = Page<Task>;

impl Page<Task> {
    /// The page of up to `q.limit + 1` tasks in `q`'s order (see [`Page::cut`]),
    /// its cursor the last task's keyset position.
    pub fn from_overfetch(tasks: Vec<Task>, q: &TaskQuery) -> Self {
        Page::cut(tasks, q.limit, |t| Cursor::after(q.sort, t).encode())
    }
}
