//! Reminders that fired.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ids::{EventId, TaskId, UserId};

/// A page of delivered reminders, newest first.
pub type NotificationPage = super::Page<Notification>;

/// A reminder was delivered: what `GET /api/v1/notifications` lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    /// The id of the `todo.reminder.due.v1` event.
    pub id: EventId,
    /// Whose reminder it was.
    pub user_id: UserId,
    /// The task it reminded of.
    pub task_id: TaskId,
    /// The task's title when the reminder fired.
    pub title: String,
    /// The task's due time, if any.
    pub due_at: Option<DateTime<Utc>>,
    /// When the reminder was due.
    pub remind_at: DateTime<Utc>,
    /// When it fired.
    pub fired_at: DateTime<Utc>,
    /// Fired more than a second after `remind_at`.
    pub late: bool,
}

/// A webhook delivery waiting to be (re)tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The notification's event id: the receiver's idempotency key.
    pub id: EventId,
    /// Where to POST.
    pub url: String,
    /// The JSON body to POST.
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
}
