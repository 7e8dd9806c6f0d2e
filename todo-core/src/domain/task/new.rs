//! Making a task: a new one from what a user gave ([`NewTask`]), and the
//! occurrence that follows a completed occurrence of a recurring task.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Description, Priority, Recurrence, RepeatFrom, Status, Tags, Task, TaskTitle, check_times};
use crate::domain::{SeriesId, TaskId, Timezone, UserId, ValidationError};

/// `POST /api/v1/tasks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// The title.
    pub title: TaskTitle,
    /// Free text (default empty).
    #[serde(default)]
    pub description: Option<Description>,
    /// Default `medium`.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Default none.
    #[serde(default)]
    pub tags: Option<Tags>,
    /// When the task is due.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    /// `due_at` names a date, not a time: it is moved to local midnight of that date.
    #[serde(default)]
    pub all_day: Option<bool>,
    /// When to remind the user.
    #[serde(default)]
    pub remind_at: Option<DateTime<Utc>>,
    /// Makes the task recurring.
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    /// Where the next occurrence counts from (default `due`).
    #[serde(default)]
    pub repeat_from: Option<RepeatFrom>,
}

impl NewTask {
    /// A task with this title and nothing else.
    pub fn titled(title: TaskTitle) -> Self {
        Self {
            title,
            description: None,
            priority: None,
            tags: None,
            due_at: None,
            all_day: None,
            remind_at: None,
            recurrence: None,
            repeat_from: None,
        }
    }
}

impl Task {
    /// The task `new` describes, for `user_id` in time zone `tz`, created at `now`
    /// with a fresh id: pending, version 1; an all-day due date moves to local
    /// midnight; a recurring task starts its own series. Fails when the times do
    /// not hold together ([`check_times`]).
    pub fn new(user_id: UserId, new: NewTask, tz: Timezone, now: DateTime<Utc>) -> Result<Self, ValidationError> {
        let all_day = new.all_day.unwrap_or(false);
        let due_at = check_times(new.due_at, new.remind_at, all_day, tz)?;
        let id = TaskId::new();
        Ok(Task {
            id,
            user_id,
            title: new.title,
            description: new.description.unwrap_or_default(),
            status: Status::Pending,
            priority: new.priority.unwrap_or_default(),
            tags: new.tags.unwrap_or_default(),
            due_at,
            all_day,
            remind_at: new.remind_at,
            series_id: new.recurrence.as_ref().map(|_| SeriesId(id.0)),
            recurrence: new.recurrence,
            repeat_from: new.repeat_from.unwrap_or_default(),
            created_at: now,
            updated_at: now,
            completed_at: None,
            version: 1,
        })
    }

    /// The occurrence that follows this one, a completed occurrence of a recurring
    /// task (dates in `tz`, the user's time zone), created at `now` with a fresh
    /// id: due at the rule's next occurrence ([`Recurrence::next_after_completion`]),
    /// its reminder as far ahead of it as this one's was, in the same series. A
    /// task without a due date repeats all day. `None` when there is none: not
    /// recurring, not completed, or the rule has ended.
    pub fn successor(&self, tz: Timezone, now: DateTime<Utc>) -> Option<Task> {
        let (Some(rule), Some(completed_at)) = (&self.recurrence, self.completed_at) else {
            return None;
        };
        let due = rule.next_after_completion(self.due_at, self.all_day, self.repeat_from, completed_at, tz.tz())?;
        Some(Task {
            id: TaskId::new(),
            user_id: self.user_id,
            title: self.title.clone(),
            description: self.description.clone(),
            status: Status::Pending,
            priority: self.priority,
            tags: self.tags.clone(),
            due_at: Some(due),
            all_day: self.all_day || self.due_at.is_none(),
            remind_at: self.reminder_offset().map(|off| due - off),
            recurrence: self.recurrence.clone(),
            repeat_from: self.repeat_from,
            series_id: Some(self.series_id.unwrap_or(SeriesId(self.id.0))),
            created_at: now,
            updated_at: now,
            completed_at: None,
            version: 1,
        })
    }
}
