//! The event-log contract: ordering per key, at-least-once redelivery after a
//! crash before commit, resumption after a restart, independent consumer groups,
//! `Latest` start, dead letters, and waking a waiting reader.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::consumer::{self, EventHandler, RetryPolicy};
use crate::domain::UserId;
use crate::events::{CloudEvent, EventType, Topic, dlq_name};
use crate::ports::{EventLog, Record, StartFrom, Subscription, dlq_headers};
use crate::{Error, Result};

use super::WAIT;

/// Opens handles on the log under test. Every `open` of one fixture reaches the
/// same storage and topics (a new handle is how a test restarts a process);
/// each fixture has its own fresh topics.
#[async_trait]
pub trait LogFixture: Send + Sync {
    /// A new handle on the fixture's log.
    async fn open(&self) -> Arc<dyn EventLog>;
}

/// Runs every contract of this module, each on a fresh fixture from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn LogFixture>>,
{
    ordering_per_key(&*make().await).await;
    redelivery_after_crash_before_commit(&*make().await).await;
    resume_after_restart(&*make().await).await;
    independent_groups(&*make().await).await;
    latest_start_skips_history(&*make().await).await;
    dead_letter_keeps_record_and_error(&*make().await).await;
    runner_dead_letters_poison_and_goes_on(&*make().await).await;
}

fn event_json(user: UserId, n: usize) -> Vec<u8> {
    CloudEvent::new(
        "/contract",
        EventType::TaskChanged,
        Some(format!("{n}")),
        chrono::Utc::now(),
        user,
        serde_json::json!({ "n": n }),
    )
    .to_json_bytes()
}

fn seq_of(r: &Record) -> usize {
    let ev = CloudEvent::from_json_bytes(&r.payload).expect("contract records are events");
    ev.data["n"].as_u64().expect("n") as usize
}

async fn next(sub: &mut dyn Subscription) -> Record {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("a record arrives within the wait")
        .expect("reading the log succeeds")
}

async fn nothing_within(sub: &mut dyn Subscription, d: Duration) -> bool {
    tokio::time::timeout(d, sub.next()).await.is_err()
}

async fn append_n(log: &dyn EventLog, topic: &str, users: &[UserId], n: usize) {
    for i in 0..n {
        let user = users[i % users.len()];
        log.append(topic, Some(&user.to_string()), &event_json(user, i), &[]).await.expect("append");
    }
}

fn topic(log: &dyn EventLog) -> String {
    log.topic_names().name(Topic::TaskUpdates)
}

/// Records of one key arrive in the order they were appended; none is lost or repeated in one pass.
pub async fn ordering_per_key(f: &dyn LogFixture) {
    let log = f.open().await;
    let t = topic(&*log);
    let users: Vec<UserId> = (0..5).map(|_| UserId::new()).collect();
    append_n(&*log, &t, &users, 200).await;
    let mut sub = log.subscribe("ordering", std::slice::from_ref(&t), StartFrom::Earliest).await.expect("subscribe");
    let mut last: HashMap<String, usize> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let r = next(&mut *sub).await;
        let n = seq_of(&r);
        assert!(seen.insert(n), "record {n} delivered twice in one pass");
        let key = r.key.clone().expect("records keep their key");
        if let Some(prev) = last.insert(key.clone(), n) {
            assert!(prev < n, "key {key}: record {n} after {prev}: per-key order broken");
        }
        sub.commit(&r).await.expect("commit");
    }
    assert_eq!(seen.len(), 200, "every record delivered");
}

