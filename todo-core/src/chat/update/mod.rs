//! `update_task`: a verb, a task reference and the new value: "rename task 1
//! to X", "move task 2 to friday at 4pm", "change the priority of task 3 to
//! high", "tag task 5 with home", "remove the due date from task 2".
//!
//! A reference that names no single task ("it", "that one") is asked about,
//! never guessed.

use std::ops::Range;

use super::command::{Command, RefArgs, TaskRef, UpdateTaskArgs};
use super::datetime::{self, Ctx, When};
use super::edit::{DONE, NOT_DONE, trim_end};
use super::extract::{Reminder, before_at, leftover, named_tags, priority_at, tag_list};
use super::lexer::Sentence;
use super::reference::{Found, is_numbered_at, reference};
use super::repeat_phrase;
use super::reply;
use super::vocab;
use crate::domain::{Description, Priority, Status, TaskTitle};

mod add;

use add::{add_to, remove_from};

/// The value an update sets.
enum Value {
    When(When),
    Priority(Priority),
    Status(Status),
    Title(String),
}

/// Reads `a..b` as exactly a date/time.
fn when_value(s: &Sentence, a: usize, b: usize, ctx: &Ctx) -> Option<When> {
    let (w, end) = datetime::when_seq(s, a, ctx);
    (!w.is_empty() && end >= b).then_some(w)
}

/// Reads `a..b` as exactly a priority: "high", "high priority", "p1", "urgent".
fn priority_value(s: &Sentence, a: usize, b: usize) -> Option<Priority> {
    if let Some((p, end)) = priority_at(s, a) {
        return (end >= b).then_some(p);
    }
    let p = s.w(a).and_then(vocab::priority)?;
    let end = if s.is_any(a + 1, &["priority", "prio"]) { a + 2 } else { a + 1 };
    (end >= b).then_some(p)
}

/// Reads `a..b` as a value of the given kinds, most specific first.
fn value(s: &Sentence, a: usize, b: usize, ctx: &Ctx, title_ok: bool) -> Option<Value> {
    if a >= b {
        return None;
    }
    if let Some(w) = when_value(s, a, b, ctx) {
        return Some(Value::When(w));
    }
    if let Some(p) = priority_value(s, a, b) {
        return Some(Value::Priority(p));
    }
    if b == a + 1 && s.is_any(a, DONE) {
        return Some(Value::Status(Status::Completed));
    }
    if NOT_DONE.iter().any(|p| s.seq(a, p) == Some(b)) {
        return Some(Value::Status(Status::Pending));
    }
    title_ok.then(|| Value::Title(leftover(s, a..b, &[])))
}

/// Splits `j..end` at a joining word ("to", "as") into a reference and a value:
/// the first split whose right side is a date or priority, else (for titles)
/// the first split.
fn split_ref_value(
    s: &Sentence,
    j: usize,
    end: usize,
    ctx: &Ctx,
    joins: &[&str],
    title_ok: bool,
) -> Option<(Range<usize>, Value)> {
    let splits: Vec<usize> = (j + 1..end).filter(|k| s.is_any(*k, joins)).collect();
    for k in &splits {
        if let Some(v) = value(s, k + 1, end, ctx, false) {
            return Some((j..*k, v));
        }
    }
    let k = *splits.first()?;
    value(s, k + 1, end, ctx, title_ok).map(|v| (j..k, v))
}

/// The clarifying question asked instead of acting.
type Question = &'static str;

fn resolve_ref(s: &Sentence, r: Range<usize>) -> Result<TaskRef, Question> {
    match reference(s, r) {
        Found::Ref(t) => Ok(t),
        _ => Err(reply::WHICH_UPDATE),
    }
}

/// Applies a value to an update (a status of done makes it a completion).
fn apply(mut u: UpdateTaskArgs, v: Value, ctx: &Ctx) -> Command {
    match v {
        Value::When(w) => match w.resolve(ctx) {
            Some(d) => {
                u.due_at = Some(Some(d.at));
                u.all_day = Some(d.all_day);
                if ctx.convo {
                    u.relative.due = Some(w);
                }
            }
            None => return Command::unknown(reply::WHEN_MOVE),
        },
        Value::Priority(p) => u.priority = Some(p),
        Value::Status(Status::Completed) => return Command::CompleteTask(RefArgs { task: u.task }),
        Value::Status(st) => u.status = Some(st),
        Value::Title(t) => match TaskTitle::parse(&t) {
            Ok(t) => u.title = Some(t),
            Err(_) if t.trim().is_empty() => return Command::unknown(reply::WHAT_UPDATE),
            Err(_) => return Command::unknown(reply::TITLE_TOO_LONG),
        },
    }
    Command::UpdateTask(u)
}

