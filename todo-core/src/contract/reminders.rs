//! The reminder-store contract: the schedule keeps the newest task version, a
//! reminder fires once at its time (never before, never twice), cancelled and
//! moved reminders never fire for the old time, firing checks the task itself
//! (completed, deleted or moved tasks get nothing), fired reminders are listed
//! newest first with a cursor, each firing appends its `todo.reminder.due.v1`
//! event to the store's event log, and the webhook outbox leases, retries, expires
//! leases and gives up.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::domain::{EventId, Notification, Status, Task, TaskId, TaskTitle, UserId};
use crate::events::{CloudEvent, EventFactory, EventType, ReminderData, ReminderDueData, Topic};
use crate::ports::{Change, Ports, Record, ScheduleChange, TaskWrite, WebhookTarget};

/// The source of the reminder events the contracts make.
const SOURCE: &str = "/contract/notification";

/// Gives the ports of a fresh, empty store (one fixture per contract).
#[async_trait]
pub trait ReminderFixture: Send + Sync {
    /// The ports of a fresh, empty store.
    async fn open(&self) -> Ports;
}

/// Runs every contract of this module, each on a fresh fixture from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn ReminderFixture>>,
{
    fires_once_at_its_time(&*make().await).await;
    lateness_is_flagged(&*make().await).await;
    cancelled_before_its_time_never_fires(&*make().await).await;
    moved_fires_only_at_the_new_time(&*make().await).await;
    stale_versions_are_ignored(&*make().await).await;
    fired_stays_fired(&*make().await).await;
    the_task_must_still_want_it(&*make().await).await;
    batches_take_the_earliest(&*make().await).await;
    many_changes_in_one_apply(&*make().await).await;
    notifications_newest_first_with_cursor(&*make().await).await;
    webhook_deliveries_lease_retry_and_end(&*make().await).await;
}

fn t0() -> DateTime<Utc> {
    "2026-11-26T09:00:00Z".parse().expect("an RFC 3339 instant")
}

fn minutes(n: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(n)
}

fn factory() -> EventFactory {
    EventFactory::new(SOURCE)
}

/// A pending task of `user` due an hour after t0, reminding at `remind_at`.
fn task(user: UserId, title: &str, remind_at: DateTime<Utc>) -> Task {
    Task {
        due_at: Some(minutes(60)),
        remind_at: Some(remind_at),
        ..super::pending_task(user, title, t0() - Duration::days(1))
    }
}

/// The reminder of `t` as its events carry it.
fn reminder(t: &Task) -> ReminderData {
    ReminderData {
        task_id: t.id,
        title: t.title.to_string(),
        due_at: t.due_at,
        remind_at: t.remind_at.expect("a task with a reminder"),
        user_id: t.user_id,
        task_version: t.version,
    }
}

async fn insert(p: &Ports, t: &Task) {
    p.tasks.commit(Change { writes: vec![TaskWrite::Insert(t.clone())], ..Change::default() }).await.expect("insert");
}

/// Stores `after` over `before` (one version later).
async fn update(p: &Ports, before: &Task, after: &Task) {
    let write = TaskWrite::Update { task: after.clone(), expected_version: before.version };
    p.tasks.commit(Change { writes: vec![write], ..Change::default() }).await.expect("update");
}

/// `t` at its next version, changed by `f`.
fn next_version(t: &Task, f: impl FnOnce(&mut Task)) -> Task {
    let mut next = t.clone();
    next.version += 1;
    next.updated_at += Duration::seconds(1);
    f(&mut next);
    next
}

/// A task with a reminder, stored and scheduled.
async fn scheduled(p: &Ports, user: UserId, title: &str, remind_at: DateTime<Utc>) -> Task {
    let t = task(user, title, remind_at);
    insert(p, &t).await;
    p.reminders.upsert(&reminder(&t)).await.expect("upsert");
    t
}

async fn fire(p: &Ports, now: DateTime<Utc>) -> Vec<Notification> {
    p.reminders.fire_due(now, 100, &factory(), None).await.expect("fire_due")
}

