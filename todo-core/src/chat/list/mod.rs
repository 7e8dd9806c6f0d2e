//! `list_tasks`: "show my tasks", "what's due this week?", "list completed
//! tasks", "search for dentist", "#work tasks", "what's overdue?".
//!
//! Date filters are half-open ranges of local midnights `[due_after,
//! due_before)`; weeks start on Monday.

mod filters;
mod range;
mod search;
#[cfg(test)]
mod tests;

use super::command::{Command, ListTasksArgs};
use super::datetime::Ctx;
use super::lexer::Sentence;
use crate::domain::StatusFilter;
use filters::filter_at;
pub(crate) use range::range_at;
use search::query;

/// Words that make a question a question about the list.
pub(crate) const LIST_WORDS: &[&str] = &[
    "task",
    "tasks",
    "todo",
    "todos",
    "to-do",
    "to-dos",
    "due",
    "overdue",
    "agenda",
    "list",
    "schedule",
    "scheduled",
    "planned",
    "pending",
    "left",
    "remaining",
    "outstanding",
    "completed",
    "finished",
    "done",
    "plate",
    "upcoming",
    "have",
    "got",
    "open",
    "late",
    "reminders",
    "coming",
    "priority",
    "urgent",
    "tagged",
    "items",
    "complete",
    "accomplish",
    "accomplished",
    "finish",
];

/// Verbs that always mean "show me the list".
const SHOW: &[&str] = &["show", "list", "display", "print", "ls"];
/// Verbs that show the list only when a list word follows ("see my tasks", but "see the doctor").
const SEE: &[&str] = &["view", "see", "get", "give", "tell", "check", "pull", "bring", "open", "read"];
/// Question openers.
const ASK: &[&str] = &[
    "what", "what's", "whats", "what're", "which", "any", "anything", "do", "does", "is", "are", "am", "have", "has",
    "how", "when", "where",
];
/// Search verbs: what follows is the text to look for.
const SEARCH: &[&[&str]] = &[
    &["where", "is"],
    &["where's"],
    &["search", "for"],
    &["search"],
    &["find", "me"],
    &["find"],
    &["look", "for"],
    &["look", "up"],
    &["lookup"],
    &["filter", "by"],
    &["grep"],
];

/// A listing asked for by a verb or a question.
pub(crate) fn by_verb(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    if let Some(c) = saved_list(s, i, end, ctx) {
        return Some(c);
    }
    if let Some(j) = SEARCH.iter().find_map(|v| s.seq(i, v)) {
        return Some(build(s, i, end, ctx, Some(j)));
    }
    let w = s.w(i)?;
    let has_list_word = || (i + 1..end).any(|k| s.is_any(k, LIST_WORDS) || s.seq(k, &["to", "do"]).is_some());
    // "how many tasks ..." asks about the list; "how do I ..." is for help.
    let asks = || ASK.contains(&w) && (w != "how" || s.is(i + 1, "many")) && has_list_word();
    if (SEE.contains(&w) && has_list_word()) || asks() || s.seq(i, &["what's", "next"]).is_some() {
        return Some(build(s, i, end, ctx, None));
    }
    if ASK.contains(&w) {
        // "what's on today?", "anything for tomorrow?": a question about a day
        // whose other words are all filler.
        let (cmd, consumed) = build_with(s, i, end, ctx, None);
        let Command::ListTasks(args) = &cmd else {
            return None;
        };
        let dated = args.due_after.is_some() || args.due_before.is_some();
        let other = (i + 1..end).any(|k| !consumed[k] && s.w(k).is_some_and(|w| !ASK_FILLER.contains(&w)));
        return ((dated && !other) || args.filter.is_some()).then_some(cmd);
    }
    if SHOW.contains(&w) {
        // "show me the weather" is not about the list: every word must be a
        // filter or a list word.
        let (cmd, consumed) = build_with(s, i, end, ctx, None);
        let other = (i + 1..end)
            .any(|k| !consumed[k] && s.w(k).is_some_and(|w| !SHOW_FILLER.contains(&w) && !LIST_WORDS.contains(&w)));
        let filtered = matches!(&cmd, Command::ListTasks(a) if a.filter.is_some());
        return (!other || has_list_word() || filtered).then_some(cmd);
    }
    None
}

