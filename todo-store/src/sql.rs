//! Backend-neutral SQL: bind values, statements with `$n` placeholders (SQLite and
//! PostgreSQL both read them), the two backends' few differences ([`Dialect`]), and
//! the listing query that implements [`TaskQuery`] exactly.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use todo_core::domain::query::{SortField, SortKey};
use todo_core::domain::{TaskQuery, UserId};
use todo_core::ports::truncate_micros;
use uuid::Uuid;

use crate::error::Result;
use crate::rows::{RowExt, TASK_COLUMNS};

/// A value bound to a statement; each backend encodes it in its own column types
/// (SQLite: times as microseconds, ids as text, tags and JSON as text).
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Int(i64),
    Bool(bool),
    Text(String),
    OptText(Option<String>),
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    /// A set of tags: a JSON array (SQLite), `text[]` (PostgreSQL).
    Tags(Vec<String>),
    Bytes(Vec<u8>),
    /// JSON: text (SQLite), `jsonb` (PostgreSQL).
    Json(serde_json::Value),
}

/// SQL text and its bind values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stmt {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, args: Vec<Arg>) -> Self {
        Self { sql: sql.into(), args }
    }

    /// Adds `arg` and returns its placeholder.
    pub fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    pub fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Appends ` AND topic IN (...)` for `topics` (no topic: nothing matches).
    pub fn push_topic_filter(&mut self, topics: &[String]) {
        if topics.is_empty() {
            self.push(" AND FALSE");
            return;
        }
        let params: Vec<String> = topics.iter().map(|t| self.bind(Arg::Text(t.clone()))).collect();
        self.push(&format!(" AND topic IN ({})", params.join(", ")));
    }
}

/// `sql` with its `$1, $2, …` placeholders made anonymous (`?`) when they appear
/// in order, each once (as [`Stmt::bind`] writes them); otherwise `None`.
///
/// For SQLite, where `$N` is a *named* parameter: binding looks each name up in a
/// list (sqlx asks for every parameter's name), which is quadratic in the number
/// of parameters — milliseconds for a batched multi-row `INSERT` of thousands.
/// Anonymous parameters have no name to look up.
pub(crate) fn anonymous_placeholders(sql: &str) -> Option<String> {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut expected = 1u64;
    let (mut i, mut copied) = (0, 0);
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'$' => {
                let digits = bytes[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits > 0 {
                    let n: u64 = sql[i + 1..i + 1 + digits].parse().ok()?;
                    if n != expected {
                        return None;
                    }
                    expected += 1;
                    out.push_str(&sql[copied..i]);
                    out.push('?');
                    i += 1 + digits;
                    copied = i;
                    continue;
                }
            }
            None => {}
        }
        i += 1;
    }
    out.push_str(&sql[copied..]);
    Some(out)
}

/// Runs statements on one connection (or transaction) of a backend.
#[async_trait]
pub trait Exec: Send {
    type Row: RowExt + Send + Sync;

    /// Executes `stmt`; returns the number of rows it affected.
    async fn run(&mut self, stmt: &Stmt) -> Result<u64>;

    /// Every row `stmt` returns.
    async fn rows(&mut self, stmt: &Stmt) -> Result<Vec<Self::Row>>;

    /// The first row `stmt` returns, if any.
    async fn row(&mut self, stmt: &Stmt) -> Result<Option<Self::Row>> {
        Ok(self.rows(stmt).await?.into_iter().next())
    }
}

/// `sqlx::query(&stmt.sql)` with `stmt`'s arguments bound: the encodings every
/// backend shares, then the backend's own arms for the other [`Arg`]s (with `$q`
/// the query so far).
macro_rules! bind_args {
    ($stmt:expr, $sql:expr, $q:ident, { $($arms:tt)* }) => {
        $stmt.args.iter().fold(::sqlx::query($sql), |$q, arg| match arg {
            $crate::sql::Arg::Int(v) => $q.bind(*v),
            $crate::sql::Arg::Bool(v) => $q.bind(*v),
            $crate::sql::Arg::Text(v) => $q.bind(v.as_str()),
            $crate::sql::Arg::OptText(v) => $q.bind(v.as_deref()),
            $crate::sql::Arg::Bytes(b) => $q.bind(b.as_slice()),
            $($arms)*
        })
    };
}
pub(crate) use bind_args;

