//! In-memory adapters of every port, for tests (feature `test-util`). They
//! implement the same contracts as the SQL and Kafka adapters and are held to
//! them by the same contract tests.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::Notify;

use crate::domain::audit::{GENESIS_HASH, canonical_json, chain_hash};
use crate::domain::reminder::{self, TaskNow};
use crate::domain::{
    AuditEntry, AuditPage, AuditQuery, Conversation, ConversationId, Email, EventId, FilterId, Message, Notification,
    SavedFilter, Task, TaskId, TaskPage, TaskQuery, User, UserId, WebhookDelivery,
};
use crate::events::{CloudEvent, EventFactory, ReminderData, Topic, TopicNames};
use crate::ports::{
    AuditStore, Change, ChatTurn, Checkpoint, Clock, ConversationStore, EventLog, LoginAttempts, Record, ReminderStore,
    SavedFilterStore, ScheduleChange, StartFrom, Subscription, TaskRepository, TaskWrite, UserRepository,
    WebhookTarget, next_log_id, truncate_micros,
};
use crate::{Error, Result};

mod accounts;
mod audit;
mod conversations;
mod log;

/// A clock that stands still until told to move.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(truncate_micros(at))))
    }

    /// A clock standing at an RFC 3339 instant (panics if it does not parse: for tests).
    pub fn at(rfc3339: &str) -> Self {
        Self::new(rfc3339.parse().expect("an RFC 3339 instant"))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap() = truncate_micros(at);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap();
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

#[derive(Default)]
struct State {
    tasks: HashMap<TaskId, Task>,
    users: HashMap<UserId, User>,
    claims: HashSet<(String, String)>,
    /// Sign-in throttling windows by (account, client): (began, attempts).
    attempts: HashMap<(String, String), (DateTime<Utc>, u64)>,
    audit_checkpoints: HashMap<UserId, crate::ports::AuditCheckpoint>,
    llm_calls: HashMap<(UserId, chrono::NaiveDate), u32>,
    /// The log: every record ever appended, in order; offsets are indexes per topic.
    log: Vec<Record>,
    topic_len: HashMap<String, i64>,
    /// Committed position (next offset to read) per (group, topic).
    committed: HashMap<(String, String), i64>,
    audit: HashMap<UserId, Vec<AuditEntry>>,
    reminders: HashMap<TaskId, ScheduledReminder>,
    notifications: Vec<Notification>,
    webhooks: Vec<MemoryWebhook>,
    conversations: HashMap<ConversationId, Conversation>,
    saved_filters: HashMap<FilterId, SavedFilter>,
    messages: HashMap<ConversationId, Vec<Message>>,
    api_tokens: HashMap<crate::domain::TokenId, crate::domain::ApiToken>,
    calendar_feeds: HashMap<UserId, crate::domain::CalendarFeed>,
}

#[derive(Clone, Debug)]
struct ScheduledReminder {
    data: ReminderData,
    state: ReminderState,
}

/// Where a scheduled reminder stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReminderState {
    /// Waiting for its time.
    Scheduled,
    /// Cancelled by a newer version, or skipped when due because its task no longer
    /// wanted it.
    Cancelled,
    /// Delivered.
    Fired,
}

#[derive(Clone, Debug)]
struct MemoryWebhook {
    delivery: WebhookDelivery,
    next_at: DateTime<Utc>,
    done: bool,
}

/// Tasks, users, login attempts and an event log in memory.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    appended: Arc<Notify>,
    topics: TopicNames,
    /// When set, `commit` fails after applying the writes and before the events,
    /// and rolls back: for atomicity tests.
    fail_after_writes: Arc<std::sync::atomic::AtomicBool>,
    log_id: LogId,
}

/// This store's log, as [`Checkpoint::log`] names it; clones share it.
#[derive(Clone, Copy)]
struct LogId(u64);

impl Default for LogId {
    fn default() -> Self {
        Self(next_log_id())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("memory store lock")
    }

