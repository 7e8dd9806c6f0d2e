//! Resumable live updates: what one WebSocket connection of a user receives.
//!
//! Every message the sync service sends carries a [`LiveCursor`] (the partition
//! and offset of its `task-updates` record; all of a user's records are in one
//! partition, the record key being the user id). A client that reconnects, to
//! any sync instance, with its last cursor gets the user's records after it
//! replayed from the log, then the live stream, without a gap or a repeat
//! (docs/adr/0015-resumable-live-updates.md):
//!
//! 1. The connection registers with the hub first, learning which records of the
//!    partition it will get live: the user's records after offset `Z`, the last
//!    one the hub published (or, if it published none yet, from the first one it
//!    will publish).
//! 2. It replays the partition from the cursor with a [`PartitionReader`],
//!    buffering live messages meanwhile, until the reader has passed both the
//!    cursor and `Z`; then it drops the buffered messages the replay already
//!    delivered and continues with the live stream.
//! 3. Records of the partition at or below the cursor are never sent again, and
//!    every message is de-duplicated by event id over the last [`SEEN`] ones (the
//!    outbox relay may publish a record twice after a crash; the replay starts
//!    [`SEED`] records before the cursor to learn the ids the client already has).

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::str::FromStr;

use crate::domain::{EventId, UserId};
use crate::events::CloudEvent;
use crate::ports::{EventLog, PartitionReader, Record};
use crate::service::sync::{ClientStream, LiveMessage, SyncHub};

/// Event ids remembered per connection to drop repeated records.
pub const SEEN: usize = 4096;
/// Records read before a resume cursor, only to learn the event ids the client
/// already has. Covers the outbox relay's re-publication window after a crash
/// (at most its records in flight plus those acknowledged but not committed,
/// 1,000 + 500 by default).
pub const SEED: i64 = 4096;
/// Live messages buffered while a resume replays; beyond it the client is too slow.
pub const MAX_BUFFERED: usize = 4 * crate::service::sync::CLIENT_QUEUE;

/// A place in the `task-updates` log: `<partition>-<offset>` on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiveCursor {
    pub partition: i32,
    pub offset: i64,
}

impl fmt::Display for LiveCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.partition, self.offset)
    }
}

/// A cursor that is not `<partition>-<offset>` with both non-negative.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a cursor is <partition>-<offset>, as in the `cursor` of a live message")]
pub struct BadCursor;

impl FromStr for LiveCursor {
    type Err = BadCursor;

    fn from_str(s: &str) -> std::result::Result<Self, BadCursor> {
        let (p, o) = s.split_once('-').ok_or(BadCursor)?;
        let digits = |t: &str| !t.is_empty() && t.len() <= 19 && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(p) || !digits(o) {
            return Err(BadCursor);
        }
        Ok(Self { partition: p.parse().map_err(|_| BadCursor)?, offset: o.parse().map_err(|_| BadCursor)? })
    }
}

/// Why a connection cannot resume from a cursor.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    /// Records after the cursor are no longer retained (or this log cannot
    /// replay): the client reloads its state over REST and connects afresh.
    #[error("cursor expired: {0}")]
    Expired(String),
    /// The cursor names no record of this log.
    #[error("unknown cursor: {0}")]
    Unknown(String),
    /// The log could not be read.
    #[error("event log unavailable: {0}")]
    Unavailable(String),
}

/// Why a live stream ended.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    /// The client did not keep up (its queue, or the replay's buffer, filled).
    #[error("client too slow")]
    TooSlow,
    /// Replaying the log failed; the client may resume with its last cursor.
    #[error("replay failed: {0}")]
    Replay(String),
}

/// Event ids of the last [`SEEN`] messages.
#[derive(Default)]
struct RecentIds {
    set: HashSet<EventId>,
    order: VecDeque<EventId>,
}

impl RecentIds {
    /// Remembers `id`; false when it was already there.
    fn insert(&mut self, id: EventId) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        if self.order.len() == SEEN
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(id);
        true
    }
}

/// A resume in progress: the replay, and the live messages that came meanwhile.
struct Replay {
    reader: Box<dyn PartitionReader>,
    /// The last record the client has; the replay sends only what follows it.
    cursor: LiveCursor,
    /// The hub's last published offset of the partition when the client connected.
    hub_last: Option<i64>,
    buffered: VecDeque<LiveMessage>,
}

impl Replay {
    /// Whether everything from the reader's position on comes live.
    fn caught_up(&self, hub: &SyncHub) -> bool {
        let pos = self.reader.position();
        pos > self.cursor.offset
            && match self.hub_last {
                Some(last) => pos > last,
                None => hub.first_published(self.cursor.partition).is_some_and(|first| pos >= first),
            }
    }
}

