use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use super::*;
use crate::Result;
use crate::events::{EventType, TopicNames};
use crate::ports::{StartFrom, Subscription};

#[test]
fn cursors_round_trip_and_reject_garbage() {
    let c: LiveCursor = "3-1234".parse().unwrap();
    assert_eq!(c, LiveCursor { partition: 3, offset: 1234 });
    assert_eq!(c.to_string(), "3-1234");
    for bad in ["", "3", "-1", "3-", "a-1", "1-b", "1--2", "1-2-3", "99999999999-1", " 1-2"] {
        assert!(bad.parse::<LiveCursor>().is_err(), "{bad:?}");
    }
}

/// One partition in memory; records appended while a reader waits reach it.
#[derive(Clone, Default)]
struct Partition {
    records: Arc<Mutex<Vec<Record>>>,
    notify: Arc<tokio::sync::Notify>,
    low: i64,
}

impl Partition {
    fn append(&self, user: UserId) -> (Record, CloudEvent) {
        let event = CloudEvent::new("/t", EventType::TaskChanged, None, Utc::now(), user, serde_json::json!({"n": 1}));
        self.append_event(&event)
    }

    fn append_event(&self, event: &CloudEvent) -> (Record, CloudEvent) {
        let mut records = self.records.lock().unwrap();
        let record = Record {
            topic: "task-updates".into(),
            partition: 0,
            offset: self.low + records.len() as i64,
            key: Some(event.userid.to_string()),
            payload: event.to_json_bytes(),
            headers: vec![],
        };
        records.push(record.clone());
        self.notify.notify_waiters();
        (record, event.clone())
    }
}

struct Reader {
    partition: Partition,
    pos: i64,
    high: i64,
}

#[async_trait]
impl PartitionReader for Reader {
    fn bounds(&self) -> (i64, i64) {
        (self.partition.low, self.high)
    }

    async fn next(&mut self) -> Result<Record> {
        loop {
            let notified = self.partition.notify.notified();
            let next = {
                let records = self.partition.records.lock().unwrap();
                records.get((self.pos - self.partition.low) as usize).cloned()
            };
            if let Some(r) = next {
                self.pos = r.offset + 1;
                return Ok(r);
            }
            notified.await;
        }
    }

    fn position(&self) -> i64 {
        self.pos
    }
}

struct Log(Partition, TopicNames);

#[async_trait]
impl EventLog for Log {
    fn topic_names(&self) -> &TopicNames {
        &self.1
    }

    async fn subscribe(&self, _: &str, _: &[String], _: StartFrom) -> Result<Box<dyn Subscription>> {
        unreachable!("not used")
    }

