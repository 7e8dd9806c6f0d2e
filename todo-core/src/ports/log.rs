//! The event log: topics, consumer groups, subscriptions and their checkpoints,
//! partition readers, dead-letter headers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::Result;
use crate::events::{TopicNames, dlq_name};

/// How far a consumer group has got: the position after a batch of records, made
/// by [`Subscription::checkpoint`] and handed to the store that writes the batch's
/// effects. A store that holds the group's log (the SQL logs, the in-memory log)
/// stores it in the effects' own transaction and marks it stored; any other store
/// leaves it, and the consumer commits the position itself afterwards.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// The log instance that made it ([`next_log_id`]).
    pub log: u64,
    /// The consumer group.
    pub group: String,
    /// The position in the log's own terms (e.g. `[("seq", 41)]`).
    pub position: Vec<(String, i64)>,
    stored: Arc<AtomicBool>,
}

impl Checkpoint {
    /// A checkpoint of `group` at `position` in log instance `log`, not yet stored.
    pub fn new(log: u64, group: impl Into<String>, position: Vec<(String, i64)>) -> Self {
        Self { log, group: group.into(), position, stored: Arc::default() }
    }

    /// The named part of the position.
    pub fn get(&self, name: &str) -> Option<i64> {
        self.position.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// Called by the store once the checkpoint committed.
    pub fn mark_stored(&self) {
        self.stored.store(true, Ordering::Release);
    }

    /// Whether a store committed it.
    pub fn is_stored(&self) -> bool {
        self.stored.load(Ordering::Acquire)
    }
}

impl PartialEq for Checkpoint {
    fn eq(&self, other: &Self) -> bool {
        self.log == other.log && self.group == other.group && self.position == other.position
    }
}

/// A new id for a log instance, for [`Checkpoint::log`]: unique in this process.
pub fn next_log_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Where a new consumer group starts reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartFrom {
    /// From the oldest retained record.
    #[default]
    Earliest,
    /// Only records appended after the subscription.
    Latest,
}

/// One record of the event log, as delivered (possibly more than once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Physical topic name.
    pub topic: String,
    /// The partition (0 for logs without partitions).
    pub partition: i32,
    /// The record's position in its partition.
    pub offset: i64,
    /// The record key: the user id for our events.
    pub key: Option<String>,
    /// The record body: one structured-mode CloudEvent JSON document for our events.
    pub payload: Vec<u8>,
    /// Record headers (`ce_type`, `ce_id`, ...), in order.
    pub headers: Vec<(String, String)>,
}

impl Record {
    /// The value of the first header named `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// An event log (the embedded SQL log or Kafka): topics of keyed records,
/// consumer groups with durable positions, at-least-once delivery.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// The physical names of the catalog topics in this log.
    fn topic_names(&self) -> &TopicNames;

    /// Joins consumer group `group` on the physical `topics`. A group with a stored
    /// position resumes after it; a new group starts at `start`.
    async fn subscribe(&self, group: &str, topics: &[String], start: StartFrom) -> Result<Box<dyn Subscription>>;

    /// Appends one record to the physical `topic` (outside any task change:
    /// dead letters, tools, tests).
    async fn append(&self, topic: &str, key: Option<&str>, payload: &[u8], headers: &[(String, String)]) -> Result<()>;

    /// Appends a record that could not be handled to `<record.topic>.dlq`, with
    /// headers naming the original topic, partition, offset, group and `error`.
    async fn dead_letter(&self, record: &Record, group: &str, error: &str) -> Result<()> {
        let mut headers = record.headers.clone();
        headers.extend([
            (dlq_headers::ORIGINAL_TOPIC.to_owned(), record.topic.clone()),
            (dlq_headers::ORIGINAL_PARTITION.to_owned(), record.partition.to_string()),
            (dlq_headers::ORIGINAL_OFFSET.to_owned(), record.offset.to_string()),
            (dlq_headers::CONSUMER_GROUP.to_owned(), group.to_owned()),
            (dlq_headers::ERROR.to_owned(), error.to_owned()),
        ]);
        self.append(&dlq_name(&record.topic), record.key.as_deref(), &record.payload, &headers).await
    }

    /// Whether the log answers (for `/ready`).
    async fn ping(&self) -> Result<()>;

    /// Reads partition `partition` of the physical `topic` from offset `from`
    /// on, outside any consumer group, to resume live updates after a cursor
    /// (docs/adr/0015-resumable-live-updates.md). `Ok(None)`: this log cannot
    /// (its offsets are not monotonic in delivery order, as the PostgreSQL
    /// log's `seq`), which is the default.
    async fn read_partition(&self, topic: &str, partition: i32, from: i64) -> Result<Option<Box<dyn PartitionReader>>> {
        let _ = (topic, partition, from);
        Ok(None)
    }
}

