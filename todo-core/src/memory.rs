//! In-memory adapters of every port, for tests (feature `test-util`). They
//! implement the same contracts as the SQL and Kafka adapters and are held to
//! them by the same contract tests.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::Notify;

use crate::domain::audit::{GENESIS_HASH, canonical_json, chain_hash};
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

/// A clock that stands still until told to move.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(truncate_micros(at))))
    }

    pub fn at(rfc3339: &str) -> Self {
        Self::new(rfc3339.parse().expect("an RFC 3339 instant"))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap() = truncate_micros(at);
    }

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

#[async_trait]
impl UserRepository for MemoryStore {
    async fn create(&self, user: &User) -> Result<()> {
        let mut st = self.lock();
        if st.users.values().any(|u| u.email == user.email) {
            return Err(Error::Conflict("an account with this e-mail exists".into()));
        }
        st.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn by_email(&self, email: &Email) -> Result<Option<User>> {
        Ok(self.lock().users.values().find(|u| &u.email == email).cloned())
    }

    async fn by_id(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.lock().users.get(&id).cloned())
    }
}

#[async_trait]
impl LoginAttempts for MemoryStore {
    async fn count_attempt(
        &self,
        account: &str,
        client: &str,
        at: DateTime<Utc>,
        window: Duration,
    ) -> Result<crate::ports::AttemptWindow> {
        let mut st = self.lock();
        let entry = st.attempts.entry((account.to_owned(), client.to_owned())).or_insert((at, 0));
        if entry.0 <= at - window {
            *entry = (at, 0);
        }
        entry.1 += 1;
        Ok(crate::ports::AttemptWindow { attempts: entry.1, started: entry.0 })
    }

    async fn clear(&self, account: &str, client: &str) -> Result<()> {
        self.lock().attempts.remove(&(account.to_owned(), client.to_owned()));
        Ok(())
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut st = self.lock();
        let n = st.attempts.len();
        st.attempts.retain(|_, (began, _)| *began > before);
        Ok((n - st.attempts.len()) as u64)
    }
}

#[async_trait]
impl crate::ports::AuditCheckpoints for MemoryStore {
    async fn checkpoint(&self, user_id: UserId) -> Result<Option<crate::ports::AuditCheckpoint>> {
        Ok(self.lock().audit_checkpoints.get(&user_id).cloned())
    }

    async fn save_checkpoint(
        &self,
        user_id: UserId,
        checkpoint: &crate::ports::AuditCheckpoint,
        _at: DateTime<Utc>,
    ) -> Result<()> {
        let mut st = self.lock();
        let keep = st.audit_checkpoints.get(&user_id).is_some_and(|c| c.seq > checkpoint.seq);
        if !keep {
            st.audit_checkpoints.insert(user_id, checkpoint.clone());
        }
        Ok(())
    }
}

#[async_trait]
impl crate::ports::LlmBudget for MemoryStore {
    async fn take_call(&self, user_id: UserId, day: chrono::NaiveDate, limit: u32) -> Result<bool> {
        let mut st = self.lock();
        let calls = st.llm_calls.entry((user_id, day)).or_insert(0);
        if *calls >= limit {
            return Ok(false);
        }
        *calls += 1;
        Ok(true)
    }
}

#[async_trait]
impl EventLog for MemoryStore {
    fn topic_names(&self) -> &TopicNames {
        &self.topics
    }

    async fn subscribe(&self, group: &str, topics: &[String], start: StartFrom) -> Result<Box<dyn Subscription>> {
        let mut st = self.lock();
        let mut position = HashMap::new();
        for name in topics {
            let end = st.topic_len.get(name).copied().unwrap_or(0);
            let key = (group.to_owned(), name.clone());
            let at = *st.committed.entry(key).or_insert(match start {
                StartFrom::Earliest => 0,
                StartFrom::Latest => end,
            });
            position.insert(name.clone(), at);
        }
        Ok(Box::new(MemorySubscription {
            store: self.clone(),
            group: group.to_owned(),
            position,
            delivered: Vec::new(),
        }))
    }