/// A consumer that dies after reading but before committing gets the records again.
pub async fn redelivery_after_crash_before_commit(f: &dyn LogFixture) {
    let log = f.open().await;
    let t = topic(&*log);
    let user = [UserId::new()];
    append_n(&*log, &t, &user, 10).await;
    let mut sub = log.subscribe("crashy", std::slice::from_ref(&t), StartFrom::Earliest).await.expect("subscribe");
    let mut third = None;
    for i in 0..5 {
        let r = next(&mut *sub).await;
        assert_eq!(seq_of(&r), i);
        if i == 2 {
            sub.commit(&r).await.expect("commit");
            third = Some(r);
        }
    }
    assert!(third.is_some());
    drop(sub);
    drop(log);
    let log = f.open().await;
    let mut sub = log.subscribe("crashy", std::slice::from_ref(&t), StartFrom::Earliest).await.expect("resubscribe");
    let r = next(&mut *sub).await;
    assert_eq!(seq_of(&r), 3, "redelivery starts right after the last committed record");
}

/// A group that committed everything and restarts sees only new records.
pub async fn resume_after_restart(f: &dyn LogFixture) {
    let log = f.open().await;
    let t = topic(&*log);
    let user = [UserId::new()];
    append_n(&*log, &t, &user, 5).await;
    let mut sub = log.subscribe("resumer", std::slice::from_ref(&t), StartFrom::Earliest).await.expect("subscribe");
    for _ in 0..5 {
        let r = next(&mut *sub).await;
        sub.commit(&r).await.expect("commit");
    }
    drop(sub);
    drop(log);
    let log = f.open().await;
    let mut sub = log.subscribe("resumer", std::slice::from_ref(&t), StartFrom::Earliest).await.expect("resubscribe");
    // A reader already waiting is woken by a new append.
    let appender = {
        let log = log.clone();
        let t = t.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let u = UserId::new();
            log.append(&t, Some(&u.to_string()), &event_json(u, 99), &[]).await.expect("append");
        })
    };
    let r = next(&mut *sub).await;
    assert_eq!(seq_of(&r), 99, "after a restart only the new record is delivered");
    appender.await.expect("appender");
}

/// Two groups each see every record.
pub async fn independent_groups(f: &dyn LogFixture) {
    let log = f.open().await;
    let t = topic(&*log);
    append_n(&*log, &t, &[UserId::new()], 3).await;
    for g in ["group-a", "group-b"] {
        let mut sub = log.subscribe(g, std::slice::from_ref(&t), StartFrom::Earliest).await.expect("subscribe");
        for i in 0..3 {
            let r = next(&mut *sub).await;
            assert_eq!(seq_of(&r), i, "group {g} sees record {i}");
            sub.commit(&r).await.expect("commit");
        }
    }
}

/// A new group starting at `Latest` skips what was there before it joined.
pub async fn latest_start_skips_history(f: &dyn LogFixture) {
    let log = f.open().await;
    let t = topic(&*log);
    let user = [UserId::new()];
    append_n(&*log, &t, &user, 3).await;
    let mut sub = log.subscribe("latecomer", std::slice::from_ref(&t), StartFrom::Latest).await.expect("subscribe");
    // Kafka assigns partitions asynchronously: keep appending until the subscription sees one.
    let u = UserId::new();
    let got = tokio::time::timeout(WAIT, async {
        let mut n = 1000;
        loop {
            log.append(&t, Some(&u.to_string()), &event_json(u, n), &[]).await.expect("append");
            if let Ok(r) = tokio::time::timeout(Duration::from_millis(500), sub.next()).await {
                return r.expect("read");
            }
            n += 1;
        }
    })
    .await
    .expect("a record appended after subscribing arrives");
    assert!(seq_of(&got) >= 1000, "Latest must not deliver records from before the subscription");
}

