//! Times said relative to a task, fitted to it once the chat service knows the
//! task: "actually make it 6pm" keeps the date, "move it to wednesday" keeps the
//! time of day (and an all-day task stays all-day), "remind me at 8" for a 9 pm
//! task is 8 pm, "an hour before" counts from the due time, "actually every
//! tuesday" moves the due time to the new rule's first occurrence.
//!
//! The grammar ([`super::update`], [`super::followup`]) reads the words; this
//! module holds what they said ([`Relative`]) until the task is known.

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

use super::command::UpdateTaskArgs;
use super::datetime::{Clock, Ctx, Due, Span, When};
use super::extract::Reminder;
use super::repeat_phrase::RuleSpec;
use super::reply;
use crate::domain::Task;

/// What an update said relative to its task; the default says nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Relative {
    /// The due date or time as said ("6pm", "wednesday", "friday at 3").
    pub due: Option<When>,
    /// Moved by a span: later (`true`) or earlier ("postpone it by 2 days").
    pub shift: Option<(Span, bool)>,
    /// The reminder as said ("an hour before", "at 8", "the day before at 6pm").
    pub remind: Option<Reminder>,
    /// A new recurrence: the due time moves to its first occurrence.
    pub rule: Option<RuleSpec>,
}

impl Relative {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl UpdateTaskArgs {
    /// Fits what the sentence said relative to a task to `task`, as seen at `now`
    /// by a user in `tz`: sets `due_at`, `all_day` and `remind_at`. `Err` is the
    /// question to ask instead ("an hour before" a task without a due time).
    pub fn fit_to(&mut self, task: &Task, now: DateTime<Utc>, tz: Tz) -> Result<(), &'static str> {
        let r = std::mem::take(&mut self.relative);
        if r.is_empty() {
            return Ok(());
        }
        let ctx = Ctx::new(now, tz).conversing();
        let mut set = |d: Due| {
            self.due_at = Some(Some(d.at));
            self.all_day = Some(d.all_day);
        };
        if let Some(spec) = &r.rule {
            let when = r.due.unwrap_or_else(|| anchor(task, &ctx));
            if let Some(d) = spec.first_due(&when, &ctx) {
                set(d);
            }
        } else if let Some(w) = &r.due {
            set(due_in_context(w, task, &ctx).ok_or(reply::WHEN_MOVE)?);
        } else if let Some((span, later)) = r.shift {
            let due = task.due_at.ok_or(reply::NO_DUE_TO_SHIFT)?;
            let at = if later { span.after(due, &ctx) } else { span.before(due, &ctx) };
            set(Due { at: at.ok_or(reply::WHEN_MOVE)?, all_day: task.all_day });
        }
        if let Some(rem) = r.remind {
            let due = match self.due_at {
                Some(d) => d.map(|at| Due { at, all_day: self.all_day.unwrap_or(task.all_day) }),
                None => task.due_at.map(|at| Due { at, all_day: task.all_day }),
            };
            if due.is_none() && !matches!(rem, Reminder::At(_)) {
                return Err(reply::REMINDER_NEEDS_DUE);
            }
            let at = reminder(rem, due, &ctx).ok_or(reply::REMINDER_NEEDS_TIME)?;
            self.remind_at = Some(Some(at));
        }
        Ok(())
    }
}

/// When a reminder fires for a task due at `due`. In a conversation a bare hour
/// is read next to the due time: "remind me at 8" for a 9 pm task is 8 pm.
pub(crate) fn reminder(rem: Reminder, due: Option<Due>, ctx: &Ctx) -> Option<DateTime<Utc>> {
    match (rem, due) {
        (Reminder::AtDue, Some(d)) => Some(d.at),
        (Reminder::Before(span), Some(d)) => span.before(d.at, ctx),
        (Reminder::BeforeAt(span, w), Some(d)) => {
            let day = span.before(d.at, ctx)?.with_timezone(&ctx.tz).date_naive();
            w.resolve_on(day, ctx).map(|r| r.at)
        }
        (Reminder::At(w), Some(d)) => {
            let near = (ctx.convo && !d.all_day && w.date.is_none() && w.instant.is_none())
                .then(|| bare_hour(&w))
                .flatten()
                .and_then(|c| latest_before(c, d.at, ctx));
            near.or_else(|| w.resolve_on(d.at.with_timezone(&ctx.tz).date_naive(), ctx).map(|r| r.at))
        }
        (Reminder::At(w), None) => w.resolve(ctx).map(|r| r.at),
        _ => None,
    }
}

/// `w` as the due time of `task`: a time alone keeps the task's date, a date
/// alone keeps its time of day (an all-day task stays all-day), and a bare hour
/// is the one nearer the task's old time ("make it 6" for a 5 pm task is 6 pm).
fn due_in_context(w: &When, task: &Task, ctx: &Ctx) -> Option<Due> {
    let old = task.due_at.map(|d| d.with_timezone(&ctx.tz));
    if w.instant.is_some() {
        return w.resolve(ctx);
    }
    match (w.date, w.time_of_day(), old) {
        (Some(d), None, Some(old)) if !task.all_day => Some(Due { at: ctx.at(d, old.time()), all_day: false }),
        (None, Some((t, end_of_day)), Some(old)) => {
            let day = old.date_naive();
            let (day, t) = if end_of_day {
                (day.succ_opt()?, NaiveTime::MIN)
            } else if let Some(c) = bare_hour(w).filter(|_| !task.all_day) {
                (day, nearer(c, old.time()).unwrap_or(t))
            } else {
                (day, t)
            };
            Some(Due { at: ctx.at(day, t), all_day: false })
        }
        _ => w.resolve(ctx),
    }
}