    async fn append(&self, topic: &str, key: Option<&str>, payload: &[u8], headers: &[(String, String)]) -> Result<()> {
        self.append_raw(topic, key.map(str::to_owned), payload.to_vec(), headers.to_vec());
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}

struct MemorySubscription {
    store: MemoryStore,
    group: String,
    /// Next offset to read, per topic.
    position: HashMap<String, i64>,
    /// `(topic, offset)` of the records delivered since the last commit, in order.
    delivered: Vec<(String, i64)>,
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> Result<Record> {
        loop {
            let notified = self.store.appended.notified();
            {
                let st = self.store.lock();
                // The oldest unread record across the subscribed topics, in append order.
                let found =
                    st.log.iter().find(|r| self.position.get(&r.topic).is_some_and(|p| r.offset >= *p)).cloned();
                if let Some(r) = found {
                    self.position.insert(r.topic.clone(), r.offset + 1);
                    self.delivered.push((r.topic.clone(), r.offset));
                    return Ok(r);
                }
            }
            notified.await;
        }
    }

    async fn commit(&mut self, record: &Record) -> Result<()> {
        let mut st = self.store.lock();
        let key = (self.group.clone(), record.topic.clone());
        let at = st.committed.entry(key).or_insert(0);
        *at = (*at).max(record.offset + 1);
        if let Some(i) = self.delivered.iter().position(|(t, o)| *t == record.topic && *o == record.offset) {
            self.delivered.drain(..=i);
        }
        Ok(())
    }

    /// Every topic's next offset after the records delivered up to `record`.
    fn checkpoint(&self, record: &Record) -> Option<Checkpoint> {
        let end = self.delivered.iter().position(|(t, o)| *t == record.topic && *o == record.offset)?;
        let mut next: Vec<(String, i64)> = Vec::new();
        for (topic, offset) in &self.delivered[..=end] {
            match next.iter_mut().find(|(t, _)| t == topic) {
                Some((_, n)) => *n = (*n).max(offset + 1),
                None => next.push((topic.clone(), offset + 1)),
            }
        }
        Some(Checkpoint::new(self.store.log_id.0, self.group.clone(), next))
    }

