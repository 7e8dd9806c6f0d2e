//! PostgreSQL encodings: the native types (`uuid`, `timestamptz`, `text[]`,
//! `bytea`, `jsonb`).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row};
use uuid::Uuid;

use crate::error::Result;
use crate::sql::{Arg, Stmt, bind_args, impl_exec};
use crate::sql::{RowExt, common_getters, decode_error};

fn sql_text(stmt: &Stmt) -> Cow<'_, str> {
    Cow::Borrowed(&stmt.sql)
}

fn query<'q>(stmt: &'q Stmt, sql: &'q str) -> Query<'q, Postgres, PgArguments> {
    bind_args!(stmt, sql, q, {
        Arg::Uuid(v) => q.bind(*v),
        Arg::OptUuid(v) => q.bind(*v),
        Arg::Time(t) => q.bind(*t),
        Arg::OptTime(t) => q.bind(*t),
        Arg::Tags(tags) => q.bind(tags.as_slice()),
        Arg::Json(v) => q.bind(v),
    })
}

impl_exec!(PgConnection, PgRow);

impl RowExt for PgRow {
    common_getters!();

    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>> {
        self.try_get(col).map_err(|e| decode_error(col, &e))
    }

    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        self.try_get(col).map_err(|e| decode_error(col, &e))
    }

    fn json(&self, col: &str) -> Result<serde_json::Value> {
        self.try_get(col).map_err(|e| decode_error(col, &e))
    }

    fn tags(&self, col: &str) -> Result<Vec<String>> {
        self.try_get(col).map_err(|e| decode_error(col, &e))
    }
}
