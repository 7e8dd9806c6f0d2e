//! The reactive services over the in-memory adapters: recurrence, reminders, audit.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use todo_core::consumer::{self, EventHandler, RetryPolicy};
use todo_core::domain::{Email, Recurrence, Status, TaskQuery, TaskTitle, Timezone, User, UserId};
use todo_core::events::{EventFactory, Topic};
use todo_core::memory::{ManualClock, MemoryStore};
use todo_core::ports::{EventLog, UserRepository};
use todo_core::service::audit::{AuditRecorder, AuditService};
use todo_core::service::notification::{ReminderHandler, ReminderScheduler};
use todo_core::service::recurring::RecurringTaskHandler;
use todo_core::service::{NewTask, TaskService};
use tokio_util::sync::CancellationToken;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

struct World {
    store: Arc<MemoryStore>,
    clock: ManualClock,
    tasks: TaskService,
    user: UserId,
}

async fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at("2026-11-26T09:00:00Z");
    let user = User {
        id: UserId::new(),
        email: Email::parse("ada@example.com").unwrap(),
        password_hash: String::new(),
        timezone: Timezone::default(),
        created_at: clock.now(),
    };
    store.create(&user).await.unwrap();
    let tasks = TaskService::new(store.clone(), store.clone(), Arc::new(clock.clone()), EventFactory::new("/test"));
    World { store, clock, tasks, user: user.id }
}

use todo_core::ports::Clock;

/// Runs `handler` over every record of `topic` appended so far, each delivered twice.
async fn deliver_twice(w: &World, handler: &dyn EventHandler, topic: Topic, from: usize) -> usize {
    let records = w.store.records(topic);
    let token = CancellationToken::new();
    for r in &records[from..] {
        for _ in 0..2 {
            consumer::process(&*w.store as &dyn EventLog, handler, "test", r, RetryPolicy::default(), &token)
                .await
                .unwrap();
        }
    }
    records.len()
}

#[tokio::test]
async fn last_friday_of_the_month_three_times_with_duplicate_deliveries() {
    let w = world().await;
    let first = w
        .tasks
        .create(
            w.user,
            NewTask {
                due_at: Some(at("2026-11-27T00:00:00Z")),
                all_day: Some(true),
                recurrence: Some(Recurrence::parse("FREQ=MONTHLY;BYDAY=-1FR").unwrap()),
                ..NewTask::titled(TaskTitle::parse("clean the fridge").unwrap())
            },
        )
        .await
        .unwrap();
    let recurring_tasks = TaskService::new(
        w.store.clone(),
        w.store.clone(),
        Arc::new(w.clock.clone()),
        EventFactory::new("/todo/recurring-task"),
    );
    let handler = RecurringTaskHandler::new(recurring_tasks);
    let mut current = first;
    let mut seen = 0;
    let mut dues = vec![];
    for _ in 0..3 {
        w.tasks.complete(w.user, current.id, None).await.unwrap();
        seen = deliver_twice(&w, &handler, Topic::TaskEvents, seen).await;
        let pending = w.tasks.list(&TaskQuery::new(w.user, w.clock.now())).await.unwrap().items;
        assert_eq!(pending.len(), 1, "exactly one next occurrence");
        current = pending[0].clone();
        assert_eq!(
            current.series_id,
            w.store.all_tasks().iter().find(|t| t.status == Status::Completed).unwrap().series_id
        );
        dues.push(current.due_at.unwrap());
    }
    assert_eq!(dues, [at("2026-12-25T00:00:00Z"), at("2027-01-29T00:00:00Z"), at("2027-02-26T00:00:00Z")]);
    assert_eq!(w.store.all_tasks().len(), 4);
}

#[tokio::test]
async fn reminders_fire_once_and_not_after_completion() {
    let w = world().await;
    let wake = Arc::new(tokio::sync::Notify::new());
    let handler = ReminderHandler::new(w.store.clone(), wake.clone());
    let scheduler = ReminderScheduler::new(
        w.store.clone(),
        Arc::new(w.clock.clone()),
        EventFactory::new("/todo/notification"),
        None,
        wake,
        Arc::new(tokio::sync::Notify::new()),
    );
    let remind = |title: &str, at_: &str| NewTask {
        due_at: Some(at(at_) + Duration::minutes(15)),
        remind_at: Some(at(at_)),
        ..NewTask::titled(TaskTitle::parse(title).unwrap())
    };
    w.tasks.create(w.user, remind("call mom", "2026-11-26T10:00:00Z")).await.unwrap();
    let done = w.tasks.create(w.user, remind("done early", "2026-11-26T10:00:00Z")).await.unwrap();
    let moved = w.tasks.create(w.user, remind("moved", "2026-11-26T10:00:00Z")).await.unwrap();
    w.tasks.complete(w.user, done.id, None).await.unwrap();
    let patch =
        todo_core::service::TaskPatch { remind_at: Some(Some(at("2026-11-26T11:00:00Z"))), ..Default::default() };
    w.tasks.update(w.user, moved.id, patch, None).await.unwrap();
    deliver_twice(&w, &handler, Topic::Reminders, 0).await;

    assert!(scheduler.tick().await.unwrap().is_empty(), "nothing is due at 09:00");
    w.clock.set(at("2026-11-26T10:00:00Z"));
    let fired = scheduler.tick().await.unwrap();
    assert_eq!(fired.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["call mom"]);
    assert!(!fired[0].late);
    assert!(scheduler.tick().await.unwrap().is_empty(), "fires once");
    w.clock.set(at("2026-11-26T11:00:05Z"));
    let fired = scheduler.tick().await.unwrap();
    assert_eq!(fired.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["moved"]);
    assert!(fired[0].late, "five seconds after its time is late");
    let due_events = w
        .store
        .records(Topic::TaskUpdates)
        .iter()
        .filter(|r| r.header("ce_type") == Some("todo.reminder.due.v1"))
        .count();
    assert_eq!(due_events, 2);
}

#[tokio::test]
async fn audit_records_everything_once_and_detects_tampering() {
    let w = world().await;
    let t = w.tasks.create(w.user, NewTask::titled(TaskTitle::parse("a").unwrap())).await.unwrap();
    w.tasks.complete(w.user, t.id, None).await.unwrap();
    w.tasks.delete(w.user, t.id, None).await.unwrap();
    let recorder = AuditRecorder::new(w.store.clone(), Arc::new(w.clock.clone()));
    let mut total = 0;
    for topic in Topic::ALL {
        total += deliver_twice(&w, &recorder, topic, 0).await;
    }
    let audit = AuditService::new(w.store.clone());
    let report = audit.verify(w.user).await.unwrap();
    assert!(report.ok);
    assert_eq!(report.entries_checked as usize, total);
    w.store.tamper_audit(w.user, 2, |e| e.event["data"]["title"] = serde_json::json!("forged"));
    let report = audit.verify(w.user).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad.unwrap().seq, 2);
    // Another user's chain is empty and fine.
    assert!(audit.verify(UserId::new()).await.unwrap().ok);
}
