//! The task aggregate: its parsed values, and the rules that make and change a
//! task (construction, the next occurrence of a recurring task, time checks,
//! patches, status changes, version checks). Synchronous and side-effect free:
//! the services read and commit, the rules live here.

mod new;
mod patch;
mod times;
mod values;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use self::new::NewTask;
pub use self::patch::TaskPatch;
pub use self::times::{MAX_TIME, MIN_TIME, check_times, local_midnight, parse_instant};
pub use self::values::{
    DESCRIPTION_MAX_CHARS, Description, TAG_MAX_CHARS, TAGS_MAX, TITLE_MAX_CHARS, Tag, Tags, TaskTitle,
};
use super::ids::{SeriesId, TaskId, UserId};
use super::recurrence::Recurrence;
pub use super::recurrence::RepeatFrom;
use crate::Error;

str_enum!(
    /// Whether a task is done.
    Status {
        /// Not done yet.
        #[default]
        Pending = "pending",
        /// Done.
        Completed = "completed",
    } field = "status"
);

str_enum!(
    /// How important a task is. Orders `low < medium < high`.
    Priority {
        /// Can wait.
        Low = "low",
        /// The default.
        #[default]
        Medium = "medium",
        /// Comes first.
        High = "high",
    } field = "priority"
);

impl Priority {
    /// 0 (low) to 2 (high): the order used for sorting.
    pub fn rank(&self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Medium => 1,
            Priority::High => 2,
        }
    }
}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Priority {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// One task, as stored and as sent on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The task's id (UUID v7: ids sort by creation time).
    pub id: TaskId,
    /// Whose task it is.
    pub user_id: UserId,
    /// The title.
    pub title: TaskTitle,
    /// Free text (may be empty).
    #[serde(default)]
    pub description: Description,
    /// Pending or completed.
    pub status: Status,
    /// How important it is.
    pub priority: Priority,
    /// Its tags, sorted.
    #[serde(default)]
    pub tags: Tags,
    /// Due time (UTC). For all-day tasks, local midnight of the due date.
    #[serde(serialize_with = "crate::domain::rfc3339::serialize_opt")]
    pub due_at: Option<DateTime<Utc>>,
    /// The user gave a date without a time.
    #[serde(default)]
    pub all_day: bool,
    /// When to remind the user (UTC).
    #[serde(serialize_with = "crate::domain::rfc3339::serialize_opt")]
    pub remind_at: Option<DateTime<Utc>>,
    /// RFC 5545 RRULE without the `RRULE:` prefix, e.g. `FREQ=WEEKLY;BYDAY=MO`.
    pub recurrence: Option<Recurrence>,
    /// Where the next occurrence of a recurring task counts from.
    #[serde(default)]
    pub repeat_from: RepeatFrom,
    /// Shared by every occurrence of a recurring task.
    pub series_id: Option<SeriesId>,
    /// When it was created.
    #[serde(serialize_with = "crate::domain::rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::domain::rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
    /// When it was completed (absent while pending).
    #[serde(serialize_with = "crate::domain::rfc3339::serialize_opt")]
    pub completed_at: Option<DateTime<Utc>>,
    /// Increments on every change; send it back in `If-Match` for optimistic concurrency.
    pub version: i64,
}

impl Task {
    /// Whether the task is not done yet.
    pub fn is_pending(&self) -> bool {
        self.status == Status::Pending
    }

    /// `due_at - remind_at`, the reminder's lead time, when both are set.
    pub fn reminder_offset(&self) -> Option<chrono::Duration> {
        Some(self.due_at? - self.remind_at?)
    }

    /// Whether this task has a reminder that should still fire.
    pub fn has_live_reminder(&self) -> bool {
        self.is_pending() && self.remind_at.is_some()
    }

    /// Moves the task to `status` at `now`: completing sets `completed_at`,
    /// reopening clears it. `false` (and no change) when it is there already.
    pub fn set_status(&mut self, status: Status, now: DateTime<Utc>) -> bool {
        if self.status == status {
            return false;
        }
        self.status = status;
        self.completed_at = (status == Status::Completed).then_some(now);
        true
    }

    /// Optimistic concurrency: [`Error::VersionMismatch`] unless `expected` is
    /// `None` or this task's version.
    pub fn check_version(&self, expected: Option<i64>) -> Result<(), Error> {
        match expected {
            Some(v) if v != self.version => Err(Error::VersionMismatch { current: self.version }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
