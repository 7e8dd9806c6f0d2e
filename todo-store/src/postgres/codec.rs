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
use crate::sql::{Col, RowExt, common_getters, decode_error};

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

    fn opt_uuid<C: Col>(&self, col: C) -> Result<Option<Uuid>> {
        self.try_get(col).map_err(|e| decode_error(col, &e))
    }

    fn opt_time<C: Col>(&self, col: C) -> Result<Option<DateTime<Utc>>> {
        let t: Option<PgTime> = self.try_get(col).map_err(|e| decode_error(col, &e))?;
        Ok(t.map(|t| t.0))
    }

    fn json<C: Col>(&self, col: C) -> Result<serde_json::Value> {
        self.try_get(col).map_err(|e| decode_error(col, &e))
    }

    fn tags<C: Col>(&self, col: C) -> Result<Vec<String>> {
        self.try_get(col).map_err(|e| decode_error(col, &e))
    }
}

/// A `timestamptz` decoded straight from its binary form (microseconds since
/// 2000-01-01 UTC). sqlx's own decoding adds a `chrono::Duration` to an epoch
/// through a `FixedOffset`: with six timestamps in each of a page's 50 rows it was
/// the largest part of reading a page (`perf`, docs/benchmarks.md). Text values
/// (never sent for prepared statements) take sqlx's path.
struct PgTime(DateTime<Utc>);

/// 2000-01-01T00:00:00Z in microseconds since the Unix epoch.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl sqlx::Type<Postgres> for PgTime {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <DateTime<Utc> as sqlx::Type<Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <DateTime<Utc> as sqlx::Type<Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for PgTime {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        use sqlx::ValueRef as _;
        if value.format() == sqlx::postgres::PgValueFormat::Text || value.is_null() {
            return <DateTime<Utc> as sqlx::Decode<Postgres>>::decode(value).map(PgTime);
        }
        let bytes: [u8; 8] = value.as_bytes()?.try_into().map_err(|_| "a timestamptz is 8 bytes")?;
        let micros = i64::from_be_bytes(bytes)
            .checked_add(PG_EPOCH_MICROS)
            .and_then(DateTime::from_timestamp_micros)
            .ok_or("a timestamptz out of range (infinity?)")?;
        Ok(PgTime(micros))
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection as _;

    use super::*;
    use crate::sql::Exec as _;

    /// Every edge of the binary form decodes as sqlx decodes it: before and after
    /// 2000-01-01, microseconds, far past and future, NULL. Needs `DATABASE_URL`
    /// (scripts/test starts a server).
    #[tokio::test]
    async fn timestamps_decode_as_sqlx_decodes_them() {
        let url = std::env::var("DATABASE_URL").expect("DATABASE_URL: this test needs PostgreSQL (scripts/pg-local)");
        let mut c = PgConnection::connect(&url).await.expect("connect to DATABASE_URL");
        let literals = [
            "2000-01-01 00:00:00+00",
            "1999-12-31 23:59:59.999999+00",
            "1970-01-01 00:00:00+00",
            "1969-07-20 20:17:40.5+00",
            "2026-11-30 03:45:12.123456+00",
            "2026-03-29 01:30:00+02",
            "0001-01-01 00:00:00+00",
            "9999-12-31 23:59:59.999999+00",
            "2262-04-11 23:47:16.854775+00",
        ];
        for lit in literals {
            let stmt = Stmt::new(format!("SELECT '{lit}'::timestamptz AS t, NULL::timestamptz AS n"), vec![]);
            let row = c.row(&stmt).await.expect("select").expect("a row");
            let sqlx_own: DateTime<Utc> = row.try_get("t").expect("sqlx decodes it");
            assert_eq!(row.opt_time("t").expect("decodes"), Some(sqlx_own), "{lit}");
            assert_eq!(row.opt_time("n").expect("decodes NULL"), None);
        }
    }
}
