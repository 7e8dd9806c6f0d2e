//! Which task a sentence is about: "task 2", "#2", "the 3rd one", "number 3",
//! a UUID, or a title ("the dentist appointment" is looked up as "dentist
//! appointment"). Pronouns and bulk words ("it", "everything", "all tasks")
//! are not references: acting on them would be a guess.

use std::ops::Range;

use uuid::Uuid;

use super::command::{ContextRef, TaskRef};
use super::lexer::Sentence;
use super::vocab;
use crate::domain::TaskId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    Ref(TaskRef),
    /// "it", "that one", "everything", "all my tasks", "the last one".
    Ambiguous,
    /// Nothing there.
    Missing,
}

/// Words before a reference that belong to no title.
const LEADING: &[&str] =
    &["the", "my", "a", "an", "task", "tasks", "item", "todo", "to-do", "number", "no", "nr", "num", "id"];

/// Words that refer to something the interpreter cannot see.
const VAGUE: &[&str] = &[
    "it",
    "that",
    "this",
    "them",
    "those",
    "these",
    "one",
    "ones",
    "something",
    "anything",
    "stuff",
    "thing",
    "things",
    "last",
    "previous",
    "latest",
    "same",
    "above",
    "other",
];

/// Words that make a reference mean many tasks.
const BULK: &[&str] =
    &["all", "every", "everything", "each", "both", "tasks", "todos", "items", "list", "entire", "whole"];

/// Reads a task reference from exactly the tokens in `range`.
pub(crate) fn reference(s: &Sentence, range: Range<usize>) -> Found {
    let (mut a, mut b) = (range.start, range.end.min(s.len()));
    // Trailing noise: "from my list", "off", "please", punctuation.
    loop {
        let noise = s.is_mark(b.wrapping_sub(1))
            || s.is_any(b.wrapping_sub(1), &["please", "pls", "off", "now", "already", "too"]);
        if a < b && noise {
            b -= 1;
        } else if let Some(k) = list_suffix(s, a, b) {
            b = k;
        } else {
            break;
        }
    }
    while a < b && s.is_mark(a) {
        a += 1;
    }
    if a >= b {
        return Found::Missing;
    }
    let words: Vec<&str> = (a..b).filter_map(|i| s.w(i)).collect();
    if words.iter().any(|w| BULK.contains(w)) && !(a..b).any(|i| s.toks[i].quoted) {
        return Found::Ambiguous;
    }
    if let Some(r) = numbered(s, a, b) {
        return r;
    }
    // A title: without leading articles and a trailing "task".
    let mut ta = a;
    while ta < b
        && s.is_any(ta, &["the", "my", "a", "an", "task", "todo", "to-do", "item", "called", "named", "titled"])
    {
        ta += 1;
    }
    let mut tb = b;
    while tb > ta && s.is_any(tb - 1, &["task", "todo", "item", "one"]) {
        tb -= 1;
    }
    let rest: Vec<&str> = (ta..tb).filter_map(|i| s.w(i)).collect();
    let quoted = (ta..tb).any(|i| s.toks[i].quoted);
    if !quoted && (rest.is_empty() || rest.iter().all(|w| VAGUE.contains(w) || LEADING.contains(w))) {
        return match pronoun(&words).filter(|_| s.convo) {
            Some(r) => Found::Ref(TaskRef::Context(r)),
            None => Found::Ambiguous,
        };
    }
    let title = s.slice(ta, tb).trim_matches(|c: char| "\"“”„«»".contains(c)).trim();
    if title.is_empty() {
        return Found::Missing;
    }
    Found::Ref(TaskRef::Title(title.to_owned()))
}

/// What a phrase of pronouns and fillers refers to in a conversation: "it",
/// "that one", "the task" (what the conversation is about), "them", "these
/// tasks" (all of it), "the last one".
fn pronoun(words: &[&str]) -> Option<ContextRef> {
    let nouns = ["one", "ones", "task", "tasks", "item", "items", "todo", "to-do"];
    let content: Vec<&str> =
        words.iter().copied().filter(|w| !nouns.contains(w) && !matches!(*w, "the" | "my" | "a" | "an")).collect();
    match content.as_slice() {
        ["it" | "that" | "this" | "same"] => Some(ContextRef::It),
        ["them" | "those" | "these"] => Some(ContextRef::Them),
        ["last" | "latest"] => Some(ContextRef::Last),
        [] if words.first() == Some(&"the") && words.iter().any(|w| matches!(*w, "task" | "one" | "item")) => {
            Some(ContextRef::It)
        }
        _ => None,
    }
}