/// Hundreds of schedule changes in one `apply` (a consumer's batch), a task's
/// upsert and then its cancel among them: every change lands, in order.
async fn many_changes_in_one_apply(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let user = UserId::new();
    let mut tasks = Vec::new();
    for i in 0..300 {
        let t = task(user, &format!("t{i}"), minutes(i % 7));
        insert(&p, &t).await;
        tasks.push(t);
    }
    let mut changes: Vec<ScheduleChange> = tasks.iter().map(|t| ScheduleChange::Upsert(reminder(t))).collect();
    for t in tasks.iter().step_by(2) {
        changes.push(ScheduleChange::Cancel(ReminderData { task_version: t.version + 1, ..reminder(t) }));
    }
    p.reminders.apply(&changes, None).await.expect("apply");
    let fired: HashSet<TaskId> = p
        .reminders
        .fire_due(minutes(10), 1000, &factory(), None)
        .await
        .expect("fire_due")
        .iter()
        .map(|n| n.task_id)
        .collect();
    let expected: HashSet<TaskId> = tasks.iter().skip(1).step_by(2).map(|t| t.id).collect();
    assert_eq!(fired, expected, "the odd tasks fire; the even ones were cancelled after their upsert");
}

fn task_ids(ns: &[Notification]) -> Vec<TaskId> {
    ns.iter().map(|n| n.task_id).collect()
}

/// Every `todo.reminder.due.v1` record in the store's log so far, in log order: read
/// up to a sentinel committed now.
async fn due_records(p: &Ports) -> Vec<Record> {
    let records = super::records_so_far(&*p.tasks, &*p.log, &[Topic::TaskUpdates], SOURCE, t0()).await;
    records.into_iter().filter(|rec| rec.header("ce_type") == Some(EventType::ReminderDue.as_str())).collect()
}

/// Asserts that `record` is the `todo.reminder.due.v1` event of `n` and returns it.
fn assert_due_event(p: &Ports, record: &Record, n: &Notification) -> CloudEvent {
    assert_eq!(record.topic, p.log.topic_names().name(Topic::TaskUpdates), "on task-updates");
    assert_eq!(record.key, Some(n.user_id.to_string()), "keyed by user");
    assert_eq!(record.header("ce_type"), Some(EventType::ReminderDue.as_str()));
    assert_eq!(record.header("ce_id"), Some(n.id.to_string().as_str()), "the event id is the notification id");
    let ev = CloudEvent::from_json_bytes(&record.payload).expect("a CloudEvent");
    assert_eq!(ev.id, n.id);
    assert_eq!(ev.source, SOURCE, "made by the given factory");
    assert_eq!(ev.ty, EventType::ReminderDue.as_str());
    assert_eq!(ev.subject, Some(n.task_id.to_string()));
    assert_eq!(ev.userid, n.user_id);
    assert_eq!(ev.time, n.fired_at);
    let data: ReminderDueData = serde_json::from_value(ev.data.clone()).expect("reminder.due data");
    assert_eq!(
        data,
        ReminderDueData {
            task_id: n.task_id,
            title: n.title.clone(),
            due_at: n.due_at,
            remind_at: n.remind_at,
            user_id: n.user_id,
            fired_at: n.fired_at,
            late: n.late,
        }
    );
    ev
}

/// Not a microsecond early; at its time exactly once, with its notification and
/// its event in the log; then nothing more, however often or late one looks.
pub async fn fires_once_at_its_time(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let user = UserId::new();
    let t = scheduled(&p, user, "pay rent", minutes(10)).await;
    assert_eq!(p.reminders.next_due().await.expect("next_due"), Some(minutes(10)));
    assert!(fire(&p, minutes(10) - Duration::microseconds(1)).await.is_empty(), "not before its time");
    let fired = fire(&p, minutes(10)).await;
    assert_eq!(fired.len(), 1, "fires at its time");
    let n = &fired[0];
    assert_eq!(
        (n.user_id, n.task_id, n.title.as_str(), n.due_at, n.remind_at, n.fired_at, n.late),
        (user, t.id, "pay rent", t.due_at, minutes(10), minutes(10), false)
    );
    assert!(fire(&p, minutes(10)).await.is_empty(), "fired once");
    assert!(fire(&p, minutes(600)).await.is_empty(), "and never again");
    assert_eq!(p.reminders.next_due().await.expect("next_due"), None, "nothing scheduled");
    assert_eq!(p.reminders.notifications(user, 10, None).await.expect("notifications"), fired);
    assert!(p.reminders.notifications(UserId::new(), 10, None).await.expect("notifications").is_empty());
    let records = due_records(&p).await;
    assert_eq!(records.len(), 1, "one reminder.due event");
    assert_due_event(&p, &records[0], n);
}

