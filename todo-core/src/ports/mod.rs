//! Ports: everything that touches the outside world is one of these traits.
//! Adapters live in todo-store (SQLite, PostgreSQL, embedded event log),
//! todo-kafka (Kafka) and bins (clock, HTTP); in-memory ones in
//! [`crate::memory`] behind the `test-util` feature.

mod bundle;

pub use bundle::{AllPorts, Ports};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::domain::{
    AuditEntry, AuditPage, AuditQuery, Conversation, ConversationId, Email, EventId, FilterId, Message, Notification,
    SavedFilter, Task, TaskId, TaskPage, TaskQuery, User, UserId, WebhookDelivery,
};
use crate::events::{CloudEvent, EventFactory, OutboxEvent, ReminderData, TopicNames, dlq_name};

/// The time. Stores keep microseconds, so clocks return microsecond precision.
pub trait Clock: Send + Sync {
    /// The current instant, truncated to microseconds.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock, truncated to microseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate_micros(Utc::now())
    }
}

/// `t` without its sub-microsecond part.
pub fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).expect("in range")
}

/// One write to the task table.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskWrite {
    /// Insert a new task.
    Insert(Task),
    /// Replace the stored task if it is still at `expected_version`
    /// (else [`crate::Error::VersionMismatch`]).
    Update {
        /// The task as it is after the change.
        task: Task,
        /// The version the caller read.
        expected_version: i64,
    },
    /// Delete the stored task if it is still at `expected_version`
    /// (else [`crate::Error::VersionMismatch`]).
    Delete {
        /// The task's owner.
        user_id: UserId,
        /// The task's id.
        id: TaskId,
        /// The version the caller read.
        expected_version: i64,
    },
}

/// A key that may be claimed once, ever: "this consumer group processed this
/// event", "this occurrence already has its successor". Claimed in the same
/// transaction as the effect, so an effect and its claim exist together or not at all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProcessedKey {
    /// The consumer group (or other owner) of the key.
    pub scope: String,
    /// The key within the scope (e.g. an event id).
    pub key: String,
}

impl ProcessedKey {
    /// The key `key` in `scope`.
    pub fn new(scope: impl Into<String>, key: impl Into<String>) -> Self {
        Self { scope: scope.into(), key: key.into() }
    }
}

/// A unit of work: task writes, the events they produce and the keys they claim,
/// committed in one transaction (transactional outbox) or not at all.
/// A claimed key that already exists fails the whole change with
/// [`crate::Error::Duplicate`].
///
/// A change may also carry the chat turn that made it (stored in the same
/// transaction) and a consumer group's [`Checkpoint`] (stored with it, when the
/// store holds that group's log). A change that claims keys or carries a checkpoint
/// is a consumer's: stores that share commits between callers give requests
/// precedence over it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Change {
    /// Task inserts, updates and deletes, in order.
    pub writes: Vec<TaskWrite>,
    /// The events of the change, appended to the outbox in order.
    pub events: Vec<OutboxEvent>,
    /// Keys claimed once, ever; one that exists fails the change with [`crate::Error::Duplicate`].
    pub claims: Vec<ProcessedKey>,
    /// Keys claimed before that this change gives back, because it undoes the
    /// effect they guard (an "undo" that removes the next occurrence of a
    /// recurring task, so completing it again makes a new one). Released after
    /// the claims are made.
    pub releases: Vec<ProcessedKey>,
    /// The chat turn that made the change.
    pub turn: Option<ChatTurn>,
    /// The consumer group position reached once the change is durable.
    pub checkpoint: Option<Checkpoint>,
}

impl Change {
    /// Whether a consumer (not a request) makes this change.
    pub fn is_background(&self) -> bool {
        !self.claims.is_empty() || self.checkpoint.is_some()
    }