fn updated(r: Result<TaskRef, Question>, v: Value, ctx: &Ctx) -> Command {
    match r {
        Ok(task) => apply(UpdateTaskArgs::of(task), v, ctx),
        Err(q) => Command::unknown(q),
    }
}

/// Fields an update can name: "the priority of task 3", "task 3's title".
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Description,
    Due,
    Priority,
    Reminder,
    Recurrence,
}

fn field_at(s: &Sentence, i: usize) -> Option<(Field, usize)> {
    let f = |f, n| Some((f, i + n));
    match s.w(i)? {
        "title" | "name" | "text" | "wording" => f(Field::Title, 1),
        "description" | "note" | "notes" | "details" => f(Field::Description, 1),
        "due" if s.is_any(i + 1, &["date", "time"]) => f(Field::Due, 2),
        "due" | "deadline" | "date" | "time" | "duedate" => f(Field::Due, 1),
        "priority" | "prio" | "importance" => f(Field::Priority, 1),
        "reminder" | "alert" | "alarm" => f(Field::Reminder, 1),
        "recurrence" | "repeat" | "repetition" | "schedule" => f(Field::Recurrence, 1),
        _ => None,
    }
}

/// "rename task 1 to X", "move task 2 to friday", "change the priority of task
/// 3 to high", "tag task 5 with home", "remove the due date from task 2" ...
pub(crate) fn update(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let end = trim_end(s, i, end);
    let w = s.w(i)?;
    match w {
        "rename" | "retitle" | "call" | "relabel" if w != "call" || is_numbered_at(s, i + 1) => {
            rename(s, i + 1, end, ctx)
        }
        "change" | "update" | "edit" | "modify" | "set" | "alter" | "make" | "switch" | "adjust" => {
            change(s, i + 1, end, ctx).or_else(|| {
                // "change it", "update task 3": no value to set.
                let b = if end > i + 1 && s.is_any(end - 1, &["to", "as"]) { end - 1 } else { end };
                match reference(s, i + 1..b) {
                    Found::Ambiguous if b > i + 1 && !s.is_any(i + 1, &["the", "my", "a", "an"]) => {
                        Some(Command::unknown(reply::WHICH_UPDATE))
                    }
                    Found::Ref(TaskRef::Index(_) | TaskRef::Id(_)) => Some(Command::unknown(reply::WHAT_UPDATE)),
                    _ => None,
                }
            })
        }
        "raise" | "increase" | "lower" | "decrease" | "reduce" | "bump" | "up" | "upgrade" | "downgrade"
            if s.seq(i + 1, &["the", "priority", "of"]).or_else(|| s.seq(i + 1, &["priority", "of"])).is_some() =>
        {
            let k = (i + 1..end).find(|k| s.is(*k, "of"))? + 1;
            let p =
                if matches!(w, "lower" | "decrease" | "reduce" | "downgrade") { Priority::Low } else { Priority::High };
            Some(updated(resolve_ref(s, k..end), Value::Priority(p), ctx))
        }
        "move" | "reschedule" | "postpone" | "push" | "defer" | "delay" | "shift" | "bump" | "snooze" | "resched" => {
            let j = if s.is_any(i + 1, &["back", "out"]) { i + 2 } else { i + 1 };
            reschedule(s, j, end, ctx)
        }
        // A quoted title is a reference too: `tag "buy milk" with groceries`.
        "tag" | "label" if i + 1 < end && !s.is_mark(i + 1) => {
            // "tag task 5 with home", "tag buy milk as groceries", "tag lunch
            // with sam with work": the tags are what follows the "with" or
            // "as" after which only tags remain.
            let tags_to_end = |k: usize| tag_list(s, k).filter(|(_, tend)| *tend >= end).map(|(tags, _)| tags);
            let (r, tags) = (i + 2..end)
                .filter(|k| s.is_any(*k, &["with", "as"]))
                .find_map(|k| Some((i + 1..k, tags_to_end(k + 1)?)))
                .or_else(|| numbered_then_rest(s, i + 1, end).and_then(|(r, v)| Some((r, tags_to_end(v.start)?))))?;
            Some(match resolve_ref(s, r) {
                Ok(task) => Command::UpdateTask(UpdateTaskArgs { tags_add: tags, ..UpdateTaskArgs::of(task) }),
                Err(q) => Command::unknown(q),
            })
        }
        "untag" | "unlabel" => {
            // "untag work from task 3", "untag task 3 work"
            if let Some((v, r)) = split_at_word(s, i + 1, end, &["from"]) {
                let (tags, tend) = tag_list(s, v.start)?;
                return (tend >= v.end).then(|| tags_removed(s, r, tags));
            }
            let (r, v) = numbered_then_rest(s, i + 1, end)?;
            let (tags, _) = tag_list(s, v.start)?;
            Some(tags_removed(s, r, tags))
        }
        "add" => add_to(s, i + 1, end),
        "remove" | "delete" | "drop" | "clear" | "unset" | "take" => remove_from(s, i + 1, end),
        "prioritize" | "prioritise" => Some(updated(resolve_ref(s, i + 1..end), Value::Priority(Priority::High), ctx)),
        "deprioritize" | "deprioritise" => {
            Some(updated(resolve_ref(s, i + 1..end), Value::Priority(Priority::Low), ctx))
        }
        "reopen" | "uncomplete" | "unmark" | "undo" | "restore" | "unfinish" | "un-complete" | "uncheck"
        | "unarchive" => Some(updated(resolve_ref(s, i + 1..end), Value::Status(Status::Pending), ctx)),
        "mark" | "flag" => {
            // "mark task 3 as urgent", "mark task 2 as not done"
            let (r, v) = split_ref_value(s, i + 1, end, ctx, &["as"], false).or_else(|| {
                numbered_then_rest(s, i + 1, end).and_then(|(r, v)| Some((r, value(s, v.start, v.end, ctx, false)?)))
            })?;
            match v {
                Value::Priority(_) | Value::Status(Status::Pending) => Some(updated(resolve_ref(s, r), v, ctx)),
                _ => None,
            }
        }
        "stop" if s.is_any(i + 1, &["repeating", "recurring"]) => Some(match resolve_ref(s, i + 2..end) {
            Ok(task) => Command::UpdateTask(UpdateTaskArgs { recurrence: Some(None), ..UpdateTaskArgs::of(task) }),
            Err(q) => Command::unknown(q),
        }),
        _ => None,
    }
}

