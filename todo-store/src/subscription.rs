//! The consumer side of the SQL event log, shared by both backends: a group member
//! that waits for its turn (groups are exclusive), reads in batches, sleeps until
//! woken or a polling interval passes, and stores its position on commit.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use todo_core::ports::{Checkpoint, Record, Subscription};
use tokio::sync::Notify;

use crate::error::{Result, StoreError};

/// Records fetched per query.
pub(crate) const BATCH: i64 = 1000;

/// Delivered records whose positions are remembered for `commit`; older ones are
/// looked up in the table.
const REMEMBERED: usize = 4096;

/// How long a reader woken by an append waits before it reads: the appends of
/// the next few commits join the same read (under a stream of commits, one read
/// per wake was a read, an empty read and a horizon probe per commit and group).
/// Live updates and reminders arrive this much later at most.
const LINGER: Duration = Duration::from_millis(3);

/// One backend's access to the log for one group member.
#[async_trait]
pub trait LogSource: Send + 'static {
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

    /// `pos` as the parts of a [`Checkpoint`] (what the backend's
    /// `store_position` reads back).
    fn encode(&self, pos: &Self::Position) -> Vec<(String, i64)>;

    /// The log, as [`Checkpoint::log`] names it.
    fn log_id(&self) -> u64;

    /// The consumer group.
    fn group(&self) -> &str;

    /// How many records of the member's topics lie after `after`.
    async fn count_after(&mut self, after: &Self::Position) -> Result<u64>;

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
    /// Checkpoints handed out (by the seq they stand at) and not yet committed: a
    /// store may have committed them with a batch's effects.
    issued: Mutex<Vec<(i64, Checkpoint)>>,
}

impl<S: LogSource> SqlSubscription<S> {
    pub fn new(source: S) -> Self {
        Self { source, read: None, buffer: VecDeque::new(), delivered: VecDeque::new(), issued: Mutex::new(Vec::new()) }
    }

    /// Forgets everything read: the next record comes after the stored position.
    fn reset(&mut self) {
        self.source.deactivate();
        self.read = None;
        self.buffer.clear();
        self.delivered.clear();
        self.issued.get_mut().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Whether a store committed a checkpoint at `seq` already.
    fn stored_at(&mut self, seq: i64) -> bool {
        let issued = self.issued.get_mut().unwrap_or_else(|e| e.into_inner());
        let stored = issued.iter().any(|(s, cp)| *s == seq && cp.is_stored());
        issued.retain(|(s, _)| *s > seq);
        stored
    }

    /// The next buffered record, remembered as delivered.
    fn pop(&mut self) -> Option<Record> {
        let (record, pos) = self.buffer.pop_front()?;
        if self.delivered.len() == REMEMBERED {
            self.delivered.pop_front();
        }
        self.delivered.push_back((record.offset, pos));
        Some(record)
    }

    async fn next_record(&mut self) -> Result<Record> {
        loop {
            if let Some(record) = self.pop() {
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
                () = &mut notified => tokio::time::sleep(LINGER).await,
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
        if self.stored_at(record.offset) {
            if let Some(i) = known {
                self.delivered.drain(..=i);
            }
            return Ok(());
        }
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

    /// The first record as [`Subscription::next`] gives it, then those already
    /// read from the table (no further waiting, so cancelling loses nothing).
    async fn next_batch(&mut self, max: usize, _linger: Duration) -> todo_core::Result<Vec<Record>> {
        let mut batch = vec![self.next_record().await?];
        while batch.len() < max {
            match self.pop() {
                Some(r) => batch.push(r),
                None => break,
            }
        }
        Ok(batch)
    }

    async fn commit(&mut self, record: &Record) -> todo_core::Result<()> {
        Ok(self.commit_record(record).await?)
    }

    /// The log has one order: the position of the last record delivered (the last
    /// of `records`, which come in delivery order) covers them all.
    async fn commit_batch(&mut self, records: &[Record]) -> todo_core::Result<()> {
        match records.last() {
            Some(last) => Ok(self.commit_record(last).await?),
            None => Ok(()),
        }
    }

    fn checkpoint(&self, record: &Record) -> Option<Checkpoint> {
        let pos = self.delivered.iter().rev().find(|(seq, _)| *seq == record.offset)?.1.clone();
        let cp = Checkpoint::new(self.source.log_id(), self.source.group(), self.source.encode(&pos));
        self.issued.lock().unwrap_or_else(|e| e.into_inner()).push((record.offset, cp.clone()));
        Some(cp)
    }

    async fn lag(&mut self) -> todo_core::Result<Option<u64>> {
        let Some(read) = self.read.clone() else { return Ok(None) };
        let after = self.source.count_after(&read).await?;
        Ok(Some(after + self.buffer.len() as u64))
    }
}
