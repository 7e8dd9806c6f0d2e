//! What a conversation remembers, as one turn sees it ([`TurnContext`]), how
//! "it", "them" and "the last one" resolve against it (or ask), and what the
//! turn leaves for the next one ([`remember`]).

use chrono::{DateTime, Utc};

use super::{ChatService, Outcome, describe};
use crate::chat::{Command, ContextRef, Conversing, RefArgs, SkipArgs, TaskRef, UpdateTaskArgs};
use crate::domain::{
    BulkAction, ChangeRecord, Conversation, RecentMessage, Revision, Role, Task, TaskId, Timezone, UserId,
};
use crate::{Error, Result};

/// Tasks of the conversation's focus read for each turn (their titles and times
/// go to an interpreter that reads the conversation); beyond this many, the
/// focus is used by id alone.
const FOCUS_READ: usize = 20;

/// What a turn knows of its conversation: what "it" and "them" mean, what "task
/// 2" means, whether a question waits for a yes, what "undo" would revert, and
/// the last messages. Interpreters get it ([`super::Interpreter::interpret_turn`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TurnContext {
    /// What "it", "that" and "them" refer to: the tasks the last turn added,
    /// changed or listed, in order.
    pub focus: Vec<TaskId>,
    /// The first of those tasks as they are now (deleted ones left out).
    pub focus_tasks: Vec<Task>,
    /// The last listing shown, in order: what "task 2" and "the second one" mean.
    pub listing: Vec<TaskId>,
    /// The focus is what a listing showed (not what a turn added or changed).
    pub listed: bool,
    /// The bulk action waiting for the user's yes, in words.
    pub pending: Option<String>,
    /// What "undo" would revert, in words.
    pub undo: Option<String>,
    /// The user's message that was answered with "which one?" (the next turn
    /// may pick the task: "the second one").
    pub asked: Option<String>,
    /// The last messages of the conversation, oldest first.
    pub recent: Vec<RecentMessage>,
    /// The user's time zone.
    pub tz: Timezone,
    /// The instant of the turn.
    pub now: DateTime<Utc>,
}

