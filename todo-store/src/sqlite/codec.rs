//! SQLite encodings: times as INTEGER microseconds, ids as hyphenated TEXT, tags
//! and JSON as TEXT.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row, Sqlite, SqliteConnection};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::sql::{Arg, Stmt, anonymous_placeholders, bind_args, impl_exec};
use crate::sql::{Col, RowExt, common_getters, decode_error};

/// Statements with this many parameters or more bind them anonymously (see
/// [`anonymous_placeholders`]); below it the lookup costs less than the rewrite.
const ANONYMOUS_FROM: usize = 16;

fn sql_text(stmt: &Stmt) -> Cow<'_, str> {
    if stmt.args.len() >= ANONYMOUS_FROM
        && let Some(sql) = anonymous_placeholders(&stmt.sql)
    {
        return Cow::Owned(sql);
    }
    Cow::Borrowed(&stmt.sql)
}

fn query<'q>(stmt: &'q Stmt, sql: &'q str) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    bind_args!(stmt, sql, q, {
        Arg::Uuid(v) => q.bind(v.hyphenated().to_string()),
        Arg::OptUuid(v) => q.bind(v.map(|u| u.hyphenated().to_string())),
        Arg::Time(t) => q.bind(t.timestamp_micros()),
        Arg::OptTime(t) => q.bind(t.map(|t| t.timestamp_micros())),
        Arg::Tags(tags) => q.bind(serde_json::Value::from(tags.clone()).to_string()),
        Arg::Json(v) => q.bind(v.to_string()),
    })
}

impl_exec!(SqliteConnection, SqliteRow);

/// A pooled connection runs statements as its connection does.
#[async_trait::async_trait]
impl crate::sql::Exec for sqlx::pool::PoolConnection<Sqlite> {
    type Row = SqliteRow;

    async fn run(&mut self, stmt: &Stmt) -> Result<u64> {
        (**self).run(stmt).await
    }

    async fn rows(&mut self, stmt: &Stmt) -> Result<Vec<SqliteRow>> {
        (**self).rows(stmt).await
    }
}

impl RowExt for SqliteRow {
    common_getters!();

    fn opt_uuid<C: Col>(&self, col: C) -> Result<Option<Uuid>> {
        let text: Option<String> = self.try_get(col).map_err(|e| decode_error(col, &e))?;
        text.map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::corrupt(format!("column {col}: {e}")))).transpose()
    }

    fn opt_time<C: Col>(&self, col: C) -> Result<Option<DateTime<Utc>>> {
        let micros: Option<i64> = self.try_get(col).map_err(|e| decode_error(col, &e))?;
        micros
            .map(|m| {
                DateTime::from_timestamp_micros(m)
                    .ok_or_else(|| StoreError::corrupt(format!("column {col}: {m} µs is out of range")))
            })
            .transpose()
    }

    fn json<C: Col>(&self, col: C) -> Result<serde_json::Value> {
        let json: String = self.try_get(col).map_err(|e| decode_error(col, &e))?;
        serde_json::from_str(&json).map_err(|e| StoreError::corrupt(format!("column {col}: {e}")))
    }

    fn tags<C: Col>(&self, col: C) -> Result<Vec<String>> {
        let json: String = self.try_get(col).map_err(|e| decode_error(col, &e))?;
        serde_json::from_str(&json).map_err(|e| StoreError::corrupt(format!("column {col}: {e}")))
    }
}