/// `late` when fired more than a second after `remind_at`, in the notification
/// and in the event.
pub async fn lateness_is_flagged(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let user = UserId::new();
    let now = minutes(30);
    let on_time = scheduled(&p, user, "one second late", now - Duration::seconds(1)).await;
    let late = scheduled(&p, user, "a microsecond later", now - Duration::seconds(1) - Duration::microseconds(1)).await;
    let fired = fire(&p, now).await;
    assert_eq!(task_ids(&fired), [late.id, on_time.id], "earliest first");
    assert!(fired[0].late, "more than a second after remind_at is late");
    assert!(!fired[1].late, "exactly a second is not late");
    let records = due_records(&p).await;
    assert_eq!(records.len(), 2);
    for (r, n) in records.iter().zip(&fired) {
        assert_due_event(&p, r, n);
    }
}

/// A reminder cancelled before its time (the task lost its reminder) never fires.
pub async fn cancelled_before_its_time_never_fires(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let t = scheduled(&p, UserId::new(), "cancel me", minutes(10)).await;
    let without = next_version(&t, |t| t.remind_at = None);
    update(&p, &t, &without).await;
    p.reminders.cancel(&ReminderData { task_version: without.version, ..reminder(&t) }).await.expect("cancel");
    assert_eq!(p.reminders.next_due().await.expect("next_due"), None);
    assert!(fire(&p, minutes(10)).await.is_empty());
    assert!(fire(&p, minutes(60 * 24)).await.is_empty(), "never");
    assert!(due_records(&p).await.is_empty());
}

/// A reminder moved to a later time fires only at the new time, also when the
/// schedule still holds the old time when that comes (the task table says it moved).
pub async fn moved_fires_only_at_the_new_time(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let user = UserId::new();
    // Moved, and the schedule heard of it in time.
    let a = scheduled(&p, user, "moved early", minutes(10)).await;
    let a2 = next_version(&a, |t| t.remind_at = Some(minutes(20)));
    update(&p, &a, &a2).await;
    p.reminders.upsert(&reminder(&a2)).await.expect("upsert");
    assert_eq!(p.reminders.next_due().await.expect("next_due"), Some(minutes(20)));
    // Moved, but the schedule hears of it only after the old time.
    let b = scheduled(&p, user, "moved late", minutes(10)).await;
    let b2 = next_version(&b, |t| t.remind_at = Some(minutes(25)));
    update(&p, &b, &b2).await;

    assert!(fire(&p, minutes(10)).await.is_empty(), "nothing fires for the old time");
    p.reminders.upsert(&reminder(&b2)).await.expect("upsert");
    assert!(fire(&p, minutes(15)).await.is_empty());
    let fired = fire(&p, minutes(20)).await;
    assert_eq!(task_ids(&fired), [a.id]);
    assert_eq!(fired[0].remind_at, minutes(20));
    let fired = fire(&p, minutes(25)).await;
    assert_eq!(task_ids(&fired), [b.id]);
    assert_eq!(fired[0].remind_at, minutes(25));
    assert!(fire(&p, minutes(100)).await.is_empty());
    assert_eq!(due_records(&p).await.len(), 2);
}

