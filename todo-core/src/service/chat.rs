//! `ChatService`: a sentence in, tool calls run against the user's tasks, a short
//! friendly reply out; every message and tool call kept in the conversation.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::chat::{self, AddTaskArgs, Command, TaskRef, UpdateTaskArgs};
use crate::domain::page::parse_cursor;
use crate::domain::query::TaskQuery;
use crate::domain::{
    Action, BulkAction, Conversation, ConversationId, Message, MessagePage, Page, PageLimit, PendingAction, Revision,
    Role, Status, Task, TaskId, Timezone, UserId, ValidationError,
};
use crate::ports::{Change, ChatTurn, Clock, ConversationStore};
use crate::service::task::retrying;
use crate::service::{FilterService, NewTask, TaskPatch, TaskService};
use crate::{Error, Result};

mod bulk;
mod describe;
mod listing;
mod resolve;
mod turn;
mod undo;

pub use describe::{describe, when};
pub use turn::TurnContext;
use turn::remember;

/// Longest accepted chat message, in characters.
pub const MESSAGE_MAX_CHARS: usize = chat::MAX_MESSAGE_CHARS;
/// Tasks shown in one chat listing.
const LISTING_MAX: u32 = 20;
/// Candidates offered when a title matches several tasks.
const CANDIDATES_MAX: u32 = 5;

/// `POST /api/v1/chat`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// 1..=2000 characters.
    pub message: String,
    /// Continue this conversation; a new one starts without it.
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
}

/// The assistant's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatResponse {
    /// The conversation the turn belongs to (new when the request named none).
    pub conversation_id: ConversationId,
    /// What the assistant says.
    pub reply: String,
    /// The tool calls made, with their arguments and results.
    pub actions: Vec<Action>,
}

/// Turns a sentence into a command. The rule-based interpreter is the default;
/// an LLM-backed one may stand in front of it.
#[async_trait]
pub trait Interpreter: Send + Sync {
    /// The command `message` asks for, read at `now` in time zone `tz`.
    async fn interpret(&self, message: &str, now: DateTime<Utc>, tz: Tz) -> Command;

    /// [`Interpreter::interpret`] for `user` (whose budget a paid interpreter spends).
    async fn interpret_for(&self, user: UserId, message: &str, now: DateTime<Utc>, tz: Tz) -> Command {
        let _ = user;
        self.interpret(message, now, tz).await
    }

    /// One turn of a conversation of `user`, with what the conversation remembers
    /// (`turn`). The default reads the sentence alone.
    async fn interpret_turn(
        &self,
        user: UserId,
        message: &str,
        now: DateTime<Utc>,
        tz: Tz,
        turn: &TurnContext,
    ) -> Command {
        let _ = turn;
        self.interpret_for(user, message, now, tz).await
    }
}

/// [`chat::parse`] and, in a conversation, [`chat::parse_in`]: deterministic, no network.
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleBasedInterpreter;

#[async_trait]
impl Interpreter for RuleBasedInterpreter {
    async fn interpret(&self, message: &str, now: DateTime<Utc>, tz: Tz) -> Command {
        chat::parse(message, now, tz)
    }

    async fn interpret_turn(
        &self,
        _user: UserId,
        message: &str,
        now: DateTime<Utc>,
        tz: Tz,
        turn: &TurnContext,
    ) -> Command {
        chat::parse_in(message, now, tz, turn.conversing())
    }
}

/// Chat over a user's tasks.
#[derive(Clone)]
pub struct ChatService {
    tasks: TaskService,
    conversations: Arc<dyn ConversationStore>,
    clock: Arc<dyn Clock>,
    interpreter: Arc<dyn Interpreter>,
    /// Saved filters, for "show my work today list" and "save this as ...".
    filters: Option<FilterService>,
}

/// The outcome of one command: what to say, what was done, which tasks "task N"
/// now means (for listings), the change to commit with the turn, and what the
/// conversation remembers of it.
#[derive(Default)]
struct Outcome {
    reply: String,
    actions: Vec<Action>,
    listing: Option<Vec<TaskId>>,
    change: Option<Change>,
    /// The tasks the command changed, before and after: what "undo" reverts.
    revisions: Vec<Revision>,
    /// What the conversation is about now, when the command says (else the
    /// tasks it changed, or listed).
    focus: Option<Vec<TaskId>>,
    /// A bulk action asked about, waiting for "yes".
    pending: Option<PendingAction>,
    /// The command undid the conversation's last change.
    undone: bool,
    /// The reply asks which task the message meant.
    asks_which: bool,
}

