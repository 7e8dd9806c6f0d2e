//! `complete_task` and `delete_task`: a verb and a task reference ("mark task
//! 2 as done", "delete the dentist appointment"). Updates are in `update`.
//!
//! A reference that names no single task ("it", "everything") never becomes
//! an action: the answer is a clarifying question.

use std::ops::Range;

use super::command::{Command, RefArgs, TaskRef};
use super::datetime::Ctx;
use super::extract::extract;
use super::lexer::Sentence;
use super::reference::{Found, is_numbered_at, reference};
use super::reply;

/// Words that say a task is finished.
pub(crate) const DONE: &[&str] = &["done", "complete", "completed", "finished", "checked", "ticked"];

/// Words that say a task is not finished after all.
pub(crate) const NOT_DONE: &[&[&str]] = &[
    &["not", "done"],
    &["not", "complete"],
    &["not", "completed"],
    &["not", "finished"],
    &["undone"],
    &["incomplete"],
    &["pending"],
    &["open"],
    &["todo"],
    &["to-do"],
    &["uncompleted"],
    &["unfinished"],
    &["active"],
];

/// The longest of `phrases` starting at `i`; returns where it ends.
pub(crate) fn lead(s: &Sentence, i: usize, phrases: &[&[&str]]) -> Option<usize> {
    phrases.iter().filter_map(|p| s.seq(i, p)).max()
}

/// Where the content of `i..end` ends, without trailing punctuation.
pub(crate) fn trim_end(s: &Sentence, i: usize, end: usize) -> usize {
    let mut b = end;
    while b > i && s.is_mark(b - 1) {
        b -= 1;
    }
    b
}

/// A title reference that carries a date, priority or tag describes a new task
/// ("finish the report by friday"), not an existing one.
fn reads_like_new_task(s: &Sentence, found: &Found, range: Range<usize>, ctx: &Ctx) -> bool {
    matches!(found, Found::Ref(TaskRef::Title(_))) && extract(s, range, ctx).has_any()
}

const COMPLETE_VERBS: &[&[&str]] = &[
    &["i'm", "done", "with"],
    &["im", "done", "with"],
    &["i", "am", "done", "with"],
    &["done", "with"],
    &["finished", "with"],
    &["i've", "done"],
    &["i", "have", "done"],
    &["i", "did"],
    &["i", "finished"],
    &["i've", "finished"],
    &["i", "have", "finished"],
    &["i", "completed"],
    &["i've", "completed"],
    &["i", "have", "completed"],
    &["just", "finished"],
    &["just", "did"],
    &["just", "completed"],
    &["check", "off"],
    &["tick", "off"],
    &["cross", "off"],
    &["cross", "out"],
    &["complete"],
    &["completed"],
    &["finish"],
    &["finished"],
    &["close"],
    &["done"],
    &["tick"],
    &["accomplished"],
];

/// "complete buy milk", "mark task 2 as done", "done with 3", "check off #4".
pub(crate) fn complete(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let end = trim_end(s, i, end);
    let (from, to) = if s.is_any(i, &["mark", "set", "flag", "tag"]) {
        // "mark task 2 as done", "mark buy milk done", "mark task 2 off"
        let mut b = end;
        if b > i + 1 && (s.is_any(b - 1, DONE) || s.is(b - 1, "off")) {
            b -= 1;
        } else {
            return None;
        }
        if s.is_any(b - 1, &["as", "to"]) {
            b -= 1;
        }
        if NOT_DONE.iter().any(|p| b >= p.len() && s.seq(b.saturating_sub(1), p).is_some())
            || s.is(b.saturating_sub(1), "not")
        {
            return None;
        }
        (i + 1, b)
    } else {
        let j =
            lead(s, i, COMPLETE_VERBS).or_else(|| (s.is(i, "check") && is_numbered_at(s, i + 1)).then_some(i + 1))?;
        // "completed tasks", "finished items": a listing, not an action.
        if s.is_any(i, &["completed", "finished", "done"])
            && s.is_any(j, &["tasks", "todos", "items", "ones", "this", "today", "yesterday", "last"])
        {
            return None;
        }
        let mut b = end;
        // "complete task 2 as done", "check buy milk off"
        if b > j && s.is(b - 1, "off") {
            b -= 1;
        }
        if b > j + 1 && s.is_any(b - 1, DONE) && s.is(b - 2, "as") {
            b -= 2;
        }
        (j, b)
    };
    let found = reference(s, from..to);
    if reads_like_new_task(s, &found, from..to, ctx) {
        return None;
    }
    Some(match found {
        Found::Ref(task) => Command::CompleteTask(RefArgs { task }),
        // "done", "mark it as done": nothing named to complete.
        Found::Ambiguous | Found::Missing => Command::unknown(reply::WHICH_COMPLETE),
    })
}

/// "buy milk is done", "task 3 done", "#2 finished".
pub(crate) fn complete_suffix(s: &Sentence, i: usize, end: usize) -> Option<Command> {
    if s.is_punct(end.checked_sub(1)?, '?') {
        return None;
    }
    let end = trim_end(s, i, end);
    if end <= i + 1 || !s.is_any(end - 1, DONE) {
        return None;
    }
    let mut b = end - 1;
    if s.is_any(b - 1, &["is", "are", "was", "been", "now", "all", "as", "'s"]) {
        b -= 1;
    }
    if s.is(b.saturating_sub(1), "has") {
        b -= 1;
    }
    match reference(s, i..b) {
        Found::Ref(task) => Some(Command::CompleteTask(RefArgs { task })),
        _ => None,
    }
}

const DELETE_VERBS: &[&[&str]] = &[
    &["get", "rid", "of"],
    &["forget", "about"],
    &["delete"],
    &["del"],
    &["remove"],
    &["erase"],
    &["cancel"],
    &["drop"],
    &["trash"],
    &["discard"],
    &["scrap"],
    &["scratch"],
    &["rm"],
    &["forget"],
    &["clear"],
    &["nuke"],
    &["ditch"],
    &["bin"],
    &["purge"],
    &["wipe"],
];

/// "delete task 4", "remove the dentist appointment"; "delete", "delete
/// everything" and "remove it" get a question instead.
pub(crate) fn delete(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let j = lead(s, i, DELETE_VERBS)?;
    let end = trim_end(s, i, end);
    let found = reference(s, j..end);
    if reads_like_new_task(s, &found, j..end, ctx) {
        return None;
    }
    let bulk =
        (j..end).any(|k| s.is_any(k, &["all", "every", "everything", "tasks", "list", "todos", "completed", "done"]));
    Some(match found {
        Found::Ref(task) => Command::DeleteTask(RefArgs { task }),
        Found::Ambiguous if bulk => Command::unknown(reply::BULK_DELETE),
        _ => Command::unknown(reply::WHICH_DELETE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::test_util::run;

    #[test]
    fn completes_and_deletes() {
        assert_eq!(run(complete, "mark task 2 as done"), r#"{"intent":"complete_task","args":{"ref":{"index":2}}}"#);
        assert_eq!(run(complete, "finish the report by friday"), "none");
        assert_eq!(run(delete, "delete everything"), r#"{"intent":"unknown","args":{}}"#);
        assert_eq!(run(delete, "remove it"), r#"{"intent":"unknown","args":{}}"#);
        assert_eq!(run(delete, "delete"), r#"{"intent":"unknown","args":{}}"#);
    }
}
