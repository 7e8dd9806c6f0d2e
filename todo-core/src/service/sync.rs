//! The sync service's hub: every connected client of a user receives that user's
//! `task-updates` events, through a bounded queue per client. A client that
//! stops reading fills its queue and is dropped; it never slows the others.
//! Each message carries its cursor (partition and offset in the log), from which
//! a client resumes on any sync instance ([`crate::service::live`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::Result;
use crate::consumer::EventHandler;
use crate::domain::{EventId, UserId};
use crate::events::{CloudEvent, Topic};
use crate::ports::{Record, StartFrom};
use crate::service::live::LiveCursor;

/// Messages a client may have queued before it counts as too slow.
pub const CLIENT_QUEUE: usize = 256;

/// One `task-updates` record as clients get it: the CloudEvent as it travelled,
/// plus the extension attribute `cursor` (see [`LiveMessage::new`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveMessage {
    /// The event's id.
    pub id: EventId,
    /// Where it is in the log.
    pub cursor: LiveCursor,
    /// The JSON text sent to clients.
    pub text: Arc<str>,
}

impl LiveMessage {
    /// The message of `record`, which holds `event`: its JSON text with
    /// `"cursor":"<partition>-<offset>"` added as the last attribute (so it wins
    /// over a `cursor` the producer may have put there).
    pub fn new(event: &CloudEvent, record: &Record) -> Self {
        let cursor = LiveCursor { partition: record.partition, offset: record.offset };
        let text = std::str::from_utf8(&record.payload)
            .ok()
            .and_then(|s| s.trim_end().strip_suffix('}').map(|body| format!("{body},\"cursor\":\"{cursor}\"}}")))
            .unwrap_or_else(|| {
                let mut v = serde_json::to_value(event).expect("a CloudEvent always serializes");
                v["cursor"] = cursor.to_string().into();
                v.to_string()
            });
        Self { id: event.id, cursor, text: Arc::from(text) }
    }
}

/// One connected client, as the hub sees it.
struct Client {
    id: u64,
    tx: mpsc::Sender<LiveMessage>,
    kicked: CancellationToken,
}

/// What a connection receives: its messages, and a token cancelled if the hub
/// drops it for being too slow.
pub struct ClientStream {
    /// The connection's id in the hub.
    pub id: u64,
    /// The messages for this connection.
    pub messages: mpsc::Receiver<LiveMessage>,
    /// Cancelled when the hub drops the connection for being too slow.
    pub kicked: CancellationToken,
    hub: SyncHub,
    user: UserId,
}

impl Drop for ClientStream {
    fn drop(&mut self) {
        self.hub.remove(self.user, self.id);
    }
}

/// Fans events out to connected clients, per user.
#[derive(Clone, Default)]
pub struct SyncHub {
    clients: Arc<Mutex<HashMap<UserId, Vec<Client>>>>,
    next_id: Arc<AtomicU64>,
    /// Per partition: the first and the last offset published. Changed only while
    /// `clients` is locked, so that a client connecting knows exactly which
    /// records it will get live.
    progress: Arc<Mutex<HashMap<i32, (i64, i64)>>>,
}

impl SyncHub {
    /// An empty hub.
    pub fn new() -> Self {
        Self::default()
    }

    /// Connects a client of `user`.
    pub fn connect(&self, user: UserId) -> ClientStream {
        self.connect_at(user, 0).0
    }

    /// Connects a client of `user`, and says which records of `partition` it
    /// will get: all of the user's published after the returned offset (`None`:
    /// after nothing, since nothing of that partition was published yet).
    pub fn connect_at(&self, user: UserId, partition: i32) -> (ClientStream, Option<i64>) {
        let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let kicked = CancellationToken::new();
        let mut clients = self.clients.lock().expect("hub lock");
        clients.entry(user).or_default().push(Client { id, tx, kicked: kicked.clone() });
        let last = self.progress.lock().expect("hub progress lock").get(&partition).map(|(_, last)| *last);
        drop(clients);
        metrics::gauge!("todo_sync_clients").increment(1.0);
        (ClientStream { id, messages: rx, kicked, hub: self.clone(), user }, last)
    }

    /// The first offset of `partition` this hub published, if any.
    pub fn first_published(&self, partition: i32) -> Option<i64> {
        self.progress.lock().expect("hub progress lock").get(&partition).map(|(first, _)| *first)
    }

    fn remove(&self, user: UserId, id: u64) {
        let mut clients = self.clients.lock().expect("hub lock");
        if let Some(list) = clients.get_mut(&user) {
            let before = list.len();
            list.retain(|c| c.id != id);
            if list.len() < before {
                metrics::gauge!("todo_sync_clients").decrement(1.0);
            }
            if list.is_empty() {
                clients.remove(&user);
            }
        }
    }

