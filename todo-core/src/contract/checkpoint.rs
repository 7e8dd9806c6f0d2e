//! The checkpoint contract, for a store that holds its own event log: a consumer
//! group's [`Checkpoint`] handed to a write commits in that write's transaction
//! (task changes, audit batches, schedule changes), is marked stored, and moves
//! the group's position exactly there; a write that fails leaves the position
//! where it was; a checkpoint of another log is left to its consumer.

use chrono::Utc;

use crate::Error;
use crate::domain::UserId;
use crate::events::{CloudEvent, EventType, OutboxEvent, ReminderData, Topic};
use crate::ports::{Change, Checkpoint, Ports, ProcessedKey, Record, ScheduleChange, StartFrom, Subscription};

use super::WAIT;

/// Runs every contract of this module, each on a fresh store from `make`; each
/// store is dropped (with what keeps it) when its contract ends.
pub async fn run_all<K, F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (Ports, K)>,
{
    let (s, _keep) = make().await;
    a_change_commits_its_checkpoint(s).await;
    let (s, _keep) = make().await;
    an_audit_batch_commits_its_checkpoint(s).await;
    let (s, _keep) = make().await;
    schedule_changes_commit_their_checkpoint(s).await;
    let (s, _keep) = make().await;
    a_failed_write_leaves_the_position(s).await;
    let (s, _keep) = make().await;
    foreign_checkpoints_are_left(s).await;
}

fn event(user: UserId, n: usize) -> OutboxEvent {
    let ev =
        CloudEvent::new("/contract", EventType::TaskChanged, None, Utc::now(), user, serde_json::json!({ "n": n }));
    OutboxEvent { topic: Topic::TaskUpdates, key: user.to_string(), event: ev }
}

fn n_of(r: &Record) -> u64 {
    let ev = CloudEvent::from_json_bytes(&r.payload).expect("contract records are events");
    ev.data["n"].as_u64().expect("n")
}

/// Commits records `from..to` on `task-updates`.
async fn append(s: &Ports, user: UserId, from: usize, to: usize) {
    let events = (from..to).map(|n| event(user, n)).collect();
    s.tasks.commit(Change { events, ..Change::default() }).await.expect("append");
}

async fn next(sub: &mut dyn Subscription) -> Record {
    tokio::time::timeout(WAIT, sub.next()).await.expect("a record arrives").expect("read")
}

/// Subscribes `group`, appends 5 records and reads 3: the checkpoint after the third.
async fn three_read(s: &Ports, group: &str) -> (Box<dyn Subscription>, Checkpoint) {
    let topic = s.log.topic_names().name(Topic::TaskUpdates);
    let mut sub = s.log.subscribe(group, &[topic], StartFrom::Earliest).await.expect("subscribe");
    append(s, UserId::new(), 0, 5).await;
    let mut last = None;
    for n in 0..3 {
        let r = next(&mut *sub).await;
        assert_eq!(n_of(&r), n);
        last = Some(r);
    }
    let cp = sub.checkpoint(&last.expect("three records")).expect("a log of the store gives checkpoints");
    assert!(!cp.is_stored());
    (sub, cp)
}

/// The number of the first record a fresh member of `group` gets.
async fn resumes_at(s: &Ports, group: &str, sub: Box<dyn Subscription>) -> u64 {
    drop(sub);
    let topic = s.log.topic_names().name(Topic::TaskUpdates);
    let mut again = s.log.subscribe(group, &[topic], StartFrom::Earliest).await.expect("subscribe again");
    n_of(&next(&mut *again).await)
}

/// A change with a checkpoint commits it: marked stored, the group resumes after it.
pub async fn a_change_commits_its_checkpoint(s: Ports) {
    let (sub, cp) = three_read(&s, "cp-change").await;
    let change = Change { checkpoint: Some(cp.clone()), ..Change::default() };
    s.tasks.commit(change).await.expect("commit with the checkpoint");
    assert!(cp.is_stored(), "a store that holds the log stores the checkpoint");
    assert_eq!(resumes_at(&s, "cp-change", sub).await, 3, "the group resumes right after the checkpoint");
}