fn tags_removed(s: &Sentence, r: Range<usize>, tags: Vec<crate::domain::Tag>) -> Command {
    match resolve_ref(s, r) {
        Ok(task) => Command::UpdateTask(UpdateTaskArgs { tags_remove: tags, ..UpdateTaskArgs::of(task) }),
        Err(q) => Command::unknown(q),
    }
}

/// Splits at the first of `words` after `a`.
fn split_at_word(s: &Sentence, a: usize, end: usize, words: &[&str]) -> Option<(Range<usize>, Range<usize>)> {
    let k = (a + 1..end).find(|k| s.is_any(*k, words))?;
    Some((a..k, k + 1..end))
}

/// "task 5 home": a numbered reference, then the rest.
fn numbered_then_rest(s: &Sentence, a: usize, end: usize) -> Option<(Range<usize>, Range<usize>)> {
    if !is_numbered_at(s, a) {
        return None;
    }
    let k = if s.w(a).is_some_and(|w| w.starts_with('#') || uuid::Uuid::parse_str(w).is_ok()) {
        a + 1
    } else if s.is(a, "the") {
        a + 3
    } else {
        a + 2
    };
    (k < end).then_some((a..k, k..end))
}

/// "rename task 1 to buy oat milk", "rename buy milk as buy oat milk", "rename task 1: X".
fn rename(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    if let Some(k) = (j + 1..end).find(|k| s.is_any(*k, &["to", "as", "into"]) || s.is_punct(*k, ':')) {
        return Some(updated(resolve_ref(s, j..k), Value::Title(leftover(s, k + 1..end, &[])), ctx));
    }
    let (r, v) = numbered_then_rest(s, j, end)?;
    Some(updated(resolve_ref(s, r), Value::Title(leftover(s, v, &[])), ctx))
}

