use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::envelope::{CloudEvent, EventError, EventType};
use crate::domain::{Task, TaskId, UserId};

/// `event_type` of a `task-events` payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskEventKind {
    /// `todo.task.created.v1` (also a deleted task restored).
    Created,
    /// `todo.task.updated.v1` (also a task reopened).
    Updated,
    /// `todo.task.completed.v1`.
    Completed,
    /// `todo.task.deleted.v1`.
    Deleted,
}

/// `data` of `todo.task.{created,updated,completed,deleted}.v1` on `task-events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskEventData {
    /// What happened, as the event type says.
    pub event_type: TaskEventKind,
    /// The task's id.
    pub task_id: TaskId,
    /// The task after the change (for `deleted`: as it was).
    pub task_data: Task,
    /// The task's owner.
    pub user_id: UserId,
    /// When the change was made.
    pub timestamp: DateTime<Utc>,
    /// The fields that changed (`updated` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<String>>,
}

/// `data` of `todo.reminder.{scheduled,cancelled}.v1` on `reminders`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReminderData {
    /// The task's id.
    pub task_id: TaskId,
    /// The task's title.
    pub title: String,
    /// When the task is due, if it has a due time.
    pub due_at: Option<DateTime<Utc>>,
    /// When the reminder fires.
    pub remind_at: DateTime<Utc>,
    /// The task's owner.
    pub user_id: UserId,
    /// The task version this reminder belongs to: a schedule keeps only the newest.
    #[serde(default)]
    pub task_version: i64,
}

/// `change_type` of `todo.task.changed.v1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeType {
    /// The task was created.
    Created,
    /// Some of its fields changed.
    Updated,
    /// It was completed.
    Completed,
    /// It was completed and is pending again.
    Reopened,
    /// It was deleted.
    Deleted,
    /// A deleted task back with its id (an "undo" of the deletion).
    Restored,
}

/// `data` of `todo.task.changed.v1` on `task-updates`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskUpdateData {
    /// The task's id.
    pub task_id: TaskId,
    /// The task's owner.
    pub user_id: UserId,
    /// What happened.
    pub change_type: ChangeType,
    /// The task after the change (for `deleted`: as it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_data: Option<Task>,
    /// When the change was made.
    pub timestamp: DateTime<Utc>,
}

/// `data` of `todo.reminder.due.v1` on `task-updates`: a reminder fired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReminderDueData {
    /// The task's id.
    pub task_id: TaskId,
    /// The task's title.
    pub title: String,
    /// When the task is due, if it has a due time.
    pub due_at: Option<DateTime<Utc>>,
    /// When the reminder was due.
    pub remind_at: DateTime<Utc>,
    /// The task's owner.
    pub user_id: UserId,
    /// When it fired.
    pub fired_at: DateTime<Utc>,
    /// Fired more than a second after `remind_at` (e.g. the service was down).
    #[serde(default)]
    pub late: bool,
}

/// A decoded event of the catalog.
#[derive(Clone, Debug, PartialEq)]
pub enum DomainEvent {
    /// `task-events`: a task was created, updated, completed or deleted.
    Task(EventType, TaskEventData),
    /// `reminders`: a reminder was scheduled or cancelled.
    Reminder(EventType, ReminderData),
    /// `task-updates`: `todo.task.changed.v1`, for live clients.
    TaskChanged(TaskUpdateData),
    /// `task-updates`: `todo.reminder.due.v1`, a reminder fired.
    ReminderDue(ReminderDueData),
}

impl CloudEvent {
    /// The typed payload, after checking the type's major version.
    pub fn decode(&self) -> Result<DomainEvent, EventError> {
        let ty = self.event_type()?;
        Ok(match ty {
            EventType::TaskCreated | EventType::TaskUpdated | EventType::TaskCompleted | EventType::TaskDeleted => {
                DomainEvent::Task(ty, self.data_as(ty)?)
            }
            EventType::ReminderScheduled | EventType::ReminderCancelled => DomainEvent::Reminder(ty, self.data_as(ty)?),
            EventType::TaskChanged => DomainEvent::TaskChanged(self.data_as(ty)?),
            EventType::ReminderDue => DomainEvent::ReminderDue(self.data_as(ty)?),
        })
    }

    fn data_as<T: DeserializeOwned>(&self, ty: EventType) -> Result<T, EventError> {
        T::deserialize(&self.data)
            .map_err(|e| EventError::InvalidData { ty: ty.as_str().to_owned(), message: e.to_string() })
    }
}