    /// Adds `other`'s writes, events and claims after this change's; its turn and
    /// checkpoint, when set, replace this change's.
    pub fn merge(&mut self, other: Change) {
        self.writes.extend(other.writes);
        self.events.extend(other.events);
        self.claims.extend(other.claims);
        self.releases.extend(other.releases);
        if other.turn.is_some() {
            self.turn = other.turn;
        }
        if other.checkpoint.is_some() {
            self.checkpoint = other.checkpoint;
        }
    }
}

/// A chat turn, recorded in the transaction of the change it made.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatTurn {
    /// The conversation after the turn: its `last_listing`, `context`,
    /// `updated_at` and `version` are saved, if the stored conversation is still
    /// at `version - 1` (else [`crate::Error::VersionMismatch`]: another turn
    /// came first).
    pub conversation: Conversation,
    /// The turn starts the conversation: it is created, not updated.
    pub new_conversation: bool,
    /// The turn's messages in order; the store assigns their `seq`.
    pub messages: Vec<Message>,
}

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

/// Tasks, and the atomic commit of a change with its events.
#[async_trait]
pub trait TaskRepository: Send + Sync {
    /// The task if it exists and belongs to `user_id`.
    async fn get(&self, user_id: UserId, id: TaskId) -> Result<Option<Task>>;

    /// One page of `query` (filters, order and cursor exactly as [`TaskQuery::apply`]).
    async fn list(&self, query: &TaskQuery) -> Result<TaskPage>;

    /// Commits `change` atomically: every write, every event appended to the
    /// outbox/event log, every claim; or nothing.
    async fn commit(&self, change: Change) -> Result<()>;
}

/// User accounts.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user; [`crate::Error::Conflict`] when the e-mail is taken.
    async fn create(&self, user: &User) -> Result<()>;
    /// The user with this e-mail address.
    async fn by_email(&self, email: &Email) -> Result<Option<User>>;
    /// The user with this id.
    async fn by_id(&self, id: UserId) -> Result<Option<User>>;
}

/// The sign-in attempts counted in one throttling window of an (account, client) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptWindow {
    /// Attempts in the window, the one just counted included.
    pub attempts: u64,
    /// When the window began.
    pub started: DateTime<Utc>,
}

/// Sign-in attempts per (account, client address), for throttling (shared by every
/// instance of the API). Keyed on the pair, so that guessing from one address
/// never locks the account's owner out from another.
#[async_trait]
pub trait LoginAttempts: Send + Sync {
    /// Counts one attempt of `account` from `client` at `at` and returns the window
    /// with it, as one atomic step: concurrent attempts each see a distinct count,
    /// so no number of parallel guesses gets past the limit. A window that began at
    /// or before `at - window` starts over at `at`.
    async fn count_attempt(
        &self,
        account: &str,
        client: &str,
        at: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<AttemptWindow>;
    /// Forgets the attempts of `account` from `client` (after a successful sign-in).
    async fn clear(&self, account: &str, client: &str) -> Result<()>;
    /// Forgets every window that began at or before `before`; returns how many.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// The last entry of a verified prefix of a user's audit chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheckpoint {
    /// The entry's position in the user's chain.
    pub seq: i64,
    /// The entry's hash when it was verified.
    pub hash: String,
}

/// Checkpoints of verified audit-chain prefixes: verification resumes after them.
#[async_trait]
pub trait AuditCheckpoints: Send + Sync {
    /// `user_id`'s checkpoint, if the chain was verified before.
    async fn checkpoint(&self, user_id: UserId) -> Result<Option<AuditCheckpoint>>;
    /// Stores `checkpoint` for `user_id` (replacing an older one; one with a smaller
    /// `seq` than the stored one is ignored).
    async fn save_checkpoint(&self, user_id: UserId, checkpoint: &AuditCheckpoint, at: DateTime<Utc>) -> Result<()>;
}

/// The per-user daily budget of LLM calls, counted where every API instance sees it.
#[async_trait]
pub trait LlmBudget: Send + Sync {
    /// Takes one call from `user_id`'s budget of `limit` calls on `day` (UTC);
    /// `false` when the budget is spent. Atomic: concurrent turns never overspend.
    async fn take_call(&self, user_id: UserId, day: chrono::NaiveDate, limit: u32) -> Result<bool>;
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

/// The audit trail's storage: append-only, one hash chain per user.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `event` to its user's chain (`seq` = previous + 1, `prev_hash` = the
    /// previous entry's hash, `hash` = [`crate::domain::audit::chain_hash`] of the
    /// canonical event), atomically and serialised per user.
    /// [`crate::Error::Duplicate`] when the event id is already recorded.
    async fn append(&self, event: &CloudEvent, recorded_at: DateTime<Utc>) -> Result<AuditEntry>;

