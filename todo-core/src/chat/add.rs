//! `add_task`: "add buy milk tomorrow at 5pm", "remind me to call mom at 6pm",
//! "I need to renew my passport", and sentences without a verb that carry a
//! date, a priority or a tag ("buy milk tomorrow").

use std::ops::Range;

use chrono::Timelike;

use super::command::{AddTaskArgs, Command, DueAt};
use super::datetime::{Ctx, Due};
use super::extract::{self, Reminder, Slots, extract};
use super::fit;
use super::lexer::{Kind, Sentence};
use super::reply;
use crate::domain::{RepeatFrom, Tags, TaskTitle, task::TAGS_MAX};

/// Phrases that open a task and are not part of it.
const OPENERS: &[&[&str]] = &[
    &["remember", "to"],
    &["don't", "forget", "to"],
    &["dont", "forget", "to"],
    &["do", "not", "forget", "to"],
    &["don't", "let", "me", "forget", "to"],
    &["i", "need", "to"],
    &["i", "have", "to"],
    &["i've", "got", "to"],
    &["i", "got", "to"],
    &["i", "gotta"],
    &["i", "must"],
    &["i", "should"],
    &["need", "to"],
    &["have", "to"],
    &["gotta"],
    &["must"],
    &["make", "sure", "to"],
    &["make", "sure", "i"],
    &["note", "to", "self"],
];

/// Nouns for "a task": "add a new task to ...", "create a todo: ...".
const TASK_NOUNS: &[&str] = &["task", "todo", "to-do", "item", "entry", "note", "reminder"];

/// Verbs a to-do item usually starts with: a sentence starting with one is a
/// task even without "add" ("buy milk", "call the bank").
const TASK_VERBS: &[&str] = &[
    "buy",
    "call",
    "email",
    "e-mail",
    "text",
    "phone",
    "ring",
    "pay",
    "book",
    "clean",
    "wash",
    "fix",
    "repair",
    "pick",
    "send",
    "write",
    "read",
    "submit",
    "prepare",
    "cook",
    "water",
    "feed",
    "walk",
    "visit",
    "meet",
    "order",
    "return",
    "renew",
    "review",
    "file",
    "print",
    "sign",
    "mail",
    "post",
    "ship",
    "pack",
    "plan",
    "organize",
    "organise",
    "take",
    "bring",
    "get",
    "go",
    "learn",
    "study",
    "practice",
    "practise",
    "research",
    "contact",
    "reply",
    "respond",
    "follow",
    "ask",
    "collect",
    "deliver",
    "grab",
    "make",
    "bake",
    "mow",
    "vacuum",
    "iron",
    "tidy",
    "sort",
    "charge",
    "install",
    "backup",
    "upload",
    "download",
    "apply",
    "register",
    "attend",
    "wrap",
    "shop",
    "exercise",
    "run",
    "jog",
    "stretch",
    "meditate",
    "drink",
    "eat",
    "watch",
    "listen",
    "finish",
    "start",
    "draft",
    "prep",
    "refill",
    "replace",
    "hang",
    "paint",
    "empty",
    "check",
    "dust",
    "mop",
    "sweep",
    "recycle",
    "donate",
    "sell",
    "schedule",
    "confirm",
    "cancel",
    "invite",
    "thank",
    "congratulate",
    "wish",
    "celebrate",
    "change",
    "update",
    "upgrade",
    "test",
    "deploy",
    "merge",
    "push",
    "publish",
    "share",
    "translate",
    "print",
    "scan",
    "fax",
    "pray",
    "phone",
    "top",
    "fill",
    "unpack",
    "load",
];

/// "add ...", "create a task to ...", "new task: ...", "remember to ...", and
/// the openers of a task after a leading date ("tomorrow I need to call the bank").
pub(crate) fn explicit(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    if let Some((j, remind)) = opener(s, i, end, ctx) {
        return Some(build_from(s, extract_listed(s, j, end, ctx), ctx, remind));
    }
    let (mut slots, k) = extract::after_lead(s, i..end, ctx)?;
    let j = OPENERS.iter().find_map(|o| s.seq(k, o))?;
    slots.take(k..j);
    Some(build_from(s, slots, ctx, false))
}

