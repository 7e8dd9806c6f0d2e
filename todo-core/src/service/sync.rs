//! The sync service's hub: every connected client of a user receives that user's
//! `task-updates` events, through a bounded queue per client. A client that
//! stops reading fills its queue and is dropped; it never slows the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::Result;
use crate::consumer::EventHandler;
use crate::domain::UserId;
use crate::events::{CloudEvent, Topic};
use crate::ports::{Record, StartFrom};

/// Messages a client may have queued before it counts as too slow.
pub const CLIENT_QUEUE: usize = 256;

/// One connected client, as the hub sees it.
struct Client {
    id: u64,
    tx: mpsc::Sender<Arc<str>>,
    kicked: CancellationToken,
}

/// What a connection receives: its messages, and a token cancelled if the hub
/// drops it for being too slow.
pub struct ClientStream {
    pub id: u64,
    pub messages: mpsc::Receiver<Arc<str>>,
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
}

impl SyncHub {
    pub fn new() -> Self {
        Self::default()
    }

    /// Connects a client of `user`.
    pub fn connect(&self, user: UserId) -> ClientStream {
        let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let kicked = CancellationToken::new();
        self.clients.lock().expect("hub lock").entry(user).or_default().push(Client { id, tx, kicked: kicked.clone() });
        metrics::gauge!("todo_sync_clients").increment(1.0);
        ClientStream { id, messages: rx, kicked, hub: self.clone(), user }
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
    pub fn publish(&self, user: UserId, message: Arc<str>) -> usize {
        let mut delivered = 0;
        let mut clients = self.clients.lock().expect("hub lock");
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
        // Clients get the event exactly as it travelled.
        let text: Arc<str> = match std::str::from_utf8(&record.payload) {
            Ok(s) => Arc::from(s),
            Err(_) => Arc::from(String::from_utf8_lossy(&event.to_json_bytes()).as_ref()),
        };
        self.hub.publish(event.userid, text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn users_only_get_their_own_and_slow_clients_are_dropped() {
        let hub = SyncHub::new();
        let (a, b) = (UserId::new(), UserId::new());
        let mut a1 = hub.connect(a);
        let mut a2 = hub.connect(a);
        let mut b1 = hub.connect(b);
        assert_eq!(hub.publish(a, Arc::from("one")), 2);
        assert_eq!(&*a1.messages.recv().await.unwrap(), "one");
        assert_eq!(&*a2.messages.recv().await.unwrap(), "one");
        assert!(b1.messages.try_recv().is_err(), "B never sees A's events");
        // a2 stops reading: after CLIENT_QUEUE more messages it is dropped; a1 keeps up.
        for i in 0..=CLIENT_QUEUE {
            hub.publish(a, Arc::from(format!("m{i}")));
            assert!(a1.messages.recv().await.is_some());
        }
        assert!(a2.kicked.is_cancelled());
        assert!(!a1.kicked.is_cancelled());
        assert_eq!(hub.client_count(a), 1);
        drop(a1);
        assert_eq!(hub.client_count(a), 0);
    }
}