    /// Appends `events` in order, each to its user's chain, in one transaction with
    /// `checkpoint` (see [`Checkpoint`]): all or nothing. Events already recorded are
    /// skipped (redelivery); returns how many were appended.
    async fn append_batch(
        &self,
        events: &[CloudEvent],
        recorded_at: DateTime<Utc>,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<usize>;

    /// One page of a user's entries, newest first.
    async fn list(&self, query: &AuditQuery) -> Result<AuditPage>;

    /// A user's entries in chain order with `seq > after_seq`, at most `limit`.
    async fn chain(&self, user_id: UserId, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>>;
}

/// A change to the reminder schedule, from a `reminders` event.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleChange {
    /// Schedules (or moves) the reminder.
    Upsert(ReminderData),
    /// Cancels it.
    Cancel(ReminderData),
}

/// Where a fired reminder is also delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The endpoint that receives the POST.
    pub url: String,
}

/// The notification service's durable reminder schedule, its record of fired
/// reminders, and its webhook outbox.
#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// Schedules (or moves) the reminder of `r.task_id`. Older task versions than
    /// the one scheduled are ignored, so redelivery and reordering are harmless.
    async fn upsert(&self, r: &ReminderData) -> Result<()>;

    /// Cancels the reminder of `r.task_id` unless a newer version is scheduled.
    async fn cancel(&self, r: &ReminderData) -> Result<()>;

    /// Applies `changes` in order ([`ReminderStore::upsert`] or
    /// [`ReminderStore::cancel`] each), in one transaction with `checkpoint`.
    async fn apply(&self, changes: &[ScheduleChange], checkpoint: Option<&Checkpoint>) -> Result<()>;

    /// Fires at most `limit` reminders due at `now`: each one still scheduled and
    /// whose task is still pending with the same `remind_at`. For each, in one
    /// transaction: mark it fired, record its [`Notification`], append its
    /// `todo.reminder.due.v1` event (made by `events`) to the outbox, and queue a
    /// webhook delivery when `webhook` is set. Two instances never fire the same one.
    async fn fire_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        events: &EventFactory,
        webhook: Option<&WebhookTarget>,
    ) -> Result<Vec<Notification>>;

    /// When the earliest scheduled reminder is due.
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>>;

    /// A user's notifications, newest first; `before` is the previous page's last id.
    async fn notifications(&self, user_id: UserId, limit: u32, before: Option<EventId>) -> Result<Vec<Notification>>;

    /// Leases at most `limit` webhook deliveries due at `now` for `lease` seconds
    /// (a crashed sender's lease expires and the delivery is retried).
    async fn claim_webhooks(&self, now: DateTime<Utc>, limit: u32, lease_secs: i64) -> Result<Vec<WebhookDelivery>>;

    /// The delivery succeeded: never send it again.
    async fn webhook_delivered(&self, id: EventId) -> Result<()>;

    /// The delivery failed: try again at `retry_at`, or never (`None`: given up).
    async fn webhook_failed(&self, id: EventId, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()>;
}