/// After "change"/"set"/"update"/"make": "the priority of task 3 to high",
/// "task 3 to friday", "task 2 priority to low", "task 3 urgent".
fn change(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let k = if s.is_any(j, &["the", "its"]) { j + 1 } else { j };
    // "the priority of task 3 to high"
    if let Some((field, f)) = field_at(s, k)
        && s.is_any(f, &["of", "for", "on", "in"])
    {
        let (r, v) = split_at_word(s, f + 1, end, &["to", "as", "into", "at"]).or_else(|| {
            let k = (f + 2..end).find(|k| s.is_punct(*k, ':'))?;
            Some((f + 1..k, k + 1..end))
        })?;
        return field_value(s, r, v, field, ctx);
    }
    // "task 2 priority to low", "task 1 title to X", "task 2 due date to friday"
    if let Some(f) = (j + 1..end).find(|k| field_at(s, *k).is_some() && !s.is(k - 1, "to"))
        && let Some((field, fe)) = field_at(s, f)
    {
        let v = if s.is_any(fe, &["to", "as", "at", "="]) || s.is_punct(fe, ':') { fe + 1 } else { fe };
        if v < end {
            let r = if s.is(f - 1, "'s") { j..f - 1 } else { j..f };
            return field_value(s, r, v..end, field, ctx);
        }
    }
    // "make task 3 repeat every monday", "set task 2 to repeat weekly"
    if let Some(k) = (j + 1..end).find(|k| s.is_any(*k, &["repeat", "recur", "repeating", "recurring"])) {
        // "make task 1 not recurring", "set task 2 to not repeat": a one-off again.
        if s.is(k - 1, "not") && k - 1 > j && trim_end(s, k + 1, end) == k + 1 {
            let r = if s.is(k - 2, "to") { j..k - 2 } else { j..k - 1 };
            return Some(match resolve_ref(s, r) {
                Ok(task) => Command::UpdateTask(UpdateTaskArgs { recurrence: Some(None), ..UpdateTaskArgs::of(task) }),
                Err(q) => Command::unknown(q),
            });
        }
        let r = if s.is(k - 1, "to") { j..k - 1 } else { j..k };
        return recurrence_update(s, r, k + 1, ctx);
    }
    // "task 3 to friday", "buy milk to high priority", "task 1 to buy oat milk"
    if let Some((r, v)) = split_ref_value(s, j, end, ctx, &["to", "as", "into"], true) {
        return Some(updated(resolve_ref(s, r), v, ctx));
    }
    // "update task 5: call the bank"
    if let Some(k) = (j + 1..end).find(|k| s.is_punct(*k, ':')).filter(|_| is_numbered_at(s, j)) {
        return value(s, k + 1, end, ctx, true).map(|v| updated(resolve_ref(s, j..k), v, ctx));
    }
    // "make task 3 urgent", "set task 2 high priority", "set task 2 due friday"
    let (r, rest) = numbered_then_rest(s, j, end)?;
    let rest_start = if s.is(rest.start, "due") { rest.start + 1 } else { rest.start };
    let v = value(s, rest_start, rest.end, ctx, false)?;
    Some(updated(resolve_ref(s, r), v, ctx))
}

fn field_value(s: &Sentence, r: Range<usize>, v: Range<usize>, field: Field, ctx: &Ctx) -> Option<Command> {
    let task = match resolve_ref(s, r) {
        Ok(t) => t,
        Err(q) => return Some(Command::unknown(q)),
    };
    let mut u = UpdateTaskArgs::of(task);
    Some(match field {
        Field::Title => apply(u, Value::Title(leftover(s, v, &[])), ctx),
        Field::Description => match Description::parse(&leftover(s, v, &[])) {
            Ok(d) => {
                u.description = Some(d);
                Command::UpdateTask(u)
            }
            Err(_) => Command::unknown(reply::DESCRIPTION_TOO_LONG),
        },
        Field::Due => apply(u, Value::When(when_value(s, v.start, v.end, ctx)?), ctx),
        Field::Priority => apply(u, Value::Priority(priority_value(s, v.start, v.end)?), ctx),
        Field::Reminder => reminder_update(u, s, v, ctx),
        Field::Recurrence => return recurrence_update_of(u, s, v.start, ctx),
    })
}