    async fn append(&self, _: &str, _: Option<&str>, _: &[u8], _: &[(String, String)]) -> Result<()> {
        unreachable!("not used")
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    async fn read_partition(&self, _: &str, _: i32, from: i64) -> Result<Option<Box<dyn PartitionReader>>> {
        let high = self.0.low + self.0.records.lock().unwrap().len() as i64;
        Ok(Some(Box::new(Reader { partition: self.0.clone(), pos: from.max(self.0.low), high })))
    }
}

/// The hub's consumer: publishes every record from `from` on, as sync does.
fn hub_reads(hub: &SyncHub, partition: &Partition, from: i64, to: i64) {
    let records = partition.records.lock().unwrap().clone();
    for r in records.iter().filter(|r| r.offset >= from && r.offset < to) {
        let event = CloudEvent::from_json_bytes(&r.payload).unwrap();
        hub.publish(event.userid, LiveMessage::new(&event, r));
    }
}

async fn take(stream: &mut LiveStream, n: usize) -> Vec<EventId> {
    let mut out = Vec::new();
    for _ in 0..n {
        let m = tokio::time::timeout(Duration::from_secs(2), stream.next()).await.expect("a message").unwrap();
        out.push(m.expect("not dropped").id);
    }
    out
}

async fn nothing_more(stream: &mut LiveStream) {
    assert!(tokio::time::timeout(Duration::from_millis(50), stream.next()).await.is_err(), "no further message");
}

fn ids(events: &[(Record, CloudEvent)]) -> Vec<EventId> {
    events.iter().map(|(_, e)| e.id).collect()
}

#[tokio::test]
async fn resumes_on_a_hub_that_is_behind_without_gap_or_repeat() {
    let (a, b) = (UserId::new(), UserId::new());
    let p = Partition { low: 100, ..Default::default() };
    let events: Vec<_> = (0..10).map(|i| p.append(if i % 3 == 0 { b } else { a })).collect();
    let own: Vec<_> = events.iter().filter(|(_, e)| e.userid == a).cloned().collect();
    // The client got A's records up to offset 104 from another instance.
    let cursor = LiveCursor { partition: 0, offset: 104 };
    let hub = SyncHub::new();
    hub_reads(&hub, &p, 100, 102); // this hub is behind: it published up to 101
    let log = Log(p.clone(), TopicNames::default());
    let mut s = LiveStream::resume(&hub, &log, "task-updates", a, cursor).await.unwrap();
    // The hub goes on publishing (102.. 109), some of it before the replay gets there.
    hub_reads(&hub, &p, 102, 110);
    let later = p.append(a);
    hub_reads(&hub, &p, 110, 111);
    let want: Vec<_> = own.iter().filter(|(r, _)| r.offset > 104).map(|(_, e)| e.id).chain([later.1.id]).collect();
    assert_eq!(take(&mut s, want.len()).await, want);
    nothing_more(&mut s).await;
    assert!(!s.replaying());
}

#[tokio::test]
async fn resumes_on_a_hub_that_is_ahead_and_one_that_has_not_started() {
    let a = UserId::new();
    let p = Partition::default();
    let events: Vec<_> = (0..6).map(|_| p.append(a)).collect();
    let log = Log(p.clone(), TopicNames::default());
    let cursor = LiveCursor { partition: 0, offset: 1 };

    let ahead = SyncHub::new();
    hub_reads(&ahead, &p, 0, 6);
    let mut s = LiveStream::resume(&ahead, &log, "t", a, cursor).await.unwrap();
    assert_eq!(take(&mut s, 4).await, ids(&events[2..]));
    nothing_more(&mut s).await;
    assert!(!s.replaying(), "the replay passed the hub: live from here");

    let fresh = SyncHub::new();
    let mut s = LiveStream::resume(&fresh, &log, "t", a, cursor).await.unwrap();
    assert_eq!(take(&mut s, 4).await, ids(&events[2..]));
    nothing_more(&mut s).await;
    assert!(s.replaying(), "the hub published nothing: the replay goes on");
    // The hub starts at the next record: the replay and the hub meet there.
    let next = p.append(a);
    hub_reads(&fresh, &p, 6, 7);
    let after = p.append(a);
    hub_reads(&fresh, &p, 7, 8);
    assert_eq!(take(&mut s, 2).await, vec![next.1.id, after.1.id]);
    nothing_more(&mut s).await;
    assert!(!s.replaying());
}

#[tokio::test]
async fn a_record_published_twice_is_sent_once_even_across_a_resume() {
    let a = UserId::new();
    let p = Partition::default();
    let first = p.append(a);
    let second = p.append(a);
    // The relay crashed and published both again.
    p.append_event(&first.1);
    p.append_event(&second.1);
    let third = p.append(a);
    let log = Log(p.clone(), TopicNames::default());
    let hub = SyncHub::new();
    hub_reads(&hub, &p, 0, 5);
    // The client had the first record only.
    let mut s = LiveStream::resume(&hub, &log, "t", a, LiveCursor { partition: 0, offset: 0 }).await.unwrap();
    assert_eq!(take(&mut s, 2).await, vec![second.1.id, third.1.id]);
    nothing_more(&mut s).await;
    // Live as well: a repeat of a record sent before is dropped.
    p.append_event(&third.1);
    hub_reads(&hub, &p, 5, 6);
    nothing_more(&mut s).await;
}

#[tokio::test]
async fn cursors_outside_the_log_are_refused() {
    let a = UserId::new();
    let p = Partition { low: 50, ..Default::default() };
    for _ in 0..3 {
        p.append(a);
    }
    let log = Log(p, TopicNames::default());
    let hub = SyncHub::new();
    let resume = |offset| LiveStream::resume(&hub, &log, "t", a, LiveCursor { partition: 0, offset });
    assert!(matches!(resume(10).await, Err(ResumeError::Expired(_))), "records 11..50 are gone");
    assert!(matches!(resume(53).await, Err(ResumeError::Unknown(_))), "not written yet");
    assert!(resume(49).await.is_ok(), "the next record, 50, is still there");
    assert!(resume(52).await.is_ok());
}