    async fn lag(&mut self) -> Result<Option<u64>> {
        let st = self.store.lock();
        let behind = st.log.iter().filter(|r| self.position.get(&r.topic).is_some_and(|p| r.offset >= *p)).count();
        Ok(Some((behind + self.delivered.len()) as u64))
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append(&self, event: &CloudEvent, recorded_at: DateTime<Utc>) -> Result<AuditEntry> {
        let mut st = self.lock();
        // An event id is recorded once in the whole trail, whichever user it names.
        if st.audit.values().flatten().any(|e| e.event_id == event.id) {
            return Err(Error::Duplicate(format!("audit/{}", event.id)));
        }
        let chain = st.audit.entry(event.userid).or_default();
        let json = serde_json::to_value(event).map_err(Error::internal)?;
        let prev_hash = chain.last().map_or_else(|| GENESIS_HASH.to_owned(), |e| e.hash.clone());
        let entry = AuditEntry {
            seq: chain.len() as i64 + 1,
            user_id: event.userid,
            event_id: event.id,
            event_type: event.ty.clone(),
            task_id: event.subject.as_deref().and_then(|s| s.parse().ok()),
            occurred_at: truncate_micros(event.time),
            recorded_at: truncate_micros(recorded_at),
            hash: chain_hash(&prev_hash, &canonical_json(&json)),
            prev_hash,
            event: json,
        };
        chain.push(entry.clone());
        Ok(entry)
    }

    async fn append_batch(
        &self,
        events: &[CloudEvent],
        recorded_at: DateTime<Utc>,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<usize> {
        let mut st = self.lock();
        let mut recorded: HashSet<EventId> = st.audit.values().flatten().map(|e| e.event_id).collect();
        let mut appended = 0;
        for event in events {
            if !recorded.insert(event.id) {
                continue;
            }
            let json = serde_json::to_value(event).map_err(Error::internal)?;
            let chain = st.audit.entry(event.userid).or_default();
            let prev_hash = chain.last().map_or_else(|| GENESIS_HASH.to_owned(), |e| e.hash.clone());
            chain.push(AuditEntry {
                seq: chain.len() as i64 + 1,
                user_id: event.userid,
                event_id: event.id,
                event_type: event.ty.clone(),
                task_id: event.subject.as_deref().and_then(|s| s.parse().ok()),
                occurred_at: truncate_micros(event.time),
                recorded_at: truncate_micros(recorded_at),
                hash: chain_hash(&prev_hash, &canonical_json(&json)),
                prev_hash,
                event: json,
            });
            appended += 1;
        }
        let stored = self.store_checkpoint(&mut st, checkpoint);
        drop(st);
        if let Some(cp) = stored {
            cp.mark_stored();
        }
        Ok(appended)
    }

    async fn list(&self, q: &AuditQuery) -> Result<AuditPage> {
        let st = self.lock();
        let items: Vec<AuditEntry> = st
            .audit
            .get(&q.user_id)
            .into_iter()
            .flatten()
            .rev()
            .filter(|e| q.before_seq.is_none_or(|b| e.seq < b))
            .filter(|e| q.task_id.is_none_or(|t| e.task_id == Some(t)))
            .filter(|e| q.event_type.as_ref().is_none_or(|t| &e.event_type == t))
            .take(q.limit as usize + 1)
            .cloned()
            .collect();
        Ok(AuditPage::cut(items, q.limit, |e| e.seq.to_string()))
    }

    async fn chain(&self, user_id: UserId, after_seq: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let st = self.lock();
        Ok(st
            .audit
            .get(&user_id)
            .into_iter()
            .flatten()
            .filter(|e| e.seq > after_seq)
            .take(limit as usize)
            .cloned()
            .collect())
    }
}

impl MemoryStore {
    /// Replaces a stored audit entry (for tamper-detection tests).
    pub fn tamper_audit(&self, user_id: UserId, seq: i64, f: impl FnOnce(&mut AuditEntry)) {
        let mut st = self.lock();
        if let Some(e) = st.audit.get_mut(&user_id).and_then(|c| c.iter_mut().find(|e| e.seq == seq)) {
            f(e);
        }
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
            let stands = st
                .tasks
                .get(&r.task_id)
                .is_some_and(|t| t.user_id == r.user_id && t.is_pending() && t.remind_at == Some(r.remind_at));
            if let Some(s) = st.reminders.get_mut(&r.task_id) {
                s.state = if stands { ReminderState::Fired } else { ReminderState::Cancelled };
            }
            if !stands {
                continue;
            }
            let (ev, n) = crate::service::notification::fire(events, &r, now);
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

#[async_trait]
impl SavedFilterStore for MemoryStore {
    async fn create(&self, f: &SavedFilter) -> Result<()> {
        let mut st = self.lock();
        let key = f.name.key();
        if st.saved_filters.contains_key(&f.id) {
            return Err(Error::Conflict(format!("filter {} exists", f.id)));
        }
        if st.saved_filters.values().any(|g| g.user_id == f.user_id && g.name.key() == key) {
            return Err(Error::Conflict(format!("you have a filter named {:?}", f.name.as_str())));
        }
        st.saved_filters.insert(f.id, f.clone());
        Ok(())
    }

    async fn get(&self, user_id: UserId, id: FilterId) -> Result<Option<SavedFilter>> {
        Ok(self.lock().saved_filters.get(&id).filter(|f| f.user_id == user_id).cloned())
    }

    async fn list(&self, user_id: UserId) -> Result<Vec<SavedFilter>> {
        let mut out: Vec<SavedFilter> =
            self.lock().saved_filters.values().filter(|f| f.user_id == user_id).cloned().collect();
        out.sort_by_key(|f| (f.name.key(), f.id));
        Ok(out)
    }

    async fn update(&self, f: &SavedFilter) -> Result<()> {
        let mut st = self.lock();
        if st.saved_filters.get(&f.id).is_none_or(|g| g.user_id != f.user_id) {
            return Err(Error::NotFound("filter"));
        }
        let key = f.name.key();
        if st.saved_filters.values().any(|g| g.user_id == f.user_id && g.id != f.id && g.name.key() == key) {
            return Err(Error::Conflict(format!("you have a filter named {:?}", f.name.as_str())));
        }
        if let Some(g) = st.saved_filters.get_mut(&f.id) {
            g.name = f.name.clone();
            g.query = f.query.clone();
            g.updated_at = f.updated_at;
        }
        Ok(())
    }

    async fn delete(&self, user_id: UserId, id: FilterId) -> Result<()> {
        let mut st = self.lock();
        match st.saved_filters.get(&id) {
            Some(f) if f.user_id == user_id => {
                st.saved_filters.remove(&id);
                Ok(())
            }
            _ => Err(Error::NotFound("filter")),
        }
    }
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn create(&self, c: &Conversation) -> Result<()> {
        let mut st = self.lock();
        if st.conversations.contains_key(&c.id) {
            return Err(Error::Conflict(format!("conversation {} exists", c.id)));
        }
        let stored = Conversation {
            created_at: truncate_micros(c.created_at),
            updated_at: truncate_micros(c.updated_at),
            ..c.clone()
        };
        st.conversations.insert(c.id, stored);
        Ok(())
    }

    async fn get(&self, user_id: UserId, id: ConversationId) -> Result<Option<Conversation>> {
        Ok(self.lock().conversations.get(&id).filter(|c| c.user_id == user_id).cloned())
    }

    async fn save(&self, c: &Conversation) -> Result<()> {
        let mut st = self.lock();
        match st.conversations.get_mut(&c.id) {
            Some(cur) if cur.user_id == c.user_id => {
                cur.last_listing = c.last_listing.clone();
                cur.context = c.context.clone();
                cur.version = c.version;
                cur.updated_at = truncate_micros(c.updated_at);
                Ok(())
            }
            _ => Err(Error::NotFound("conversation")),
        }
    }

    async fn append(&self, user_id: UserId, m: &Message) -> Result<Message> {
        let mut st = self.lock();
        if st.conversations.get(&m.conversation_id).is_none_or(|c| c.user_id != user_id) {
            return Err(Error::NotFound("conversation"));
        }
        let list = st.messages.entry(m.conversation_id).or_default();
        let stored = Message { seq: list.len() as i64 + 1, created_at: truncate_micros(m.created_at), ..m.clone() };
        list.push(stored.clone());
        Ok(stored)
    }

    async fn messages(&self, user_id: UserId, id: ConversationId, after_seq: i64, limit: u32) -> Result<Vec<Message>> {
        let st = self.lock();
        if st.conversations.get(&id).is_none_or(|c| c.user_id != user_id) {
            return Err(Error::NotFound("conversation"));
        }
        Ok(st
            .messages
            .get(&id)
            .into_iter()
            .flatten()
            .filter(|m| m.seq > after_seq)
            .take(limit as usize)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl crate::ports::ApiTokenStore for MemoryStore {
    async fn create_token(&self, token: &crate::domain::ApiToken) -> Result<()> {
        let mut s = self.lock();
        if s.api_tokens.contains_key(&token.id) || s.api_tokens.values().any(|t| t.hash == token.hash) {
            return Err(Error::Conflict(format!("token {} exists", token.id)));
        }
        s.api_tokens.insert(token.id, token.clone());
        Ok(())
    }

    async fn tokens(&self, user_id: UserId) -> Result<Vec<crate::domain::ApiToken>> {
        let mut out: Vec<_> = self.lock().api_tokens.values().filter(|t| t.user_id == user_id).cloned().collect();
        out.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id)));
        Ok(out)
    }

    async fn token_by_hash(&self, hash: &crate::domain::SecretHash) -> Result<Option<crate::domain::ApiToken>> {
        Ok(self.lock().api_tokens.values().find(|t| &t.hash == hash).cloned())
    }

    async fn revoke_token(&self, user_id: UserId, id: crate::domain::TokenId) -> Result<bool> {
        let mut s = self.lock();
        match s.api_tokens.get(&id) {
            Some(t) if t.user_id == user_id => Ok(s.api_tokens.remove(&id).is_some()),
            _ => Ok(false),
        }
    }

    async fn touch_token(&self, id: crate::domain::TokenId, at: DateTime<Utc>) -> Result<()> {
        if let Some(t) = self.lock().api_tokens.get_mut(&id) {
            t.last_used_at = Some(at);
        }
        Ok(())
    }
}

#[async_trait]
impl crate::ports::CalendarFeedStore for MemoryStore {
    async fn put_feed(&self, feed: &crate::domain::CalendarFeed) -> Result<()> {
        let mut s = self.lock();
        if s.calendar_feeds.values().any(|f| f.hash == feed.hash && f.user_id != feed.user_id) {
            return Err(Error::Conflict("a feed with this secret exists".into()));
        }
        s.calendar_feeds.insert(feed.user_id, feed.clone());
        Ok(())
    }

    async fn feed(&self, user_id: UserId) -> Result<Option<crate::domain::CalendarFeed>> {
        Ok(self.lock().calendar_feeds.get(&user_id).cloned())
    }

    async fn feed_by_hash(&self, hash: &crate::domain::SecretHash) -> Result<Option<crate::domain::CalendarFeed>> {
        Ok(self.lock().calendar_feeds.values().find(|f| &f.hash == hash).cloned())
    }

    async fn delete_feed(&self, user_id: UserId) -> Result<bool> {
        Ok(self.lock().calendar_feeds.remove(&user_id).is_some())
    }
}
