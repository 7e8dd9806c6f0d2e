//! The consumer side of the SQL event log, shared by both backends: a group member
//! that waits for its turn (groups are exclusive), reads in batches, sleeps until
//! woken or a polling interval passes, and stores its position on commit.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use todo_core::ports::{Record, Subscription};
use tokio::sync::Notify;

use crate::error::{Result, StoreError};

/// Records fetched per query.
pub(crate) const BATCH: i64 = 256;

/// Delivered records whose positions are remembered for `commit`; older ones are
/// looked up in the table.
const REMEMBERED: usize = 4096;

/// One backend's access to the log for one group member.
#[async_trait]
pub(crate) trait LogSource: Send + 'static {
    /// A place in commit order.
    type Position: Clone + Send + Sync + 'static;

    /// Waits until this member is the group's only active one; returns the group's
    /// stored position (records after it are unprocessed).
    async fn activate(&mut self) -> Result<Self::Position>;

    /// Gives up the active state after an error; the next `activate` starts over.
    fn deactivate(&mut self);

    /// Up to `limit` records after `after` in commit order, each with its position.
    async fn fetch(&mut self, after: &Self::Position, limit: i64) -> Result<Vec<(Record, Self::Position)>>;

    /// Stores `pos` as the group's position (never moving it back).
    async fn store(&mut self, pos: &Self::Position) -> Result<()>;

    /// The position of the record at `seq`.
    async fn position_of(&mut self, seq: i64) -> Result<Self::Position>;

    /// Signalled when records may have been appended.
    fn wake(&self) -> Arc<Notify>;

    /// How long to wait without a signal before looking again (for writers whose
    /// signals do not reach this process).
    fn poll_interval(&self) -> Duration;
}

/// A member of a consumer group of the SQL log.
pub(crate) struct SqlSubscription<S: LogSource> {
    source: S,
    /// Where reading continues; `None` until active.
    read: Option<S::Position>,
    buffer: VecDeque<(Record, S::Position)>,
    /// `(seq, position)` of delivered records, in delivery order.
    delivered: VecDeque<(i64, S::Position)>,
}

impl<S: LogSource> SqlSubscription<S> {
    pub fn new(source: S) -> Self {
        Self { source, read: None, buffer: VecDeque::new(), delivered: VecDeque::new() }
    }

    /// Forgets everything read: the next record comes after the stored position.
    fn reset(&mut self) {
        self.source.deactivate();
        self.read = None;
        self.buffer.clear();
        self.delivered.clear();
    }

    async fn next_record(&mut self) -> Result<Record> {
        loop {
            if let Some((record, pos)) = self.buffer.pop_front() {
                if self.delivered.len() == REMEMBERED {
                    self.delivered.pop_front();
                }
                self.delivered.push_back((record.offset, pos));
                return Ok(record);
            }
            let after = match &self.read {
                Some(p) => p.clone(),
                None => {
                    let p = self.source.activate().await?;
                    self.read = Some(p.clone());
                    p
                }
            };
            // Registered before the query, so an append committed meanwhile wakes us.
            let wake = self.source.wake();
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let batch = match self.source.fetch(&after, BATCH).await {
                Ok(batch) => batch,
                Err(e) => {
                    self.reset();
                    return Err(e);
                }
            };
            if let Some((_, last)) = batch.last() {
                self.read = Some(last.clone());
                self.buffer.extend(batch);
                continue;
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(self.source.poll_interval()) => {}
            }
        }
    }

    async fn commit_record(&mut self, record: &Record) -> Result<()> {
        if self.read.is_none() {
            return Err(StoreError::Internal(
                "commit while not reading: the subscription restarted after an error and will redeliver".into(),
            ));
        }
        let known = self.delivered.iter().position(|(seq, _)| *seq == record.offset);
        let pos = match known {
            Some(i) => self.delivered[i].1.clone(),
            None => self.source.position_of(record.offset).await?,
        };
        if let Err(e) = self.source.store(&pos).await {
            // Perhaps no longer the group's member (PostgreSQL: the lock's session
            // is gone): start over from the stored position.
            self.reset();
            return Err(e);
        }
        if let Some(i) = known {
            self.delivered.drain(..=i);
        }
        Ok(())
    }
}

#[async_trait]
impl<S: LogSource> Subscription for SqlSubscription<S> {
    async fn next(&mut self) -> todo_core::Result<Record> {
        Ok(self.next_record().await?)
    }

    async fn commit(&mut self, record: &Record) -> todo_core::Result<()> {
        Ok(self.commit_record(record).await?)
    }
}
