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
    /// The partition.
    pub partition: i32,
    /// The offset in the partition.
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
mod tests;