    /// Makes the next commits fail midway (after the task writes) until reset.
    pub fn fail_commits_after_writes(&self, on: bool) {
        self.fail_after_writes.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every record appended to `topic` so far.
    pub fn records(&self, topic: Topic) -> Vec<Record> {
        let name = self.topics.name(topic);
        self.lock().log.iter().filter(|r| r.topic == name).cloned().collect()
    }

    /// Every task of every user.
    pub fn all_tasks(&self) -> Vec<Task> {
        self.lock().tasks.values().cloned().collect()
    }

    /// Commits the events of `events` as if a change without task writes.
    fn append_events(&self, st: &mut State, events: &[crate::events::OutboxEvent]) {
        for e in events {
            let topic = self.topics.name(e.topic);
            let headers =
                vec![("ce_type".to_owned(), e.event.ty.clone()), ("ce_id".to_owned(), e.event.id.to_string())];
            append(st, &topic, Some(e.key.clone()), e.payload(), headers);
        }
    }

    /// Appends a raw record (for tests of poison records).
    pub fn append_raw(&self, topic: &str, key: Option<String>, payload: Vec<u8>, headers: Vec<(String, String)>) {
        let mut st = self.lock();
        append(&mut st, topic, key, payload, headers);
        drop(st);
        self.appended.notify_waiters();
    }
}

impl MemoryStore {
    /// Stores `checkpoint` if it is a position of this store's log: each of its
    /// topics' next offsets, never moving back.
    fn store_checkpoint(&self, st: &mut State, checkpoint: Option<&Checkpoint>) -> Option<Checkpoint> {
        let cp = checkpoint.filter(|cp| cp.log == self.log_id.0)?;
        for (topic, next) in &cp.position {
            let at = st.committed.entry((cp.group.clone(), topic.clone())).or_insert(0);
            *at = (*at).max(*next);
        }
        Some(cp.clone())
    }
}

/// Records a chat turn: the conversation created or saved, then its messages.
fn record_turn(st: &mut State, turn: &ChatTurn) -> Result<()> {
    let c = &turn.conversation;
    match st.conversations.get_mut(&c.id) {
        Some(_) if turn.new_conversation => return Err(Error::Conflict(format!("conversation {} exists", c.id))),
        Some(cur) if cur.user_id == c.user_id => {
            // Another turn of this conversation came first.
            if cur.version != c.version - 1 {
                return Err(Error::VersionMismatch { current: cur.version });
            }
            cur.last_listing = c.last_listing.clone();
            cur.context = c.context.clone();
            cur.version = c.version;
            cur.updated_at = truncate_micros(c.updated_at);
        }
        Some(_) => return Err(Error::NotFound("conversation")),
        None if turn.new_conversation => {
            let stored = Conversation {
                created_at: truncate_micros(c.created_at),
                updated_at: truncate_micros(c.updated_at),
                ..c.clone()
            };
            st.conversations.insert(c.id, stored);
        }
        None => return Err(Error::NotFound("conversation")),
    }
    let list = st.messages.entry(c.id).or_default();
    for m in &turn.messages {
        let stored = Message { seq: list.len() as i64 + 1, created_at: truncate_micros(m.created_at), ..m.clone() };
        list.push(stored);
    }
    Ok(())
}

fn append(st: &mut State, topic: &str, key: Option<String>, payload: Vec<u8>, headers: Vec<(String, String)>) {
    let offset = st.topic_len.entry(topic.to_owned()).or_insert(0);
    let record = Record { topic: topic.to_owned(), partition: 0, offset: *offset, key, payload, headers };
    *offset += 1;
    st.log.push(record);
}

#[async_trait]
impl TaskRepository for MemoryStore {
    async fn get(&self, user_id: UserId, id: TaskId) -> Result<Option<Task>> {
        Ok(self.lock().tasks.get(&id).filter(|t| t.user_id == user_id).cloned())
    }

    async fn list(&self, query: &TaskQuery) -> Result<TaskPage> {
        Ok(query.apply(self.lock().tasks.values()))
    }

