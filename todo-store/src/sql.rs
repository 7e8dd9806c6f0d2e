//! Backend-neutral SQL: bind values, statements with `$n` placeholders (SQLite and
//! PostgreSQL both read them), running them ([`Exec`]) and reading their rows
//! ([`RowExt`]), and the two backends' few differences ([`Dialect`]).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use todo_core::domain::UserId;
use todo_core::ports::truncate_micros;
use uuid::Uuid;

use crate::error::{Result, StoreError};

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
    ///
    /// The names are written as literals, not bound: a subscription's topics never
    /// change, so its statement text does not either, and PostgreSQL's generic plan
    /// of a prepared statement then knows the topic. With a parameter it guessed a
    /// third of the log matches any topic and walked the commit-order index
    /// filtering by topic: a group of a quiet topic (reminders) read the whole log
    /// on every wake, 1.7 ms a read (pg_stat_statements, `scripts/bench`), where
    /// the topic index finds its records directly.
    pub fn push_topic_filter(&mut self, topics: &[String]) {
        if topics.is_empty() {
            self.push(" AND FALSE");
            return;
        }
        let names: Vec<String> = topics.iter().map(|t| format!("'{}'", t.replace('\'', "''"))).collect();
        self.push(&format!(" AND topic IN ({})", names.join(", ")));
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

/// A column of a result row: its name (`"title"`), or its position with its name
/// ([`At`]) where many rows of a fixed select list are read.
pub trait Col:
    Copy
    + std::fmt::Display
    + std::fmt::Debug
    + sqlx::ColumnIndex<sqlx::postgres::PgRow>
    + sqlx::ColumnIndex<sqlx::sqlite::SqliteRow>
{
}

impl Col for &str {}

/// A column by position, named for error messages (debug builds check the name
/// against the row's). sqlx finds a column by name through a hash map, per value:
/// 17 lookups for each row of a page of tasks.
#[derive(Clone, Copy, Debug)]
pub struct At(pub usize, pub &'static str);

impl Col for At {}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.1)
    }
}

impl<R: sqlx::Row> sqlx::ColumnIndex<R> for At
where
    usize: sqlx::ColumnIndex<R>,
{
    fn index(&self, row: &R) -> std::result::Result<usize, sqlx::Error> {
        debug_assert_eq!(row.columns().get(self.0).map(sqlx::Column::name), Some(self.1), "column {}", self.0);
        self.0.index(row)
    }
}

/// Column values of a result row, decoded into the types the domain needs. Each
/// backend implements it for its row type (SQLite decodes times from microseconds,
/// ids from text, tags from JSON).
pub trait RowExt {
    fn text<C: Col>(&self, col: C) -> Result<String>;
    fn opt_text<C: Col>(&self, col: C) -> Result<Option<String>>;
    fn int<C: Col>(&self, col: C) -> Result<i64>;
    fn boolean<C: Col>(&self, col: C) -> Result<bool>;
    fn bytes<C: Col>(&self, col: C) -> Result<Vec<u8>>;
    fn opt_uuid<C: Col>(&self, col: C) -> Result<Option<Uuid>>;
    fn opt_time<C: Col>(&self, col: C) -> Result<Option<DateTime<Utc>>>;
    fn tags<C: Col>(&self, col: C) -> Result<Vec<String>>;
    /// A JSON column: `jsonb` (PostgreSQL), JSON text (SQLite).
    fn json<C: Col>(&self, col: C) -> Result<serde_json::Value>;

    fn uuid<C: Col>(&self, col: C) -> Result<Uuid> {
        self.opt_uuid(col)?.ok_or_else(|| null_column(col))
    }

    fn time<C: Col>(&self, col: C) -> Result<DateTime<Utc>> {
        self.opt_time(col)?.ok_or_else(|| null_column(col))
    }
}

fn null_column(col: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(format!("column {col} is NULL"))
}

/// A column that did not decode.
pub(crate) fn decode_error(col: impl std::fmt::Display, e: &sqlx::Error) -> StoreError {
    StoreError::corrupt(format!("column {col}: {e}"))
}

/// The getters whose decoding is the same in every backend (for `impl RowExt`).
macro_rules! common_getters {
    () => {
        fn text<C: $crate::sql::Col>(&self, col: C) -> $crate::error::Result<String> {
            ::sqlx::Row::try_get(self, col).map_err(|e| $crate::sql::decode_error(col, &e))
        }
        fn opt_text<C: $crate::sql::Col>(&self, col: C) -> $crate::error::Result<Option<String>> {
            ::sqlx::Row::try_get(self, col).map_err(|e| $crate::sql::decode_error(col, &e))
        }
        fn int<C: $crate::sql::Col>(&self, col: C) -> $crate::error::Result<i64> {
            ::sqlx::Row::try_get(self, col).map_err(|e| $crate::sql::decode_error(col, &e))
        }
        fn boolean<C: $crate::sql::Col>(&self, col: C) -> $crate::error::Result<bool> {
            ::sqlx::Row::try_get(self, col).map_err(|e| $crate::sql::decode_error(col, &e))
        }
        fn bytes<C: $crate::sql::Col>(&self, col: C) -> $crate::error::Result<Vec<u8>> {
            ::sqlx::Row::try_get(self, col).map_err(|e| $crate::sql::decode_error(col, &e))
        }
    };
}
pub(crate) use common_getters;

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
}

/// The smallest microsecond instant at or after `t`. Stored times have microsecond
/// precision, so for them `x < t` is `x < ceil(t)` and `x >= t` is `x >= ceil(t)`.
pub(crate) fn ceil_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = truncate_micros(t);
    if floor < t { floor + Duration::microseconds(1) } else { floor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_keeps_whole_microseconds() {
        let t: DateTime<Utc> = "2026-11-26T09:00:00.000001Z".parse().unwrap();
        assert_eq!(ceil_micros(t), t);
        let t2 = t + Duration::nanoseconds(1);
        assert_eq!(ceil_micros(t2), t + Duration::microseconds(1));
    }

    #[test]
    fn topics_are_quoted_literals() {
        let mut s = Stmt::new("SELECT 1 FROM event_log WHERE TRUE", vec![]);
        s.push_topic_filter(&["it's".to_owned(), "x'); DROP TABLE event_log; --".to_owned()]);
        assert_eq!(
            s.sql,
            "SELECT 1 FROM event_log WHERE TRUE AND topic IN ('it''s', 'x''); DROP TABLE event_log; --')"
        );
        assert!(s.args.is_empty());
        let mut none = Stmt::default();
        none.push_topic_filter(&[]);
        assert_eq!(none.sql, " AND FALSE");
    }
}