/// `dead_letter` puts the record on `<topic>.dlq` with its payload and the error headers.
pub async fn dead_letter_keeps_record_and_error(f: &dyn LogFixture) {
    let log = f.open().await;
    let t = topic(&*log);
    log.append(&t, Some("k"), b"{not json", &[("ce_type".into(), "x".into())]).await.expect("append");
    let mut sub = log.subscribe("dlq-writer", std::slice::from_ref(&t), StartFrom::Earliest).await.expect("subscribe");
    let r = next(&mut *sub).await;
    log.dead_letter(&r, "dlq-writer", "boom: not json").await.expect("dead letter");
    sub.commit(&r).await.expect("commit");
    let dlq = dlq_name(&t);
    let mut dsub =
        log.subscribe("dlq-reader", std::slice::from_ref(&dlq), StartFrom::Earliest).await.expect("subscribe dlq");
    let d = next(&mut *dsub).await;
    assert_eq!(d.payload, b"{not json".to_vec(), "the dead letter keeps the payload");
    assert_eq!(d.key.as_deref(), Some("k"), "the dead letter keeps the key");
    assert_eq!(d.header(dlq_headers::ERROR), Some("boom: not json"));
    assert_eq!(d.header(dlq_headers::ORIGINAL_TOPIC), Some(t.as_str()));
    assert_eq!(d.header(dlq_headers::CONSUMER_GROUP), Some("dlq-writer"));
    assert_eq!(d.header(dlq_headers::ORIGINAL_OFFSET), Some(r.offset.to_string().as_str()));
    assert_eq!(d.header("ce_type"), Some("x"), "original headers are kept");
}

struct Collect {
    seen: Arc<tokio::sync::Mutex<Vec<usize>>>,
    topic: Topic,
}

#[async_trait]
impl EventHandler for Collect {
    fn name(&self) -> String {
        "collector".into()
    }
    fn topics(&self) -> Vec<Topic> {
        vec![self.topic]
    }
    async fn handle(&self, event: &CloudEvent, _record: &Record) -> Result<()> {
        let n = event.data["n"].as_u64().ok_or_else(|| Error::Internal("no n".into()))? as usize;
        if n == 13 {
            return Err(Error::Internal("unlucky record".into()));
        }
        self.seen.lock().await.push(n);
        Ok(())
    }
}

/// The runner dead-letters unparseable records, unsupported versions and records
/// whose handler keeps failing, and goes on with the following ones.
pub async fn runner_dead_letters_poison_and_goes_on(f: &dyn LogFixture) {
    let log = f.open().await;
    let t = topic(&*log);
    let u = UserId::new();
    let key = u.to_string();
    log.append(&t, Some(&key), &event_json(u, 1), &[]).await.expect("append");
    log.append(&t, Some(&key), b"\x00\x01 garbage", &[]).await.expect("append");
    let mut v2 =
        CloudEvent::new("/contract", EventType::TaskChanged, None, chrono::Utc::now(), u, serde_json::json!({"n": 2}));
    v2.ty = "todo.task.changed.v2".into();
    log.append(&t, Some(&key), &v2.to_json_bytes(), &[]).await.expect("append");
    log.append(&t, Some(&key), &event_json(u, 13), &[]).await.expect("append");
    log.append(&t, Some(&key), &event_json(u, 3), &[]).await.expect("append");

    let seen = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let handler = Arc::new(Collect { seen: seen.clone(), topic: Topic::TaskUpdates });
    let shutdown = CancellationToken::new();
    let retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    };
    let task = tokio::spawn(consumer::run(log.clone(), handler, retry, shutdown.clone()));
    tokio::time::timeout(WAIT, async {
        while seen.lock().await.last() != Some(&3) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the records after the poison ones are handled");
    shutdown.cancel();
    task.await.expect("runner task").expect("runner ends cleanly");
    assert_eq!(*seen.lock().await, vec![1, 3]);

    let dlq = dlq_name(&t);
    let mut dsub =
        log.subscribe("dlq-check", std::slice::from_ref(&dlq), StartFrom::Earliest).await.expect("subscribe dlq");
    let mut errors = Vec::new();
    for _ in 0..3 {
        let d = next(&mut *dsub).await;
        errors.push(d.header(dlq_headers::ERROR).unwrap_or_default().to_owned());
    }
    assert!(errors[0].contains("not a CloudEvent"), "garbage: {}", errors[0]);
    assert!(errors[1].contains("unsupported major version"), "v2: {}", errors[1]);
    assert!(errors[2].contains("unlucky record"), "handler failure: {}", errors[2]);
    assert!(nothing_within(&mut *dsub, Duration::from_millis(300)).await, "exactly three dead letters");
}
