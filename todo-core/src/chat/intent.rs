//! Decides what a sentence asks for, by its opening words, and hands the rest
//! to the builder of that intent.
//!
//! The order matters and is the whole classifier: help and small talk; "remind
//! me"; updates (whose verbs overlap with completion and deletion: "mark task 3
//! as urgent", "remove tag x from task 3"); completion; deletion; listings asked
//! with a verb or a question; explicit adds; listings named by a noun ("my
//! tasks"); "X is done"; finally a sentence that reads like a task. Anything
//! else is `unknown`, with a question back.

use super::command::{Command, NoArgs};
use super::datetime::Ctx;
use super::edit::lead;
use super::lexer::Sentence;
use super::{add, edit, extract, filter_phrase, list, reply, update};

/// Politeness and filler before the request.
const PREFIXES: &[&[&str]] = &[
    &["please"],
    &["pls"],
    &["plz"],
    &["kindly"],
    &["hey"],
    &["hi"],
    &["hello"],
    &["ok"],
    &["okay"],
    &["so"],
    &["now"],
    &["just"],
    &["also"],
    &["and"],
    &["then"],
    &["oh"],
    &["um"],
    &["yo"],
    &["can", "you"],
    &["could", "you"],
    &["would", "you"],
    &["will", "you"],
    &["can", "u"],
    &["could", "u"],
    &["would", "you", "mind"],
    &["i", "want", "you", "to"],
    &["i'd", "like", "you", "to"],
    &["i", "want", "to"],
    &["i'd", "like", "to"],
    &["i", "would", "like", "to"],
    &["i", "wanna"],
    &["go", "ahead", "and"],
    &["let's"],
    &["lets"],
    &["let", "me"],
    &["quickly"],
];

/// Politeness after the request.
const SUFFIXES: &[&[&str]] =
    &[&["please"], &["pls"], &["thanks"], &["thank", "you"], &["thx"], &["for", "me"], &["now"]];

/// Interprets one tokenised message.
pub(crate) fn interpret(s: &Sentence, ctx: &Ctx) -> Command {
    interpret_range(s, 0, s.len(), ctx)
}

/// Interprets the tokens `from..to` of a message as the whole of it.
pub(crate) fn interpret_range(s: &Sentence, from: usize, to: usize, ctx: &Ctx) -> Command {
    let (i, end) = trim_politeness(s, from, to);
    if i >= end {
        return if s.toks.iter().any(|t| t.norm == "?") {
            Command::Help(NoArgs {})
        } else {
            Command::unknown(reply::EMPTY)
        };
    }
    if is_help(s, i, end) {
        return Command::Help(NoArgs {});
    }
    if is_thanks(s, i, end) {
        return Command::unknown(reply::THANKS);
    }
    remind(s, i, end, ctx)
        .or_else(|| filter_phrase::save(s, i, end))
        .or_else(|| update::update(s, i, end, ctx))
        .or_else(|| edit::complete(s, i, end, ctx))
        .or_else(|| edit::delete(s, i, end, ctx))
        .or_else(|| list::by_verb(s, i, end, ctx))
        .or_else(|| add::explicit(s, i, end, ctx))
        .or_else(|| list::by_noun(s, i, end, ctx))
        .or_else(|| edit::complete_suffix(s, i, end))
        .or_else(|| if is_question(s, i, end) { None } else { add::implicit(s, i, end, ctx) })
        .unwrap_or_else(|| Command::unknown(reply::NOT_UNDERSTOOD))
}

/// The range of the request in `from..to` without politeness at either end.
pub(crate) fn trim_politeness(s: &Sentence, from: usize, to: usize) -> (usize, usize) {
    let (mut i, mut end) = (from, to.min(s.len()));
    loop {
        while i < end && s.is_mark(i) {
            i += 1;
        }
        match PREFIXES.iter().filter_map(|p| s.seq(i, p)).max() {
            Some(j) if j < end => i = j,
            _ => break,
        }
    }
    loop {
        while end > i && s.is_mark(end - 1) && !s.is_punct(end - 1, '?') {
            end -= 1;
        }
        let tail = SUFFIXES.iter().find(|p| end > i + p.len() && s.seq(end - p.len(), p).is_some());
        match tail {
            Some(p) => end -= p.len(),
            None => break,
        }
    }
    (i, end)
}