/// Implements [`Exec`] for a connection type `$conn` with rows `$row`, binding
/// through the calling module's `fn query(&Stmt, &str) -> sqlx::query::Query<..>`
/// on the text its `fn sql_text(&Stmt) -> Cow<str>` gives.
macro_rules! impl_exec {
    ($conn:ty, $row:ty) => {
        #[::async_trait::async_trait]
        impl $crate::sql::Exec for $conn {
            type Row = $row;

            async fn run(&mut self, stmt: &$crate::sql::Stmt) -> $crate::error::Result<u64> {
                let sql = sql_text(stmt);
                Ok(query(stmt, &sql).execute(&mut *self).await?.rows_affected())
            }

            async fn rows(&mut self, stmt: &$crate::sql::Stmt) -> $crate::error::Result<Vec<$row>> {
                let sql = sql_text(stmt);
                Ok(query(stmt, &sql).fetch_all(&mut *self).await?)
            }
        }
    };
}
pub(crate) use impl_exec;

/// What differs in the SQL of the two backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Earliest `timestamptz` PostgreSQL stores (4714-11-24 BC), in Unix microseconds.
pub(crate) const PG_MIN_MICROS: i64 = -210_866_803_200_000_000;

/// Where a cursor key lies relative to the stored sort keys.
enum Bound {
    /// Compare against this value.
    Value(Arg),
    /// Below every key a task can have.
    BelowAll,
    /// Above every key a task can have.
    AboveAll,
}

/// First key of the advisory locks that serialise the appends to one user's audit
/// chain (`"audt"`); the second is `hashtext(user id)`. The consumer groups of the
/// log use another first key, so the two never wait for each other.
const AUDIT_LOCK_SPACE: i32 = 0x6175_6474;

impl Dialect {
    /// Appended to a `SELECT` of queue rows (`FROM ... AS {alias}`) in a write
    /// transaction: PostgreSQL locks the rows it returns and skips rows another
    /// transaction holds, so concurrent callers take disjoint rows; SQLite needs
    /// nothing, its one writer at a time already excludes the others.
    pub(crate) fn lock_skip_locked(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR UPDATE OF {alias} SKIP LOCKED"),
        }
    }

    /// Appended to a `SELECT` of one row in a write transaction: holds the row until
    /// the commit (PostgreSQL; SQLite's writer lock already does).
    pub(crate) fn lock_row(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// The statement that serialises the appends to `user_id`'s audit chain until the
    /// transaction ends: a transaction-level advisory lock on PostgreSQL; none on
    /// SQLite, whose writer lock serialises every write.
    pub(crate) fn lock_audit_chain(self, user_id: UserId) -> Option<Stmt> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(Stmt::new(
                format!("SELECT pg_advisory_xact_lock({AUDIT_LOCK_SPACE}, hashtext($1))"),
                vec![Arg::Text(user_id.to_string())],
            )),
        }
    }

    /// `search_text` contains the lowercased query at `param`.
    pub(crate) fn text_contains(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr(search_text, {param}) > 0"),
            Dialect::Postgres => format!("strpos(search_text, {param}) > 0"),
        }
    }

    /// The task has the tag at `param`.
    pub(crate) fn has_tag(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => format!("EXISTS (SELECT 1 FROM json_each(tasks.tags) WHERE json_each.value = {param})"),
            Dialect::Postgres => format!("tags @> ARRAY[{param}]::text[]"),
        }
    }

    /// A `created_at` cursor key (microseconds) against the stored column: an
    /// integer in SQLite; a `timestamptz` in PostgreSQL, whose range is narrower than
    /// `i64` microseconds, so a key outside it is above or below every task.
    fn created_at_key(self, micros: i64) -> Bound {
        match self {
            Dialect::Sqlite => Bound::Value(Arg::Int(micros)),
            Dialect::Postgres if micros < PG_MIN_MICROS => Bound::BelowAll,
            Dialect::Postgres => match DateTime::from_timestamp_micros(micros) {
                Some(t) => Bound::Value(Arg::Time(t)),
                None => Bound::AboveAll,
            },
        }
    }

    /// The cursor key as a bound of the sort column. [`SortKey`] orders every
    /// `Int` before every `Text`, so a key of the other kind is below or above all.
    fn cursor_bound(self, field: SortField, key: &SortKey) -> Bound {
        match (field, key) {
            (SortField::Title, SortKey::Text(t)) => Bound::Value(Arg::Text(t.clone())),
            (SortField::Title, SortKey::Int(_)) => Bound::BelowAll,
            (_, SortKey::Text(_)) => Bound::AboveAll,
            (SortField::CreatedAt, SortKey::Int(k)) => self.created_at_key(*k),
            (SortField::DueAt | SortField::Priority, SortKey::Int(k)) => Bound::Value(Arg::Int(*k)),
        }
    }
}

