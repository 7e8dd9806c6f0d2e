//! The notification service: keeps the reminder schedule from `reminders`
//! events, fires each reminder once when its time comes, and delivers it to a
//! webhook, signed, with retries that never hold up other reminders.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::consumer::{Delivery, EventHandler};
use crate::domain::page::parse_cursor;
use crate::domain::{EventId, Notification, NotificationPage, Page, PageLimit, UserId, WebhookDelivery};
use crate::events::{CloudEvent, DomainEvent, EventError, EventFactory, EventType, Topic};
use crate::ports::{Checkpoint, Clock, Record, ReminderStore, ScheduleChange, WebhookSender, WebhookTarget};
use crate::{Error, Result};

/// Consumer group and span name.
pub const NOTIFICATION_GROUP: &str = "notification";
/// Reminders fired per transaction batch.
const FIRE_BATCH: u32 = 100;
/// Longest sleep between schedule checks (another instance may have scheduled).
const MAX_IDLE: StdDuration = StdDuration::from_millis(500);
/// Webhook attempts before giving up.
pub const WEBHOOK_MAX_ATTEMPTS: u32 = 10;
/// Seconds a claimed webhook delivery stays leased to its sender.
const WEBHOOK_LEASE_SECS: i64 = 30;
/// Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "X-Todo-Signature";
/// Header carrying the notification id (the receiver's idempotency key).
pub const EVENT_ID_HEADER: &str = "X-Todo-Event-Id";

/// Keeps the schedule in step with `reminders` and wakes the scheduler.
pub struct ReminderHandler {
    store: Arc<dyn ReminderStore>,
    wake: Arc<Notify>,
}

impl ReminderHandler {
    /// A handler keeping `store`'s schedule; `wake` is notified after each change
    /// (the [`ReminderScheduler`]'s wake-up).
    pub fn new(store: Arc<dyn ReminderStore>, wake: Arc<Notify>) -> Self {
        Self { store, wake }
    }
}

#[async_trait]
impl EventHandler for ReminderHandler {
    fn name(&self) -> String {
        NOTIFICATION_GROUP.to_owned()
    }

    fn topics(&self) -> Vec<Topic> {
        vec![Topic::Reminders]
    }

    async fn handle(&self, event: &CloudEvent, _record: &Record) -> Result<()> {
        match schedule_change(event)? {
            Some(ScheduleChange::Upsert(r)) => self.store.upsert(&r).await?,
            Some(ScheduleChange::Cancel(r)) => self.store.cancel(&r).await?,
            None => return Ok(()),
        }
        self.wake.notify_one();
        Ok(())
    }

    /// Every schedule change of the batch in one transaction.
    fn max_batch(&self) -> usize {
        usize::MAX
    }

