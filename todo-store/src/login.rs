//! Sign-in throttling on both backends: one fixed window of attempts per
//! (account, client address) in `login_throttle`, counted by a single upsert
//! that also returns the count. The check and the count are one statement, so
//! parallel guesses each see a distinct count (PostgreSQL serialises them on the
//! row lock of the conflicting row; SQLite has one writer).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use todo_core::ports::{AttemptWindow, LoginAttempts, truncate_micros};

use crate::backend::{Backend, SqlStore};
use crate::error::StoreError;
use crate::sql::RowExt;
use crate::sql::{Arg, Exec, Stmt};
use crate::writer::Lane;

/// Counts one attempt: a new row, or one more in the current window, or a new
/// window when the stored one began at or before `$4` (= `at - window`).
const COUNT_ATTEMPT: &str = "INSERT INTO login_throttle (account, client, window_start, attempts) \
     VALUES ($1, $2, $3, 1) \
     ON CONFLICT (account, client) DO UPDATE SET \
     attempts = CASE WHEN login_throttle.window_start <= $4 THEN 1 ELSE login_throttle.attempts + 1 END, \
     window_start = CASE WHEN login_throttle.window_start <= $4 THEN excluded.window_start \
     ELSE login_throttle.window_start END \
     RETURNING attempts, window_start";

#[async_trait]
impl<B: Backend> LoginAttempts for SqlStore<B> {
    async fn count_attempt(
        &self,
        account: &str,
        client: &str,
        at: DateTime<Utc>,
        window: Duration,
    ) -> todo_core::Result<AttemptWindow> {
        let at = truncate_micros(at);
        let stmt = Stmt::new(
            COUNT_ATTEMPT,
            vec![Arg::Text(account.to_owned()), Arg::Text(client.to_owned()), Arg::Time(at), Arg::Time(at - window)],
        );
        let stmt = Arc::new(stmt);
        let window = self
            .write(Lane::Foreground, false, move |c| {
                let stmt = stmt.clone();
                Box::pin(async move {
                    let row =
                        c.row(&stmt).await?.ok_or_else(|| StoreError::Internal("upsert returned no row".into()))?;
                    let attempts = u64::try_from(row.int("attempts")?).unwrap_or(0);
                    Ok(AttemptWindow { attempts, started: row.time("window_start")? })
                })
            })
            .await?;
        Ok(window)
    }

    async fn clear(&self, account: &str, client: &str) -> todo_core::Result<()> {
        let stmt = Stmt::new(
            "DELETE FROM login_throttle WHERE account = $1 AND client = $2",
            vec![Arg::Text(account.to_owned()), Arg::Text(client.to_owned())],
        );
        self.write_one(Lane::Foreground, stmt).await?;
        Ok(())
    }

    async fn prune(&self, before: DateTime<Utc>) -> todo_core::Result<u64> {
        let stmt =
            Stmt::new("DELETE FROM login_throttle WHERE window_start <= $1", vec![Arg::Time(truncate_micros(before))]);
        Ok(self.write_one(Lane::Background, stmt).await?)
    }
}