    /// Queues `message` for every client of `user`; a client whose queue is full
    /// is dropped (its `kicked` token is cancelled). Returns how many got it.
    /// Call it for every record read, in order, whether its user has clients or not.
    pub fn publish(&self, user: UserId, message: LiveMessage) -> usize {
        let mut delivered = 0;
        let mut clients = self.clients.lock().expect("hub lock");
        {
            let LiveCursor { partition, offset } = message.cursor;
            let mut progress = self.progress.lock().expect("hub progress lock");
            let (_, last) = progress.entry(partition).or_insert((offset, offset));
            *last = (*last).max(offset);
        }
        let Some(list) = clients.get_mut(&user) else { return 0 };
        list.retain(|c| match c.tx.try_send(message.clone()) {
            Ok(()) => {
                delivered += 1;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(user = %user, client = c.id, "client too slow; disconnecting");
                metrics::counter!("todo_sync_slow_clients_dropped_total").increment(1);
                metrics::gauge!("todo_sync_clients").decrement(1.0);
                c.kicked.cancel();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                metrics::gauge!("todo_sync_clients").decrement(1.0);
                false
            }
        });
        if list.is_empty() {
            clients.remove(&user);
        }
        metrics::counter!("todo_sync_messages_total").increment(delivered as u64);
        delivered
    }

    /// Clients connected for `user`.
    pub fn client_count(&self, user: UserId) -> usize {
        self.clients.lock().expect("hub lock").get(&user).map_or(0, Vec::len)
    }
}

/// Feeds the hub from `task-updates`. Every instance has its own consumer group
/// and starts at the latest record: live updates, not history.
pub struct SyncHandler {
    hub: SyncHub,
    group: String,
}

impl SyncHandler {
    /// `instance` makes the consumer group unique to this process.
    pub fn new(hub: SyncHub, instance: &str) -> Self {
        Self { hub, group: format!("sync-{instance}") }
    }
}

#[async_trait]
impl EventHandler for SyncHandler {
    fn name(&self) -> String {
        self.group.clone()
    }

    fn topics(&self) -> Vec<Topic> {
        vec![Topic::TaskUpdates]
    }

    fn start_from(&self) -> StartFrom {
        StartFrom::Latest
    }

    /// Publishing never fails and has no store: any batch, one commit after it.
    fn max_batch(&self) -> usize {
        usize::MAX
    }

    async fn handle(&self, event: &CloudEvent, record: &Record) -> Result<()> {
        // Clients get the event as it travelled, plus its cursor.
        self.hub.publish(event.userid, LiveMessage::new(event, record));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str, offset: i64) -> LiveMessage {
        LiveMessage { id: EventId::new(), cursor: LiveCursor { partition: 0, offset }, text: Arc::from(text) }
    }

    #[tokio::test]
    async fn users_only_get_their_own_and_slow_clients_are_dropped() {
        let hub = SyncHub::new();
        let (a, b) = (UserId::new(), UserId::new());
        let mut a1 = hub.connect(a);
        let mut a2 = hub.connect(a);
        let mut b1 = hub.connect(b);
        assert_eq!(hub.publish(a, message("one", 0)), 2);
        assert_eq!(&*a1.messages.recv().await.unwrap().text, "one");
        assert_eq!(&*a2.messages.recv().await.unwrap().text, "one");
        assert!(b1.messages.try_recv().is_err(), "B never sees A's events");
        // a2 stops reading: after CLIENT_QUEUE more messages it is dropped; a1 keeps up.
        for i in 0..=CLIENT_QUEUE {
            hub.publish(a, message(&format!("m{i}"), i as i64 + 1));
            assert!(a1.messages.recv().await.is_some());
        }
        assert!(a2.kicked.is_cancelled());
        assert!(!a1.kicked.is_cancelled());
        assert_eq!(hub.client_count(a), 1);
        drop(a1);
        assert_eq!(hub.client_count(a), 0);
    }

    #[test]
    fn a_client_learns_where_its_live_records_start() {
        let hub = SyncHub::new();
        let (a, b) = (UserId::new(), UserId::new());
        let (_early, last) = hub.connect_at(a, 3);
        assert_eq!(last, None);
        hub.publish(b, LiveMessage { cursor: LiveCursor { partition: 3, offset: 7 }, ..message("x", 0) });
        hub.publish(b, LiveMessage { cursor: LiveCursor { partition: 3, offset: 9 }, ..message("y", 0) });
        let (_late, last) = hub.connect_at(a, 3);
        assert_eq!(last, Some(9), "other users' records count too");
        assert_eq!(hub.first_published(3), Some(7));
        assert_eq!(hub.first_published(4), None);
    }

    #[test]
    fn messages_carry_their_cursor_as_an_extension_attribute() {
        let event = CloudEvent::new(
            "/todo/chat-api",
            crate::events::EventType::TaskChanged,
            None,
            chrono::Utc::now(),
            UserId::new(),
            serde_json::json!({"task_id": "t"}),
        );
        let record = Record {
            topic: "task-updates".into(),
            partition: 2,
            offset: 41,
            key: None,
            payload: event.to_json_bytes(),
            headers: vec![],
        };
        let m = LiveMessage::new(&event, &record);
        let v: serde_json::Value = serde_json::from_str(&m.text).unwrap();
        assert_eq!(v["cursor"], "2-41");
        assert_eq!(v["id"], event.id.to_string());
        assert_eq!(CloudEvent::from_json_bytes(m.text.as_bytes()).unwrap(), event, "still our CloudEvent");
    }
}
