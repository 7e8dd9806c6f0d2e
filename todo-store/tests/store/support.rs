//! Shared test helpers: temporary directories, fresh PostgreSQL databases, and
//! checks that both backends must pass.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::contract::audit::{self, AuditFixture};
use todo_core::contract::checkpoint;
use todo_core::contract::conversations::{self, ConversationFixture};
use todo_core::contract::credentials::{self, CredentialFixture};
use todo_core::contract::limits::{self, LimitFixture};
use todo_core::contract::reminders::{self, ReminderFixture};
use todo_core::domain::{Task, TaskId, UserId};
use todo_core::events::{CloudEvent, EventFactory, EventType, ReminderData, Topic};
use todo_core::ports::{AuditStore, Change, ConversationStore, EventLog, Ports, StartFrom, TaskWrite};

pub use todo_store::testing::{PgDb, TempDir};

fn n_of(payload: &[u8]) -> String {
    String::from_utf8_lossy(payload).into_owned()
}

/// One active member per consumer group: a second subscriber waits as a standby
/// until the first goes away, then resumes from the group's committed position.
pub async fn groups_are_exclusive(log: Arc<dyn EventLog>) {
    let topic = log.topic_names().name(Topic::TaskUpdates);
    for n in 0..3 {
        log.append(&topic, Some("k"), format!("{n}").as_bytes(), &[]).await.expect("append");
    }
    let topics = std::slice::from_ref(&topic);
    let wait = Duration::from_secs(20);
    let mut first = log.subscribe("exclusive", topics, StartFrom::Earliest).await.expect("subscribe");
    let r0 = tokio::time::timeout(wait, first.next()).await.expect("record 0 arrives").expect("read");
    assert_eq!(n_of(&r0.payload), "0");
    first.commit(&r0).await.expect("commit");
    let r1 = tokio::time::timeout(wait, first.next()).await.expect("record 1 arrives").expect("read");
    assert_eq!(n_of(&r1.payload), "1");

    let mut second = log.subscribe("exclusive", topics, StartFrom::Earliest).await.expect("subscribe a standby");
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), second.next()).await.is_err(),
        "a second member must wait while the first is active"
    );
    drop(first);
    let r = tokio::time::timeout(wait, second.next()).await.expect("the standby takes over").expect("read");
    assert_eq!(n_of(&r.payload), "1", "the standby resumes after the committed record");
}

/// `writers` tasks append `per_writer` records each (30% of them holding their
/// transaction open 0 to 50 ms before the commit) while a consumer reads and
/// commits: every record must arrive exactly once, each writer's in order. Returns
/// the measured figures.
pub async fn concurrent_appends(store: todo_store::Store, writers: usize, per_writer: usize) -> String {
    use rand::{Rng, SeedableRng};

    let log = store.event_log();
    let topic = log.topic_names().name(Topic::TaskUpdates);
    let total = writers * per_writer;
    let consumer = {
        let (log, topic) = (log.clone(), topic.clone());
        tokio::spawn(async move {
            let mut sub = log.subscribe("concurrent", &[topic], StartFrom::Earliest).await.expect("subscribe");
            let mut expected = vec![0usize; writers];
            for _ in 0..total {
                let r = tokio::time::timeout(Duration::from_secs(60), sub.next())
                    .await
                    .expect("every record arrives")
                    .expect("read");
                let text = n_of(&r.payload);
                let (w, n) = text.split_once(':').expect("writer:n");
                let (w, n): (usize, usize) = (w.parse().expect("writer"), n.parse().expect("n"));
                assert_eq!(
                    n, expected[w],
                    "writer {w}: record {n} arrived where {} was due: a record was skipped, repeated or reordered",
                    expected[w]
                );
                expected[w] += 1;
                sub.commit(&r).await.expect("commit");
            }
            sub
        })
    };
    let started = std::time::Instant::now();
    let mut handles = Vec::new();
    for w in 0..writers {
        let (store, topic) = (store.clone(), topic.clone());
        handles.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(w as u64);
            for n in 0..per_writer {
                let hold =
                    if rng.gen_bool(0.3) { Duration::from_millis(rng.gen_range(0..=50)) } else { Duration::ZERO };
                let payload = format!("{w}:{n}");
                store.append_holding(&topic, payload.as_bytes(), hold).await.expect("append");
            }
        }));
    }
    for h in handles {
        h.await.expect("writer");
    }
    let written = started.elapsed();
    let mut sub = tokio::time::timeout(Duration::from_secs(120), consumer)
        .await
        .expect("the consumer reads every record")
        .expect("consumer");
    let read = started.elapsed();
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), sub.next()).await.is_err(),
        "nothing is delivered beyond the appended records"
    );
    format!(
        "{total} appends by {writers} writers in {written:.2?} ({:.0} appends/s); all read {:.2?} after the start",
        total as f64 / written.as_secs_f64(),
        read
    )
}

