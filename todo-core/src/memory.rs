//! In-memory adapters of every port, for tests (feature `test-util`). They
//! implement the same contracts as the SQL and Kafka adapters and are held to
//! them by the same contract tests.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::Notify;

use crate::domain::{Email, Task, TaskId, TaskPage, TaskQuery, User, UserId};
use crate::events::{Topic, TopicNames};
use crate::ports::{
    Change, Clock, EventLog, LoginAttempts, Record, StartFrom, Subscription, TaskRepository, TaskWrite, UserRepository,
    truncate_micros,
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
    failures: HashMap<String, Vec<DateTime<Utc>>>,
    /// The log: every record ever appended, in order; offsets are indexes per topic.
    log: Vec<Record>,
    topic_len: HashMap<String, i64>,
    /// Committed position (next offset to read) per (group, topic).
    committed: HashMap<(String, String), i64>,
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

    /// Appends a raw record (for tests of poison records).
    pub fn append_raw(&self, topic: &str, key: Option<String>, payload: Vec<u8>, headers: Vec<(String, String)>) {
        let mut st = self.lock();
        append(&mut st, topic, key, payload, headers);
        drop(st);
        self.appended.notify_waiters();
    }
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
        st.tasks = tasks;
        st.claims.extend(claims);
        for e in &change.events {
            let topic = self.topics.name(e.topic);
            let headers =
                vec![("ce_type".to_owned(), e.event.ty.clone()), ("ce_id".to_owned(), e.event.id.to_string())];
            append(&mut st, &topic, Some(e.key.clone()), e.payload(), headers);
        }
        drop(st);
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
    async fn record_failure(&self, account: &str, at: DateTime<Utc>) -> Result<()> {
        self.lock().failures.entry(account.to_owned()).or_default().push(at);
        Ok(())
    }

    async fn failures_since(&self, account: &str, since: DateTime<Utc>) -> Result<Vec<DateTime<Utc>>> {
        let st = self.lock();
        let mut v: Vec<_> = st.failures.get(account).into_iter().flatten().copied().filter(|t| *t >= since).collect();
        v.sort();
        Ok(v)
    }

    async fn clear(&self, account: &str) -> Result<()> {
        self.lock().failures.remove(account);
        Ok(())
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
        Ok(Box::new(MemorySubscription { store: self.clone(), group: group.to_owned(), position }))
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
        Ok(())
    }
}