/// The phrases of an add's words `j..end`, without the list they are put on.
/// At the end that phrase is cut off before reading, so that what precedes it
/// is at the edge ("submit report friday to my list").
fn extract_listed(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Slots {
    let mut slots = extract(s, j..end, ctx);
    match list_phrase(s, j, end, &slots) {
        Some(r) if r.end == end => extract(s, j..r.start, ctx),
        Some(r) => {
            slots.take(r);
            slots
        }
        None => slots,
    }
}

/// Where the task starts after its opening words, and whether they asked for
/// a reminder ("add a reminder to ...").
fn opener(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<(usize, bool)> {
    if let Some(j) = OPENERS.iter().find_map(|o| s.seq(i, o)) {
        let j = if s.is_punct(j, ':') { j + 1 } else { j };
        return Some((j, false));
    }
    let w = s.w(i)?;
    // "todo: buy milk", "task - call bob"
    if matches!(w, "todo" | "to-do" | "task" | "note" | "reminder") && (s.is_punct(i + 1, ':') || s.is(i + 1, "-")) {
        return Some((i + 2, w == "reminder"));
    }
    let (noun_end, remind) = task_noun(s, i + 1);
    match w {
        "add" | "append" => {
            // "add to my list: buy milk"
            if let Some(k) = [
                &["to", "my", "list"][..],
                &["to", "the", "list"],
                &["to", "list"],
                &["to", "my", "todo", "list"],
                &["to", "my", "tasks"],
            ]
            .iter()
            .find_map(|t| s.seq(i + 1, t))
            {
                return Some((if s.is_punct(k, ':') { k + 1 } else { k }, false));
            }
            Some((noun_end.unwrap_or(i + 1), remind))
        }
        "create" | "new" | "make" | "insert" | "set" | "put" | "schedule" | "log" | "jot" => {
            if let Some(k) = noun_end {
                return Some((k, remind));
            }
            match w {
                "schedule" => Some((if s.is_any(i + 1, &["a", "an"]) { i + 2 } else { i + 1 }, false)),
                // "put the bins out" is a task of its own; "put X on my list"
                // and `put "call grandma" on sunday` add X.
                "put" if list_phrase(s, i + 1, end, &extract(s, i + 1..end, ctx)).is_some() => Some((i + 1, false)),
                "jot" if s.is(i + 1, "down") => Some((i + 2, false)),
                // A quoted title right after a verb that only means adding:
                // `create "call grandma" for sunday`. ("make" and "set" also
                // start tasks and updates: `make "pancakes"` stays as said.)
                "create" | "new" | "insert" | "put" | "log" if quoted_at(s, i + 1) => Some((i + 1, false)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a pair of quotes opens at `i`: a literal title.
fn quoted_at(s: &Sentence, i: usize) -> bool {
    s.toks.get(i).is_some_and(|t| t.kind == Kind::Quote) && s.toks.get(i + 1).is_some_and(|t| t.quoted)
}

/// "a new task to", "task:", "a reminder to", "a todo called": returns where the
/// task's own words start, if a task noun was there.
fn task_noun(s: &Sentence, i: usize) -> (Option<usize>, bool) {
    let mut k = i;
    while s.is_any(k, &["a", "an", "the", "new", "another", "one", "quick"]) {
        k += 1;
    }
    let Some(noun) = s.w(k).filter(|w| TASK_NOUNS.contains(w)) else {
        return (None, false);
    };
    let remind = noun == "reminder";
    k += 1;
    if s.is_punct(k, ':')
        || s.is_punct(k, ',')
        || s.is_any(k, &["to", "called", "named", "titled", "for", "that", "saying", "about", "-", "of"])
    {
        k += 1;
    }
    (Some(k), remind)
}

/// Nouns for the place tasks are put: "my list", "my to-do list", "my calendar".
const LIST_NOUNS: &[&str] = &["list", "tasks", "todos", "to-dos", "calendar", "agenda", "planner"];

/// "to my list", "on my to-do list", "to the shopping list", "on my calendar" in
/// an add's words `a..end`: the tokens to leave out of the title. The phrase
/// ends the sentence, or comes right before a phrase `slots` took ("add get a
/// haircut to my list for saturday"); elsewhere its words are the task's ("add
/// review the list of guests", "put the plates on the table for the party").
fn list_phrase(s: &Sentence, a: usize, end: usize, slots: &Slots) -> Option<Range<usize>> {
    let mut b = end;
    while b > a && s.is_any_punct(b - 1) {
        b -= 1;
    }
    if let Some(k) = list_phrase_ending(s, a, b) {
        return Some(k..end);
    }
    (a + 1..b)
        .filter(|k| s.is_any(*k, LIST_NOUNS) && slots.is_taken(k + 1))
        .find_map(|k| Some(list_phrase_ending(s, a, k + 1)?..k + 1))
}

/// Where a phrase naming a list that ends at `b` (exclusive) starts, in `a..b`.
fn list_phrase_ending(s: &Sentence, a: usize, b: usize) -> Option<usize> {
    if b == a || !s.is_any(b - 1, LIST_NOUNS) {
        return None;
    }
    // Up to two words naming the list: "todo", "to do", "shopping".
    let mut k = b - 1;
    for _ in 0..2 {
        if k >= a + 2 && s.seq(k - 2, &["to", "do"]).is_some() {
            k -= 2;
        } else if k > a && !s.is_any(k - 1, &["my", "the", "our", "to", "on", "in", "onto"]) {
            k -= 1;
        }
    }
    if k > a && s.is_any(k - 1, &["my", "the", "our"]) {
        k -= 1;
    }
    (k > a && s.is_any(k - 1, &["to", "on", "in", "onto"])).then(|| k - 1)
}

/// A sentence without an opening verb: a task if it starts like one or carries
/// a date, recurrence, priority or tag; `None` otherwise.
pub(crate) fn implicit(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let starts_like_task = s.w(i).is_some_and(|w| TASK_VERBS.contains(&w));
    let slots = extract(s, i..end, ctx);
    if !(starts_like_task || slots.has_any()) || slots.title(s).is_empty() {
        return None;
    }
    Some(build_from(s, slots, ctx, false))
}

/// Builds the `add_task` for the task `slots` describe. `remind` asks for a
/// reminder at the due time unless the sentence says otherwise.
pub(crate) fn build_from(s: &Sentence, mut slots: Slots, ctx: &Ctx, remind: bool) -> Command {
    // "remind me at 5pm to call mom": the "to" introduced the task.
    slots.drop_leading(s, &["to", "about", "that", "of"]);
    let title = slots.title(s);
    if title.is_empty() {
        return Command::unknown(reply::NO_TITLE);
    }
    let Ok(title) = TaskTitle::parse(&title) else {
        return Command::unknown(reply::TITLE_TOO_LONG);
    };
    if let (Some(spec), Some(first)) = (slots.rule.as_mut(), slots.when.time) {
        // "daily at 8am and 8pm": one rule, several hours at the same minute.
        let period = slots.when.period;
        let same_minute = slots.extra_times.iter().all(|c| c.minute == first.minute);
        if !slots.extra_times.is_empty() && same_minute && !first.end_of_day {
            spec.hours = std::iter::once(&first).chain(&slots.extra_times).map(|c| c.time(period).hour()).collect();
            spec.hours.sort_unstable();
            spec.hours.dedup();
        }
    }
    let rule = slots.rule.as_ref().and_then(|spec| Some((spec, spec.to_rule(ctx)?)));
    let due: Option<Due> = match &rule {
        Some((spec, _)) => spec.first_due(&slots.when, ctx),
        None => slots.when.resolve(ctx),
    };
    let reminder = slots.reminder.or(remind.then_some(Reminder::AtDue));
    let remind_at = reminder.and_then(|r| fit::reminder(r, due, ctx));
    let tags = Tags::try_from(slots.tags.iter().take(TAGS_MAX).cloned().collect::<Vec<_>>()).unwrap_or_default();
    let from_completion = rule.as_ref().is_some_and(|(spec, _)| spec.from_completion);
    Command::AddTask(AddTaskArgs {
        title,
        due: due.map(|d| DueAt { due_at: d.at, all_day: d.all_day }),
        remind_at,
        priority: slots.priority,
        tags,
        recurrence: rule.map(|(_, text)| text),
        repeat_from: from_completion.then_some(RepeatFrom::Completion),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::test_util::run;

    #[test]
    fn a_list_named_inside_an_add_is_not_the_title() {
        assert_eq!(
            run(explicit, "add get a haircut to my list for saturday"),
            r#"{"intent":"add_task","args":{"title":"get a haircut","due_at":"2026-11-28T00:00:00Z","all_day":true}}"#
        );
        assert_eq!(
            run(explicit, "add review the list of guests"),
            r#"{"intent":"add_task","args":{"title":"review the list of guests"}}"#
        );
        assert_eq!(
            run(explicit, "add put the plates on the table for the party"),
            r#"{"intent":"add_task","args":{"title":"put the plates on the table for the party"}}"#
        );
    }

    #[test]
    fn put_adds_a_quoted_title_or_to_a_list() {
        assert_eq!(
            run(explicit, "put \"call grandma\" on sunday"),
            r#"{"intent":"add_task","args":{"title":"call grandma","due_at":"2026-11-29T00:00:00Z","all_day":true}}"#
        );
        assert_eq!(
            run(explicit, "put buy stamps on my list"),
            r#"{"intent":"add_task","args":{"title":"buy stamps"}}"#
        );
        assert_eq!(run(explicit, "put the bins out on thursday"), "none");
    }

    #[test]
    fn openers_after_a_leading_date() {
        assert_eq!(
            run(explicit, "tomorrow I need to call the bank"),
            r#"{"intent":"add_task","args":{"title":"call the bank","due_at":"2026-11-27T00:00:00Z","all_day":true}}"#
        );
        assert_eq!(run(explicit, "tomorrow standup"), "none");
    }
}