/// The clock of `w` if it is a bare hour ("6", "at 8") that could be morning or evening.
fn bare_hour(w: &When) -> Option<Clock> {
    let c = w.time?;
    (c.meridiem.is_none() && !c.h24 && !c.end_of_day && (1..=12).contains(&c.hour) && w.period.is_none()).then_some(c)
}

/// The morning or evening reading of `c`, whichever is nearer `old`; `None` on a tie.
fn nearer(c: Clock, old: NaiveTime) -> Option<NaiveTime> {
    let am = NaiveTime::from_hms_opt(c.hour % 12, c.minute, 0)?;
    let pm = NaiveTime::from_hms_opt(c.hour % 12 + 12, c.minute, 0)?;
    let gap = |t: NaiveTime| (t - old).num_minutes().abs();
    match gap(am).cmp(&gap(pm)) {
        std::cmp::Ordering::Less => Some(am),
        std::cmp::Ordering::Greater => Some(pm),
        std::cmp::Ordering::Equal => None,
    }
}

/// The latest reading of the bare hour `c` at or before `due` (on its day or the
/// day before): a reminder comes before what it reminds of.
fn latest_before(c: Clock, due: DateTime<Utc>, ctx: &Ctx) -> Option<DateTime<Utc>> {
    let day = due.with_timezone(&ctx.tz).date_naive();
    [day.pred_opt()?, day]
        .into_iter()
        .flat_map(|d| [c.hour % 12, c.hour % 12 + 12].map(move |h| (d, h)))
        .filter_map(|(d, h)| Some(ctx.at(d, NaiveTime::from_hms_opt(h, c.minute, 0)?)))
        .filter(|t| *t <= due)
        .max()
}

/// The time (and, for a one-off dated task, the date) a new recurrence of
/// `task` starts from: its first occurrence keeps the task's time of day.
fn anchor(task: &Task, ctx: &Ctx) -> When {
    let Some(due) = task.due_at.map(|d| d.with_timezone(&ctx.tz)) else {
        return When::default();
    };
    let date: Option<NaiveDate> =
        (task.recurrence.is_none() && due.date_naive() >= ctx.today).then_some(due.date_naive());
    let time = (!task.all_day).then_some(Clock {
        hour: due.hour(),
        minute: due.minute(),
        meridiem: None,
        h24: true,
        end_of_day: false,
    });
    When { date, time, period: None, instant: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::datetime::when_seq;
    use crate::chat::lexer::Sentence;
    use crate::chat::test_util::ctx;

    fn when(text: &str) -> When {
        let s = Sentence::new(text);
        when_seq(&s, 0, &ctx().conversing()).0
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn due(at: DateTime<Utc>, all_day: bool) -> Task {
        let mut t: Task = serde_json::from_value(serde_json::json!({
            "id": "0192f0c1-7a2b-7c3d-8e4f-5a6b7c8d9e0f", "user_id": "0192f0c1-7a2b-7c3d-8e4f-5a6b7c8d9e0e",
            "title": "t", "status": "pending", "priority": "medium", "due_at": null, "remind_at": null,
            "recurrence": null, "series_id": null, "created_at": "2026-11-26T09:00:00Z",
            "updated_at": "2026-11-26T09:00:00Z", "completed_at": null, "version": 1
        }))
        .unwrap();
        t.due_at = Some(at);
        t.all_day = all_day;
        t
    }

    #[test]
    fn a_time_keeps_the_date_and_a_date_keeps_the_time() {
        let c = ctx().conversing();
        let five_pm = due(at("2026-11-27T17:00:00Z"), false);
        assert_eq!(due_in_context(&when("6pm"), &five_pm, &c).unwrap().at, at("2026-11-27T18:00:00Z"));
        assert_eq!(due_in_context(&when("at 6"), &five_pm, &c).unwrap().at, at("2026-11-27T18:00:00Z"));
        assert_eq!(
            due_in_context(&when("wednesday"), &five_pm, &c).unwrap(),
            Due { at: at("2026-12-02T17:00:00Z"), all_day: false }
        );
        let friday = due(at("2026-11-27T00:00:00Z"), true);
        assert_eq!(
            due_in_context(&when("next tuesday"), &friday, &c).unwrap(),
            Due { at: at("2026-12-01T00:00:00Z"), all_day: true }
        );
        assert_eq!(due_in_context(&when("at 8"), &friday, &c).unwrap().at, at("2026-11-27T08:00:00Z"));
        let nine_am = due(at("2026-11-27T09:00:00Z"), false);
        assert_eq!(due_in_context(&when("at 10"), &nine_am, &c).unwrap().at, at("2026-11-27T10:00:00Z"));
    }

    #[test]
    fn reminders_come_before_their_task() {
        let c = ctx().conversing();
        let nine_pm = Some(Due { at: at("2026-11-27T21:00:00Z"), all_day: false });
        assert_eq!(reminder(Reminder::At(when("at 8")), nine_pm, &c), Some(at("2026-11-27T20:00:00Z")));
        let seven_am = Some(Due { at: at("2026-11-27T07:00:00Z"), all_day: false });
        assert_eq!(reminder(Reminder::At(when("at 6")), seven_am, &c), Some(at("2026-11-27T06:00:00Z")));
        let saturday = Some(Due { at: at("2026-11-28T00:00:00Z"), all_day: true });
        assert_eq!(
            reminder(Reminder::BeforeAt(Span::Days(1), when("at 6pm")), saturday, &c),
            Some(at("2026-11-27T18:00:00Z"))
        );
        assert_eq!(reminder(Reminder::Before(Span::Minutes(60)), nine_pm, &c), Some(at("2026-11-27T20:00:00Z")));
    }
}
