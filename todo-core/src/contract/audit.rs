//! The audit-store contract: one hash chain per user (`seq` from 1 without gaps,
//! `prev_hash` linking each entry to the one before, `hash` recomputable from the
//! stored event), an event id recorded once, listings newest first with filters
//! and a cursor, appends serialised per user under concurrency, stored events that
//! come back exactly as hashed, and tampering that verification reports.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::Error;
use crate::domain::audit::{ChainVerifier, GENESIS_HASH, canonical_json, chain_hash};
use crate::domain::{AuditEntry, AuditQuery, TaskId, UserId, VerifyReport};
use crate::events::{CloudEvent, EventType};
use crate::ports::AuditStore;
use crate::service::audit::AuditService;

/// Gives a fresh, empty audit store, and tampers with it behind its back.
#[async_trait]
pub trait AuditFixture: Send + Sync {
    /// The store under test (every call reaches the same storage).
    async fn open(&self) -> Arc<dyn AuditStore>;

    /// Replaces the stored event of entry `seq` of `user_id` with `event_text` (any
    /// text, not necessarily JSON), going around every guard of the store, as an
    /// attacker with write access to the storage would.
    async fn tamper(&self, user_id: UserId, seq: i64, event_text: &str);
}

/// Runs every contract of this module, each on a fresh fixture from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn AuditFixture>>,
{
    appends_build_a_chain(&*make().await).await;
    events_come_back_as_hashed(&*make().await).await;
    an_event_is_recorded_once(&*make().await).await;
    chains_are_per_user(&*make().await).await;
    listing_filters_and_pages(&*make().await).await;
    concurrent_appends_are_serialised(&*make().await).await;
    tampering_is_reported(&*make().await).await;
}

fn t0() -> DateTime<Utc> {
    "2026-11-26T09:00:00Z".parse().expect("an RFC 3339 instant")
}

/// An event of `ty` about `task` (its subject) for `user`, `n` seconds after t0.
fn event(user: UserId, ty: EventType, task: Option<TaskId>, n: i64) -> CloudEvent {
    CloudEvent::new(
        "/contract",
        ty,
        task.map(|t| t.to_string()),
        t0() + Duration::seconds(n) + Duration::microseconds(123_456),
        user,
        json!({ "n": n, "task_id": task }),
    )
}

async fn verify(store: &Arc<dyn AuditStore>, user: UserId) -> VerifyReport {
    AuditService::new(store.clone()).verify(user).await.expect("verify")
}

async fn whole_chain(store: &dyn AuditStore, user: UserId) -> Vec<AuditEntry> {
    store.chain(user, 0, 10_000).await.expect("chain")
}

