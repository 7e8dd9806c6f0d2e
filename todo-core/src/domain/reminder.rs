//! When a reminder that fell due fires, and whether it is late: the rules every
//! [`crate::ports::ReminderStore::fire_due`] applies (the in-memory store, the SQL
//! stores of todo-store). The `todo.reminder.due.v1` event and the
//! [`Notification`](super::Notification) a firing records are made by
//! [`crate::events::EventFactory::fire_reminder`].

use chrono::{DateTime, Duration, Utc};

use super::ids::UserId;
use super::task::{Status, Task};

/// What firing a reminder needs to know of its task as the task is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskNow {
    /// The task's owner.
    pub user_id: UserId,
    /// Pending or completed.
    pub status: Status,
    /// When the task reminds now.
    pub remind_at: Option<DateTime<Utc>>,
}

impl From<&Task> for TaskNow {
    fn from(t: &Task) -> Self {
        Self { user_id: t.user_id, status: t.status, remind_at: t.remind_at }
    }
}

/// Whether the reminder of `user_id`'s task for `remind_at` still stands when it
/// falls due: its task (`None`: deleted) still exists, is the same user's, is
/// pending and still reminds at that time. One that does not stand never fires
/// for that time (`docs/adr/0008-reminder-firing-guard.md`).
pub fn stands(user_id: UserId, remind_at: DateTime<Utc>, task: Option<TaskNow>) -> bool {
    task.is_some_and(|t| t.user_id == user_id && t.status == Status::Pending && t.remind_at == Some(remind_at))
}

/// Whether firing at `fired_at` is late for `remind_at` (more than a second after it).
pub fn is_late(remind_at: DateTime<Utc>, fired_at: DateTime<Utc>) -> bool {
    fired_at - remind_at > Duration::seconds(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("a time")
    }

    #[test]
    fn a_reminder_stands_only_for_its_pending_task_at_the_same_time() {
        let user = UserId::new();
        let task = TaskNow { user_id: user, status: Status::Pending, remind_at: Some(at(0)) };
        assert!(stands(user, at(0), Some(task)));
        assert!(!stands(user, at(0), None), "deleted");
        assert!(!stands(user, at(0), Some(TaskNow { status: Status::Completed, ..task })), "completed");
        assert!(!stands(user, at(0), Some(TaskNow { remind_at: Some(at(60)), ..task })), "moved");
        assert!(!stands(user, at(0), Some(TaskNow { remind_at: None, ..task })), "no longer reminds");
        assert!(!stands(UserId::new(), at(0), Some(task)), "another user's task");
    }

    #[test]
    fn late_means_more_than_a_second_after() {
        assert!(!is_late(at(0), at(0)));
        assert!(!is_late(at(0), at(1)));
        assert!(is_late(at(0), at(1) + Duration::microseconds(1)));
    }
}