impl ChatService {
    /// The context of `conversation` for its next turn; the focus is read as the
    /// user's own tasks (another user's task never shows up, even by id).
    pub(super) async fn turn_context(&self, user: UserId, conversation: &Conversation) -> Result<TurnContext> {
        let ctx = &conversation.context;
        let tz = self.tasks.timezone(user).await?;
        let mut focus_tasks = Vec::new();
        let mut focus = Vec::new();
        for (n, id) in ctx.focus.iter().enumerate() {
            if n >= FOCUS_READ {
                focus.push(*id);
                continue;
            }
            match self.tasks.get(user, *id).await {
                Ok(t) => {
                    focus.push(t.id);
                    focus_tasks.push(t);
                }
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let pending = ctx.pending.as_ref().map(|p| {
            let n = p.tasks.len();
            let s = if n == 1 { "" } else { "s" };
            match p.action {
                BulkAction::Complete => format!("mark {n} task{s} as done"),
                BulkAction::Delete => format!("delete {n} task{s}"),
            }
        });
        Ok(TurnContext {
            focus,
            focus_tasks,
            listing: conversation.last_listing.clone(),
            listed: ctx.listed,
            pending,
            undo: ctx.changes.last().map(|c| c.what.clone()),
            asked: ctx.asked.clone(),
            recent: ctx.recent.clone(),
            tz,
            now: self.clock.now(),
        })
    }
}

impl ChatService {
    /// A task picked ("the second one"): the message answered with "which one?"
    /// runs on it; without one, the conversation is about that task from now on
    /// and the reply asks what to do with it.
    pub(super) async fn chose(
        &self,
        user: UserId,
        tz: Timezone,
        conv: &Conversation,
        turn: &TurnContext,
        task: Task,
    ) -> Result<Outcome> {
        if let Some(asked) = &turn.asked {
            let command = self.interpreter.interpret_turn(user, asked, self.clock.now(), tz.tz(), turn).await;
            if let Some(c) = command.about(TaskRef::Id(task.id)) {
                return Box::pin(self.run(user, tz, conv, turn, c)).await;
            }
        }
        Ok(Outcome {
            focus: Some(vec![task.id]),
            ..Outcome::say(format!(
                "What should I do with {}? For example \"mark it as done\", \"move it to friday\" or \"delete it\".",
                describe(&task, tz, self.clock.now())
            ))
        })
    }
}

impl TurnContext {
    /// What the rule-based grammar needs to know.
    pub fn conversing(&self) -> Conversing {
        Conversing { pending: self.pending.is_some(), about_one: self.focus.len() == 1 && !self.listed }
    }

    /// `command` with its references to the conversation resolved to task ids:
    /// one command per task for "them". `Err` asks which task is meant when the
    /// conversation is about none, or about several and "it" was said.
    pub(super) fn resolve(&self, command: Command) -> std::result::Result<Vec<Command>, Box<Outcome>> {
        Ok(match command {
            Command::CompleteTask(a) => {
                self.refs(&a.task)?.into_iter().map(|task| Command::CompleteTask(RefArgs { task })).collect()
            }
            Command::DeleteTask(a) => {
                self.refs(&a.task)?.into_iter().map(|task| Command::DeleteTask(RefArgs { task })).collect()
            }
            Command::Choose(a) => {
                self.refs(&a.task)?.into_iter().map(|task| Command::Choose(RefArgs { task })).collect()
            }
            Command::UpdateTask(u) => self
                .refs(&u.task)?
                .into_iter()
                .map(|task| Command::UpdateTask(UpdateTaskArgs { task, ..u.clone() }))
                .collect(),
            Command::SkipOccurrence(a) => self
                .refs(&a.task)?
                .into_iter()
                .map(|task| Command::SkipOccurrence(SkipArgs { task, ..a.clone() }))
                .collect(),
            Command::CompleteTasks(b) | Command::DeleteTasks(b) if b.task.is_some() && self.focus.is_empty() => {
                return Err(Box::new(self.ask_which()));
            }
            other => vec![other],
        })
    }

    /// The tasks `r` names.
    fn refs(&self, r: &TaskRef) -> std::result::Result<Vec<TaskRef>, Box<Outcome>> {
        let id = |id: &TaskId| TaskRef::Id(*id);
        Ok(match r {
            TaskRef::Context(ContextRef::It) => match self.focus.as_slice() {
                [one] => vec![id(one)],
                _ => return Err(Box::new(self.ask_which())),
            },
            TaskRef::Context(ContextRef::Them) if !self.focus.is_empty() => self.focus.iter().map(id).collect(),
            TaskRef::Context(ContextRef::Last) => match self.listing.last().or(self.focus.last()) {
                Some(last) => vec![id(last)],
                None => return Err(Box::new(self.ask_which())),
            },
            TaskRef::Context(ContextRef::Them) => return Err(Box::new(self.ask_which())),
            // "the second one" of the tasks just added, when nothing was listed.
            TaskRef::Index(n) if self.listing.is_empty() && self.focus.len() > 1 => {
                match self.focus.get((*n as usize).wrapping_sub(1)) {
                    Some(t) => vec![id(t)],
                    None => {
                        return Err(Box::new(Outcome::say(format!(
                            "I only know of {} tasks here; which one do you mean?",
                            self.focus.len()
                        ))));
                    }
                }
            }
            other => vec![other.clone()],
        })
    }

    /// The question asked when "it" names no single task: which of the tasks the
    /// conversation is about (numbered, so "the second one" answers it), or which
    /// task at all.
    pub(super) fn ask_which(&self) -> Outcome {
        if self.focus_tasks.len() < 2 {
            return Outcome {
                asks_which: true,
                ..Outcome::say(
                    "Which task do you mean? Give its title (\"move buy milk to friday\") or its number from your \
                     last list (\"move task 2 to friday\").",
                )
            };
        }
        let now = self.now;
        let mut reply = "Which one do you mean?".to_owned();
        for (i, t) in self.focus_tasks.iter().enumerate() {
            reply.push_str(&format!("\n{}. {}", i + 1, describe(t, self.tz, now)));
        }
        Outcome {
            reply,
            listing: Some(self.focus_tasks.iter().map(|t| t.id).collect()),
            asks_which: true,
            ..Outcome::default()
        }
    }
}

/// Saves in `c` what its turn leaves for the next: the listing, the question
/// asked (any other turn drops an unanswered one), the change for "undo", what
/// the conversation is about now, and the two messages.
pub(super) fn remember(c: &mut Conversation, user_message: &str, o: &Outcome) {
    if let Some(listing) = &o.listing {
        c.last_listing.clone_from(listing);
    }
    let ctx = &mut c.context;
    ctx.pending.clone_from(&o.pending);
    ctx.asked = o.asks_which.then(|| user_message.to_owned());
    if o.undone {
        ctx.changes.pop();
    } else if !o.revisions.is_empty() {
        ctx.record(ChangeRecord { what: summary(&o.revisions), tasks: o.revisions.clone() });
    }
    if let Some(focus) = &o.focus {
        ctx.focus.clone_from(focus);
        ctx.listed = false;
    } else if !o.revisions.is_empty() {
        ctx.listed = false;
        let mut ids: Vec<TaskId> = Vec::new();
        for r in &o.revisions {
            if let Some(t) = r.after.as_ref().or(r.before.as_ref())
                && !ids.contains(&t.id)
            {
                ids.push(t.id);
            }
        }
        ctx.focus = ids;
    } else if let Some(listing) = &o.listing {
        ctx.focus.clone_from(listing);
        ctx.listed = true;
    }
    ctx.remember(Role::User, user_message);
    ctx.remember(Role::Assistant, &o.reply);
}

/// "adding 'call mom'", "completing 3 tasks", "the change to 'dentist'".
fn summary(revisions: &[Revision]) -> String {
    let kind = |r: &Revision| match (&r.before, &r.after) {
        (None, _) => "adding",
        (_, None) => "deleting",
        (Some(b), Some(a)) if b.status != a.status && a.status == crate::domain::Status::Completed => "completing",
        (Some(b), Some(a)) if b.status != a.status => "reopening",
        _ => "the change to",
    };
    let title = |r: &Revision| r.after.as_ref().or(r.before.as_ref()).map(|t| t.title.to_string()).unwrap_or_default();
    match revisions {
        [one] => format!("{} '{}'", kind(one), title(one)),
        many => {
            let k = kind(&many[0]);
            if many.iter().all(|r| kind(r) == k) && k != "the change to" {
                format!("{k} {} tasks", many.len())
            } else {
                format!("the changes to {} tasks", many.len())
            }
        }
    }
}
