//! [`EventLog`] on both backends: the `event_log` table, which the transactional
//! outbox appends to, read by consumer groups in commit order (each backend's
//! `log` module reads it; [`crate::subscription`] is the member both share).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use todo_core::events::TopicNames;
use todo_core::ports::{EventLog, StartFrom, Subscription, truncate_micros};

use crate::backend::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::rows::EventRow;
use crate::sql::RowExt;
use crate::sql::{Exec, Stmt};
use crate::subscription::SqlSubscription;
use crate::writer::Lane;

#[async_trait]
impl<B: Backend> EventLog for SqlStore<B> {
    fn topic_names(&self) -> &TopicNames {
        self.topics()
    }

    /// Joins consumer group `group` (see [`EventLog::subscribe`]).
    async fn subscribe(
        &self,
        group: &str,
        topics: &[String],
        start: StartFrom,
    ) -> todo_core::Result<Box<dyn Subscription>> {
        let backend = self.backend();
        backend.prepare_log().await?;
        self.write_one(Lane::Background, backend.join_group(group, start)).await?;
        Ok(Box::new(SqlSubscription::new(backend.log_source(group, topics))))
    }

    async fn append(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(String, String)],
    ) -> todo_core::Result<()> {
        Ok(self.append_record(EventRow::raw(topic, key, payload, headers)).await?)
    }

    async fn ping(&self) -> todo_core::Result<()> {
        let stmt = Stmt::new("SELECT CAST(1 AS BIGINT) AS one", vec![]);
        let one = self.backend().connection().await?.row(&stmt).await?;
        match one.map(|r| r.int("one")).transpose()? {
            Some(1) => Ok(()),
            other => Err(StoreError::Internal(format!("SELECT 1 returned {other:?}")).into()),
        }
    }
}

impl<B: Backend> SqlStore<B> {
    /// Appends `record` (a raw record, e.g. a dead letter: background work).
    async fn append_record(&self, record: EventRow) -> Result<()> {
        let stmt = Arc::new(record.insert(truncate_micros(Utc::now()), true));
        self.write(Lane::Background, true, move |c| {
            let stmt = stmt.clone();
            Box::pin(async move { c.run(&stmt).await.map(drop) })
        })
        .await
    }
}

#[cfg(feature = "test-util")]
impl<B: Backend> SqlStore<B> {
    /// Appends a raw record and keeps its transaction open for `hold` before the
    /// commit: for tests of readers against slow writers.
    pub async fn append_holding(
        &self,
        topic: &str,
        payload: &[u8],
        hold: std::time::Duration,
    ) -> todo_core::Result<()> {
        let record = EventRow::raw(topic, None, payload, &[]);
        if hold.is_zero() {
            return Ok(self.append_record(record).await?);
        }
        Ok(self.backend().write_holding(record.insert(truncate_micros(Utc::now()), true), hold).await?)
    }
}