impl Outcome {
    fn say(reply: impl Into<String>) -> Self {
        Self { reply: reply.into(), ..Self::default() }
    }

    /// Adds `other` (another task's outcome of the same command) to this one.
    fn and(mut self, other: Outcome) -> Self {
        if !other.reply.is_empty() {
            if !self.reply.is_empty() {
                self.reply.push('\n');
            }
            self.reply.push_str(&other.reply);
        }
        self.actions.extend(other.actions);
        self.change = match (self.change, other.change) {
            (Some(mut a), Some(b)) => {
                a.merge(b);
                Some(a)
            }
            (a, b) => a.or(b),
        };
        self.revisions.extend(other.revisions);
        self.listing = other.listing.or(self.listing);
        self
    }
}

impl ChatService {
    /// The chat service over the task service, the conversation store, a clock and an interpreter.
    pub fn new(
        tasks: TaskService,
        conversations: Arc<dyn ConversationStore>,
        clock: Arc<dyn Clock>,
        interpreter: Arc<dyn Interpreter>,
    ) -> Self {
        Self { tasks, conversations, clock, interpreter, filters: None }
    }

    /// With saved filters: "show my work today list", "save this as 'work today'".
    pub fn with_saved_filters(mut self, filters: FilterService) -> Self {
        self.filters = Some(filters);
        self
    }

    /// Handles one message of `user_id`. The turn (the conversation with what it
    /// remembers, both messages, and any task it changed, with that change's
    /// events) commits in one transaction, or not at all.
    pub async fn send(&self, user_id: UserId, req: ChatRequest) -> Result<ChatResponse> {
        let message = req.message.trim();
        if message.is_empty() {
            return Err(ValidationError::new("message", "message must not be empty").into());
        }
        let n = req.message.chars().count();
        if n > MESSAGE_MAX_CHARS {
            return Err(ValidationError::new(
                "message",
                format!("message is {n} characters; the limit is {MESSAGE_MAX_CHARS}"),
            )
            .into());
        }
        let tz = self.tasks.timezone(user_id).await?;
        // A task or the conversation changed by another writer meanwhile (another
        // tab, another chat-api instance): the turn is read again on what is
        // there now.
        retrying(None, || async {
            let now = self.clock.now();
            let (conversation, new_conversation) = match req.conversation_id {
                Some(id) => (self.conversations.get(user_id, id).await?.ok_or(Error::NotFound("conversation"))?, false),
                None => (Conversation::start(user_id, now), true),
            };
            let turn = self.turn_context(user_id, &conversation).await?;
            let command = self.interpreter.interpret_turn(user_id, message, now, tz.tz(), &turn).await;
            let outcome = self.run_turn(user_id, tz, &conversation, &turn, command).await?;
            let message = |role, content: &str, actions: Vec<Action>, created_at| Message {
                seq: 0,
                conversation_id: conversation.id,
                role,
                content: content.to_owned(),
                actions,
                created_at,
            };
            let replied_at = self.clock.now();
            let mut after = conversation.clone();
            remember(&mut after, message_text(&req.message), &outcome);
            after.updated_at = replied_at;
            after.version = conversation.version + 1;
            let turn = ChatTurn {
                conversation: after,
                new_conversation,
                messages: vec![
                    message(Role::User, message_text(&req.message), vec![], now),
                    message(Role::Assistant, &outcome.reply, outcome.actions.clone(), replied_at),
                ],
            };
            let mut change = outcome.change.unwrap_or_default();
            change.turn = Some(turn);
            self.tasks.commit(change).await?;
            Ok(ChatResponse { conversation_id: conversation.id, reply: outcome.reply, actions: outcome.actions })
        })
        .await
    }

    /// What `message` asks for, interpreted for `user_id` as a chat message would
    /// be (same interpreter, clock and time zone), without running it or keeping
    /// it in a conversation.
    pub async fn interpret(&self, user_id: UserId, message: &str) -> Result<Command> {
        let tz = self.tasks.timezone(user_id).await?;
        Ok(self.interpreter.interpret_for(user_id, message, self.clock.now(), tz.tz()).await)
    }