/// "from my list", "on my todo list", "off the list", "in my tasks".
fn list_suffix(s: &Sentence, a: usize, b: usize) -> Option<usize> {
    for tail in [
        &["from", "my", "list"][..],
        &["from", "the", "list"],
        &["off", "my", "list"],
        &["off", "the", "list"],
        &["on", "my", "list"],
        &["from", "my", "todo", "list"],
        &["from", "my", "to-do", "list"],
        &["on", "my", "todo", "list"],
        &["from", "my", "tasks"],
        &["in", "my", "list"],
        &["in", "my", "tasks"],
        &["on", "the", "list"],
        &["in", "the", "list"],
        &["in", "my", "list"],
    ] {
        if b >= a + tail.len() && s.seq(b - tail.len(), tail).is_some() {
            return Some(b - tail.len());
        }
    }
    None
}

/// "task 2", "#2", "2", "number two", "the 3rd one", "the first task", a UUID.
fn numbered(s: &Sentence, a: usize, b: usize) -> Option<Found> {
    let mut i = a;
    while i < b && s.is_any(i, LEADING) {
        i += 1;
    }
    if i >= b {
        return None;
    }
    let w = s.w(i)?;
    let rest_is_noise = |from: usize| {
        (from..b).all(|k| {
            s.is_any(k, &["one", "task", "item", "todo", "on", "in", "the", "list", "my"]) || s.is_any_punct(k)
        })
    };
    if let Ok(u) = Uuid::parse_str(w) {
        return rest_is_noise(i + 1).then_some(Found::Ref(TaskRef::Id(TaskId(u))));
    }
    // "#2", "no.2", "2's" (as in "task 2's priority")
    let digits = w.strip_prefix('#').or_else(|| w.strip_prefix("no.")).unwrap_or(w);
    let digits = digits.strip_suffix("'s").unwrap_or(digits);
    if let Some(n) = vocab::cardinal(digits).filter(|n| *n >= 1) {
        return rest_is_noise(i + 1).then_some(Found::Ref(TaskRef::Index(n)));
    }
    if let Some(n) = vocab::ordinal(w).filter(|n| *n >= 1) {
        return rest_is_noise(i + 1).then_some(Found::Ref(TaskRef::Index(n)));
    }
    None
}

/// Whether the tokens at `i` start an explicit numbered reference ("task 3",
/// "#3", "number 3", a UUID), as opposed to a title.
pub(crate) fn is_numbered_at(s: &Sentence, i: usize) -> bool {
    let w = s.w(i).unwrap_or("");
    if Uuid::parse_str(w).is_ok()
        || w.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    {
        return true;
    }
    let k = if s.is(i, "the") { i + 1 } else { i };
    s.is_any(k, &["task", "item", "number", "todo", "no"])
        && s.w(k + 1).is_some_and(|w| {
            vocab::cardinal(w.trim_start_matches('#')).is_some()
                || vocab::ordinal(w).is_some()
                || Uuid::parse_str(w).is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Found {
        let s = Sentence::new(text);
        reference(&s, 0..s.len())
    }

    fn title(t: &str) -> Found {
        Found::Ref(TaskRef::Title(t.into()))
    }

    #[test]
    fn numbers() {
        assert_eq!(r("task 2"), Found::Ref(TaskRef::Index(2)));
        assert_eq!(r("#2"), Found::Ref(TaskRef::Index(2)));
        assert_eq!(r("3"), Found::Ref(TaskRef::Index(3)));
        assert_eq!(r("number three"), Found::Ref(TaskRef::Index(3)));
        assert_eq!(r("the 3rd one"), Found::Ref(TaskRef::Index(3)));
        assert_eq!(r("the first task on the list"), Found::Ref(TaskRef::Index(1)));
        let id = "0192f0c1-7a2b-7c3d-8e4f-5a6b7c8d9e0f";
        assert_eq!(r(&format!("task {id}")), Found::Ref(TaskRef::Id(TaskId(id.parse().unwrap()))));
    }

    #[test]
    fn titles() {
        assert_eq!(r("the dentist appointment"), title("dentist appointment"));
        assert_eq!(r("buy milk from my list"), title("buy milk"));
        assert_eq!(r("the Dentist task"), title("Dentist"));
        assert_eq!(r("\"all hands\""), title("all hands"));
        assert_eq!(r("buy 2 apples"), title("buy 2 apples"));
    }

    #[test]
    fn vague() {
        for t in
            ["it", "that one", "everything", "all tasks", "all my tasks", "the last one", "them", "completed tasks"]
        {
            assert_eq!(r(t), Found::Ambiguous, "{t}");
        }
        assert_eq!(r(""), Found::Missing);
        assert_eq!(r("please"), Found::Missing);
    }
}