/// The messages one connection of a user receives, in log order, each once.
pub struct LiveStream {
    hub: SyncHub,
    client: ClientStream,
    user: UserId,
    replay: Option<Replay>,
    /// Live messages to send before reading the hub's queue again.
    pending: VecDeque<LiveMessage>,
    /// Never send this cursor's partition at or below its offset again.
    floor: Option<LiveCursor>,
    seen: RecentIds,
}

impl LiveStream {
    /// The live stream of a new connection of `user`, from now on.
    pub fn new(hub: &SyncHub, user: UserId) -> Self {
        Self::with(hub, hub.connect(user), user, None, None)
    }

    fn with(
        hub: &SyncHub,
        client: ClientStream,
        user: UserId,
        replay: Option<Replay>,
        floor: Option<LiveCursor>,
    ) -> Self {
        Self { hub: hub.clone(), client, user, replay, pending: VecDeque::new(), floor, seen: RecentIds::default() }
    }

    /// The stream of a connection of `user` resuming after `cursor`: the user's
    /// records after it from `log`'s physical `topic`, then live ones.
    pub async fn resume(
        hub: &SyncHub,
        log: &dyn EventLog,
        topic: &str,
        user: UserId,
        cursor: LiveCursor,
    ) -> std::result::Result<Self, ResumeError> {
        // Registered before the reader opens, so nothing falls between the two.
        let (client, hub_last) = hub.connect_at(user, cursor.partition);
        let from = (cursor.offset + 1 - SEED).max(0);
        let reader = match log.read_partition(topic, cursor.partition, from).await {
            Ok(Some(r)) => r,
            Ok(None) => return Err(ResumeError::Expired("this event log cannot replay; reload".into())),
            Err(e) => return Err(ResumeError::Unavailable(e.to_string())),
        };
        let (low, high) = reader.bounds();
        if cursor.offset >= high {
            return Err(ResumeError::Unknown(format!(
                "partition {} has no offset {}",
                cursor.partition, cursor.offset
            )));
        }
        if cursor.offset + 1 < low {
            return Err(ResumeError::Expired(format!(
                "records after {cursor} are no longer retained (oldest: {}-{low}); reload",
                cursor.partition
            )));
        }
        metrics::counter!("todo_sync_resumes_total").increment(1);
        let replay = Replay { reader, cursor, hub_last, buffered: VecDeque::new() };
        Ok(Self::with(hub, client, user, Some(replay), Some(cursor)))
    }

    /// Cancelled when the hub drops this client for being too slow.
    pub fn kicked(&self) -> &tokio_util::sync::CancellationToken {
        &self.client.kicked
    }

    /// Whether the stream still replays the log.
    pub fn replaying(&self) -> bool {
        self.replay.is_some()
    }

    /// The next message; `Ok(None)` when the hub dropped the client. Cancel-safe.
    pub async fn next(&mut self) -> std::result::Result<Option<LiveMessage>, LiveError> {
        loop {
            if let Some(replay) = &mut self.replay {
                if replay.caught_up(&self.hub) {
                    let pos = replay.reader.position();
                    let partition = replay.cursor.partition;
                    self.pending = replay
                        .buffered
                        .drain(..)
                        .filter(|m| m.cursor.partition != partition || m.cursor.offset >= pos)
                        .collect();
                    self.replay = None;
                    continue;
                }
                // Unbiased: neither a busy live queue nor a long replay starves the other.
                tokio::select! {
                    live = self.client.messages.recv() => {
                        let Some(m) = live else { return Ok(None) };
                        if replay.buffered.len() >= MAX_BUFFERED {
                            return Err(LiveError::TooSlow);
                        }
                        replay.buffered.push_back(m);
                    }
                    read = replay.reader.next() => {
                        let record = read.map_err(|e| LiveError::Replay(e.to_string()))?;
                        let Some(m) = own_message(&record, self.user) else { continue };
                        if record.offset <= replay.cursor.offset {
                            self.seen.insert(m.id);
                        } else if self.seen.insert(m.id) {
                            metrics::counter!("todo_sync_replayed_total").increment(1);
                            return Ok(Some(m));
                        }
                    }
                }
                continue;
            }
            let m = match self.pending.pop_front() {
                Some(m) => m,
                None => match self.client.messages.recv().await {
                    Some(m) => m,
                    None => return Ok(None),
                },
            };
            let old = self.floor.is_some_and(|f| f.partition == m.cursor.partition && m.cursor.offset <= f.offset);
            if !old && self.seen.insert(m.id) {
                return Ok(Some(m));
            }
        }
    }
}

/// The message of `record` if it is one of `user`'s events.
fn own_message(record: &Record, user: UserId) -> Option<LiveMessage> {
    let event = CloudEvent::from_json_bytes(&record.payload).ok()?;
    (event.userid == user).then(|| LiveMessage::new(&event, record))
}

#[cfg(test)]
mod tests {
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
            let event =
                CloudEvent::new("/t", EventType::TaskChanged, None, Utc::now(), user, serde_json::json!({"n": 1}));
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
}