/// Entries get `seq` 1, 2, 3..., link by hash from the genesis hash, carry the
/// event's id, type, subject (as a task id when it is one) and time, and read back
/// equal; the chain verifies.
pub async fn appends_build_a_chain(f: &dyn AuditFixture) {
    let store = f.open().await;
    let user = UserId::new();
    let task = TaskId::new();
    let recorded = t0() + Duration::minutes(5) + Duration::microseconds(7);
    let events = [
        event(user, EventType::TaskCreated, Some(task), 1),
        event(user, EventType::ReminderScheduled, Some(task), 2),
        CloudEvent { subject: Some("not-a-task-id".into()), ..event(user, EventType::TaskChanged, None, 3) },
        event(user, EventType::TaskDeleted, None, 4),
    ];
    let mut entries = Vec::new();
    let mut prev = GENESIS_HASH.to_owned();
    for (i, e) in events.iter().enumerate() {
        let entry = store.append(e, recorded).await.expect("append");
        let json = serde_json::to_value(e).expect("event JSON");
        assert_eq!(entry.seq, i as i64 + 1, "seq counts from 1 without gaps");
        assert_eq!(entry.user_id, user);
        assert_eq!(entry.event_id, e.id);
        assert_eq!(entry.event_type, e.ty);
        assert_eq!(entry.occurred_at, e.time, "occurred_at is the event's time");
        assert_eq!(entry.recorded_at, recorded);
        assert_eq!(entry.event, json, "the whole CloudEvent is recorded");
        assert_eq!(entry.prev_hash, prev, "entry {} links to the previous hash", entry.seq);
        assert_eq!(entry.hash, chain_hash(&prev, &canonical_json(&json)), "hash = sha256(prev || canonical event)");
        prev = entry.hash.clone();
        entries.push(entry);
    }
    assert_eq!(entries[0].task_id, Some(task), "the subject is the task id");
    assert_eq!(entries[1].task_id, Some(task));
    assert_eq!(entries[2].task_id, None, "a subject that is no task id gives none");
    assert_eq!(entries[3].task_id, None, "no subject, no task id");
    assert_eq!(whole_chain(&*store, user).await, entries, "the chain reads back what append returned");
    assert_eq!(store.chain(user, 2, 10).await.expect("chain"), entries[2..].to_vec(), "after_seq");
    assert_eq!(store.chain(user, 0, 2).await.expect("chain"), entries[..2].to_vec(), "limit");
    assert!(store.chain(user, 4, 10).await.expect("chain").is_empty());
    let mut verifier = ChainVerifier::default();
    whole_chain(&*store, user).await.iter().for_each(|e| verifier.check(e));
    assert_eq!(verifier.report(), VerifyReport { ok: true, entries_checked: 4, first_bad: None, from_checkpoint: 0 });
    assert!(verify(&store, user).await.ok, "the audit service agrees");
    assert_eq!(verify(&store, UserId::new()).await.entries_checked, 0, "an empty chain verifies");
}

/// The stored event is exactly what was hashed: awkward JSON (floats at the edges
/// of precision, big integers, escapes, non-ASCII, nesting, key order) comes back
/// with the same canonical form, so verification recomputes the same hash.
pub async fn events_come_back_as_hashed(f: &dyn AuditFixture) {
    let store = f.open().await;
    let user = UserId::new();
    let data = json!({
        "z": 0.1, "a": 1e-7, "max": 1.7976931348623157e308, "min": 5e-324, "third": 0.333_333_333_333_333_3,
        "neg_zero": -0.0, "i": -9_007_199_254_740_993_i64, "u": u64::MAX, "exp": 1.5e300,
        "text": "Äpfel \"quoted\" \\ back\nslash \u{0007} 🍐 </script>",
        "nested": {"b": [3, 2, {"y": null, "x": true}], "a": {}}, "empty": [],
    });
    let e = CloudEvent::new("/contract", EventType::TaskUpdated, None, t0(), user, data);
    let appended = store.append(&e, t0()).await.expect("append");
    let expected = canonical_json(&serde_json::to_value(&e).expect("event JSON"));
    let stored = whole_chain(&*store, user).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(canonical_json(&stored[0].event), expected, "the stored event is byte-identical to the hashed one");
    assert_eq!(stored[0], appended);
    assert!(verify(&store, user).await.ok, "verification recomputes the same hash");
}

/// A second append of an event id is `Duplicate` and records nothing, even when
/// the copy names another user; the chain goes on without a gap.
pub async fn an_event_is_recorded_once(f: &dyn AuditFixture) {
    let store = f.open().await;
    let (a, b) = (UserId::new(), UserId::new());
    let first = event(a, EventType::TaskCreated, Some(TaskId::new()), 1);
    store.append(&first, t0()).await.expect("append");
    let again = store.append(&first, t0() + Duration::seconds(1)).await;
    assert!(matches!(again, Err(Error::Duplicate(_))), "the same event again: {again:?}");
    let forged = CloudEvent { userid: b, ..first.clone() };
    let res = store.append(&forged, t0()).await;
    assert!(matches!(res, Err(Error::Duplicate(_))), "the same event id for another user: {res:?}");
    assert!(whole_chain(&*store, b).await.is_empty(), "nothing was recorded for the other user");
    let second = store.append(&event(a, EventType::TaskCompleted, None, 2), t0()).await.expect("append");
    assert_eq!(second.seq, 2, "the failed appends took no seq");
    assert_eq!(whole_chain(&*store, a).await.len(), 2);
    assert!(verify(&store, a).await.ok);
}