/// The words of `i..end`, without punctuation.
fn words<'s>(s: &'s Sentence, i: usize, end: usize) -> Vec<&'s str> {
    (i..end).filter_map(|k| s.w(k)).collect()
}

/// "help", "what can you do?", "how does this work", "how do I add a task?".
fn is_help(s: &Sentence, i: usize, end: usize) -> bool {
    let w = words(s, i, end);
    let starts = |p: &[&str]| w.len() >= p.len() && w[..p.len()] == *p;
    let exact = |p: &[&str]| w == p;
    exact(&["help"])
        || exact(&["help", "me"])
        || exact(&["/help"])
        || exact(&["/start"])
        || exact(&["start"])
        || exact(&["hi"])
        || exact(&["hello"])
        || exact(&["hey"])
        || exact(&["hey", "there"])
        || exact(&["hello", "there"])
        || exact(&["menu"])
        || exact(&["usage"])
        || exact(&["commands"])
        || exact(&["instructions"])
        || exact(&["examples"])
        || exact(&["options"])
        || starts(&["help", "me", "out"])
        || starts(&["i", "need", "help"])
        || starts(&["can", "you", "help"])
        || starts(&["what", "can", "you"])
        || starts(&["what", "can", "i", "do"])
        || starts(&["what", "can", "i", "say"])
        || starts(&["what", "can", "i", "ask"])
        || starts(&["what", "do", "you", "do"])
        || starts(&["what", "are", "you"])
        || starts(&["who", "are", "you"])
        || starts(&["what", "is", "this"])
        || starts(&["what's", "this"])
        || starts(&["how", "does", "this"])
        || starts(&["how", "does", "it"])
        || starts(&["how", "do", "i"])
        || starts(&["how", "can", "i"])
        || starts(&["how", "can", "you"])
        || starts(&["how", "do", "you"])
        || starts(&["how", "to"])
        || starts(&["how", "should", "i"])
        || starts(&["how", "this", "works"])
        || starts(&["how", "it", "works"])
        || starts(&["what", "commands"])
        || starts(&["what", "are", "the", "commands"])
        || starts(&["what", "are", "your", "commands"])
        || starts(&["show", "commands"])
        || starts(&["list", "commands"])
        || starts(&["show", "help"])
        || starts(&["what", "features"])
        || starts(&["what", "should", "i", "say"])
        || starts(&["what", "do", "i", "say"])
        || (starts(&["help"]) && w.len() <= 3 && !w.iter().any(|x| matches!(*x, "remember" | "with")))
}

fn is_thanks(s: &Sentence, i: usize, end: usize) -> bool {
    let w = words(s, i, end);
    matches!(
        w.as_slice(),
        ["thanks" | "thx" | "ty" | "cheers" | "great" | "cool" | "nice" | "ok" | "okay" | "awesome" | "perfect"]
            | ["thank", "you" | "u"]
            | ["thanks", "a", "lot"]
            | ["thank", "you", "very", "much"]
    )
}

/// A question that is not about the list ("what's the weather like?") is not a task.
fn is_question(s: &Sentence, i: usize, end: usize) -> bool {
    let first = s.w(i).unwrap_or("");
    s.is_punct(end.saturating_sub(1), '?')
        || matches!(
            first,
            "what"
                | "what's"
                | "whats"
                | "who"
                | "who's"
                | "where"
                | "where's"
                | "when"
                | "why"
                | "how"
                | "is"
                | "are"
                | "was"
                | "were"
                | "do"
                | "does"
                | "did"
                | "can"
                | "could"
                | "would"
                | "will"
                | "should"
                | "shall"
                | "am"
                | "which"
                | "whose"
                | "tell"
        )
}

