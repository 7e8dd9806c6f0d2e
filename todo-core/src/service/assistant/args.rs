//! The arguments and results of the assistant's tools, typed by the domain (a
//! value that does not parse never reaches a service); their JSON schemas are
//! the MCP tools' input and output schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Description, NotificationPage, Priority, Recurrence, RepeatFrom, Tags, Task, TaskId, TaskTitle};
use crate::service::TaskPatch;

/// `add_task`: a sentence (`text`) or the fields of a task (`title` and others).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTaskArgs {
    /// A sentence describing the task, read by the same interpreter as the chat, e.g.
    /// "pay rent on the 1st of every month at 9am #home". Give either `text` alone, or
    /// `title` and any of the other fields.
    #[serde(default)]
    #[schema(max_length = 2000, example = "water the plants every monday at 9am")]
    pub text: Option<String>,
    /// The title (with the other fields, instead of `text`).
    #[serde(default)]
    pub title: Option<TaskTitle>,
    /// Free text.
    #[serde(default)]
    pub description: Option<Description>,
    /// `low`, `medium` (default) or `high`.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Tags, without `#`.
    #[serde(default)]
    pub tags: Option<Tags>,
    /// RFC 3339 instant the task is due, e.g. 2026-12-01T09:00:00Z.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    /// `due_at` names a date, not a time: it becomes local midnight of that date.
    #[serde(default)]
    pub all_day: Option<bool>,
    /// RFC 3339 instant of the reminder.
    #[serde(default)]
    pub remind_at: Option<DateTime<Utc>>,
    /// RFC 5545 RRULE without the `RRULE:` prefix, e.g. FREQ=WEEKLY;BYDAY=MO.
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    /// Where the next occurrence counts from: `due` (default) or `completion`.
    #[serde(default)]
    pub repeat_from: Option<RepeatFrom>,
}

impl AddTaskArgs {
    pub(super) fn has_fields(&self) -> bool {
        let Self { text: _, title, description, priority, tags, due_at, all_day, remind_at, recurrence, repeat_from } =
            self;
        title.is_some()
            || description.is_some()
            || priority.is_some()
            || tags.is_some()
            || due_at.is_some()
            || all_day.is_some()
            || remind_at.is_some()
            || recurrence.is_some()
            || repeat_from.is_some()
    }
}

/// `add_tasks`: several tasks at once, each added (or refused) on its own.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTasksArgs {
    /// 1 to 50 tasks, each as `add_task` takes it.
    #[schema(min_items = 1, max_items = 50)]
    pub tasks: Vec<AddTaskArgs>,
}

/// `find_tasks`: the caller's tasks that a filter query shows, sorted, one page
/// at a time. The query language is that of `GET /api/v1/tasks?filter=`
/// (docs/filters.md), evaluated now in the user's time zone; it says everything
/// the REST API's shorthand parameters (`status`, `priority`, `tag`, `q`,
/// `due_after`, `due_before`, `overdue`) say, so they are not repeated here.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindTasksArgs {
    /// A filter query, e.g. `(today | overdue) & #work & !p3`, `p1 & due before: friday`,
    /// `search: invoice`, `completed after: monday`, `status:all & #home`. Pending tasks
    /// only unless it names a status; dates are the user's local dates. Without a filter:
    /// every pending task.
    #[serde(default)]
    #[schema(max_length = 1000, example = "(today | overdue) & #work")]
    pub filter: Option<String>,
    /// The name of a filter the user saved (web page, chat, `/api/v1/filters`), instead
    /// of `filter`; compared regardless of case and spacing.
    #[serde(default)]
    #[schema(max_length = 100, example = "work today")]
    pub saved_filter: Option<String>,
    /// Which comma-separated list of the query this page is of: 0 (default) to one less
    /// than the number of lists (the result's `lists` names them).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 9)]
    pub list: Option<u32>,
    /// `due_at` (default), `priority`, `created_at` or `title`; prefix `-` for descending.
    #[serde(default)]
    #[schema(pattern = "^-?(due_at|priority|created_at|title)$")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, with the same other arguments.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A task by id.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIdArgs {
    /// The task's id (from `find_tasks` or `add_task`).
    pub id: TaskId,
}

/// A change to one task, optionally only if it is still at `expected_version`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskVersionArgs {
    /// The task's id.
    pub id: TaskId,
    /// Refuse the change if the task is no longer at this `version` (someone changed it).
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// `update_task`: any subset of a task's fields.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskArgs {
    /// The task's id.
    pub id: TaskId,
    /// The fields to change; `null` clears `due_at`, `remind_at` or `recurrence`.
    pub changes: TaskPatch,
    /// Refuse the change if the task is no longer at this `version`.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// `complete_tasks`: several tasks completed at once, each on its own.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIdsArgs {
    /// 1 to 50 task ids.
    #[schema(min_items = 1, max_items = 50)]
    pub ids: Vec<TaskId>,
}

/// `add_reminder`: remind at an instant, or some minutes before the task is due.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddReminderArgs {
    /// The task's id.
    pub id: TaskId,
    /// RFC 3339 instant of the reminder.
    #[serde(default)]
    pub remind_at: Option<DateTime<Utc>>,
    /// Minutes before the task's due time (the task must have one), 0 to 525600.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 525_600)]
    pub minutes_before_due: Option<i64>,
}

/// A page request.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageArgs {
    /// Page size, 1 to 200 (default 50).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `audit_trail`: the recorded events of one task, newest first.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditTrailArgs {
    /// The task's id (a deleted task's trail stays readable).
    pub task_id: TaskId,
    /// Page size, 1 to 200 (default 50).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The outcome of one item of a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemResult {
    /// The item's position in the request, from 0.
    pub index: usize,
    /// Whether the item succeeded.
    pub ok: bool,
    /// The task after the change, when `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// Why the item was refused, when not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The outcomes of a batch, one per item in request order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    /// One result per item, in request order.
    pub results: Vec<ItemResult>,
    /// How many items succeeded.
    pub succeeded: usize,
    /// How many items were refused.
    pub failed: usize,
}

/// A deleted task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Deleted {
    /// The deleted task's id.
    pub deleted: TaskId,
    /// Its title.
    pub title: TaskTitle,
}

/// A page of delivered reminders, newest first (the REST API's page).
pub type NotificationList = NotificationPage;