    /// The messages of one of the user's conversations, oldest first.
    pub async fn messages(
        &self,
        user_id: UserId,
        id: ConversationId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<Message>> {
        self.conversations.get(user_id, id).await?.ok_or(Error::NotFound("conversation"))?;
        self.conversations.messages(user_id, id, after_seq, limit).await
    }

    /// One page of the messages of one of the user's conversations, oldest
    /// first; `cursor` is the previous page's `next_cursor`.
    pub async fn messages_page(
        &self,
        user_id: UserId,
        id: ConversationId,
        limit: PageLimit,
        cursor: Option<&str>,
    ) -> Result<MessagePage> {
        let after = cursor.map(parse_cursor::<i64>).transpose()?.unwrap_or(0);
        let items = self.messages(user_id, id, after, limit.overfetch()).await?;
        Ok(Page::cut(items, limit.get(), |m| m.seq.to_string()))
    }

    /// Runs one command of a turn: its references to what the conversation is
    /// about resolved first ("them" runs it once per task).
    async fn run_turn(
        &self,
        user: UserId,
        tz: Timezone,
        conv: &Conversation,
        turn: &TurnContext,
        command: Command,
    ) -> Result<Outcome> {
        let commands = match turn.resolve(command) {
            Ok(c) => c,
            Err(outcome) => return Ok(*outcome),
        };
        let mut all: Option<Outcome> = None;
        for c in commands {
            let o = self.run(user, tz, conv, turn, c).await?;
            all = Some(match all {
                Some(a) => a.and(o),
                None => o,
            });
        }
        Ok(all.unwrap_or_default())
    }

    async fn run(
        &self,
        user: UserId,
        tz: Timezone,
        conv: &Conversation,
        turn: &TurnContext,
        command: Command,
    ) -> Result<Outcome> {
        let args = serde_json::to_value(&command).map(|v| v["args"].clone()).unwrap_or(Value::Null);
        let action = |tool: &str, result: Value| Action { tool: tool.to_owned(), args: args.clone(), result };
        match command {
            Command::AddTask(a) => {
                let planned = self.tasks.plan_create(user, new_task(a)).await;
                Ok(match planned {
                    Ok((task, change)) => Outcome {
                        reply: format!("Added {}.", describe(&task, tz, self.clock.now())),
                        actions: vec![action("add_task", task_json(&task))],
                        change: Some(change),
                        revisions: vec![Revision { before: None, after: Some(task) }],
                        ..Outcome::default()
                    },
                    Err(Error::Validation(v)) => refused(action("add_task", error_json(&v.message)), &v.message),
                    Err(e) => return Err(e),
                })
            }
            Command::AddTasks(a) => self.add_many(user, tz, a, action).await,
            Command::ListTasks(l) => self.list(user, tz, l, action).await,
            Command::CompleteTask(r) => {
                let task = match self.resolve(user, tz, conv, turn, &r.task).await? {
                    Ok(t) => t,
                    Err(outcome) => return Ok(outcome),
                };
                if task.status == Status::Completed {
                    return Ok(Outcome {
                        focus: Some(vec![task.id]),
                        ..Outcome::say(format!("'{}' is already done.", task.title))
                    });
                }
                let (done, change) = self.tasks.plan_status(&task, Status::Completed)?;
                let next = if done.recurrence.is_some() { " The next one will appear shortly." } else { "" };
                Ok(Outcome {
                    reply: format!("Marked '{}' as done.{next}", done.title),
                    actions: vec![action("complete_task", task_json(&done))],
                    change,
                    revisions: vec![Revision { before: Some(task), after: Some(done) }],
                    ..Outcome::default()
                })
            }
            Command::DeleteTask(r) => {
                let task = match self.resolve(user, tz, conv, turn, &r.task).await? {
                    Ok(t) => t,
                    Err(outcome) => return Ok(outcome),
                };
                Ok(Outcome {
                    reply: format!("Deleted '{}'.", task.title),
                    actions: vec![action("delete_task", json!({"deleted": task.id}))],
                    change: Some(self.tasks.plan_delete(&task)),
                    revisions: vec![Revision { before: Some(task), after: None }],
                    ..Outcome::default()
                })
            }
            Command::UpdateTask(u) => {
                let task = match self.resolve(user, tz, conv, turn, &u.task).await? {
                    Ok(t) => t,
                    Err(outcome) => return Ok(outcome),
                };
                self.update(tz, task, u, action).await
            }
            Command::SkipOccurrence(a) => {
                let task = match self.resolve(user, tz, conv, turn, &a.task).await? {
                    Ok(t) => t,
                    Err(outcome) => return Ok(outcome),
                };
                self.skip(tz, task, a.rest_of, a.through, action)
            }
            Command::CompleteTasks(b) => self.ask_bulk(user, tz, turn, BulkAction::Complete, b).await,
            Command::DeleteTasks(b) => self.ask_bulk(user, tz, turn, BulkAction::Delete, b).await,
            Command::Confirm(_) => self.confirm(user, tz, conv, action).await,
            Command::Cancel(_) => Ok(Outcome::say(match &conv.context.pending {
                Some(_) => "OK, I won't change anything.",
                None => "OK.",
            })),
            Command::Undo(_) => self.undo(user, tz, conv, action).await,
            Command::Choose(r) => {
                let task = match self.resolve(user, tz, conv, turn, &r.task).await? {
                    Ok(t) => t,
                    Err(outcome) => return Ok(outcome),
                };
                self.chose(user, tz, conv, turn, task).await
            }
            Command::SaveFilter(a) => self.save_listing(user, conv, a, action).await,
            Command::Help(_) => Ok(Outcome {
                reply: chat::HELP.to_owned(),
                actions: vec![action("help", json!({}))],
                ..Outcome::default()
            }),
            Command::Unknown(c) => Ok(Outcome::say(c.reply)),
        }
    }

    async fn update(
        &self,
        tz: Timezone,
        task: Task,
        mut u: UpdateTaskArgs,
        action: impl Fn(&str, Value) -> Action,
    ) -> Result<Outcome> {
        if let Err(question) = u.fit_to(&task, self.clock.now(), tz.tz()) {
            return Ok(Outcome { focus: Some(vec![task.id]), ..Outcome::say(question) });
        }
        let mut patch = TaskPatch {
            title: u.title.clone(),
            description: u.description.clone(),
            priority: u.priority,
            due_at: u.due_at,
            all_day: u.all_day,
            remind_at: u.remind_at,
            recurrence: u.recurrence.clone().map(|r| r.map(|r| r.to_recurrence())),
            ..TaskPatch::default()
        };
        if !u.tags_add.is_empty() || !u.tags_remove.is_empty() {
            match task.tags.with(u.tags_add.iter().cloned()) {
                Ok(tags) => patch.tags = Some(tags.without(u.tags_remove.iter())),
                Err(v) => return Ok(refused(action("update_task", error_json(&v.message)), &v.message)),
            }
        }
        let (mut updated, mut change) = match self.tasks.plan_patch(&task, &patch, tz) {
            Ok(planned) => planned,
            Err(Error::Validation(v)) => return Ok(refused(action("update_task", error_json(&v.message)), &v.message)),
            Err(e) => return Err(e),
        };
        if let Some(status) = u.status {
            let (after, status_change) = self.tasks.plan_status(&updated, status)?;
            updated = after;
            change = match (change, status_change) {
                (Some(mut c), Some(s)) => {
                    c.merge(s);
                    Some(c)
                }
                (c, s) => c.or(s),
            };
        }
        let revisions = match change {
            Some(_) => vec![Revision { before: Some(task), after: Some(updated.clone()) }],
            None => vec![],
        };
        Ok(Outcome {
            reply: format!("Updated {}.", describe(&updated, tz, self.clock.now())),
            actions: vec![action("update_task", task_json(&updated))],
            change,
            revisions,
            focus: Some(vec![updated.id]),
            ..Outcome::default()
        })
    }
}

/// The stored text of a user's message: trimmed.
fn message_text(m: &str) -> &str {
    m.trim()
}

fn refused(action: Action, message: &str) -> Outcome {
    Outcome { reply: format!("I couldn't do that: {message}."), actions: vec![action], ..Outcome::default() }
}

/// The task an `add_task` command asks for.
pub(crate) fn new_task(a: AddTaskArgs) -> NewTask {
    NewTask {
        priority: a.priority,
        tags: (!a.tags.is_empty()).then_some(a.tags),
        due_at: a.due.map(|d| d.due_at),
        all_day: a.due.map(|d| d.all_day),
        remind_at: a.remind_at,
        recurrence: a.recurrence.map(|r| r.to_recurrence()),
        repeat_from: a.repeat_from,
        ..NewTask::titled(a.title)
    }
}

fn task_json(t: &Task) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

fn error_json(message: &str) -> Value {
    json!({ "error": message })
}