/// Words of a question about a day that say nothing more: "what's on today?",
/// "what should I do today?", "what do I need to work on tomorrow?".
const ASK_FILLER: &[&str] = &[
    "on",
    "for",
    "about",
    "do",
    "i",
    "have",
    "is",
    "there",
    "anything",
    "any",
    "my",
    "me",
    "what",
    "what's",
    "planned",
    "happening",
    "else",
    "we",
    "got",
    "the",
    "plan",
    "up",
    "should",
    "must",
    "need",
    "needs",
    "to",
    "be",
    "am",
    "i'm",
    "doing",
    "going",
    "get",
    "work",
    "focus",
    "tackle",
];

/// Words that may follow "show" in a request for the whole list.
const SHOW_FILLER: &[&str] =
    &["me", "my", "the", "all", "of", "please", "again", "now", "what", "i", "us", "them", "it"];

/// A listing asked for by a noun phrase: "my tasks", "tasks for today", "#work
/// tasks", or by filters alone: "overdue", "upcoming this week".
pub(crate) fn by_noun(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    if let Some(c) = filters_only(s, i, end, ctx) {
        return Some(c);
    }
    let nouns = ["tasks", "todos", "to-dos", "agenda", "todo", "to-do"];
    let has_noun = (i..end).any(|k| s.is_any(k, &nouns) || (s.is(k, "list") && k + 1 == end));
    let looks_like_add = s.w(i).is_some_and(|w| {
        !w.starts_with('#')
            && !matches!(
                w,
                "my" | "all"
                    | "the"
                    | "today's"
                    | "tomorrow's"
                    | "overdue"
                    | "completed"
                    | "pending"
                    | "open"
                    | "urgent"
                    | "upcoming"
            )
            && !nouns.contains(&w)
    }) && !(i + 1..end).any(|k| s.is_any(k, &nouns));
    (has_noun && !looks_like_add).then(|| build(s, i, end, ctx, None))
}

const MAX_FILTER_ONLY_TOKENS: usize = 12;

/// A sentence made only of filters and list words ("overdue", "upcoming", "urgent ones").
fn filters_only(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    // Such a sentence is a few words long; a long one is something else.
    if end - i > MAX_FILTER_ONLY_TOKENS {
        return None;
    }
    let (cmd, consumed) = build_with(s, i, end, ctx, None);
    let Command::ListTasks(args) = &cmd else {
        return None;
    };
    if args.filter.is_some() {
        // Every word translated into a filter the fixed arguments cannot say.
        return Some(cmd);
    }
    let filtered = args.overdue
        || args.due_after.is_some()
        || args.due_before.is_some()
        || args.priority.is_some()
        || args.tag.is_some();
    let rest = (i..end).all(|k| {
        consumed[k]
            || s.is_any_punct(k)
            || s.is_any(k, &["my", "all", "the", "ones", "tasks", "items", "stuff", "due", "things"])
    });
    (filtered && rest).then_some(cmd)
}

fn build(s: &Sentence, i: usize, end: usize, ctx: &Ctx, search_from: Option<usize>) -> Command {
    build_with(s, i, end, ctx, search_from).0
}

pub(crate) fn build_with(
    s: &Sentence,
    i: usize,
    end: usize,
    ctx: &Ctx,
    search_from: Option<usize>,
) -> (Command, Vec<bool>) {
    let mut args = ListTasksArgs::default();
    let mut consumed = vec![false; s.len()];
    let mut status: Option<StatusFilter> = None;
    let mut all = false;
    let mut k = i;
    while k < end {
        let taken = filter_at(s, k, ctx, &mut args, &mut status, &mut all);
        match taken {
            Some(j) if j > k => {
                for c in &mut consumed[k..j.min(end)] {
                    *c = true;
                }
                k = j;
            }
            _ => k += 1,
        }
    }
    if args.tag.is_none() {
        args.tag = noun_tag(s, i, end, &consumed);
    }
    args.status = status.unwrap_or(if all { StatusFilter::All } else { StatusFilter::Pending });
    if let Some(from) = search_from {
        for c in &mut consumed[i..from] {
            *c = true;
        }
        args.query = query(s, from, end, &mut consumed);
    } else {
        super::filter_phrase::apply(&mut args, s, i, end, ctx);
    }
    (Command::ListTasks(args), consumed)
}

