//! Changing a task: a [`TaskPatch`] applied field by field, then the time rules
//! checked on the result.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::{Description, Priority, Recurrence, RepeatFrom, Tags, Task, TaskTitle, check_times};
use crate::domain::{SeriesId, Timezone, ValidationError};

/// `PATCH /api/v1/tasks/{id}`: any subset; `null` clears a nullable field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    /// A new title.
    #[serde(default)]
    pub title: Option<TaskTitle>,
    /// A new description.
    #[serde(default)]
    pub description: Option<Description>,
    /// A new priority.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// The new set of tags (replaces the old one).
    #[serde(default)]
    pub tags: Option<Tags>,
    /// A new due time; `null` clears it (and `all_day`). A reminder moves with it.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub due_at: Option<Option<DateTime<Utc>>>,
    /// Whether `due_at` names a date rather than a time.
    #[serde(default)]
    pub all_day: Option<bool>,
    /// A new reminder time; `null` clears it.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub remind_at: Option<Option<DateTime<Utc>>>,
    /// A new recurrence rule; `null` stops the task recurring.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub recurrence: Option<Option<Recurrence>>,
    /// Where the next occurrence counts from.
    #[serde(default)]
    pub repeat_from: Option<RepeatFrom>,
}

/// Present-and-null is `Some(None)`; absent is `None` (with `#[serde(default)]`).
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl Task {
    /// Applies `patch` (dates in `tz`, the user's time zone); returns the names of
    /// the fields that changed, in a fixed order. A reminder moves with its due
    /// time unless the patch sets it too; clearing the due time clears `all_day`;
    /// a task made recurring starts its own series. Fails, leaving the task
    /// partly changed, when the times do not hold together ([`check_times`]):
    /// apply patches to a copy.
    pub fn apply_patch(&mut self, patch: &TaskPatch, tz: Timezone) -> Result<Vec<String>, ValidationError> {
        let before = self.clone();
        if let Some(t) = &patch.title {
            self.title = t.clone();
        }
        if let Some(d) = &patch.description {
            self.description = d.clone();
        }
        if let Some(p) = patch.priority {
            self.priority = p;
        }
        if let Some(t) = &patch.tags {
            self.tags = t.clone();
        }
        if let Some(a) = patch.all_day {
            self.all_day = a;
        }
        if let Some(d) = patch.due_at {
            self.due_at = d;
            if d.is_none() {
                self.all_day = false;
            }
            // A reminder moves with its task unless the patch sets it too.
            if patch.remind_at.is_none()
                && let (Some(off), Some(new_due)) = (before.reminder_offset(), d)
            {
                self.remind_at = Some(new_due - off);
            }
        }
        if let Some(r) = patch.remind_at {
            self.remind_at = r;
        }
        if let Some(r) = &patch.recurrence {
            self.recurrence = r.clone();
            if self.recurrence.is_some() && self.series_id.is_none() {
                self.series_id = Some(SeriesId(self.id.0));
            }
        }
        if let Some(r) = patch.repeat_from {
            self.repeat_from = r;
        }
        self.due_at = check_times(self.due_at, self.remind_at, self.all_day, tz)?;
        let mut changes = Vec::new();
        let mut note = |name: &str, changed: bool| {
            if changed {
                changes.push(name.to_owned());
            }
        };
        note("title", self.title != before.title);
        note("description", self.description != before.description);
        note("priority", self.priority != before.priority);
        note("tags", self.tags != before.tags);
        note("due_at", self.due_at != before.due_at);
        note("all_day", self.all_day != before.all_day);
        note("remind_at", self.remind_at != before.remind_at);
        note("recurrence", self.recurrence != before.recurrence);
        note("repeat_from", self.repeat_from != before.repeat_from);
        Ok(changes)
    }
}
