use chrono::{DateTime, Utc};

use super::OutboxEvent;
use super::envelope::{CloudEvent, EventType};
use super::payload::{ChangeType, ReminderData, ReminderDueData, TaskEventData, TaskEventKind, TaskUpdateData};
use crate::domain::{Notification, Task, reminder};

/// What happened to a task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskChange {
    /// It was created.
    Created,
    /// The names of the fields that changed.
    Updated(Vec<String>),
    /// It was completed.
    Completed,
    /// It was completed and is pending again.
    Reopened,
    /// It was deleted.
    Deleted,
    /// A deleted task back with its id (an "undo" of the deletion).
    Restored,
}

/// Builds the events of the catalog for one producing service (`source`).
#[derive(Clone, Debug)]
pub struct EventFactory {
    source: String,
}

impl EventFactory {
    /// `source` is the CloudEvents source, e.g. `/todo/chat-api`.
    pub fn new(source: impl Into<String>) -> Self {
        Self { source: source.into() }
    }

    /// The CloudEvents `source` of the events it makes.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn event(&self, ty: EventType, task: &Task, now: DateTime<Utc>, data: impl serde::Serialize) -> OutboxEvent {
        let data = serde_json::to_value(data).expect("payloads serialize");
        OutboxEvent {
            topic: ty.topic(),
            key: task.user_id.to_string(),
            event: CloudEvent::new(&self.source, ty, Some(task.id.to_string()), now, task.user_id, data),
        }
    }

    /// Every event one change produces, in order: `task-events`, then `reminders`,
    /// then `task-updates`. `before` is the task before the change (none when created),
    /// `after` the task after it (for deletions: the task as it was).
    pub fn for_change(
        &self,
        change: &TaskChange,
        before: Option<&Task>,
        after: &Task,
        now: DateTime<Utc>,
    ) -> Vec<OutboxEvent> {
        let mut out = Vec::with_capacity(3);
        let (ty, kind, change_type, changes) = match change {
            TaskChange::Created => (EventType::TaskCreated, TaskEventKind::Created, ChangeType::Created, None),
            TaskChange::Updated(fields) => {
                (EventType::TaskUpdated, TaskEventKind::Updated, ChangeType::Updated, Some(fields.clone()))
            }
            TaskChange::Completed => (EventType::TaskCompleted, TaskEventKind::Completed, ChangeType::Completed, None),
            TaskChange::Reopened => (
                EventType::TaskUpdated,
                TaskEventKind::Updated,
                ChangeType::Reopened,
                Some(vec!["status".to_owned(), "completed_at".to_owned()]),
            ),
            TaskChange::Deleted => (EventType::TaskDeleted, TaskEventKind::Deleted, ChangeType::Deleted, None),
            // For task-events consumers the task comes into existence again: a
            // creation (Phase V readers need nothing new); live clients and the
            // audit trail see that it was a restoration.
            TaskChange::Restored => (EventType::TaskCreated, TaskEventKind::Created, ChangeType::Restored, None),
        };
        out.push(self.event(
            ty,
            after,
            now,
            TaskEventData {
                event_type: kind,
                task_id: after.id,
                task_data: after.clone(),
                user_id: after.user_id,
                timestamp: now,
                changes,
            },
        ));

        // Reminders: cancel the old one when it stops being live, (re)schedule when
        // the new one is live and differs from what was scheduled.
        let was_live = before.filter(|b| b.has_live_reminder());
        let now_live = (*change != TaskChange::Deleted && after.has_live_reminder())
            .then_some(after)
            .filter(|a| *change != TaskChange::Reopened || a.remind_at.is_some_and(|r| r > now));
        let same = |a: &Task, b: &Task| a.remind_at == b.remind_at && a.due_at == b.due_at && a.title == b.title;
        match (was_live, now_live) {
            (Some(b), None) => out.push(self.reminder(EventType::ReminderCancelled, b, now)),
            (None, Some(a)) => out.push(self.reminder(EventType::ReminderScheduled, a, now)),
            (Some(b), Some(a)) if !same(a, b) => out.push(self.reminder(EventType::ReminderScheduled, a, now)),
            _ => {}
        }

        out.push(self.event(
            EventType::TaskChanged,
            after,
            now,
            TaskUpdateData {
                task_id: after.id,
                user_id: after.user_id,
                change_type,
                task_data: Some(after.clone()),
                timestamp: now,
            },
        ));
        out
    }

    fn reminder(&self, ty: EventType, t: &Task, now: DateTime<Utc>) -> OutboxEvent {
        let remind_at = t.remind_at.expect("only tasks with a reminder get reminder events");
        self.event(
            ty,
            t,
            now,
            ReminderData {
                task_id: t.id,
                title: t.title.to_string(),
                due_at: t.due_at,
                remind_at,
                user_id: t.user_id,
                task_version: t.version,
            },
        )
    }

    /// Fires `r` at `fired_at`: its `todo.reminder.due.v1` event and the
    /// [`Notification`] that records it (same id), late per [`reminder::is_late`].
    /// What every [`crate::ports::ReminderStore::fire_due`] writes for one reminder
    /// that stands ([`reminder::stands`]).
    pub fn fire_reminder(&self, r: &ReminderData, fired_at: DateTime<Utc>) -> (OutboxEvent, Notification) {
        let late = reminder::is_late(r.remind_at, fired_at);
        let event = self.reminder_due(r, fired_at, late);
        let n = Notification {
            id: event.event.id,
            user_id: r.user_id,
            task_id: r.task_id,
            title: r.title.clone(),
            due_at: r.due_at,
            remind_at: r.remind_at,
            fired_at,
            late,
        };
        (event, n)
    }

    /// `todo.reminder.due.v1`: the reminder `r` fired at `fired_at`.
    pub fn reminder_due(&self, r: &ReminderData, fired_at: DateTime<Utc>, late: bool) -> OutboxEvent {
        let data = ReminderDueData {
            task_id: r.task_id,
            title: r.title.clone(),
            due_at: r.due_at,
            remind_at: r.remind_at,
            user_id: r.user_id,
            fired_at,
            late,
        };
        OutboxEvent {
            topic: EventType::ReminderDue.topic(),
            key: r.user_id.to_string(),
            event: CloudEvent::new(
                &self.source,
                EventType::ReminderDue,
                Some(r.task_id.to_string()),
                fired_at,
                r.user_id,
                serde_json::to_value(data).expect("payloads serialize"),
            ),
        }
    }
}
