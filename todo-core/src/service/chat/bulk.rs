//! Several tasks in one turn: a list of items added at once, and bulk actions,
//! which are asked about first and done only after the user's "yes".

use serde_json::{Value, json};

use super::{ChatService, Outcome, TurnContext, describe, error_json, new_task, refused, task_json};
use crate::chat::{AddTasksArgs, BulkArgs};
use crate::domain::{Action, BulkAction, Conversation, PendingAction, Revision, Status, Task, Timezone, UserId};
use crate::ports::Change;
use crate::{Error, Result};

/// Most tasks one bulk action changes (each is kept for "undo").
pub const BULK_MAX: usize = crate::domain::conversation::UNDO_TASKS;

impl ChatService {
    /// "add milk, eggs and bread to my shopping list": every task, or none.
    pub(super) async fn add_many(
        &self,
        user: UserId,
        tz: Timezone,
        a: AddTasksArgs,
        action: impl Fn(&str, Value) -> Action,
    ) -> Result<Outcome> {
        let mut change = Change::default();
        let mut added = Vec::new();
        for args in a.tasks {
            match self.tasks.plan_create(user, new_task(args)).await {
                Ok((task, c)) => {
                    change.merge(c);
                    added.push(task);
                }
                Err(Error::Validation(v)) => {
                    return Ok(refused(action("add_tasks", error_json(&v.message)), &v.message));
                }
                Err(e) => return Err(e),
            }
        }
        let now = self.clock.now();
        let mut reply = format!("Added {} tasks:", added.len());
        for t in &added {
            reply.push_str(&format!("\n- {}", describe(t, tz, now)));
        }
        Ok(Outcome {
            reply,
            actions: added.iter().map(|t| action("add_task", task_json(t))).collect(),
            change: Some(change),
            revisions: added.into_iter().map(|t| Revision { before: None, after: Some(t) }).collect(),
            ..Outcome::default()
        })
    }

    /// "complete all my #work tasks": says what would change and asks; the tasks
    /// shown are the ones a "yes" changes.
    pub(super) async fn ask_bulk(
        &self,
        user: UserId,
        tz: Timezone,
        turn: &TurnContext,
        what: BulkAction,
        b: BulkArgs,
    ) -> Result<Outcome> {
        let mut tasks = match &b.task {
            Some(_) => {
                let mut tasks = Vec::new();
                for id in turn.focus.iter().take(BULK_MAX + 1) {
                    match self.tasks.get(user, *id).await {
                        Ok(t) => tasks.push(t),
                        Err(Error::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                tasks
            }
            None => match self.matching(user, tz, &b.filter, what == BulkAction::Complete, BULK_MAX + 1).await? {
                Ok(tasks) => tasks,
                Err(outcome) => return Ok(outcome),
            },
        };
        if what == BulkAction::Complete {
            tasks.retain(Task::is_pending);
        }
        let n = tasks.len();
        if n == 0 {
            return Ok(Outcome::say(match what {
                BulkAction::Complete => "You have no pending tasks matching that; nothing to complete.",
                BulkAction::Delete => "You have no tasks matching that; nothing to delete.",
            }));
        }
        if n > BULK_MAX {
            return Ok(Outcome::say(format!(
                "That is more than {BULK_MAX} tasks; I change at most {BULK_MAX} at once. Could you narrow it down \
                 (a tag, a day, a priority)?"
            )));
        }
        let s = if n == 1 { "" } else { "s" };
        let mut reply = match what {
            BulkAction::Complete => format!("That would mark {n} task{s} as done:"),
            BulkAction::Delete => format!("That would delete {n} task{s}:"),
        };
        let now = self.clock.now();
        for (i, t) in tasks.iter().enumerate() {
            reply.push_str(&format!("\n{}. {}", i + 1, describe(t, tz, now)));
        }
        reply.push_str("\nShall I go ahead? (yes/no)");
        let ids: Vec<_> = tasks.iter().map(|t| t.id).collect();
        let tool = match what {
            BulkAction::Complete => "complete_tasks",
            BulkAction::Delete => "delete_tasks",
        };
        let args = serde_json::to_value(&b).unwrap_or(Value::Null);
        let result = json!({"confirm": true, "items": tasks.iter().map(task_json).collect::<Vec<_>>()});
        Ok(Outcome {
            reply,
            actions: vec![Action { tool: tool.to_owned(), args, result }],
            listing: Some(ids.clone()),
            focus: Some(ids.clone()),
            pending: Some(PendingAction { action: what, tasks: ids }),
            ..Outcome::default()
        })
    }

    /// "yes" to the bulk action asked about: done to the tasks shown, as they are
    /// now (one deleted or done meanwhile is left alone).
    pub(super) async fn confirm(
        &self,
        user: UserId,
        tz: Timezone,
        conv: &Conversation,
        action: impl Fn(&str, Value) -> Action,
    ) -> Result<Outcome> {
        let Some(pending) = &conv.context.pending else {
            return Ok(Outcome::say("There is nothing waiting for a yes. What would you like to do?"));
        };
        let mut change = Change::default();
        let mut revisions = Vec::new();
        let mut actions = Vec::new();
        for id in &pending.tasks {
            let task = match self.tasks.get(user, *id).await {
                Ok(t) => t,
                Err(Error::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            match pending.action {
                BulkAction::Complete => {
                    let (done, c) = self.tasks.plan_status(&task, Status::Completed)?;
                    let Some(c) = c else { continue };
                    change.merge(c);
                    actions.push(action("complete_task", task_json(&done)));
                    revisions.push(Revision { before: Some(task), after: Some(done) });
                }
                BulkAction::Delete => {
                    change.merge(self.tasks.plan_delete(&task));
                    actions.push(action("delete_task", json!({"deleted": task.id})));
                    revisions.push(Revision { before: Some(task), after: None });
                }
            }
        }
        let n = revisions.len();
        if n == 0 {
            return Ok(Outcome::say("Nothing left to change: those tasks are already done or gone."));
        }
        let now = self.clock.now();
        let s = if n == 1 { "" } else { "s" };
        let mut reply = match pending.action {
            BulkAction::Complete => format!("Marked {n} task{s} as done:"),
            BulkAction::Delete => format!("Deleted {n} task{s}:"),
        };
        for r in &revisions {
            if let Some(t) = r.after.as_ref().or(r.before.as_ref()) {
                reply.push_str(&format!("\n- {}", describe(t, tz, now)));
            }
        }
        reply.push_str("\nSay \"undo\" to take it back.");
        Ok(Outcome { reply, actions, change: Some(change), revisions, ..Outcome::default() })
    }
}