/// "show my work today list", "open the errands filter", "show my saved list
/// 'bills'": the name of a saved list, with what its words mean as a listing for
/// when there is no such list (unknown words are tags: "my shopping list" is
/// `#shopping`).
fn saved_list(s: &Sentence, i: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let w = s.w(i)?;
    if !(SHOW.contains(&w) || SEE.contains(&w)) {
        return None;
    }
    let mut a = i + 1;
    while s.is_any(a, &["me", "my", "the", "our", "saved", "filtered"]) {
        a += 1;
    }
    let mut last = end;
    while last > a && s.is_any_punct(last - 1) && !matches!(s.toks[last - 1].kind, super::lexer::Kind::Quote) {
        last -= 1;
    }
    if last <= a + 1 || !s.is_any(last - 1, &["list", "filter", "view"]) {
        return None;
    }
    let name_end = last - 1;
    let name = s.slice(a, name_end).trim_matches(|c: char| "\"“”'‘’".contains(c)).trim().to_owned();
    let generic = (a..name_end).all(|k| {
        s.is_any_punct(k) || s.w(k).is_some_and(|w| LIST_WORDS.contains(&w) || SHOW_FILLER.contains(&w) || w == "to")
    });
    if name.is_empty() || generic {
        return None;
    }
    let mut args = match super::filter_phrase::translate(s, a, name_end, ctx, true) {
        Some(f) => {
            let mut args = super::filter_phrase::as_fixed_args(&f, ctx)
                .unwrap_or_else(|| ListTasksArgs { filter: Some(f.to_string()), ..ListTasksArgs::default() });
            args.phrase = Some(f.to_string());
            args
        }
        None => ListTasksArgs::default(),
    };
    args.list = Some(name);
    Some(Command::ListTasks(args))
}

/// Words that may stand before "tasks" without being a tag.
pub(crate) const NOT_TAGS: &[&str] = &[
    "my",
    "all",
    "the",
    "your",
    "our",
    "any",
    "some",
    "these",
    "those",
    "which",
    "what",
    "recurring",
    "repeating",
    "new",
    "old",
    "other",
    "many",
    "of",
    "me",
    "show",
    "list",
    "display",
    "view",
    "see",
    "get",
    "find",
    "search",
    "for",
    "current",
    "future",
    "past",
    "previous",
    "next",
    "due",
    "important",
    "low",
    "high",
    "medium",
    "normal",
    "priority",
    "today's",
    "tomorrow's",
    "daily",
    "weekly",
    "monthly",
    "open",
    "closed",
    "finished",
    "unfinished",
    "undone",
    "remaining",
    "outstanding",
    "active",
    "late",
    "upcoming",
    "scheduled",
    "planned",
    "existing",
    "saved",
    "added",
    "has",
    "have",
    "do",
    "i",
    "you",
    "many",
    "how",
    "are",
    "is",
    "there",
];

/// "show work tasks": a free word right before "tasks" is the tag.
fn noun_tag(s: &Sentence, i: usize, end: usize, consumed: &[bool]) -> Option<crate::domain::Tag> {
    let k = (i..end.saturating_sub(1)).find(|k| s.is_any(k + 1, &["tasks", "todos", "to-dos", "items", "stuff"]))?;
    let w = s.w(k).filter(|w| !consumed[k] && !NOT_TAGS.contains(w) && !LIST_WORDS.contains(w))?;
    crate::domain::Tag::parse(w).ok()
}
