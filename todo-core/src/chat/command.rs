//! What the interpreter produces: one tool call, `{"intent": ..., "args": {...}}`,
//! with arguments typed by the domain (a parsed title, tags, priority, rule).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::{
    Description, Priority, Recurrence, RepeatFrom, Status, StatusFilter, Tag, Tags, TaskId, TaskTitle, ValidationError,
};

/// The tool a sentence asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Add one task ("buy milk tomorrow at 5pm").
    AddTask,
    /// Show tasks ("what do I have to do today?").
    ListTasks,
    /// Mark one task done.
    CompleteTask,
    /// Delete one task.
    DeleteTask,
    /// Change one task ("move task 2 to friday").
    UpdateTask,
    /// Several tasks at once ("add milk, eggs and bread to my shopping list").
    AddTasks,
    /// Move a recurring task to its following occurrence ("skip the next one").
    SkipOccurrence,
    /// Complete every task of a listing, once the user says yes.
    CompleteTasks,
    /// Delete every task of a listing, once the user says yes.
    DeleteTasks,
    /// Revert the conversation's last change.
    Undo,
    /// "yes" to the bulk action just asked about.
    Confirm,
    /// "no" to it.
    Cancel,
    /// A task picked without saying what to do with it ("the second one"): the
    /// answer to "which one?", or what the conversation is about from now on.
    Choose,
    /// Save the last listing as a named filter ("save this as 'work today'").
    SaveFilter,
    /// Show what the assistant understands.
    Help,
    /// Not understood, or too ambiguous to act on.
    Unknown,
}

impl Intent {
    /// The wire name, as in `{"intent": "add_task"}`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Intent::AddTask => "add_task",
            Intent::ListTasks => "list_tasks",
            Intent::CompleteTask => "complete_task",
            Intent::DeleteTask => "delete_task",
            Intent::UpdateTask => "update_task",
            Intent::AddTasks => "add_tasks",
            Intent::SkipOccurrence => "skip_occurrence",
            Intent::CompleteTasks => "complete_tasks",
            Intent::DeleteTasks => "delete_tasks",
            Intent::Undo => "undo",
            Intent::Confirm => "confirm",
            Intent::Cancel => "cancel",
            Intent::Choose => "choose",
            Intent::SaveFilter => "save_filter",
            Intent::Help => "help",
            Intent::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One interpreted sentence. Serializes as `{"intent": "add_task", "args": {...}}`;
/// absent optional arguments are left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "intent", content = "args", rename_all = "snake_case")]
pub enum Command {
    /// `add_task`.
    AddTask(AddTaskArgs),
    /// `list_tasks`.
    ListTasks(ListTasksArgs),
    /// `complete_task`.
    CompleteTask(RefArgs),
    /// `delete_task`.
    DeleteTask(RefArgs),
    /// `update_task`.
    UpdateTask(UpdateTaskArgs),
    /// `add_tasks`.
    AddTasks(AddTasksArgs),
    /// `skip_occurrence`.
    SkipOccurrence(SkipArgs),
    /// `complete_tasks`, asked about first.
    CompleteTasks(BulkArgs),
    /// `delete_tasks`, asked about first.
    DeleteTasks(BulkArgs),
    /// `undo`.
    Undo(NoArgs),
    /// `confirm`: "yes".
    Confirm(NoArgs),
    /// `cancel`: "no".
    Cancel(NoArgs),
    /// `choose`: a task picked by reference.
    Choose(RefArgs),
    /// `save_filter`.
    SaveFilter(SaveFilterArgs),
    /// `help`.
    Help(NoArgs),
    /// Not understood, or too ambiguous to act on; `args` is `{}` and the
    /// clarifying question is in [`Command::reply`].
    Unknown(Clarification),
}

impl Command {
    /// The intent of this command.
    pub fn intent(&self) -> Intent {
        match self {
            Command::AddTask(_) => Intent::AddTask,
            Command::ListTasks(_) => Intent::ListTasks,
            Command::CompleteTask(_) => Intent::CompleteTask,
            Command::DeleteTask(_) => Intent::DeleteTask,
            Command::UpdateTask(_) => Intent::UpdateTask,
            Command::AddTasks(_) => Intent::AddTasks,
            Command::SkipOccurrence(_) => Intent::SkipOccurrence,
            Command::CompleteTasks(_) => Intent::CompleteTasks,
            Command::DeleteTasks(_) => Intent::DeleteTasks,
            Command::Undo(_) => Intent::Undo,
            Command::Confirm(_) => Intent::Confirm,
            Command::Cancel(_) => Intent::Cancel,
            Command::Choose(_) => Intent::Choose,
            Command::SaveFilter(_) => Intent::SaveFilter,
            Command::Help(_) => Intent::Help,
            Command::Unknown(_) => Intent::Unknown,
        }
    }

