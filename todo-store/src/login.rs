//! Sign-in throttling on both backends: one fixed window of attempts per
//! (account, client address) in `login_throttle`, counted by a single upsert
//! that also returns the count. The check and the count are one statement, so
//! parallel guesses each see a distinct count (PostgreSQL serialises them on the
//! row lock of the conflicting row; SQLite has one writer).

use chrono::{DateTime, Duration, Utc};
use todo_core::ports::{AttemptWindow, truncate_micros};

use std::sync::Arc;

use crate::engine::{Backend, Engine, write_one};
use crate::error::{Result, StoreError};
use crate::rows::RowExt;
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

impl<B: Backend> Engine<B> {
    /// See `todo_core::ports::LoginAttempts::count_attempt`.
    pub async fn count_attempt(
        &self,
        account: &str,
        client: &str,
        at: DateTime<Utc>,
        window: Duration,
    ) -> Result<AttemptWindow> {
        let at = truncate_micros(at);
        let stmt = Stmt::new(
            COUNT_ATTEMPT,
            vec![Arg::Text(account.to_owned()), Arg::Text(client.to_owned()), Arg::Time(at), Arg::Time(at - window)],
        );
        let stmt = Arc::new(stmt);
        self.write(Lane::Foreground, false, move |c| {
            let stmt = stmt.clone();
            Box::pin(async move {
                let row = c.row(&stmt).await?.ok_or_else(|| StoreError::Internal("upsert returned no row".into()))?;
                let attempts = u64::try_from(row.int("attempts")?).unwrap_or(0);
                Ok(AttemptWindow { attempts, started: row.time("window_start")? })
            })
        })
        .await
    }

    /// Forgets the attempts of `account` from `client`.
    pub async fn clear_attempts(&self, account: &str, client: &str) -> Result<()> {
        let stmt = Stmt::new(
            "DELETE FROM login_throttle WHERE account = $1 AND client = $2",
            vec![Arg::Text(account.to_owned()), Arg::Text(client.to_owned())],
        );
        write_one(&self.backend, Lane::Foreground, stmt).await.map(drop)
    }

    /// Forgets the windows that began at or before `before`.
    pub async fn prune_attempts(&self, before: DateTime<Utc>) -> Result<u64> {
        let stmt =
            Stmt::new("DELETE FROM login_throttle WHERE window_start <= $1", vec![Arg::Time(truncate_micros(before))]);
        write_one(&self.backend, Lane::Background, stmt).await
    }
}

/// Implements `LoginAttempts` for a store with a field `engine: Arc<Engine<_>>`.
macro_rules! impl_login_attempts {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl ::todo_core::ports::LoginAttempts for $store {
            async fn count_attempt(
                &self,
                account: &str,
                client: &str,
                at: ::chrono::DateTime<::chrono::Utc>,
                window: ::chrono::Duration,
            ) -> ::todo_core::Result<::todo_core::ports::AttemptWindow> {
                Ok(self.engine.count_attempt(account, client, at, window).await?)
            }

            async fn clear(&self, account: &str, client: &str) -> ::todo_core::Result<()> {
                Ok(self.engine.clear_attempts(account, client).await?)
            }

            async fn prune(&self, before: ::chrono::DateTime<::chrono::Utc>) -> ::todo_core::Result<u64> {
                Ok(self.engine.prune_attempts(before).await?)
            }
        }
    };
}
pub(crate) use impl_login_attempts;