    async fn commit(&self, change: Change) -> Result<()> {
        let mut st = self.lock();
        // Check everything first: the change applies whole or not at all.
        let mut claims = HashSet::new();
        for c in &change.claims {
            let k = (c.scope.clone(), c.key.clone());
            if st.claims.contains(&k) || !claims.insert(k) {
                return Err(Error::Duplicate(format!("{}/{}", c.scope, c.key)));
            }
        }
        let mut tasks = st.tasks.clone();
        for w in &change.writes {
            match w {
                TaskWrite::Insert(t) => {
                    if tasks.insert(t.id, t.clone()).is_some() {
                        return Err(Error::Conflict(format!("task {} exists", t.id)));
                    }
                }
                TaskWrite::Update { task, expected_version } => match tasks.get(&task.id) {
                    Some(cur) if cur.user_id == task.user_id && cur.version == *expected_version => {
                        tasks.insert(task.id, task.clone());
                    }
                    Some(cur) if cur.user_id == task.user_id => {
                        return Err(Error::VersionMismatch { current: cur.version });
                    }
                    _ => return Err(Error::NotFound("task")),
                },
                TaskWrite::Delete { user_id, id, expected_version } => match tasks.get(id) {
                    Some(cur) if cur.user_id == *user_id && cur.version == *expected_version => {
                        tasks.remove(id);
                    }
                    Some(cur) if cur.user_id == *user_id => {
                        return Err(Error::VersionMismatch { current: cur.version });
                    }
                    _ => return Err(Error::NotFound("task")),
                },
            }
        }
        if self.fail_after_writes.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Unavailable("injected failure after task writes".into()));
        }
        let mut ids = HashSet::new();
        for e in &change.events {
            if !ids.insert(e.event.id) {
                return Err(Error::Internal(format!("event id {} appended twice", e.event.id)));
            }
        }
        if let Some(turn) = &change.turn {
            // Checked on a copy: the change applies whole or not at all.
            let mut probe =
                State { conversations: st.conversations.clone(), messages: st.messages.clone(), ..State::default() };
            record_turn(&mut probe, turn)?;
            st.conversations = probe.conversations;
            st.messages = probe.messages;
        }
        st.tasks = tasks;
        st.claims.extend(claims);
        for r in &change.releases {
            st.claims.remove(&(r.scope.clone(), r.key.clone()));
        }
        for e in &change.events {
            let topic = self.topics.name(e.topic);
            let headers =
                vec![("ce_type".to_owned(), e.event.ty.clone()), ("ce_id".to_owned(), e.event.id.to_string())];
            append(&mut st, &topic, Some(e.key.clone()), e.payload(), headers);
        }
        let stored = self.store_checkpoint(&mut st, change.checkpoint.as_ref());
        drop(st);
        if let Some(cp) = stored {
            cp.mark_stored();
        }
        self.appended.notify_waiters();
        Ok(())
    }
}

/// Schedules or moves `r` unless an older task version than the stored one.
fn upsert(st: &mut State, r: &ReminderData) {
    let Some(cur) = st.reminders.get(&r.task_id) else {
        st.reminders.insert(r.task_id, ScheduledReminder { data: r.clone(), state: ReminderState::Scheduled });
        return;
    };
    if r.task_version < cur.data.task_version {
        return;
    }
    let same_time = cur.data.remind_at == r.remind_at;
    let state = match cur.state {
        // Delivered for this instant: a later version that keeps the time (a new
        // title, say) does not deliver it again.
        ReminderState::Fired if same_time => ReminderState::Fired,
        // The version that was cancelled or skipped, delivered again.
        ReminderState::Cancelled if same_time && cur.data.task_version == r.task_version => ReminderState::Cancelled,
        _ => ReminderState::Scheduled,
    };
    st.reminders.insert(r.task_id, ScheduledReminder { data: r.clone(), state });
}

/// Cancels the reminder of `r.task_id` unless a newer version is stored.
fn cancel(st: &mut State, r: &ReminderData) {
    let newer = st.reminders.get(&r.task_id).is_none_or(|cur| r.task_version >= cur.data.task_version);
    if newer {
        st.reminders.insert(r.task_id, ScheduledReminder { data: r.clone(), state: ReminderState::Cancelled });
    }
}

#[async_trait]
impl ReminderStore for MemoryStore {
    async fn upsert(&self, r: &ReminderData) -> Result<()> {
        upsert(&mut self.lock(), r);
        Ok(())
    }

    async fn cancel(&self, r: &ReminderData) -> Result<()> {
        cancel(&mut self.lock(), r);
        Ok(())
    }