    /// The clarifying question for an `unknown` command, to show the user.
    pub fn reply(&self) -> Option<&str> {
        match self {
            Command::Unknown(c) => Some(&c.reply),
            _ => None,
        }
    }

    pub(crate) fn unknown(reply: impl Into<String>) -> Self {
        Command::Unknown(Clarification { reply: reply.into() })
    }

    /// This command about `task` instead of the task it names, for a command
    /// about one task (complete, delete, update, skip); `None` for any other.
    pub fn about(self, task: TaskRef) -> Option<Self> {
        Some(match self {
            Command::CompleteTask(_) => Command::CompleteTask(RefArgs { task }),
            Command::DeleteTask(_) => Command::DeleteTask(RefArgs { task }),
            Command::UpdateTask(u) => Command::UpdateTask(UpdateTaskArgs { task, ..u }),
            Command::SkipOccurrence(a) => Command::SkipOccurrence(SkipArgs { task, ..a }),
            _ => return None,
        })
    }
}

/// Which task a command is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskRef {
    /// Position in the user's last listing, 1-based.
    Index(u32),
    /// A task id.
    Id(TaskId),
    /// A title, or the words of one, to look up.
    Title(String),
    /// What the conversation is about ("it", "them", "the last one"), resolved by
    /// the chat service against the conversation's context. Only the conversation
    /// grammar ([`crate::chat::parse_in`]) makes it.
    Context(ContextRef),
}

/// A reference to what a conversation last touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextRef {
    /// "it", "that", "this one": the one task the last turn added, changed or listed.
    It,
    /// "them", "those", "these": all of them.
    Them,
    /// "the last one": the last of the last listing (or of those tasks).
    Last,
}

/// A task's due time: `all_day` when the user gave a date without a time
/// (`due_at` is then local midnight of that date).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueAt {
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// Whether `due_at` names a date rather than a time.
    pub all_day: bool,
}

/// An RFC 5545 RRULE as the user meant it, without the `RRULE:` prefix.
///
/// Always accepted by [`Recurrence::parse`]. Kept as written rather than as
/// the domain's canonical text because the `rrule` crate (0.14) prints
/// `BYDAY=1MO` ("the first Monday") as `BYDAY=MO` ("every Monday").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecurrenceRule(String);

impl RecurrenceRule {
    /// Reads an RRULE, with or without the `RRULE:` prefix, in any case.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Recurrence::parse(s)?;
        let t = s.trim().to_ascii_uppercase();
        Ok(Self(t.strip_prefix("RRULE:").unwrap_or(&t).to_owned()))
    }

    /// The rule as written, upper-cased, without the `RRULE:` prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain value.
    pub fn to_recurrence(&self) -> Recurrence {
        // Checked when this value was made.
        Recurrence::parse(&self.0).unwrap_or_else(|_| unreachable!("a RecurrenceRule is a valid Recurrence"))
    }
}

impl TryFrom<String> for RecurrenceRule {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RecurrenceRule> for String {
    fn from(r: RecurrenceRule) -> Self {
        r.0
    }
}

/// `add_task`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddTaskArgs {
    /// The title: what no other grammar took.
    pub title: TaskTitle,
    /// When it is due, if said.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DueAt>,
    /// When to remind, if said ("remind me an hour before").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_at: Option<DateTime<Utc>>,
    /// The priority, if said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// The tags named (`#groceries`).
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// How it repeats, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<RecurrenceRule>,
    /// Only `completion` is ever written ("every! 3 days"); `due` is the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_from: Option<RepeatFrom>,
}

/// `add_tasks`: one task per item of a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddTasksArgs {
    /// The tasks, in the order given.
    pub tasks: Vec<AddTaskArgs>,
}

/// `skip_occurrence`: a recurring task moves to its following occurrence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipArgs {
    /// The recurring task.
    #[serde(rename = "ref")]
    pub task: TaskRef,
    /// Skip every occurrence in the rest of the skipped one's day, week or month
    /// ("skip this week"); by default just the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_of: Option<SkipSpan>,
    /// Skip every occurrence on or before this local date ("skip tomorrow",
    /// "skip next week"); at least the next one is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<chrono::NaiveDate>,
}

