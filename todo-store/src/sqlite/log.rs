//! The embedded event log on SQLite: the `event_log` table read in `seq` order.
//!
//! SQLite has one writer at a time and a row takes its `seq` inside the write
//! transaction, so `seq` order is commit order: a reader past `seq` N can never see
//! a row below N appear later. A group's position is the `seq` of its last
//! processed record.
//!
//! Consumer groups are exclusive: one active member per group, the others wait as
//! standbys until it goes away. The lock is a permit in this process's registry of
//! the file ([`super::db::FileState`]), which is enough because one process owns a
//! SQLite file (the embedded mode); a second process on the same file is not
//! excluded. Readers wake on the in-process signal sent after every commit that
//! appended, and also look every [`POLL`] for writers that cannot signal them.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use todo_core::ports::{Record, StartFrom, truncate_micros};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::db::SqliteBackend;
use crate::backend::{Internals, write_one};
use crate::error::{Result, StoreError};
use crate::rows::read_record;
use crate::sql::RowExt;
use crate::sql::{Arg, Exec, Stmt};
use crate::subscription::LogSource;
use crate::writer::Lane;

/// Polling interval when no signal comes.
const POLL: Duration = Duration::from_millis(250);

/// Stores the position of `group` if it is new: 0, or for `Latest` the current end.
pub(super) fn join_group(group: &str, start: StartFrom) -> Stmt {
    let position = match start {
        StartFrom::Earliest => "0",
        StartFrom::Latest => "(SELECT COALESCE(MAX(seq), 0) FROM event_log)",
    };
    Stmt::new(
        format!(
            "INSERT INTO consumer_offsets (group_name, seq, updated_at) VALUES ($1, {position}, $2) \
             ON CONFLICT (group_name) DO NOTHING"
        ),
        vec![Arg::Text(group.to_owned()), Arg::Time(truncate_micros(Utc::now()))],
    )
}

/// Stores `seq` as the position of `group`, never moving it back.
pub(super) fn store_position(group: &str, seq: i64) -> Stmt {
    Stmt::new(
        "INSERT INTO consumer_offsets (group_name, seq, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (group_name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at \
         WHERE consumer_offsets.seq < excluded.seq",
        vec![Arg::Text(group.to_owned()), Arg::Int(seq), Arg::Time(truncate_micros(Utc::now()))],
    )
}

/// A member of a consumer group of the SQLite log.
pub struct SqliteLogSource {
    backend: SqliteBackend,
    group: String,
    topics: Vec<String>,
    /// The group's permit in this process.
    turn: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl SqliteLogSource {
    pub(super) fn new(backend: &SqliteBackend, group: &str, topics: &[String]) -> Self {
        Self {
            backend: backend.clone(),
            group: group.to_owned(),
            topics: topics.to_vec(),
            turn: backend.file.group(group),
            permit: None,
        }
    }
}

#[async_trait]
impl LogSource for SqliteLogSource {
    type Position = i64;

    async fn activate(&mut self) -> Result<i64> {
        if self.permit.is_none() {
            let permit = self.turn.clone().acquire_owned().await.map_err(|e| StoreError::Internal(e.to_string()))?;
            self.permit = Some(permit);
        }
        let stmt =
            Stmt::new("SELECT seq FROM consumer_offsets WHERE group_name = $1", vec![Arg::Text(self.group.clone())]);
        let row = self.backend.connection().await?.row(&stmt).await?;
        Ok(row.map(|r| r.int("seq")).transpose()?.unwrap_or(0))
    }

    fn deactivate(&mut self) {
        // The permit stays: no one outside this process competes for it, and the
        // group's position is reloaded on the next `activate`.
    }

    async fn fetch(&mut self, after: &i64, limit: i64) -> Result<Vec<(Record, i64)>> {
        let mut s =
            Stmt::new("SELECT seq, topic, key, payload, headers FROM event_log WHERE seq > $1", vec![Arg::Int(*after)]);
        s.push_topic_filter(&self.topics);
        let limit = s.bind(Arg::Int(limit));
        s.push(&format!(" ORDER BY seq LIMIT {limit}"));
        let rows = self.backend.connection().await?.rows(&s).await?;
        rows.iter()
            .map(|r| {
                let record = read_record(r)?;
                let seq = record.offset;
                Ok((record, seq))
            })
            .collect()
    }

    async fn store(&mut self, pos: &i64) -> Result<()> {
        write_one(&self.backend, Lane::Background, store_position(&self.group, *pos)).await.map(drop)
    }

    fn encode(&self, pos: &i64) -> Vec<(String, i64)> {
        vec![("seq".to_owned(), *pos)]
    }

    fn log_id(&self) -> u64 {
        self.backend.log_id()
    }

    fn group(&self) -> &str {
        &self.group
    }

    async fn count_after(&mut self, after: &i64) -> Result<u64> {
        let mut s = Stmt::new("SELECT COUNT(*) AS n FROM event_log WHERE seq > $1", vec![Arg::Int(*after)]);
        s.push_topic_filter(&self.topics);
        let row = self.backend.connection().await?.row(&s).await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0).max(0) as u64)
    }

    async fn position_of(&mut self, seq: i64) -> Result<i64> {
        Ok(seq)
    }

    fn wake(&self) -> Arc<Notify> {
        self.backend.file.appended.clone()
    }

    fn poll_interval(&self) -> Duration {
        POLL
    }
}
