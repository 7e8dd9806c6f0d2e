//! `AssistantService`: the use cases an AI assistant reaches through MCP, on the
//! same services as the REST API (so every change is the same event on the same
//! log), for a [`Principal`] whose scopes are checked before anything is read
//! for a change. Arguments are typed by the domain: a value that does not parse
//! never reaches a store.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::chat::Command;
use crate::domain::page::parse_cursor;
use crate::domain::{
    AuditPage, AuditQuery, Description, NotificationPage, PageLimit, Principal, Priority, Recurrence, RepeatFrom, Tags,
    Task, TaskId, TaskPage, TaskTitle, ValidationError,
};
use crate::service::audit::AuditService;
use crate::service::chat::ChatService;
use crate::service::filters::FilterService;
use crate::service::notification::NotificationService;
use crate::service::{ListParams, NewTask, TaskPatch, TaskService};
use crate::{Error, Result};

/// Items in one batch call.
pub const BATCH_MAX: usize = 50;

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
    #[serde(default)]
    pub title: Option<TaskTitle>,
    #[serde(default)]
    pub description: Option<Description>,
    #[serde(default)]
    pub priority: Option<Priority>,
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
    #[serde(default)]
    pub repeat_from: Option<RepeatFrom>,
}

impl AddTaskArgs {
    fn has_fields(&self) -> bool {
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
    pub results: Vec<ItemResult>,
    /// How many items succeeded.
    pub succeeded: usize,
    /// How many items were refused.
    pub failed: usize,
}

/// A deleted task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Deleted {
    pub deleted: TaskId,
    pub title: TaskTitle,
}

/// A page of delivered reminders, newest first (the REST API's page).
pub type NotificationList = NotificationPage;

/// The assistant's use cases over the application services.
#[derive(Clone)]
pub struct AssistantService {
    tasks: TaskService,
    chat: ChatService,
    audit: AuditService,
    notifications: NotificationService,
    filters: FilterService,
}

/// Refuses `p` unless it may change things.
fn require_write(p: &Principal) -> Result<()> {
    if p.can_write() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "this token is read-only (scope \"read\"): it can find and read tasks but not change them; \
             mint a token with scopes [\"read\", \"write\"] to make changes"
                .into(),
        ))
    }
}

impl AssistantService {
    pub fn new(
        tasks: TaskService,
        chat: ChatService,
        audit: AuditService,
        notifications: NotificationService,
        filters: FilterService,
    ) -> Self {
        Self { tasks, chat, audit, notifications, filters }
    }

    /// Adds one task: from a sentence, or from fields.
    pub async fn add_task(&self, p: &Principal, args: AddTaskArgs) -> Result<Task> {
        require_write(p)?;
        let new = self.new_task(p, args).await?;
        self.tasks.create(p.user_id, new).await
    }

    /// Adds each task on its own: one refused item does not stop the others.
    pub async fn add_tasks(&self, p: &Principal, args: AddTasksArgs) -> Result<BatchResult> {
        require_write(p)?;
        check_batch("tasks", args.tasks.len())?;
        let mut results = Vec::with_capacity(args.tasks.len());
        for (index, item) in args.tasks.into_iter().enumerate() {
            let outcome = match self.new_task(p, item).await {
                Ok(new) => self.tasks.create(p.user_id, new).await,
                Err(e) => Err(e),
            };
            results.push(item_result(index, outcome)?);
        }
        Ok(batch(results))
    }

    /// The task `args` describe (a sentence interpreted, or its fields), validated.
    async fn new_task(&self, p: &Principal, args: AddTaskArgs) -> Result<NewTask> {
        match (&args.text, args.has_fields()) {
            (Some(_), true) => Err(ValidationError::new(
                "text",
                "give either text (a sentence) or title and the other fields, not both",
            )
            .into()),
            (Some(text), false) => self.interpret_add(p, text).await,
            (None, _) => {
                let Some(title) = args.title else {
                    return Err(ValidationError::new(
                        "title",
                        "give a title (or text: a sentence describing the task)",
                    )
                    .into());
                };
                Ok(NewTask {
                    description: args.description,
                    priority: args.priority,
                    tags: args.tags,
                    due_at: args.due_at,
                    all_day: args.all_day,
                    remind_at: args.remind_at,
                    recurrence: args.recurrence,
                    repeat_from: args.repeat_from,
                    ..NewTask::titled(title)
                })
            }
        }
    }