/// Each user has a chain of their own, interleaved appends notwithstanding; one
/// user's listing and chain never show another's entries.
pub async fn chains_are_per_user(f: &dyn AuditFixture) {
    let store = f.open().await;
    let (a, b) = (UserId::new(), UserId::new());
    for n in 0..6 {
        let user = if n % 3 == 0 { b } else { a };
        store.append(&event(user, EventType::TaskChanged, None, n), t0()).await.expect("append");
    }
    let (ca, cb) = (whole_chain(&*store, a).await, whole_chain(&*store, b).await);
    assert_eq!(ca.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(cb.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(cb[0].prev_hash, GENESIS_HASH, "every user's chain starts at the genesis hash");
    assert!(ca.iter().all(|e| e.user_id == a) && cb.iter().all(|e| e.user_id == b));
    let page = store.list(&query(b, 100)).await.expect("list");
    assert_eq!(page.items.len(), 2, "b lists only b's entries");
    assert!(verify(&store, a).await.ok && verify(&store, b).await.ok);
}

fn query(user: UserId, limit: u32) -> AuditQuery {
    AuditQuery { user_id: user, task_id: None, event_type: None, limit, before_seq: None }
}

/// Pages newest first (by `seq`), filtered by task and by type, continued by the
/// cursor (the last `seq` of the page, absent on the last page).
pub async fn listing_filters_and_pages(f: &dyn AuditFixture) {
    let store = f.open().await;
    let (user, other) = (UserId::new(), UserId::new());
    let (t1, t2) = (TaskId::new(), TaskId::new());
    let plan = [
        (EventType::TaskCreated, Some(t1)),
        (EventType::TaskCreated, Some(t2)),
        (EventType::TaskUpdated, Some(t1)),
        (EventType::ReminderScheduled, Some(t1)),
        (EventType::TaskCompleted, Some(t2)),
        (EventType::TaskUpdated, Some(t1)),
        (EventType::TaskChanged, None),
    ];
    let mut all = Vec::new();
    for (n, (ty, task)) in plan.iter().enumerate() {
        all.push(store.append(&event(user, *ty, *task, n as i64), t0()).await.expect("append"));
        store.append(&event(other, *ty, *task, n as i64), t0()).await.expect("append for another user");
    }
    let newest_first: Vec<AuditEntry> = all.iter().rev().cloned().collect();
    let pages = |q: AuditQuery| {
        let store = store.clone();
        async move {
            let mut q = q;
            let mut got = Vec::new();
            loop {
                let page = store.list(&q).await.expect("list");
                assert!(page.items.len() <= q.limit as usize, "a page holds at most `limit` entries");
                got.extend(page.items.clone());
                match page.next_cursor {
                    Some(c) => {
                        assert_eq!(Some(c.clone()), page.items.last().map(|e| e.seq.to_string()), "cursor = last seq");
                        q.before_seq = Some(c.parse().expect("a seq"));
                    }
                    None => return got,
                }
            }
        }
    };
    assert_eq!(pages(query(user, 3)).await, newest_first, "pages of 3, newest first");
    assert_eq!(pages(query(user, 7)).await, newest_first, "one full page");
    let exact = store.list(&query(user, 7)).await.expect("list");
    assert_eq!(exact.next_cursor, None, "no cursor when nothing follows");
    let first = store.list(&query(user, 2)).await.expect("list");
    assert_eq!(first.items, newest_first[..2].to_vec());
    assert_eq!(first.next_cursor.as_deref(), Some("6"));

    let by_task = AuditQuery { task_id: Some(t1), ..query(user, 2) };
    let want: Vec<_> = newest_first.iter().filter(|e| e.task_id == Some(t1)).cloned().collect();
    assert_eq!(want.len(), 4);
    assert_eq!(pages(by_task).await, want, "filtered by task");

    let by_type = AuditQuery { event_type: Some(EventType::TaskUpdated.as_str().into()), ..query(user, 1) };
    let want: Vec<_> = newest_first.iter().filter(|e| e.event_type == "todo.task.updated.v1").cloned().collect();
    assert_eq!(want.len(), 2);
    assert_eq!(pages(by_type).await, want, "filtered by type");

    let both =
        AuditQuery { task_id: Some(t2), event_type: Some(EventType::TaskCompleted.as_str().into()), ..query(user, 10) };
    assert_eq!(pages(both).await, vec![all[4].clone()], "both filters");

    let before = AuditQuery { before_seq: Some(3), ..query(user, 10) };
    assert_eq!(store.list(&before).await.expect("list").items, vec![all[1].clone(), all[0].clone()], "before_seq");
    let none = AuditQuery { event_type: Some("todo.unknown.v1".into()), ..query(user, 10) };
    let page = store.list(&none).await.expect("list");
    assert!(page.items.is_empty() && page.next_cursor.is_none());
}

/// Appends to one user's chain from many tasks at once still give `seq` 1..=n
/// without gaps or forks, and the chain verifies.
pub async fn concurrent_appends_are_serialised(f: &dyn AuditFixture) {
    const WRITERS: i64 = 8;
    const EACH: i64 = 10;
    let store = f.open().await;
    let (user, other) = (UserId::new(), UserId::new());
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            for n in 0..EACH {
                let who = if n % 5 == 4 { other } else { user };
                store.append(&event(who, EventType::TaskChanged, None, w * 100 + n), t0()).await.expect("append");
            }
        }));
    }
    for h in handles {
        h.await.expect("writer");
    }
    let chain = whole_chain(&*store, user).await;
    let n = WRITERS * EACH * 4 / 5;
    assert_eq!(chain.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=n).collect::<Vec<_>>(), "no gap, no fork");
    let report = verify(&store, user).await;
    assert!(report.ok, "the concurrently written chain verifies: {report:?}");
    assert_eq!(report.entries_checked, n as u64);
    assert!(verify(&store, other).await.ok);
}

