//! The per-user daily LLM budget (`llm_usage`): one upsert takes a call if the
//! day's count is below the limit, so concurrent chat turns on any number of API
//! instances never overspend.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use todo_core::domain::UserId;
use todo_core::ports::LlmBudget;

use crate::backend::{Backend, SqlStore};
use crate::sql::{Arg, Exec, Stmt};
use crate::writer::Lane;

#[async_trait]
impl<B: Backend> LlmBudget for SqlStore<B> {
    async fn take_call(&self, user_id: UserId, day: NaiveDate, limit: u32) -> todo_core::Result<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let stmt = Stmt::new(
            "INSERT INTO llm_usage (user_id, day, calls) VALUES ($1, $2, 1) \
             ON CONFLICT (user_id, day) DO UPDATE SET calls = llm_usage.calls + 1 WHERE llm_usage.calls < $3 \
             RETURNING calls",
            vec![Arg::Uuid(user_id.as_uuid()), Arg::Text(day.format("%Y-%m-%d").to_string()), Arg::Int(limit.into())],
        );
        let stmt = Arc::new(stmt);
        let taken = self
            .write(Lane::Foreground, false, move |c| {
                let stmt = stmt.clone();
                Box::pin(async move { c.row(&stmt).await.map(|row| row.is_some()) })
            })
            .await?;
        Ok(taken)
    }
}