/// Reminders of older task versions than the stored one change nothing: a stale
/// schedule after a newer cancel, a stale time after a newer move.
pub async fn stale_versions_are_ignored(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let user = UserId::new();
    let a = scheduled(&p, user, "cancelled at v2", minutes(10)).await;
    let a2 = next_version(&a, |t| t.remind_at = None);
    update(&p, &a, &a2).await;
    p.reminders.cancel(&ReminderData { task_version: 2, ..reminder(&a) }).await.expect("cancel");
    p.reminders.upsert(&reminder(&a)).await.expect("a redelivered v1 schedule");

    let b = scheduled(&p, user, "moved twice", minutes(10)).await;
    let b2 = next_version(&b, |t| t.remind_at = Some(minutes(20)));
    let b3 = next_version(&b2, |t| t.remind_at = Some(minutes(30)));
    update(&p, &b, &b2).await;
    update(&p, &b2, &b3).await;
    p.reminders.upsert(&reminder(&b3)).await.expect("upsert v3");
    p.reminders.upsert(&reminder(&b2)).await.expect("v2 arrives late");
    p.reminders.cancel(&ReminderData { task_version: 1, ..reminder(&b) }).await.expect("a stale cancel");

    // A cancel of a task never scheduled keeps its version: the schedule that
    // arrives after it, older, is ignored.
    let c = task(user, "cancel first", minutes(5));
    insert(&p, &c).await;
    p.reminders.cancel(&ReminderData { task_version: 2, ..reminder(&c) }).await.expect("cancel");
    p.reminders.upsert(&reminder(&c)).await.expect("older schedule");

    assert_eq!(p.reminders.next_due().await.expect("next_due"), Some(minutes(30)), "only v3 of b is scheduled");
    assert!(fire(&p, minutes(29)).await.is_empty());
    assert_eq!(task_ids(&fire(&p, minutes(30)).await), [b.id]);
    assert!(fire(&p, minutes(100)).await.is_empty());
}

/// A reminder that fired stays fired when its schedule comes again with the same
/// time: redelivered, or at a newer version that changed something else (a new
/// title). A newer version with a new time schedules it again.
pub async fn fired_stays_fired(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let t = scheduled(&p, UserId::new(), "once", minutes(10)).await;
    assert_eq!(fire(&p, minutes(10)).await.len(), 1);
    p.reminders.upsert(&reminder(&t)).await.expect("redelivered");
    assert!(fire(&p, minutes(11)).await.is_empty(), "a redelivery does not fire it again");
    let renamed = next_version(&t, |t| t.title = TaskTitle::parse("once, renamed").expect("title"));
    update(&p, &t, &renamed).await;
    p.reminders.upsert(&reminder(&renamed)).await.expect("renamed after it fired");
    assert_eq!(p.reminders.next_due().await.expect("next_due"), None);
    assert!(fire(&p, minutes(12)).await.is_empty(), "a rename does not deliver it twice");
    let snoozed = next_version(&renamed, |t| t.remind_at = Some(minutes(40)));
    update(&p, &renamed, &snoozed).await;
    p.reminders.upsert(&reminder(&snoozed)).await.expect("snoozed");
    let fired = fire(&p, minutes(40)).await;
    assert_eq!(task_ids(&fired), [t.id], "a new time fires again");
    assert_eq!(fired[0].title, "once, renamed");
    assert_eq!(due_records(&p).await.len(), 2);
}

/// At firing time the task itself decides: a completed, deleted or moved task (or
/// one now reminding at another time) gets no notification, and its reminder is
/// done; the others in the same batch fire.
pub async fn the_task_must_still_want_it(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let user = UserId::new();
    let done = scheduled(&p, user, "completed", minutes(10)).await;
    let completed = next_version(&done, |t| {
        t.status = Status::Completed;
        t.completed_at = Some(minutes(5));
    });
    update(&p, &done, &completed).await;
    let gone = scheduled(&p, user, "deleted", minutes(10)).await;
    p.tasks
        .commit(Change {
            writes: vec![TaskWrite::Delete { user_id: user, id: gone.id, expected_version: 1 }],
            ..Change::default()
        })
        .await
        .expect("delete");
    let unknown = task(user, "never stored", minutes(10));
    p.reminders.upsert(&reminder(&unknown)).await.expect("upsert");
    let cleared = scheduled(&p, user, "reminder removed", minutes(10)).await;
    let without = next_version(&cleared, |t| t.remind_at = None);
    update(&p, &cleared, &without).await;
    let keeps = scheduled(&p, user, "still pending", minutes(10)).await;

    let fired = fire(&p, minutes(10)).await;
    assert_eq!(task_ids(&fired), [keeps.id], "only the task that still wants its reminder");
    assert_eq!(p.reminders.next_due().await.expect("next_due"), None, "the others are done, not pending");
    assert!(fire(&p, minutes(100)).await.is_empty());
    let records = due_records(&p).await;
    assert_eq!(records.len(), 1);
    assert_due_event(&p, &records[0], &fired[0]);
    assert_eq!(p.reminders.notifications(user, 10, None).await.expect("notifications"), fired);

    // The skipped reminder, redelivered, stays skipped.
    p.reminders.upsert(&reminder(&done)).await.expect("redelivered");
    assert!(fire(&p, minutes(101)).await.is_empty());
}

