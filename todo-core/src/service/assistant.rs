//! `AssistantService`: the use cases an AI assistant reaches through MCP, on the
//! same services as the REST API (so every change is the same event on the same
//! log), for a [`Principal`] whose scopes are checked before anything is read
//! for a change. Arguments are typed by the domain: a value that does not parse
//! never reaches a store.

use chrono::Duration;

use crate::chat::Command;
use crate::domain::page::parse_cursor;
use crate::domain::{AuditPage, AuditQuery, PageLimit, Principal, Task, TaskPage, ValidationError};
use crate::service::audit::AuditService;
use crate::service::chat::ChatService;
use crate::service::filters::FilterService;
use crate::service::notification::NotificationService;
use crate::service::{ListParams, NewTask, TaskPatch, TaskService};
use crate::{Error, Result};

mod args;

pub use args::{
    AddReminderArgs, AddTaskArgs, AddTasksArgs, AuditTrailArgs, BatchResult, Deleted, FindTasksArgs, ItemResult,
    NotificationList, PageArgs, TaskIdArgs, TaskIdsArgs, TaskVersionArgs, UpdateTaskArgs,
};

/// Items in one batch call.
pub const BATCH_MAX: usize = 50;

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
    /// The assistant over the application services.
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

    /// One of the caller's tasks.
    pub async fn get_task(&self, p: &Principal, args: TaskIdArgs) -> Result<Task> {
        self.tasks.get(p.user_id, args.id).await
    }

    /// Changes fields of one of the caller's tasks (write scope).
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

    /// Marks one of the caller's tasks pending again (write scope).
    pub async fn reopen_task(&self, p: &Principal, args: TaskVersionArgs) -> Result<Task> {
        require_write(p)?;
        self.tasks.reopen(p.user_id, args.id, args.expected_version).await
    }

    /// Deletes one of the caller's tasks (write scope).
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
mod tests;