/// Chat conversations, scoped to their user.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Stores a new conversation.
    async fn create(&self, c: &Conversation) -> Result<()>;

    /// The conversation if it exists and belongs to `user_id`.
    async fn get(&self, user_id: UserId, id: ConversationId) -> Result<Option<Conversation>>;

    /// Saves `last_listing`, `context`, `updated_at` and `version`.
    async fn save(&self, c: &Conversation) -> Result<()>;

    /// Appends a message; its `seq` is assigned by the store and returned.
    async fn append(&self, user_id: UserId, m: &Message) -> Result<Message>;

    /// Messages of the user's conversation with `seq > after_seq`, oldest first, at most `limit`.
    async fn messages(&self, user_id: UserId, id: ConversationId, after_seq: i64, limit: u32) -> Result<Vec<Message>>;
}

/// Saved filters, scoped to their user: another user's filter does not exist.
/// Names are unique per user by [`crate::domain::FilterName::key`].
#[async_trait]
pub trait SavedFilterStore: Send + Sync {
    /// Stores a new filter; [`crate::Error::Conflict`] when the user has one of that name.
    async fn create(&self, f: &SavedFilter) -> Result<()>;

    /// The filter if it exists and belongs to `user_id`.
    async fn get(&self, user_id: UserId, id: FilterId) -> Result<Option<SavedFilter>>;

    /// The user's filters, by name key then id.
    async fn list(&self, user_id: UserId) -> Result<Vec<SavedFilter>>;

    /// Replaces the name, query and `updated_at` of the user's filter `f.id`;
    /// [`crate::Error::NotFound`] or [`crate::Error::Conflict`] (the name is taken).
    async fn update(&self, f: &SavedFilter) -> Result<()>;

    /// Deletes the user's filter; [`crate::Error::NotFound`] when there is none.
    async fn delete(&self, user_id: UserId, id: FilterId) -> Result<()>;
}

/// Sends a signed webhook request.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// POSTs `body` to `url` with `headers`; `Ok` for a 2xx answer, `Err` with a
    /// short reason otherwise (status, timeout, connection refused).
    async fn send(&self, url: &str, headers: &[(String, String)], body: &str) -> std::result::Result<(), String>;
}

/// API tokens, stored by the hash of their secret.
#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    /// Stores a new token; [`crate::Error::Conflict`] when its id or hash exists.
    async fn create_token(&self, token: &crate::domain::ApiToken) -> Result<()>;

    /// `user_id`'s tokens, newest first.
    async fn tokens(&self, user_id: UserId) -> Result<Vec<crate::domain::ApiToken>>;

    /// The token whose secret has this hash, whoever it belongs to.
    async fn token_by_hash(&self, hash: &crate::domain::SecretHash) -> Result<Option<crate::domain::ApiToken>>;

    /// Deletes `user_id`'s token `id`; `false` when `user_id` has no such token.
    async fn revoke_token(&self, user_id: UserId, id: crate::domain::TokenId) -> Result<bool>;

    /// Records that the token was used at `at`.
    async fn touch_token(&self, id: crate::domain::TokenId, at: DateTime<Utc>) -> Result<()>;
}

/// Calendar feeds: one per user, stored by the hash of the secret in its URL.
#[async_trait]
pub trait CalendarFeedStore: Send + Sync {
    /// Stores `feed` as its user's feed, replacing the previous one (whose secret
    /// stops working at once).
    async fn put_feed(&self, feed: &crate::domain::CalendarFeed) -> Result<()>;

    /// `user_id`'s feed, if any.
    async fn feed(&self, user_id: UserId) -> Result<Option<crate::domain::CalendarFeed>>;

    /// The feed whose secret has this hash.
    async fn feed_by_hash(&self, hash: &crate::domain::SecretHash) -> Result<Option<crate::domain::CalendarFeed>>;

    /// Deletes `user_id`'s feed; `false` when there was none.
    async fn delete_feed(&self, user_id: UserId) -> Result<bool>;
}
