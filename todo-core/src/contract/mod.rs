//! Contract test suites every adapter of a port must pass (feature `test-util`).
//! Each adapter crate runs them against its own adapters: memory, SQLite,
//! PostgreSQL, Kafka. A failing contract panics with a message naming the rule.

pub mod audit;
pub mod checkpoint;
pub mod conversations;
pub mod credentials;
pub mod event_log;
pub mod filters;
pub mod limits;
pub mod reminders;
pub mod saved_filters;
pub mod task_repo;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::{Description, EventId, Priority, RepeatFrom, Status, Tags, Task, TaskId, TaskTitle, UserId};
use crate::events::{CloudEvent, EventType, OutboxEvent, Topic};
use crate::ports::{Change, EventLog, Record, StartFrom, TaskRepository};

/// How long a contract waits for a record before declaring it lost.
const WAIT: Duration = Duration::from_secs(30);

/// A pending task of `user` titled `title`, created at `at` (version 1), with
/// nothing else set: no due date, reminder, tags or recurrence.
fn pending_task(user: UserId, title: &str, at: DateTime<Utc>) -> Task {
    Task {
        id: TaskId::new(),
        user_id: user,
        title: TaskTitle::parse(title).expect("title"),
        description: Description::default(),
        status: Status::Pending,
        priority: Priority::Medium,
        tags: Tags::default(),
        due_at: None,
        all_day: false,
        remind_at: None,
        recurrence: None,
        repeat_from: RepeatFrom::Due,
        series_id: None,
        created_at: at,
        updated_at: at,
        completed_at: None,
        version: 1,
    }
}

/// Every record on `topics` of the store's `log` so far, in log order: what earlier
/// commits appended, read up to a sentinel event (of `source`, at `time`) that
/// `tasks` commits now through the same outbox.
async fn records_so_far(
    tasks: &dyn TaskRepository,
    log: &dyn EventLog,
    topics: &[Topic],
    source: &str,
    time: DateTime<Utc>,
) -> Vec<Record> {
    let sentinel = OutboxEvent {
        topic: Topic::TaskUpdates,
        key: "sentinel".into(),
        event: CloudEvent::new(source, EventType::TaskChanged, None, time, UserId::new(), serde_json::json!({})),
    };
    let sentinel_id = sentinel.event.id.to_string();
    tasks.commit(Change { events: vec![sentinel], ..Change::default() }).await.expect("commit the sentinel");
    let topics: Vec<String> = topics.iter().map(|t| log.topic_names().name(*t)).collect();
    let group = format!("contract-{}", EventId::new());
    let mut sub = log.subscribe(&group, &topics, StartFrom::Earliest).await.expect("subscribe");
    let mut out = Vec::new();
    loop {
        let rec = tokio::time::timeout(WAIT, sub.next()).await.expect("the sentinel arrives").expect("read the log");
        if rec.header("ce_id") == Some(sentinel_id.as_str()) {
            return out;
        }
        out.push(rec);
    }
}