/// One partition of a topic read in offset order from a starting offset, by no
/// consumer group (nothing is committed). Offsets only grow along the partition.
#[async_trait]
pub trait PartitionReader: Send {
    /// The partition's offsets when the reader opened: `low` is the oldest
    /// retained record, `high` the offset the next appended record gets.
    fn bounds(&self) -> (i64, i64);

    /// The next record; waits until there is one. Cancel-safe: dropping the
    /// future loses no record.
    async fn next(&mut self) -> Result<Record>;

    /// Where reading continues: every record with a lower offset has been returned.
    fn position(&self) -> i64;
}

/// A consumer group member's stream of records. Records of one key arrive in order.
/// Consumer groups may be exclusive (the SQL log: one active member, others wait)
/// or partitioned (Kafka): either way, each record is delivered to one member.
#[async_trait]
pub trait Subscription: Send {
    /// The next record; waits until there is one. Cancel-safe: dropping the
    /// future (in a `select!`) loses no record.
    async fn next(&mut self) -> Result<Record>;

    /// Up to `max` records: waits for the first, then takes those that are ready
    /// or arrive within `linger`. With a zero `linger` it never suspends once it
    /// holds a record, so it is cancel-safe like [`Subscription::next`]. Cancelled
    /// while it lingers, the records it took are dropped: cancel a lingering read
    /// only where that ends the subscription's use (as a consumer's shutdown does).
    async fn next_batch(&mut self, max: usize, linger: Duration) -> Result<Vec<Record>> {
        use futures::FutureExt as _;
        let first = self.next().await?;
        let mut batch = vec![first];
        // What is ready now, without suspending.
        while batch.len() < max {
            match self.next().now_or_never() {
                Some(Ok(r)) => batch.push(r),
                // An error after some records: deliver those; the next call reports it.
                Some(Err(_)) => return Ok(batch),
                None => break,
            }
        }
        if linger.is_zero() {
            return Ok(batch);
        }
        let until = tokio::time::Instant::now() + linger;
        while batch.len() < max {
            match tokio::time::timeout_at(until, self.next()).await {
                Ok(Ok(r)) => batch.push(r),
                Ok(Err(_)) | Err(_) => break,
            }
        }
        Ok(batch)
    }

    /// Marks `record` (and everything before it in its partition) as processed by
    /// the group. Call only after the record's effect is durable.
    async fn commit(&mut self, record: &Record) -> Result<()>;

    /// Marks a batch processed: `records` (in delivery order, every record delivered
    /// before the last of them processed too). The default commits the last record
    /// of each (topic, partition); a log with one order may commit the last alone.
    async fn commit_batch(&mut self, records: &[Record]) -> Result<()> {
        let mut last: Vec<&Record> = Vec::new();
        for r in records {
            match last.iter_mut().find(|l| l.topic == r.topic && l.partition == r.partition) {
                Some(l) if l.offset < r.offset => *l = r,
                Some(_) => {}
                None => last.push(r),
            }
        }
        for r in last {
            self.commit(r).await?;
        }
        Ok(())
    }

    /// The group's position once everything up to `record` (the last record of a
    /// batch, all of whose predecessors were delivered) is processed, for a store
    /// to commit with the batch's effects; `None` when the log keeps positions
    /// elsewhere (Kafka). A later [`Subscription::commit`] of the same record is
    /// then cheap.
    fn checkpoint(&self, record: &Record) -> Option<Checkpoint> {
        let _ = record;
        None
    }

    /// How many records of the group's topics wait after its position, if known.
    async fn lag(&mut self) -> Result<Option<u64>> {
        Ok(None)
    }

    /// Leaves the group cleanly, committing what was marked (default: nothing to do).
    async fn close(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// Headers of a dead-lettered record.
pub mod dlq_headers {
    /// The topic the record was read from.
    pub const ORIGINAL_TOPIC: &str = "dlq_original_topic";
    /// Its partition there.
    pub const ORIGINAL_PARTITION: &str = "dlq_original_partition";
    /// Its offset there.
    pub const ORIGINAL_OFFSET: &str = "dlq_original_offset";
    /// The consumer group that gave up on it.
    pub const CONSUMER_GROUP: &str = "dlq_consumer_group";
    /// Why it could not be handled.
    pub const ERROR: &str = "dlq_error";
}