    async fn apply(&self, changes: &[ScheduleChange], checkpoint: Option<&Checkpoint>) -> Result<()> {
        let mut st = self.lock();
        for c in changes {
            match c {
                ScheduleChange::Upsert(r) => upsert(&mut st, r),
                ScheduleChange::Cancel(r) => cancel(&mut st, r),
            }
        }
        let stored = self.store_checkpoint(&mut st, checkpoint);
        drop(st);
        if let Some(cp) = stored {
            cp.mark_stored();
        }
        Ok(())
    }

    async fn fire_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        events: &EventFactory,
        webhook: Option<&WebhookTarget>,
    ) -> Result<Vec<Notification>> {
        let mut st = self.lock();
        let mut due: Vec<ReminderData> = st
            .reminders
            .values()
            .filter(|r| r.state == ReminderState::Scheduled && r.data.remind_at <= now)
            .map(|r| r.data.clone())
            .collect();
        due.sort_by_key(|r| (r.remind_at, r.task_id));
        due.truncate(limit as usize);
        let mut fired = Vec::new();
        for r in due {
            let task = st.tasks.get(&r.task_id).map(TaskNow::from);
            let stands = reminder::stands(r.user_id, r.remind_at, task);
            if let Some(s) = st.reminders.get_mut(&r.task_id) {
                s.state = if stands { ReminderState::Fired } else { ReminderState::Cancelled };
            }
            if !stands {
                continue;
            }
            let (ev, n) = events.fire_reminder(&r, now);
            if let Some(w) = webhook {
                let delivery = WebhookDelivery {
                    id: n.id,
                    url: w.url.clone(),
                    body: String::from_utf8(ev.payload()).map_err(Error::internal)?,
                    attempts: 0,
                };
                st.webhooks.push(MemoryWebhook { delivery, next_at: now, done: false });
            }
            self.append_events(&mut st, std::slice::from_ref(&ev));
            st.notifications.push(n.clone());
            fired.push(n);
        }
        drop(st);
        self.appended.notify_waiters();
        Ok(fired)
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .lock()
            .reminders
            .values()
            .filter(|r| r.state == ReminderState::Scheduled)
            .map(|r| r.data.remind_at)
            .min())
    }

    async fn notifications(&self, user_id: UserId, limit: u32, before: Option<EventId>) -> Result<Vec<Notification>> {
        let st = self.lock();
        // Newest first, by (fired_at, id): a total order, so pages neither skip nor repeat.
        let mut mine: Vec<&Notification> = st.notifications.iter().filter(|n| n.user_id == user_id).collect();
        mine.sort_by_key(|n| std::cmp::Reverse((n.fired_at, n.id)));
        let after_cursor: Vec<&Notification> = match before {
            Some(b) => mine.into_iter().skip_while(|n| n.id != b).skip(1).collect(),
            None => mine,
        };
        Ok(after_cursor.into_iter().take(limit as usize).cloned().collect())
    }

    async fn claim_webhooks(&self, now: DateTime<Utc>, limit: u32, lease_secs: i64) -> Result<Vec<WebhookDelivery>> {
        let mut st = self.lock();
        // The longest waiting first.
        let mut due: Vec<&mut MemoryWebhook> = st.webhooks.iter_mut().filter(|w| !w.done && w.next_at <= now).collect();
        due.sort_by_key(|w| (w.next_at, w.delivery.id));
        let mut out = Vec::new();
        for w in due.into_iter().take(limit as usize) {
            w.next_at = now + Duration::seconds(lease_secs);
            w.delivery.attempts += 1;
            out.push(w.delivery.clone());
        }
        Ok(out)
    }

    async fn webhook_delivered(&self, id: EventId) -> Result<()> {
        if let Some(w) = self.lock().webhooks.iter_mut().find(|w| w.delivery.id == id) {
            w.done = true;
        }
        Ok(())
    }

    async fn webhook_failed(&self, id: EventId, _error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        if let Some(w) = self.lock().webhooks.iter_mut().find(|w| w.delivery.id == id) {
            match retry_at {
                Some(t) => w.next_at = t,
                None => w.done = true,
            }
        }
        Ok(())
    }
}
