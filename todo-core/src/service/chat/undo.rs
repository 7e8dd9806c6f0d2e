//! "undo" (the conversation's last change, reverted through the ordinary task
//! changes, so it is an event on the log like any other) and "skip" (a
//! recurring task moved to its following occurrence).

use chrono::Datelike;
use serde_json::{Value, json};

use super::{ChatService, Outcome, describe, task_json};
use crate::chat::SkipSpan;
use crate::domain::query::{StatusFilter, TaskQuery};
use crate::domain::{Action, Conversation, RepeatFrom, Revision, SeriesId, Status, Task, Timezone, UserId};
use crate::ports::{Change, ProcessedKey};
use crate::service::TaskPatch;
use crate::{Error, Result};

/// Occurrences one "skip this month" may pass (an hourly task).
const SKIP_MAX: usize = 1_000;

impl ChatService {
    /// Reverts the conversation's last change: an added task is deleted, a
    /// deleted one restored with its id, an update reverted to the values before
    /// it, a completion reopened (and the next occurrence it made, if untouched,
    /// removed). Each revert is an ordinary change of the task.
    pub(super) async fn undo(
        &self,
        user: UserId,
        tz: Timezone,
        conv: &Conversation,
        action: impl Fn(&str, Value) -> Action,
    ) -> Result<Outcome> {
        let Some(record) = conv.context.changes.last() else {
            return Ok(Outcome::say("There is nothing to undo in this conversation."));
        };
        let now = self.clock.now();
        let mut change = Change::default();
        let mut revisions = Vec::new();
        let mut actions = Vec::new();
        let mut gone = Vec::new();
        for rev in record.tasks.iter().rev() {
            let id = match rev.after.as_ref().or(rev.before.as_ref()) {
                Some(t) => t.id,
                None => continue,
            };
            let current = match self.tasks.get(user, id).await {
                Ok(t) => Some(t),
                Err(Error::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            match (&rev.before, &rev.after, current) {
                // Added: delete it.
                (None, Some(_), Some(cur)) => {
                    change.merge(self.tasks.plan_delete(&cur));
                    actions.push(action("undo", json!({"deleted": cur.id})));
                    revisions.push(Revision { before: Some(cur), after: None });
                }
                // Deleted: restore it, with its id (only ever the user's own).
                (Some(before), None, None) if before.user_id == user => {
                    let (restored, c) = self.tasks.plan_restore(before);
                    change.merge(c);
                    actions.push(action("undo", task_json(&restored)));
                    revisions.push(Revision { before: None, after: Some(restored) });
                }
                // Changed: back to the values before, on the fields it changed.
                (Some(before), Some(after), Some(cur)) => {
                    let (reverted, c) = self.revert(before, after, &cur, tz)?;
                    if let Some(c) = c {
                        change.merge(c);
                        actions.push(action("undo", task_json(&reverted)));
                        revisions.push(Revision { before: Some(cur), after: Some(reverted.clone()) });
                    }
                    if before.is_pending()
                        && after.status == Status::Completed
                        && let Some(c) = self.drop_successor(user, after).await?
                    {
                        change.merge(c);
                    }
                }
                (_, Some(t), None) | (Some(t), None, _) => gone.push(t.title.to_string()),
                (None, None, _) => {}
            }
        }
        let mut reply = format!("Undid {}.", record.what);
        let shown: Vec<String> =
            revisions.iter().filter_map(|r| r.after.as_ref()).map(|t| describe(t, tz, now)).collect();
        if !shown.is_empty() {
            reply.push_str(&format!(" Now: {}.", shown.join(", ")));
        }
        if !gone.is_empty() {
            reply.push_str(&format!(" ('{}' changed elsewhere meanwhile and was left as it is.)", gone.join("', '")));
        }
        let focus = revisions.iter().filter_map(|r| r.after.as_ref()).map(|t| t.id).collect();
        Ok(Outcome {
            reply,
            actions,
            change: (!change.writes.is_empty()).then_some(change),
            focus: Some(focus),
            undone: true,
            ..Outcome::default()
        })
    }

    /// `cur` with the fields that changed from `before` to `after` set back to
    /// their values in `before`.
    fn revert(&self, before: &Task, after: &Task, cur: &Task, tz: Timezone) -> Result<(Task, Option<Change>)> {
        let times =
            before.due_at != after.due_at || before.all_day != after.all_day || before.remind_at != after.remind_at;
        let patch = TaskPatch {
            title: (before.title != after.title).then(|| before.title.clone()),
            description: (before.description != after.description).then(|| before.description.clone()),
            priority: (before.priority != after.priority).then_some(before.priority),
            tags: (before.tags != after.tags).then(|| before.tags.clone()),
            due_at: times.then_some(before.due_at),
            all_day: times.then_some(before.all_day),
            remind_at: times.then_some(before.remind_at),
            recurrence: (before.recurrence != after.recurrence).then(|| before.recurrence.clone()),
            repeat_from: (before.repeat_from != after.repeat_from).then_some(before.repeat_from),
        };
        let (mut task, mut change) = self.tasks.plan_patch(cur, &patch, tz)?;
        if before.status != after.status && task.status != before.status {
            let (t, c) = self.tasks.plan_status(&task, before.status)?;
            task = t;
            change = match (change, c) {
                (Some(mut a), Some(b)) => {
                    a.merge(b);
                    Some(a)
                }
                (a, b) => a.or(b),
            };
        }
        Ok((task, change))
    }

    /// The deletion of the occurrence that completing `completed` (a recurring
    /// task) made, if the recurring service made it and nobody touched it since,
    /// giving back its claim so completing `completed` again makes a new one. If
    /// the service has not made it yet, it will not: it skips occurrences that are
    /// pending again by the time it gets to them.
    async fn drop_successor(&self, user: UserId, completed: &Task) -> Result<Option<Change>> {
        let (Some(_), Some(done_at)) = (&completed.recurrence, completed.completed_at) else {
            return Ok(None);
        };
        let series = completed.series_id.unwrap_or(SeriesId(completed.id.0));
        let mut q = TaskQuery::new(user, self.clock.now());
        q.status = StatusFilter::Pending;
        q.text = TaskQuery::parse_text(completed.title.as_str()).ok().flatten();
        q.limit = 200;
        let next =
            self.tasks.list(&q).await?.items.into_iter().find(|t| {
                t.series_id == Some(series) && t.id != completed.id && t.version == 1 && t.created_at >= done_at
            });
        Ok(next.map(|t| {
            let mut c = self.tasks.plan_delete(&t);
            c.releases.push(ProcessedKey::new("recurrence", format!("successor:{}", completed.id)));
            c
        }))
    }

    /// Moves a recurring task to its following occurrence (past every occurrence
    /// in the rest of the skipped one's day, week or month, with `rest_of`, and
    /// past every one on or before `through`).
    pub(super) fn skip(
        &self,
        tz: Timezone,
        task: Task,
        rest_of: Option<SkipSpan>,
        through: Option<chrono::NaiveDate>,
        action: impl Fn(&str, Value) -> Action,
    ) -> Result<Outcome> {
        let focus = Some(vec![task.id]);
        let (Some(rule), Some(due)) = (&task.recurrence, task.due_at) else {
            let why = if task.recurrence.is_none() { "doesn't repeat" } else { "has no due date" };
            return Ok(Outcome {
                focus,
                ..Outcome::say(format!("'{}' {why}, so there is no next occurrence to skip.", task.title))
            });
        };
        let now = self.clock.now();
        let next_after = |at| rule.next_after_completion(Some(at), task.all_day, RepeatFrom::Due, now, tz.tz());
        let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz.tz()).date_naive();
        let same = |a: chrono::NaiveDate, b: chrono::NaiveDate| match rest_of {
            None => false,
            Some(SkipSpan::Day) => a == b,
            Some(SkipSpan::Week) => a.iso_week() == b.iso_week(),
            Some(SkipSpan::Month) => a.year() == b.year() && a.month() == b.month(),
        };
        let mut next = next_after(due);
        let mut steps = 0;
        while let Some(n) = next
            && (same(local(n), local(due)) || through.is_some_and(|d| local(n) <= d))
            && steps < SKIP_MAX
        {
            next = next_after(n);
            steps += 1;
        }
        let Some(next) = next else {
            return Ok(Outcome {
                focus,
                ..Outcome::say(format!("That was the last occurrence of '{}'; there is no next one.", task.title))
            });
        };
        let patch = TaskPatch { due_at: Some(Some(next)), ..TaskPatch::default() };
        let (moved, change) = self.tasks.plan_patch(&task, &patch, tz)?;
        let skipped = super::when(due, task.all_day, tz, now);
        Ok(Outcome {
            reply: format!("Skipped {skipped}: {}.", describe(&moved, tz, now)),
            actions: vec![action("skip_occurrence", task_json(&moved))],
            revisions: change
                .is_some()
                .then(|| Revision { before: Some(task), after: Some(moved.clone()) })
                .into_iter()
                .collect(),
            change,
            focus,
            ..Outcome::default()
        })
    }
}