    /// The task a sentence describes, read by the chat's interpreter. A sentence
    /// without a verb ("dentist friday 3pm") is read as "add dentist friday 3pm".
    async fn interpret_add(&self, p: &Principal, text: &str) -> Result<NewTask> {
        let text = text.trim();
        let n = text.chars().count();
        if n == 0 || n > crate::service::chat::MESSAGE_MAX_CHARS {
            return Err(ValidationError::new(
                "text",
                format!("text must be 1 to {} characters", crate::service::chat::MESSAGE_MAX_CHARS),
            )
            .into());
        }
        let mut command = self.chat.interpret(p.user_id, text).await?;
        if !matches!(command, Command::AddTask(_)) {
            command = self.chat.interpret(p.user_id, &format!("add {text}")).await?;
        }
        match command {
            Command::AddTask(a) => Ok(crate::service::chat::new_task(a)),
            other => Err(ValidationError::new(
                "text",
                format!(
                    "could not read a task from {text:?}{}; give title and the other fields instead",
                    other.reply().map(|r| format!(" ({r})")).unwrap_or_default()
                ),
            )
            .into()),
        }
    }

    /// One page of the caller's tasks that `args.filter` (or the saved filter
    /// `args.saved_filter`) shows, as `GET /api/v1/tasks?filter=` lists them: the
    /// same parser, evaluated in the user's time zone, the same SQL. A query that
    /// does not parse is [`Error::InvalidFilter`], before anything is read.
    pub async fn find_tasks(&self, p: &Principal, args: FindTasksArgs) -> Result<TaskPage> {
        let filter = match (args.filter, args.saved_filter) {
            (Some(_), Some(_)) => {
                return Err(ValidationError::new("saved_filter", "give filter or saved_filter, not both").into());
            }
            (filter, None) => filter,
            (None, Some(name)) => Some(self.saved_query(p, &name).await?),
        };
        let params = ListParams {
            filter,
            list: args.list.map(|l| l.to_string()),
            sort: args.sort,
            limit: args.limit.map(|l| l.to_string()),
            cursor: args.cursor,
            ..ListParams::default()
        };
        self.tasks.list_with(p.user_id, params).await
    }

    /// The query of the user's saved filter `name`, or a refusal naming the ones
    /// there are.
    async fn saved_query(&self, p: &Principal, name: &str) -> Result<String> {
        if let Some(f) = self.filters.by_name(p.user_id, name).await? {
            return Ok(f.query.as_str().to_owned());
        }
        let names: Vec<String> =
            self.filters.list(p.user_id).await?.iter().map(|f| format!("{:?}", f.name.as_str())).collect();
        let known = if names.is_empty() {
            "the user has no saved filters".to_owned()
        } else {
            format!("the user's saved filters are {}", names.join(", "))
        };
        Err(ValidationError::new("saved_filter", format!("no saved filter is named {name:?}; {known}")).into())
    }

    pub async fn get_task(&self, p: &Principal, args: TaskIdArgs) -> Result<Task> {
        self.tasks.get(p.user_id, args.id).await
    }

    pub async fn update_task(&self, p: &Principal, args: UpdateTaskArgs) -> Result<Task> {
        require_write(p)?;
        self.tasks.update(p.user_id, args.id, args.changes, args.expected_version).await
    }

    /// Completes a task; a recurring one's next occurrence follows from the
    /// recurring-task service.
    pub async fn complete_task(&self, p: &Principal, args: TaskVersionArgs) -> Result<Task> {
        require_write(p)?;
        self.tasks.complete(p.user_id, args.id, args.expected_version).await
    }