/// A batch holds the `limit` earliest due reminders; the rest follow.
pub async fn batches_take_the_earliest(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let user = UserId::new();
    let mut tasks = Vec::new();
    for n in (1..=5).rev() {
        tasks.push(scheduled(&p, user, &format!("task {n}"), minutes(n)).await);
    }
    tasks.reverse();
    let mut got = Vec::new();
    for expected in [2, 2, 1, 0] {
        let batch = p.reminders.fire_due(minutes(10), 2, &factory(), None).await.expect("fire_due");
        assert_eq!(batch.len(), expected, "batches of at most the limit");
        got.extend(task_ids(&batch));
    }
    assert_eq!(got, tasks.iter().map(|t| t.id).collect::<Vec<_>>(), "earliest first");
}

/// A user's notifications, newest first by `(fired_at, id)`; a page continues after
/// the previous page's last id; another user's (or an unknown) id continues nothing.
pub async fn notifications_newest_first_with_cursor(f: &dyn ReminderFixture) {
    let p = f.open().await;
    let (user, other) = (UserId::new(), UserId::new());
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for (round, count) in [(1, 2), (2, 1), (3, 3)] {
        for i in 0..count {
            scheduled(&p, user, &format!("mine {round}.{i}"), minutes(round)).await;
            scheduled(&p, other, &format!("theirs {round}.{i}"), minutes(round)).await;
        }
        for n in fire(&p, minutes(round) + Duration::seconds(round)).await {
            if n.user_id == user { mine.push(n) } else { theirs.push(n) }
        }
    }
    let mut expected = mine.clone();
    expected.sort_by_key(|n| std::cmp::Reverse((n.fired_at, n.id)));
    let all = p.reminders.notifications(user, 100, None).await.expect("notifications");
    assert_eq!(all, expected, "newest first by (fired_at, id), only the user's");
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = p.reminders.notifications(user, 2, before).await.expect("notifications");
        assert!(page.len() <= 2);
        match page.last() {
            Some(last) => before = Some(last.id),
            None => break,
        }
        paged.extend(page);
    }
    assert_eq!(paged, expected, "pages neither skip nor repeat");
    assert_eq!(p.reminders.notifications(user, 100, Some(expected[2].id)).await.expect("page"), expected[3..]);
    let foreign = p.reminders.notifications(user, 100, Some(theirs[0].id)).await.expect("notifications");
    assert!(foreign.is_empty(), "another user's id is no cursor here");
    let unknown = p.reminders.notifications(user, 100, Some(EventId::new())).await.expect("notifications");
    assert!(unknown.is_empty());
}