/// A stored event changed behind the store's back fails verification at that
/// entry (the hash no longer matches), also when it is no JSON at all; entries
/// before it and other users' chains still verify.
pub async fn tampering_is_reported(f: &dyn AuditFixture) {
    let store = f.open().await;
    let (user, other) = (UserId::new(), UserId::new());
    for n in 0..5 {
        store.append(&event(user, EventType::TaskUpdated, None, n), t0()).await.expect("append");
        store.append(&event(other, EventType::TaskUpdated, None, n), t0()).await.expect("append");
    }
    let before = whole_chain(&*store, user).await;
    let mut changed: Value = before[2].event.clone();
    changed["data"]["n"] = json!(99);
    f.tamper(user, 3, &canonical_json(&changed)).await;
    let after = whole_chain(&*store, user).await;
    assert_eq!(after[2].event, changed, "the tampered event reads back as stored");
    let report = verify(&store, user).await;
    assert!(!report.ok, "tampering is detected");
    assert_eq!(report.entries_checked, 5, "every entry is still counted");
    let bad = report.first_bad.expect("the first bad entry");
    assert_eq!((bad.seq, bad.event_id), (3, before[2].event_id), "the tampered entry is the first bad one");
    assert!(bad.reason.contains("hash"), "{}", bad.reason);
    assert!(verify(&store, other).await.ok, "other chains are unaffected");

    f.tamper(user, 2, "{not json").await;
    let report = verify(&store, user).await;
    let bad = report.first_bad.expect("the first bad entry");
    assert_eq!(bad.seq, 2, "an event that is no JSON any more is reported, not an error: {}", bad.reason);
}
