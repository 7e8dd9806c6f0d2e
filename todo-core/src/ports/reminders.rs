//! The reminder schedule, fired reminders, the webhook outbox and its sender.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Checkpoint;
use crate::Result;
use crate::domain::{EventId, Notification, UserId, WebhookDelivery};
use crate::events::{EventFactory, ReminderData};

/// A change to the reminder schedule, from a `reminders` event.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleChange {
    /// Schedules (or moves) the reminder.
    Upsert(ReminderData),
    /// Cancels it.
    Cancel(ReminderData),
}

/// Where a fired reminder is also delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The endpoint that receives the POST.
    pub url: String,
}

/// The notification service's durable reminder schedule, its record of fired
/// reminders, and its webhook outbox.
#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// Schedules (or moves) the reminder of `r.task_id`. Older task versions than
    /// the one scheduled are ignored, so redelivery and reordering are harmless.
    async fn upsert(&self, r: &ReminderData) -> Result<()>;

    /// Cancels the reminder of `r.task_id` unless a newer version is scheduled.
    async fn cancel(&self, r: &ReminderData) -> Result<()>;

    /// Applies `changes` in order ([`ReminderStore::upsert`] or
    /// [`ReminderStore::cancel`] each), in one transaction with `checkpoint`.
    async fn apply(&self, changes: &[ScheduleChange], checkpoint: Option<&Checkpoint>) -> Result<()>;

    /// Fires at most `limit` reminders due at `now`: each one still scheduled and
    /// whose task is still pending with the same `remind_at`. For each, in one
    /// transaction: mark it fired, record its [`Notification`], append its
    /// `todo.reminder.due.v1` event (made by `events`) to the outbox, and queue a
    /// webhook delivery when `webhook` is set. Two instances never fire the same one.
    async fn fire_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        events: &EventFactory,
        webhook: Option<&WebhookTarget>,
    ) -> Result<Vec<Notification>>;

    /// When the earliest scheduled reminder is due.
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>>;

    /// A user's notifications, newest first; `before` is the previous page's last id.
    async fn notifications(&self, user_id: UserId, limit: u32, before: Option<EventId>) -> Result<Vec<Notification>>;

    /// Leases at most `limit` webhook deliveries due at `now` for `lease` seconds
    /// (a crashed sender's lease expires and the delivery is retried).
    async fn claim_webhooks(&self, now: DateTime<Utc>, limit: u32, lease_secs: i64) -> Result<Vec<WebhookDelivery>>;

    /// The delivery succeeded: never send it again.
    async fn webhook_delivered(&self, id: EventId) -> Result<()>;

    /// The delivery failed: try again at `retry_at`, or never (`None`: given up).
    async fn webhook_failed(&self, id: EventId, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()>;
}

/// Sends a signed webhook request.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// POSTs `body` to `url` with `headers`; `Ok` for a 2xx answer, `Err` with a
    /// short reason otherwise (status, timeout, connection refused).
    async fn send(&self, url: &str, headers: &[(String, String)], body: &str) -> std::result::Result<(), String>;
}