/// How much `skip_occurrence` skips.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SkipSpan {
    /// The rest of the skipped occurrence's day.
    Day,
    /// The rest of its week.
    Week,
    /// The rest of its month.
    Month,
}

/// `complete_tasks` and `delete_tasks`: every task a listing with these arguments
/// shows, or the tasks of a reference ("all of them"). Asked about first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkArgs {
    /// The listing whose tasks are meant.
    #[serde(flatten)]
    pub filter: ListTasksArgs,
    /// "all of them": the tasks the conversation is about, instead of a listing.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskRef>,
}

/// `list_tasks`: filters, all optional but `status` (pending unless asked otherwise).
/// Two listings are equal when their arguments are: `phrase` is a hint, not one.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ListTasksArgs {
    /// Which statuses to show.
    #[serde(default)]
    pub status: StatusFilter,
    /// Only tasks of this priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Only tasks with this tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Tag>,
    /// Inclusive lower bound on `due_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_after: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `due_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_before: Option<DateTime<Utc>>,
    /// Only pending tasks past their due time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
    /// Words searched in titles and descriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// A filter query (docs/filters.md), given when the arguments above cannot say
    /// what was asked ("show (overdue or today) #work"); it then says it all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The name of a saved list the sentence may mean ("show my work today list");
    /// the other arguments are what the words mean when there is no such list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// The listing as a filter query with relative dates kept relative, for "save
    /// this as ..." (not an argument of the tool).
    #[serde(skip)]
    pub phrase: Option<String>,
}

impl PartialEq for ListTasksArgs {
    fn eq(&self, o: &Self) -> bool {
        let Self { status, priority, tag, due_after, due_before, overdue, query, filter, list, phrase: _ } = self;
        (status, priority, tag, due_after, due_before, overdue, query, filter, list)
            == (&o.status, &o.priority, &o.tag, &o.due_after, &o.due_before, &o.overdue, &o.query, &o.filter, &o.list)
    }
}

/// `save_filter`: save the last listing as a named filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveFilterArgs {
    /// The filter's name.
    pub name: String,
}

/// `complete_task` and `delete_task`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefArgs {
    /// The task.
    #[serde(rename = "ref")]
    pub task: TaskRef,
}

/// `update_task`: only the fields to change. A field set to `null` is cleared
/// (`"due_at": null` removes the due date).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateTaskArgs {
    /// The task.
    #[serde(rename = "ref")]
    pub task: TaskRef,
    /// A new title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<TaskTitle>,
    /// A new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Description>,
    /// A new due time, or `null` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patch")]
    pub due_at: Option<Option<DateTime<Utc>>>,
    /// Whether `due_at` names a date rather than a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_day: Option<bool>,
    /// A new reminder time, or `null` to remove it.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patch")]
    pub remind_at: Option<Option<DateTime<Utc>>>,
    /// A new priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// A new status ("reopen it").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Tags to add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags_add: Vec<Tag>,
    /// Tags to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags_remove: Vec<Tag>,
    /// A new recurrence rule, or `null` to stop repeating.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patch")]
    pub recurrence: Option<Option<RecurrenceRule>>,
    /// What the sentence said relative to the task (a time without a date, "an
    /// hour before"): the chat service fits it to the task with
    /// [`UpdateTaskArgs::fit_to`] once it knows the task. Not on the wire.
    #[serde(skip)]
    pub(crate) relative: super::fit::Relative,
}

impl UpdateTaskArgs {
    pub(crate) fn of(task: TaskRef) -> Self {
        Self {
            task,
            title: None,
            description: None,
            due_at: None,
            all_day: None,
            remind_at: None,
            priority: None,
            status: None,
            tags_add: Vec::new(),
            tags_remove: Vec::new(),
            recurrence: None,
            relative: super::fit::Relative::default(),
        }
    }

    /// Whether anything would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::of(self.task.clone())
    }
}

/// A present field is `Some`, even when it is `null` (which means "clear it").
fn patch<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Arguments of `help`: none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoArgs {}

/// Arguments of `unknown`: none on the wire; the question to ask back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clarification {
    /// The clarifying question.
    #[serde(skip)]
    pub reply: String,
}