    /// Completes each task on its own.
    pub async fn complete_tasks(&self, p: &Principal, args: TaskIdsArgs) -> Result<BatchResult> {
        require_write(p)?;
        check_batch("ids", args.ids.len())?;
        let mut results = Vec::with_capacity(args.ids.len());
        for (index, id) in args.ids.into_iter().enumerate() {
            results.push(item_result(index, self.tasks.complete(p.user_id, id, None).await)?);
        }
        Ok(batch(results))
    }

    pub async fn reopen_task(&self, p: &Principal, args: TaskVersionArgs) -> Result<Task> {
        require_write(p)?;
        self.tasks.reopen(p.user_id, args.id, args.expected_version).await
    }

    pub async fn delete_task(&self, p: &Principal, args: TaskVersionArgs) -> Result<Deleted> {
        require_write(p)?;
        let task = self.tasks.delete(p.user_id, args.id, args.expected_version).await?;
        Ok(Deleted { deleted: task.id, title: task.title })
    }

    /// Sets (or moves) the task's reminder.
    pub async fn add_reminder(&self, p: &Principal, args: AddReminderArgs) -> Result<Task> {
        require_write(p)?;
        let remind_at = match (args.remind_at, args.minutes_before_due) {
            (Some(at), None) => at,
            (None, Some(minutes)) => {
                if !(0..=525_600).contains(&minutes) {
                    return Err(ValidationError::new(
                        "minutes_before_due",
                        "minutes_before_due must be between 0 and 525600 (a year)",
                    )
                    .into());
                }
                let task = self.tasks.get(p.user_id, args.id).await?;
                let Some(due) = task.due_at else {
                    return Err(ValidationError::new(
                        "minutes_before_due",
                        "the task has no due time; give remind_at instead",
                    )
                    .into());
                };
                due - Duration::minutes(minutes)
            }
            _ => {
                return Err(ValidationError::new(
                    "remind_at",
                    "give either remind_at (an instant) or minutes_before_due",
                )
                .into());
            }
        };
        let patch = TaskPatch { remind_at: Some(Some(remind_at)), ..TaskPatch::default() };
        self.tasks.update(p.user_id, args.id, patch, None).await
    }

    /// Reminders that fired for the caller, newest first.
    pub async fn list_notifications(&self, p: &Principal, args: PageArgs) -> Result<NotificationList> {
        let limit = PageLimit::from_number(args.limit)?;
        self.notifications.page(p.user_id, limit, args.cursor.as_deref()).await
    }

    /// The audit entries of one of the caller's tasks, newest first.
    pub async fn audit_trail(&self, p: &Principal, args: AuditTrailArgs) -> Result<AuditPage> {
        let before_seq = args.cursor.as_deref().map(parse_cursor::<i64>).transpose()?;
        let query = AuditQuery {
            user_id: p.user_id,
            task_id: Some(args.task_id),
            event_type: None,
            limit: PageLimit::from_number(args.limit)?.get(),
            before_seq,
        };
        self.audit.list(&query).await
    }
}

fn check_batch(field: &'static str, n: usize) -> Result<()> {
    if (1..=BATCH_MAX).contains(&n) {
        Ok(())
    } else {
        Err(ValidationError::new(field, format!("{field} must hold 1 to {BATCH_MAX} items; got {n}")).into())
    }
}

/// One item's outcome: refusals the caller can act on are results; a failure of
/// the system (database down) fails the whole call.
fn item_result(index: usize, outcome: Result<Task>) -> Result<ItemResult> {
    match outcome {
        Ok(task) => Ok(ItemResult { index, ok: true, task: Some(task), error: None }),
        Err(e @ (Error::Unavailable(_) | Error::Internal(_) | Error::Overloaded { .. })) => Err(e),
        Err(e) => Ok(ItemResult { index, ok: false, task: None, error: Some(describe(&e)) }),
    }
}