/// Sets a reminder: "remind me about task 3 tomorrow at 9am".
pub(crate) fn reminder_update(mut u: UpdateTaskArgs, s: &Sentence, v: Range<usize>, ctx: &Ctx) -> Command {
    let a = if s.is_any(v.start, &["to", "for"]) { v.start + 1 } else { v.start };
    if let Some((span, k)) = before_at(s, a) {
        // "15 minutes before" needs the task's due time: in a conversation the
        // chat service fits it to the task; a lone sentence asks.
        if !ctx.convo {
            return Command::unknown(reply::REMINDER_NEEDS_TIME);
        }
        let (when, e) = datetime::when_seq(s, k, ctx);
        u.relative.remind = Some(if when.is_empty() { Reminder::Before(span) } else { Reminder::BeforeAt(span, when) });
        return if e >= v.end { Command::UpdateTask(u) } else { Command::unknown(reply::REMINDER_NEEDS_TIME) };
    }
    match when_value(s, a, v.end, ctx).and_then(|w| Some((w, w.resolve(ctx)?))) {
        Some((w, d)) => {
            u.remind_at = Some(Some(d.at));
            if ctx.convo {
                u.relative.remind = Some(Reminder::At(w));
            }
            Command::UpdateTask(u)
        }
        None => Command::unknown(reply::REMINDER_NEEDS_TIME),
    }
}

fn recurrence_update(s: &Sentence, r: Range<usize>, a: usize, ctx: &Ctx) -> Option<Command> {
    match resolve_ref(s, r) {
        Ok(task) => recurrence_update_of(UpdateTaskArgs::of(task), s, a, ctx),
        Err(q) => Some(Command::unknown(q)),
    }
}

fn recurrence_update_of(mut u: UpdateTaskArgs, s: &Sentence, a: usize, ctx: &Ctx) -> Option<Command> {
    let a = if s.is_any(a, &["to", "as"]) { a + 1 } else { a };
    let (spec, _) = repeat_phrase::rule_at(s, a, ctx)?;
    let rule = spec.to_rule(ctx)?;
    u.recurrence = Some(Some(rule));
    if ctx.convo {
        u.relative.rule = Some(spec);
    }
    Some(Command::UpdateTask(u))
}

/// After "move"/"postpone": "task 2 to friday at 4pm", "the dentist to next monday".
fn reschedule(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    // "postpone task 2 by 2 days": the new date depends on the old one.
    let numbered = is_numbered_at(s, j);
    for k in j + 1..end {
        let joined = s.is_any(k, &["to", "until", "till", "til", "for", "on", "into"]);
        if s.is(k, "by") && datetime::span_at(s, k + 1).is_some() {
            return Some(match reference(s, j..k) {
                // In a conversation the chat service moves it from its due time.
                Found::Ref(task) if ctx.convo => {
                    let (span, _) = datetime::span_at(s, k + 1)?;
                    let mut u = UpdateTaskArgs::of(task);
                    u.relative.shift = Some((span, true));
                    Command::UpdateTask(u)
                }
                Found::Ref(_) => Command::unknown(reply::WHEN_MOVE),
                _ => Command::unknown(reply::WHICH_UPDATE),
            });
        }
        let from = if joined { k + 1 } else { k };
        if !joined && !numbered {
            continue;
        }
        if let Some(w) = when_value(s, from, end, ctx) {
            return Some(updated(resolve_ref(s, j..k), Value::When(w), ctx));
        }
    }
    match reference(s, j..end) {
        Found::Ref(_) if numbered => Some(Command::unknown(reply::WHEN_MOVE)),
        Found::Ambiguous => Some(Command::unknown(reply::WHICH_UPDATE)),
        _ => None,
    }
}

/// "remind me about task 3 at 5pm", "set a reminder for task 2 tomorrow at 9";
/// the time may also be `led`, said before the request ("tomorrow at 9, remind
/// me about task 3").
pub(crate) fn remind_existing(s: &Sentence, k: usize, end: usize, led: Range<usize>, ctx: &Ctx) -> Option<Command> {
    if !is_numbered_at(s, k) {
        return None;
    }
    let end = trim_end(s, k, end);
    let (r, v) = numbered_then_rest(s, k, end).unwrap_or((k..end, end..end));
    let v = if v.is_empty() { led.start..trim_end(s, led.start, led.end) } else { v };
    Some(match resolve_ref(s, r) {
        Ok(task) => reminder_update(UpdateTaskArgs::of(task), s, v, ctx),
        Err(q) => Command::unknown(q),
    })
}

#[cfg(test)]
mod tests;