/// One store under the contracts of the audit trail, the reminders and the
/// conversations (every `open` hands out its ports), with what keeps its database
/// alive (a temporary directory, a test database).
pub struct StoreFixture {
    pub store: todo_store::Store,
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

impl StoreFixture {
    /// Connects to `url` (migrated) and keeps `keep` as long as the fixture lives.
    pub async fn connect(url: &str, keep: impl std::any::Any + Send + Sync) -> Self {
        let store = todo_store::connect(url).await.expect("connect");
        store.migrate().await.expect("migrate");
        Self { store, _keep: Box::new(keep) }
    }
}

/// The audit, reminder and conversation contract suites, each test on a fresh
/// store from `fresh`.
pub async fn meets_the_store_contracts<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = StoreFixture>,
{
    audit::run_all(|| async { Box::new(fresh().await) as Box<dyn AuditFixture> }).await;
    checkpoint::run_all(|| async {
        let f = fresh().await;
        (f.store.ports(), f)
    })
    .await;
    reminders::run_all(|| async { Box::new(fresh().await) as Box<dyn ReminderFixture> }).await;
    conversations::run_all(|| async { Box::new(fresh().await) as Box<dyn ConversationFixture> }).await;
    limits::run_all(|| async { Box::new(fresh().await) as Box<dyn LimitFixture> }).await;
    credentials::run_all(|| async { Box::new(fresh().await) as Box<dyn CredentialFixture> }).await;
}

#[async_trait]
impl CredentialFixture for StoreFixture {
    async fn open(&self) -> Ports {
        self.store.ports()
    }
}

#[async_trait]
impl LimitFixture for StoreFixture {
    async fn open(&self) -> Ports {
        self.store.ports()
    }
}

#[async_trait]
impl AuditFixture for StoreFixture {
    async fn open(&self) -> Arc<dyn AuditStore> {
        self.store.audit()
    }

    async fn tamper(&self, user_id: UserId, seq: i64, event_text: &str) {
        let changed = self.store.tamper_audit_event(user_id, seq, event_text).await.expect("tamper");
        assert_eq!(changed, 1, "the tamper hook changed entry {seq}");
    }
}

#[async_trait]
impl ReminderFixture for StoreFixture {
    async fn open(&self) -> Ports {
        self.store.ports()
    }
}

#[async_trait]
impl ConversationFixture for StoreFixture {
    async fn open(&self) -> Arc<dyn ConversationStore> {
        self.store.conversations()
    }
}

/// `n` pending tasks of `users` users, each reminding at `at` and scheduled.
pub async fn schedule_tasks(store: &todo_store::Store, users: usize, n: usize, at: DateTime<Utc>) -> Vec<Task> {
    let (tasks, reminders) = (store.tasks(), store.reminders());
    let users: Vec<UserId> = (0..users).map(|_| UserId::new()).collect();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut t: Task = serde_json::from_value(serde_json::json!({
            "id": TaskId::new(), "user_id": users[i % users.len()], "title": format!("task {i}"),
            "status": "pending", "priority": "medium", "due_at": at, "remind_at": at, "recurrence": null,
            "series_id": null, "created_at": at, "updated_at": at, "completed_at": null, "version": 1
        }))
        .expect("a task");
        t.remind_at = Some(at);
        tasks.commit(Change { writes: vec![TaskWrite::Insert(t.clone())], ..Change::default() }).await.expect("insert");
        let r = ReminderData {
            task_id: t.id,
            title: t.title.to_string(),
            due_at: t.due_at,
            remind_at: at,
            user_id: t.user_id,
            task_version: t.version,
        };
        reminders.upsert(&r).await.expect("schedule");
        out.push(t);
    }
    out
}

/// Appends `n` events for `users` users one after another; returns appends per second.
pub async fn audit_appends_per_sec(store: &todo_store::Store, users: usize, n: usize) -> f64 {
    let audit = store.audit();
    let users: Vec<UserId> = (0..users).map(|_| UserId::new()).collect();
    let now = Utc::now();
    let started = std::time::Instant::now();
    for i in 0..n {
        let e = CloudEvent::new(
            "/bench",
            EventType::TaskChanged,
            None,
            now,
            users[i % users.len()],
            serde_json::json!({ "n": i }),
        );
        audit.append(&e, now).await.expect("append");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Fires every reminder due at `at`, `batch` at a time, until none is left;
/// returns how many fired and the seconds it took.
pub async fn fire_all_due(store: &todo_store::Store, at: DateTime<Utc>, batch: u32) -> (usize, f64) {
    let started = std::time::Instant::now();
    let mut fired = 0;
    loop {
        let fired_now = store.reminders().fire_due(at, batch, &EventFactory::new("/test"), None).await.expect("fire");
        if fired_now.is_empty() {
            break;
        }
        fired += fired_now.len();
    }
    (fired, started.elapsed().as_secs_f64())
}