fn batch(results: Vec<ItemResult>) -> BatchResult {
    let succeeded = results.iter().filter(|r| r.ok).count();
    BatchResult { failed: results.len() - succeeded, succeeded, results }
}

/// A refusal in words an assistant can act on.
pub fn describe(e: &Error) -> String {
    match e {
        Error::Validation(v) => format!("invalid {}: {}", v.field, v.message),
        Error::InvalidFilter(f) => format!(
            "invalid filter: {} (characters {} to {} of the filter; see the find_tasks description for its terms)",
            f.message, f.span[0], f.span[1]
        ),
        Error::NotFound(what) => format!("{what} not found"),
        Error::VersionMismatch { current } => {
            format!("the task changed meanwhile: it is at version {current}; read it again and retry")
        }
        Error::Forbidden(m) | Error::Conflict(m) => m.clone(),
        Error::RateLimited { retry_after_secs } => format!("too many requests; retry in {retry_after_secs} s"),
        Error::Unavailable(_) | Error::Overloaded { .. } => "the service is busy or unavailable; retry shortly".into(),
        Error::Duplicate(_) | Error::Unauthorized | Error::Internal(_) => "internal error".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::{Email, Scopes, Status, Timezone, User, UserId};
    use crate::events::EventFactory;
    use crate::memory::{ManualClock, MemoryStore};
    use crate::ports::{Clock, UserRepository};
    use crate::service::chat::RuleBasedInterpreter;

    async fn setup() -> (AssistantService, Arc<MemoryStore>, Principal, Principal) {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::at("2026-11-26T09:00:00Z"));
        let user = User {
            id: UserId::new(),
            email: Email::parse("ada@example.com").unwrap(),
            password_hash: String::new(),
            timezone: Timezone::parse("Europe/Berlin").unwrap(),
            created_at: clock.now(),
        };
        store.create(&user).await.unwrap();
        let tasks = TaskService::new(store.clone(), store.clone(), clock.clone(), EventFactory::new("/test"));
        let chat = ChatService::new(tasks.clone(), store.clone(), clock.clone(), Arc::new(RuleBasedInterpreter));
        let svc = AssistantService::new(
            tasks.clone(),
            chat,
            AuditService::new(store.clone()),
            NotificationService::new(store.clone()),
            FilterService::new(tasks, store.clone()),
        );
        let write = Principal::session(user.id);
        let read = Principal { scopes: Scopes::READ, ..write };
        (svc, store, write, read)
    }

    #[tokio::test]
    async fn a_sentence_adds_a_recurring_task() {
        let (svc, _, p, _) = setup().await;
        let text = AddTaskArgs { text: Some("water the plants every monday at 9am".into()), ..Default::default() };
        let t = svc.add_task(&p, text).await.unwrap();
        assert_eq!(t.title.as_str(), "water the plants");
        assert_eq!(t.recurrence.as_ref().map(|r| r.as_str()), Some("FREQ=WEEKLY;BYDAY=MO"));
        // A sentence without a verb reads as an addition.
        let t = svc.add_task(&p, AddTaskArgs { text: Some("dentist friday 3pm".into()), ..Default::default() }).await;
        assert_eq!(t.unwrap().title.as_str(), "dentist");
    }

    #[tokio::test]
    async fn a_read_token_changes_nothing() {
        let (svc, store, write, read) = setup().await;
        let t = svc
            .add_task(&write, AddTaskArgs { title: Some(TaskTitle::parse("x").unwrap()), ..Default::default() })
            .await
            .unwrap();
        let before = store.records(crate::events::Topic::TaskEvents).len();
        let id = TaskVersionArgs { id: t.id, expected_version: None };
        let refused = [
            svc.add_task(&read, AddTaskArgs { title: Some(TaskTitle::parse("y").unwrap()), ..Default::default() })
                .await
                .err(),
            svc.complete_task(&read, id.clone()).await.err(),
            svc.reopen_task(&read, id.clone()).await.err(),
            svc.delete_task(&read, id.clone()).await.err(),
            svc.update_task(&read, UpdateTaskArgs { id: t.id, changes: TaskPatch::default(), expected_version: None })
                .await
                .err(),
            svc.add_reminder(
                &read,
                AddReminderArgs { id: t.id, remind_at: Some(t.created_at), minutes_before_due: None },
            )
            .await
            .err(),
            svc.complete_tasks(&read, TaskIdsArgs { ids: vec![t.id] }).await.err(),
            svc.add_tasks(&read, AddTasksArgs { tasks: vec![AddTaskArgs::default()] }).await.err(),
        ];
        for (i, e) in refused.into_iter().enumerate() {
            assert!(matches!(e, Some(Error::Forbidden(_))), "call {i}: {e:?}");
        }
        assert_eq!(store.records(crate::events::Topic::TaskEvents).len(), before, "no event");
        assert_eq!(svc.get_task(&read, TaskIdArgs { id: t.id }).await.unwrap().status, Status::Pending);
        assert_eq!(svc.find_tasks(&read, FindTasksArgs::default()).await.unwrap().items.len(), 1);
    }

    #[tokio::test]
    async fn batches_report_each_item() {
        let (svc, _, p, _) = setup().await;
        let ok = AddTaskArgs { title: Some(TaskTitle::parse("a").unwrap()), ..Default::default() };
        let both = AddTaskArgs { text: Some("add b".into()), ..ok.clone() };
        let r = svc.add_tasks(&p, AddTasksArgs { tasks: vec![ok, both, AddTaskArgs::default()] }).await.unwrap();
        assert_eq!((r.succeeded, r.failed), (1, 2));
        assert!(r.results[1].error.as_deref().unwrap().contains("not both"));
        assert!(r.results[2].error.as_deref().unwrap().contains("give a title"));
        let done = svc
            .complete_tasks(&p, TaskIdsArgs { ids: vec![r.results[0].task.as_ref().unwrap().id, TaskId::new()] })
            .await
            .unwrap();
        assert_eq!((done.succeeded, done.failed), (1, 1));
        assert_eq!(done.results[1].error.as_deref(), Some("task not found"));
        assert!(svc.complete_tasks(&p, TaskIdsArgs { ids: vec![] }).await.is_err());
    }

    #[tokio::test]
    async fn reminders_before_the_due_time() {
        let (svc, _, p, _) = setup().await;
        let t = svc
            .add_task(
                &p,
                AddTaskArgs {
                    title: Some(TaskTitle::parse("call").unwrap()),
                    due_at: Some("2026-12-01T10:00:00Z".parse().unwrap()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let r = AddReminderArgs { id: t.id, remind_at: None, minutes_before_due: Some(30) };
        let t = svc.add_reminder(&p, r).await.unwrap();
        assert_eq!(t.remind_at, Some("2026-12-01T09:30:00Z".parse().unwrap()));
        let neither = AddReminderArgs { id: t.id, remind_at: None, minutes_before_due: None };
        assert!(matches!(svc.add_reminder(&p, neither).await, Err(Error::Validation(_))));
    }

    fn task(title: &str, tags: &[&str], due: Option<&str>) -> AddTaskArgs {
        AddTaskArgs {
            title: Some(TaskTitle::parse(title).unwrap()),
            tags: Some(Tags::parse(tags.iter().copied()).unwrap()),
            due_at: due.map(|d| d.parse().unwrap()),
            ..Default::default()
        }
    }

    fn titles(page: &TaskPage) -> Vec<&str> {
        page.items.iter().map(|t| t.title.as_str()).collect()
    }

    fn filter(q: &str) -> FindTasksArgs {
        FindTasksArgs { filter: Some(q.into()), ..Default::default() }
    }

    #[tokio::test]
    async fn find_tasks_reads_a_filter_in_the_users_time_zone() {
        // 09:00 UTC on 2026-11-26 is 10:00 in Berlin; Berlin's 27th starts at 23:00 UTC.
        let (svc, _, p, read) = setup().await;
        for t in [
            task("late tonight", &["work"], Some("2026-11-26T22:30:00Z")),
            task("just after midnight", &["work"], Some("2026-11-26T23:30:00Z")),
            task("yesterday", &["home"], Some("2026-11-25T08:00:00Z")),
            task("someday", &["work"], None),
        ] {
            svc.add_task(&p, t).await.unwrap();
        }
        let today = svc.find_tasks(&read, filter("today & #work")).await.unwrap();
        assert_eq!(titles(&today), ["late tonight"], "Berlin's today, not UTC's");
        let agenda = svc.find_tasks(&read, filter("overdue, today")).await.unwrap();
        assert_eq!(titles(&agenda), ["yesterday"]);
        assert_eq!(agenda.lists.as_deref(), Some(&["overdue".to_owned(), "today".to_owned()][..]));
        let second = FindTasksArgs { list: Some(1), ..filter("overdue, today") };
        assert_eq!(titles(&svc.find_tasks(&read, second).await.unwrap()), ["late tonight"]);
        let none = svc.find_tasks(&read, filter("no date")).await.unwrap();
        assert_eq!(titles(&none), ["someday"]);
        let all = svc.find_tasks(&read, FindTasksArgs::default()).await.unwrap();
        assert_eq!(all.items.len(), 4, "without a filter: every pending task");
        assert_eq!(all.lists, None);
        // Pages.
        let first = svc.find_tasks(&read, FindTasksArgs { limit: Some(3), ..Default::default() }).await.unwrap();
        assert_eq!(first.items.len(), 3);
        let rest = FindTasksArgs { limit: Some(3), cursor: first.next_cursor.clone(), ..Default::default() };
        let rest = svc.find_tasks(&read, rest).await.unwrap();
        assert_eq!(rest.items.len(), 1);
        assert!(rest.next_cursor.is_none());
    }

    #[tokio::test]
    async fn an_invalid_filter_says_what_and_where() {
        let (svc, _, _, read) = setup().await;
        let e = svc.find_tasks(&read, filter("#work & due before:")).await.unwrap_err();
        let Error::InvalidFilter(f) = &e else { panic!("{e:?}") };
        assert_eq!(f.span, [19, 19]);
        let said = describe(&e);
        assert!(said.starts_with("invalid filter: expected a date"), "{said}");
        assert!(said.contains("at 19") && said.contains("characters 19 to 19"), "{said}");
        let list = svc.find_tasks(&read, FindTasksArgs { list: Some(1), ..filter("today") }).await.unwrap_err();
        assert!(describe(&list).contains("list must be 0 to 0"), "{list:?}");
    }

    #[tokio::test]
    async fn find_tasks_opens_a_saved_filter_by_name() {
        let (svc, _, p, read) = setup().await;
        svc.add_task(&p, task("report", &["work"], None)).await.unwrap();
        svc.add_task(&p, task("garden", &["home"], None)).await.unwrap();
        let none = FindTasksArgs { saved_filter: Some("work".into()), ..Default::default() };
        let e = svc.find_tasks(&read, none.clone()).await.unwrap_err();
        assert!(describe(&e).contains("has no saved filters"), "{e:?}");
        let saved = crate::service::filters::NewSavedFilter { name: "Work Stuff".into(), query: "#work".into() };
        svc.filters.create(p.user_id, saved).await.unwrap();
        let e = svc.find_tasks(&read, none).await.unwrap_err();
        assert!(describe(&e).contains(r#"saved filters are "Work Stuff""#), "{e:?}");
        let by_name = FindTasksArgs { saved_filter: Some("work  stuff".into()), ..Default::default() };
        assert_eq!(titles(&svc.find_tasks(&read, by_name).await.unwrap()), ["report"]);
        let both = FindTasksArgs { saved_filter: Some("Work Stuff".into()), ..filter("#home") };
        assert!(describe(&svc.find_tasks(&read, both).await.unwrap_err()).contains("not both"));
    }
}