/// An audit batch commits its checkpoint, appending each event once (events
/// recorded before and repeats within the batch are skipped), in order per user.
pub async fn an_audit_batch_commits_its_checkpoint(s: Ports) {
    let (sub, cp) = three_read(&s, "cp-audit").await;
    let (a, b) = (UserId::new(), UserId::new());
    let events: Vec<CloudEvent> = (0..6).map(|n| event(if n % 2 == 0 { a } else { b }, n).event).collect();
    s.audit.append(&events[0], Utc::now()).await.expect("one recorded before");
    let mut batch = events.clone();
    batch.push(events[3].clone());
    let appended = s.audit.append_batch(&batch, Utc::now(), Some(&cp)).await.expect("append the batch");
    assert_eq!(appended, 5, "events recorded before and repeats are skipped");
    assert!(cp.is_stored());
    for (user, expected) in [(a, vec![0, 2, 4]), (b, vec![1, 3, 5])] {
        let chain = s.audit.chain(user, 0, 100).await.expect("chain");
        let ns: Vec<u64> = chain.iter().map(|e| e.event["data"]["n"].as_u64().expect("n")).collect();
        assert_eq!(ns, expected, "each user's chain in batch order");
        let seqs: Vec<i64> = chain.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3]);
    }
    assert_eq!(resumes_at(&s, "cp-audit", sub).await, 3);
}

/// Schedule changes commit their checkpoint, applied in order.
pub async fn schedule_changes_commit_their_checkpoint(s: Ports) {
    let (sub, cp) = three_read(&s, "cp-schedule").await;
    let task = crate::domain::TaskId::new();
    let at = Utc::now() + chrono::Duration::hours(1);
    let r = |v: i64| ReminderData {
        task_id: task,
        title: "t".into(),
        due_at: None,
        remind_at: at,
        user_id: UserId::new(),
        task_version: v,
    };
    let changes = vec![ScheduleChange::Upsert(r(1)), ScheduleChange::Cancel(r(2))];
    s.reminders.apply(&changes, Some(&cp)).await.expect("apply");
    assert!(cp.is_stored());
    assert_eq!(s.reminders.next_due().await.expect("next due"), None, "the later cancel wins");
    assert_eq!(resumes_at(&s, "cp-schedule", sub).await, 3);
}

/// A change that fails (here: a key claimed before) stores nothing, its
/// checkpoint included.
pub async fn a_failed_write_leaves_the_position(s: Ports) {
    let (sub, cp) = three_read(&s, "cp-failed").await;
    let key = ProcessedKey::new("contract", "once");
    s.tasks.commit(Change { claims: vec![key.clone()], ..Change::default() }).await.expect("first claim");
    let res = s.tasks.commit(Change { claims: vec![key], checkpoint: Some(cp.clone()), ..Change::default() }).await;
    assert!(matches!(res, Err(Error::Duplicate(_))), "{res:?}");
    assert!(!cp.is_stored());
    assert_eq!(resumes_at(&s, "cp-failed", sub).await, 0, "the position did not move");
}

/// A checkpoint of another log is not this store's to store: the write commits,
/// the checkpoint stays unstored for its consumer to commit.
pub async fn foreign_checkpoints_are_left(s: Ports) {
    let (sub, cp) = three_read(&s, "cp-foreign").await;
    let foreign = Checkpoint::new(u64::MAX, cp.group.clone(), cp.position.clone());
    s.tasks
        .commit(Change {
            events: vec![event(UserId::new(), 99)],
            checkpoint: Some(foreign.clone()),
            ..Change::default()
        })
        .await
        .expect("commit");
    assert!(!foreign.is_stored());
    assert_eq!(resumes_at(&s, "cp-foreign", sub).await, 0, "the position did not move");
}