/// Deliveries are queued only with a target; a claim leases them (attempts + 1);
/// a failure with a retry time keeps them from claims until then; an expired lease
/// is claimed again; a delivered or given-up one is never claimed again.
pub async fn webhook_deliveries_lease_retry_and_end(f: &dyn ReminderFixture) {
    const LEASE: i64 = 30;
    let p = f.open().await;
    let user = UserId::new();
    let hook = WebhookTarget { url: "https://hooks.example.com/todo".into() };
    scheduled(&p, user, "no hook", minutes(1)).await;
    assert_eq!(fire(&p, minutes(1)).await.len(), 1);
    assert!(
        p.reminders.claim_webhooks(minutes(100), 10, LEASE).await.expect("claim").is_empty(),
        "no target, no queue"
    );

    scheduled(&p, user, "hooked", minutes(2)).await;
    scheduled(&p, user, "given up", minutes(2)).await;
    let now = minutes(2);
    let fired = p.reminders.fire_due(now, 10, &factory(), Some(&hook)).await.expect("fire_due");
    assert_eq!(fired.len(), 2);
    let claimed = p.reminders.claim_webhooks(now, 10, LEASE).await.expect("claim");
    let mut claimed_ids: Vec<EventId> = claimed.iter().map(|d| d.id).collect();
    claimed_ids.sort();
    let mut fired_ids: Vec<EventId> = fired.iter().map(|n| n.id).collect();
    fired_ids.sort();
    assert_eq!(claimed_ids, fired_ids, "one delivery per fired reminder, keyed by its notification id");
    let records = due_records(&p).await;
    for d in &claimed {
        assert_eq!(d.url, hook.url);
        assert_eq!(d.attempts, 1, "the claim counts the attempt");
        let body = CloudEvent::from_json_bytes(d.body.as_bytes()).expect("the body is the event");
        assert_eq!(body.id, d.id);
        let record = records.iter().find(|r| r.header("ce_id") == Some(d.id.to_string().as_str())).expect("in log");
        assert_eq!(d.body.as_bytes(), record.payload.as_slice(), "the body is the logged event, byte for byte");
    }
    let (retried, abandoned) = (fired[0].id, fired[1].id);
    assert!(p.reminders.claim_webhooks(now, 10, LEASE).await.expect("claim").is_empty(), "leased");

    p.reminders.webhook_failed(retried, "HTTP 503", Some(now + Duration::seconds(10))).await.expect("failed");
    p.reminders.webhook_failed(abandoned, "HTTP 410", None).await.expect("gave up");
    assert!(
        p.reminders
            .claim_webhooks(now + Duration::seconds(10) - Duration::microseconds(1), 10, LEASE)
            .await
            .expect("claim")
            .is_empty(),
        "not before the retry time"
    );
    let again = p.reminders.claim_webhooks(now + Duration::seconds(10), 10, LEASE).await.expect("claim");
    assert_eq!(
        again.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(),
        [(retried, 2)],
        "retried, not the given-up one"
    );
    // The sender crashed: no outcome is recorded, the lease runs out.
    let lease_end = now + Duration::seconds(10 + LEASE);
    assert!(p.reminders.claim_webhooks(lease_end - Duration::seconds(1), 10, LEASE).await.expect("claim").is_empty());
    let again = p.reminders.claim_webhooks(lease_end, 10, LEASE).await.expect("claim");
    assert_eq!(
        again.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(),
        [(retried, 3)],
        "an expired lease is claimed again"
    );
    p.reminders.webhook_delivered(retried).await.expect("delivered");
    p.reminders.webhook_failed(retried, "late failure report", Some(lease_end)).await.expect("failed after delivery");
    assert!(
        p.reminders.claim_webhooks(minutes(60 * 24 * 30), 10, LEASE).await.expect("claim").is_empty(),
        "delivered and given-up deliveries are never claimed again"
    );

    // Claims take at most `limit`, the longest waiting first.
    let later = minutes(200);
    for i in 0..3 {
        scheduled(&p, user, &format!("queue {i}"), later).await;
    }
    let batch = p.reminders.fire_due(later, 10, &factory(), Some(&hook)).await.expect("fire_due");
    assert_eq!(batch.len(), 3);
    let first = p.reminders.claim_webhooks(later, 2, LEASE).await.expect("claim");
    let second = p.reminders.claim_webhooks(later, 2, LEASE).await.expect("claim");
    assert_eq!((first.len(), second.len()), (2, 1));
    let ids: HashSet<EventId> = first.iter().chain(&second).map(|d| d.id).collect();
    assert_eq!(ids, batch.iter().map(|n| n.id).collect::<HashSet<_>>(), "each claimed once");
}