/// Openers that set a reminder.
const REMIND: &[&[&str]] = &[
    &["remind", "me"],
    &["set", "a", "reminder"],
    &["set", "reminder"],
    &["set", "me", "a", "reminder"],
    &["add", "a", "reminder"],
    &["add", "reminder"],
    &["create", "a", "reminder"],
    &["create", "reminder"],
    &["make", "a", "reminder"],
    &["new", "reminder"],
    &["give", "me", "a", "reminder"],
    &["ping", "me"],
    &["alert", "me"],
    &["notify", "me"],
];

/// "remind me to call mom at 6pm" (a new task with a reminder), or "remind me
/// about task 3 at 5pm" (a reminder on an existing one). The opener may follow
/// a leading date or recurrence, which then belongs to the task or the
/// reminder: "every weekday at 7:15 remind me to take vitamins", "tomorrow at
/// 9, remind me about task 3".
fn remind(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let (led, o) = match lead(s, i, REMIND) {
        Some(_) => (None, i),
        None => {
            let (slots, o) = extract::after_lead(s, i..end, ctx)?;
            (Some(slots), o)
        }
    };
    let mut j = lead(s, o, REMIND)?;
    if s.is_punct(j, ':') {
        j += 1;
    }
    let k = if s.is_any(j, &["about", "for", "of", "on", "to"]) { j + 1 } else { j };
    if let Some(c) = update::remind_existing(s, k, end, i..o, ctx) {
        return Some(c);
    }
    for filler in [
        &["that", "i", "need", "to"][..],
        &["that", "i", "have", "to"],
        &["that", "i", "should"],
        &["that", "i", "must"],
        &["that", "i", "gotta"],
    ] {
        if let Some(k) = s.seq(j, filler) {
            j = k;
        }
    }
    let mut slots = match led {
        None => extract::extract(s, j..end, ctx),
        Some(mut slots) => {
            slots.take(o..j);
            slots
        }
    };
    // "add a reminder for my mom's birthday", "set a reminder about the
    // dentist": the word joining the reminder to what it is about is not the
    // task's ("to", "about", "of" go in every add).
    slots.drop_leading(s, &["for", "about", "of"]);
    Some(add::build_from(s, slots, ctx, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::test_util::run;

    #[test]
    fn remind_after_a_leading_date_or_recurrence() {
        assert_eq!(
            run(remind, "every weekday at 7:15 remind me to take vitamins"),
            r#"{"intent":"add_task","args":{"title":"take vitamins","due_at":"2026-11-27T07:15:00Z","all_day":false,"remind_at":"2026-11-27T07:15:00Z","recurrence":"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}}"#
        );
        assert_eq!(
            run(remind, "tomorrow at 9, remind me about task 3"),
            r#"{"intent":"update_task","args":{"ref":{"index":3},"remind_at":"2026-11-27T09:00:00Z"}}"#
        );
        assert_eq!(run(remind, "tomorrow buy milk"), "none");
    }

    #[test]
    fn what_a_reminder_is_for_is_the_task() {
        assert_eq!(
            run(remind, "add a reminder for my mom's birthday on march 3rd"),
            r#"{"intent":"add_task","args":{"title":"my mom's birthday","due_at":"2027-03-03T00:00:00Z","all_day":true,"remind_at":"2027-03-03T00:00:00Z"}}"#
        );
        assert_eq!(
            run(remind, "set a reminder about the car insurance friday"),
            r#"{"intent":"add_task","args":{"title":"the car insurance","due_at":"2026-11-27T00:00:00Z","all_day":true,"remind_at":"2026-11-27T00:00:00Z"}}"#
        );
        assert_eq!(
            run(remind, "set a reminder for tomorrow at 9 to call the bank"),
            r#"{"intent":"add_task","args":{"title":"call the bank","due_at":"2026-11-27T09:00:00Z","all_day":false,"remind_at":"2026-11-27T09:00:00Z"}}"#
        );
        assert_eq!(
            run(remind, "set a reminder for task 2 at 5pm"),
            r#"{"intent":"update_task","args":{"ref":{"index":2},"remind_at":"2026-11-26T17:00:00Z"}}"#
        );
    }
}