/// The smallest microsecond instant at or after `t`. Stored times have microsecond
/// precision, so for them `x < t` is `x < ceil(t)` and `x >= t` is `x >= ceil(t)`.
pub(crate) fn ceil_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = truncate_micros(t);
    if floor < t { floor + Duration::microseconds(1) } else { floor }
}

/// The page query of `q`: [`TaskQuery::matches`], the keyset cursor and the order of
/// [`todo_core::domain::SortSpec`], overfetching one row (see `TaskPage::from_overfetch`).
pub(crate) fn list_tasks(d: Dialect, q: &TaskQuery) -> Stmt {
    let mut s = Stmt::new(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = "), vec![]);
    let p = s.bind(Arg::Uuid(q.user_id.as_uuid()));
    s.push(&p);
    crate::filter::push_where(d, &mut s, &q.condition(), q.sort);
    let desc = q.sort.descending;
    let column = match q.sort.field {
        SortField::DueAt if desc => "due_sort_desc",
        SortField::DueAt => "due_sort_asc",
        SortField::Priority => "priority_rank",
        SortField::CreatedAt => "created_at",
        SortField::Title => "title_sort",
    };
    if let Some(c) = &q.cursor {
        match d.cursor_bound(q.sort.field, &c.key) {
            Bound::Value(key) => {
                let k = s.bind(key);
                let id = s.bind(Arg::Uuid(c.id.as_uuid()));
                let op = if desc { "<" } else { ">" };
                s.push(&format!(" AND ({column}, id) {op} ({k}, {id})"));
            }
            // Ascending, everything is after a key below all; descending, nothing is.
            Bound::BelowAll if desc => s.push(" AND FALSE"),
            Bound::AboveAll if !desc => s.push(" AND FALSE"),
            Bound::BelowAll | Bound::AboveAll => {}
        }
    }
    let dir = if desc { "DESC" } else { "ASC" };
    let limit = s.bind(Arg::Int(i64::from(q.limit) + 1));
    s.push(&format!(" ORDER BY {column} {dir}, id {dir} LIMIT {limit}"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_core::domain::{Cursor, SortSpec, TaskId, UserId};

    #[test]
    fn ceil_keeps_whole_microseconds() {
        let t: DateTime<Utc> = "2026-11-26T09:00:00.000001Z".parse().unwrap();
        assert_eq!(ceil_micros(t), t);
        let t2 = t + Duration::nanoseconds(1);
        assert_eq!(ceil_micros(t2), t + Duration::microseconds(1));
    }

    #[test]
    fn descending_cursor_reverses_the_comparison() {
        let now = "2026-11-26T09:00:00Z".parse().unwrap();
        let mut q = TaskQuery::new(UserId::new(), now);
        q.sort = SortSpec::parse("-priority").unwrap();
        q.cursor = Some(Cursor { sort: "-priority".into(), key: SortKey::Int(1), id: TaskId::new() });
        let s = list_tasks(Dialect::Postgres, &q);
        assert!(s.sql.contains("(priority_rank, id) < ($3, $4)"), "{}", s.sql);
        assert!(s.sql.ends_with("ORDER BY priority_rank DESC, id DESC LIMIT $5"), "{}", s.sql);
        assert_eq!(s.args.len(), 5);
    }
}