    async fn handle_batch(&self, batch: &[Delivery], checkpoint: Option<&Checkpoint>) -> Result<()> {
        let mut changes = Vec::new();
        for d in batch {
            changes.extend(schedule_change(&d.event)?);
        }
        if changes.is_empty() && checkpoint.is_none() {
            return Ok(());
        }
        self.store.apply(&changes, checkpoint).await?;
        if !changes.is_empty() {
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// What a `reminders` event does to the schedule (`None`: nothing).
fn schedule_change(event: &CloudEvent) -> Result<Option<ScheduleChange>> {
    match event.decode() {
        Ok(DomainEvent::Reminder(EventType::ReminderScheduled, r)) => Ok(Some(ScheduleChange::Upsert(r))),
        Ok(DomainEvent::Reminder(EventType::ReminderCancelled, r)) => Ok(Some(ScheduleChange::Cancel(r))),
        Ok(_) | Err(EventError::UnknownType(_)) => Ok(None),
        Err(e) => Err(Error::Validation(crate::domain::ValidationError::new("event", e.to_string()))),
    }
}

/// Fires due reminders: sleeps until the next one (or until woken), fires, repeats.
pub struct ReminderScheduler {
    store: Arc<dyn ReminderStore>,
    clock: Arc<dyn Clock>,
    events: EventFactory,
    webhook: Option<WebhookTarget>,
    wake: Arc<Notify>,
    fired: Arc<Notify>,
}

impl ReminderScheduler {
    /// `events` should have source `/todo/notification`. `fired` is notified after
    /// every batch, e.g. to wake a [`WebhookDispatcher`].
    pub fn new(
        store: Arc<dyn ReminderStore>,
        clock: Arc<dyn Clock>,
        events: EventFactory,
        webhook: Option<WebhookTarget>,
        wake: Arc<Notify>,
        fired: Arc<Notify>,
    ) -> Self {
        Self { store, clock, events, webhook, wake, fired }
    }

    /// Fires everything due now; returns what fired.
    pub async fn tick(&self) -> Result<Vec<Notification>> {
        let mut all = Vec::new();
        loop {
            let now = self.clock.now();
            let batch = self.store.fire_due(now, FIRE_BATCH, &self.events, self.webhook.as_ref()).await?;
            for n in &batch {
                let lateness = (n.fired_at - n.remind_at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
                metrics::histogram!("todo_reminder_lateness_seconds").record(lateness.max(0.0));
                metrics::counter!("todo_reminders_fired_total", "late" => n.late.to_string()).increment(1);
                info!(task = %n.task_id, user = %n.user_id, lateness_s = lateness, late = n.late, "reminder fired");
            }
            let full = batch.len() == FIRE_BATCH as usize;
            all.extend(batch);
            if !full {
                break;
            }
        }
        if !all.is_empty() {
            self.fired.notify_one();
        }
        Ok(all)
    }

    /// Runs until `shutdown`. Reminders whose time passed while nothing ran fire
    /// at once (marked late).
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.tick().await {
                warn!(error = %e, "firing reminders failed; retrying");
            }
            let wait = match self.store.next_due().await {
                Ok(Some(at)) => (at - self.clock.now()).to_std().unwrap_or(StdDuration::ZERO).min(MAX_IDLE),
                Ok(None) => MAX_IDLE,
                Err(e) => {
                    warn!(error = %e, "reading the schedule failed");
                    MAX_IDLE
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => debug!("schedule changed"),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the signature
/// header value. Receivers recompute it and compare in constant time, and may
/// reject old timestamps to stop replays.
pub fn sign_webhook(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header made by [`sign_webhook`] (constant time).
pub fn verify_webhook(secret: &[u8], header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(sig)) = (t, v1) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// The wait before attempt `attempts + 1`: 1 s, 2 s, 4 s, ... at most 10 minutes.
pub fn webhook_backoff(attempts: u32) -> Duration {
    Duration::seconds(1i64 << attempts.saturating_sub(1).min(10)).min(Duration::minutes(10))
}

/// Delivers queued webhooks: each delivery in its own task, so a slow or failing
/// receiver never holds up the others.
pub struct WebhookDispatcher {
    store: Arc<dyn ReminderStore>,
    sender: Arc<dyn WebhookSender>,
    clock: Arc<dyn Clock>,
    secret: Arc<Vec<u8>>,
    wake: Arc<Notify>,
}

impl WebhookDispatcher {
    /// A dispatcher POSTing `store`'s due deliveries through `sender`, signed with
    /// `secret` (see [`SIGNATURE_HEADER`]); `wake` is notified when reminders fired.
    pub fn new(
        store: Arc<dyn ReminderStore>,
        sender: Arc<dyn WebhookSender>,
        clock: Arc<dyn Clock>,
        secret: Vec<u8>,
        wake: Arc<Notify>,
    ) -> Self {
        Self { store, sender, clock, secret: Arc::new(secret), wake }
    }

    async fn deliver(
        store: Arc<dyn ReminderStore>,
        sender: Arc<dyn WebhookSender>,
        clock: Arc<dyn Clock>,
        secret: Arc<Vec<u8>>,
        d: WebhookDelivery,
    ) {
        let now = clock.now();
        let headers = vec![
            ("Content-Type".to_owned(), "application/cloudevents+json".to_owned()),
            (SIGNATURE_HEADER.to_owned(), sign_webhook(&secret, now.timestamp(), &d.body)),
            (EVENT_ID_HEADER.to_owned(), d.id.to_string()),
        ];
        let result = sender.send(&d.url, &headers, &d.body).await;
        let outcome = match result {
            Ok(()) => {
                metrics::counter!("todo_webhook_deliveries_total", "outcome" => "delivered").increment(1);
                store.webhook_delivered(d.id).await
            }
            Err(reason) => {
                let retry_at = (d.attempts < WEBHOOK_MAX_ATTEMPTS).then(|| clock.now() + webhook_backoff(d.attempts));
                let outcome = if retry_at.is_some() { "retry" } else { "gave_up" };
                metrics::counter!("todo_webhook_deliveries_total", "outcome" => outcome).increment(1);
                warn!(id = %d.id, attempt = d.attempts, error = %reason, gave_up = retry_at.is_none(), "webhook delivery failed");
                store.webhook_failed(d.id, &reason, retry_at).await
            }
        };
        if let Err(e) = outcome {
            // The lease expires and the delivery is tried again.
            warn!(id = %d.id, error = %e, "recording the webhook outcome failed");
        }
    }

    /// Runs until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let tracker = tokio_util::task::TaskTracker::new();
        loop {
            match self.store.claim_webhooks(self.clock.now(), 50, WEBHOOK_LEASE_SECS).await {
                Ok(batch) => {
                    for d in batch {
                        tracker.spawn(Self::deliver(
                            self.store.clone(),
                            self.sender.clone(),
                            self.clock.clone(),
                            self.secret.clone(),
                            d,
                        ));
                    }
                }
                Err(e) => warn!(error = %e, "claiming webhook deliveries failed"),
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(StdDuration::from_millis(250)) => {}
            }
        }
        tracker.close();
        tracker.wait().await;
    }
}

/// Reading a user's notifications.
#[derive(Clone)]
pub struct NotificationService {
    store: Arc<dyn ReminderStore>,
}

impl NotificationService {
    /// The service over the reminder store.
    pub fn new(store: Arc<dyn ReminderStore>) -> Self {
        Self { store }
    }

    /// Up to `limit` of the user's notifications, newest first, before the one with id `before`.
    pub async fn list(&self, user_id: UserId, limit: u32, before: Option<EventId>) -> Result<Vec<Notification>> {
        self.store.notifications(user_id, limit, before).await
    }

    /// One page of the user's notifications, newest first; `cursor` is the
    /// previous page's `next_cursor`.
    pub async fn page(&self, user_id: UserId, limit: PageLimit, cursor: Option<&str>) -> Result<NotificationPage> {
        let before = cursor.map(parse_cursor::<EventId>).transpose()?;
        let items = self.list(user_id, limit.overfetch(), before).await?;
        Ok(Page::cut(items, limit.get(), |n| n.id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_detect_changes() {
        let h = sign_webhook(b"secret", 1_700_000_000, "{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify_webhook(b"secret", &h, "{\"a\":1}"));
        assert!(!verify_webhook(b"secret", &h, "{\"a\":2}"));
        assert!(!verify_webhook(b"other", &h, "{\"a\":1}"));
        assert!(!verify_webhook(b"secret", "garbage", "{\"a\":1}"));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(webhook_backoff(1), Duration::seconds(1));
        assert_eq!(webhook_backoff(2), Duration::seconds(2));
        assert_eq!(webhook_backoff(5), Duration::seconds(16));
        assert_eq!(webhook_backoff(30), Duration::minutes(10));
    }
}
