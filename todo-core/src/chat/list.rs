//! `list_tasks`: "show my tasks", "what's due this week?", "list completed
//! tasks", "search for dentist", "#work tasks", "what's overdue?".
//!
//! Date filters are half-open ranges of local midnights `[due_after,
//! due_before)`; weeks start on Monday.

use chrono::{Datelike, Days, Months, NaiveDate};

use super::command::{Command, ListTasksArgs};
use super::datetime::{self, Ctx, Piece};
use super::extract::{leftover, priority_at, tags_at};
use super::lexer::Sentence;
use crate::domain::{Priority, StatusFilter};

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

/// Words of a question about a day that say nothing more: "what's on today?".
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

/// Reads one filter at `k`; returns where it ends.
fn filter_at(
    s: &Sentence,
    k: usize,
    ctx: &Ctx,
    args: &mut ListTasksArgs,
    status: &mut Option<StatusFilter>,
    all: &mut bool,
) -> Option<usize> {
    let w = s.w(k)?;
    if args.due_after.is_none()
        && args.due_before.is_none()
        && let Some((after, before, j)) = range_at(s, k, ctx)
    {
        args.due_after = after.map(|d| ctx.midnight(d));
        args.due_before = before.map(|d| ctx.midnight(d));
        return Some(j);
    }
    if matches!(w, "overdue" | "late" | "past-due" | "missed") || s.seq(k, &["past", "due"]).is_some() {
        args.overdue = true;
        return Some(if w == "past" { k + 2 } else { k + 1 });
    }
    if let Some(j) = s.seq(k, &["including", "completed"]).or_else(|| s.seq(k, &["including", "done"])) {
        *all = true;
        return Some(j);
    }
    if let Some(j) =
        s.seq(k, &["not", "done"]).or_else(|| s.seq(k, &["not", "completed"])).or_else(|| s.seq(k, &["to", "do"]))
    {
        status.get_or_insert(StatusFilter::Pending);
        return Some(j);
    }
    match w {
        "completed" | "complete" | "done" | "finished" | "closed" | "checked" | "ticked" | "accomplished"
        | "finish" => {
            *status = Some(StatusFilter::Completed);
            return Some(k + 1);
        }
        "pending" | "open" | "incomplete" | "unfinished" | "outstanding" | "remaining" | "left" | "active"
        | "uncompleted" | "undone" | "current" => {
            status.get_or_insert(StatusFilter::Pending);
            return Some(k + 1);
        }
        "all" | "every" | "everything" => {
            *all = true;
            return Some(k + 1);
        }
        _ => {}
    }
    if args.priority.is_none() {
        if let Some((p, j)) = priority_at(s, k) {
            args.priority = Some(p);
            return Some(j);
        }
        if matches!(w, "urgent" | "important") {
            args.priority = Some(Priority::High);
            return Some(k + 1);
        }
    }
    if args.tag.is_none()
        && let Some((tags, j)) = tags_at(s, k)
    {
        args.tag = tags.into_iter().next();
        return Some(j);
    }
    None
}

/// A date range for a listing: "today", "this week", "next month", "on friday",
/// "in the next 3 days", "before friday", "upcoming". Bounds are local dates.
pub(crate) fn range_at(s: &Sentence, k: usize, ctx: &Ctx) -> Option<(Option<NaiveDate>, Option<NaiveDate>, usize)> {
    let today = ctx.today;
    let day = |d: NaiveDate, j: usize| Some((Some(d), d.succ_opt(), j));
    let span = |a: NaiveDate, days: u64, j: usize| Some((Some(a), a.checked_add_days(Days::new(days)), j));
    // Prepositions that belong to the range: "due for", "in the", "during".
    let mut i = k;
    while i < k + 3 && s.is_any(i, &["due", "for", "on", "in", "during", "of", "from"]) {
        i += 1;
    }
    if s.is(i, "the") && s.is_any(i + 1, &["next", "coming", "following", "last", "previous", "past"]) {
        i += 1;
    }
    let monday = ctx.monday();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?;
    let w = s.w(i)?;
    match w {
        "today" | "tonight" | "today's" => return day(today, i + 1),
        "tomorrow" | "tomorrow's" | "tmr" | "tmrw" => return day(today.succ_opt()?, i + 1),
        "yesterday" | "yesterday's" => return day(today.pred_opt()?, i + 1),
        "upcoming" | "soon" => return span(today, 7, i + 1),
        "between" => {
            let date = |k: usize| match datetime::date_at(s, k, ctx, true)? {
                (Piece::Date(d) | Piece::DatePeriod(d, _), j, _) => Some((d, j)),
                _ => None,
            };
            let (a, j) = date(i + 1)?;
            let (mut b, j) = s.is_any(j, &["and", "&", "to"]).then(|| date(j + 1)).flatten()?;
            // "between monday and friday": the friday after that monday.
            if b < a && (j > 0 && s.w(j - 1).and_then(|w| super::vocab::weekday(w, true)).is_some()) {
                b = b.checked_add_days(Days::new(7))?;
            }
            return Some((Some(a.min(b)), a.max(b).succ_opt(), j));
        }
        "before" | "by" | "until" | "till" | "after" | "since" => {
            let (p, j, _) = datetime::date_at(s, i + 1, ctx, true)?;
            let d = match p {
                Piece::Date(d) | Piece::DatePeriod(d, _) => d,
                _ => return None,
            };
            return Some(match w {
                "before" => (None, Some(d), j),
                "by" | "until" | "till" => (None, d.succ_opt(), j),
                "after" => (d.succ_opt(), None, j),
                _ => (Some(d), None, j),
            });
        }
        _ => {}
    }
    if let Some(j) = s.seq(i, &["coming", "up"]) {
        return span(today, 7, j);
    }
    // "this week", "the week", "next week", "last week", "this month", "next month", "this weekend"
    let (shift, j) = match w {
        "this" | "the" | "current" => (0i32, i + 1),
        "next" | "coming" | "following" => (1, i + 1),
        "last" | "previous" | "past" => (-1, i + 1),
        _ => (0, i),
    };
    if j > i {
        // "the next 3 days", "next few days", "past 7 days"
        let (n, u) = if let Some(n) = s.w(j).and_then(super::vocab::cardinal) {
            (Some(n), j + 1)
        } else if s.is(j, "few") {
            (Some(3), j + 1)
        } else {
            (None, j)
        };
        if let Some(n) = n {
            let days = match s.w(u)? {
                "days" | "day" => u64::from(n),
                "weeks" | "week" => 7 * u64::from(n),
                _ => return None,
            };
            return if shift < 0 {
                Some((today.checked_sub_days(Days::new(days)), today.succ_opt(), u + 1))
            } else {
                span(today, days, u + 1)
            };
        }
        match s.w(j)? {
            "week" => {
                let start = shift_days(monday, 7 * i64::from(shift))?;
                return span(start, 7, j + 1);
            }
            "weekend" => {
                let sat = shift_days(monday, 5 + 7 * i64::from(shift))?;
                return span(sat, 2, j + 1);
            }
            "month" => {
                let start = shift_months(first, shift)?;
                return Some((Some(start), start.checked_add_months(Months::new(1)), j + 1));
            }
            "year" => {
                let start = NaiveDate::from_ymd_opt(today.year() + shift, 1, 1)?;
                return Some((Some(start), NaiveDate::from_ymd_opt(today.year() + shift + 1, 1, 1), j + 1));
            }
            _ => {}
        }
    }
    // A single day: "on friday", "tomorrow morning", "december 3", "in 3 days".
    let (p, j, _) = datetime::piece_at(s, k, ctx)?;
    match p {
        Piece::Date(d) | Piece::DatePeriod(d, _) => day(d, j),
        _ => None,
    }
}

fn shift_days(d: NaiveDate, n: i64) -> Option<NaiveDate> {
    if n >= 0 {
        d.checked_add_days(Days::new(n.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs()))
    }
}

fn shift_months(d: NaiveDate, n: i32) -> Option<NaiveDate> {
    if n >= 0 {
        d.checked_add_months(Months::new(n.unsigned_abs()))
    } else {
        d.checked_sub_months(Months::new(n.unsigned_abs()))
    }
}

/// Words around a search text that are not part of it.
const SEARCH_NOISE: &[&str] = &[
    "tasks",
    "task",
    "my",
    "all",
    "the",
    "a",
    "an",
    "for",
    "me",
    "about",
    "containing",
    "contain",
    "contains",
    "with",
    "mentioning",
    "matching",
    "match",
    "called",
    "named",
    "titled",
    "related",
    "to",
    "any",
    "anything",
    "something",
    "that",
    "which",
    "are",
    "is",
    "in",
    "title",
    "titles",
    "list",
    "items",
    "item",
    "todos",
    "todo",
    "have",
    "i",
    "do",
    "please",
    "where",
    "what",
    "stuff",
    "things",
    "word",
    "text",
    "on",
];

/// The text to search for: what is left of the search phrase, without noise words at its edges.
fn query(s: &Sentence, from: usize, end: usize, consumed: &mut [bool]) -> Option<String> {
    let word = |k: usize| s.toks.get(k).is_some_and(|t| t.kind == super::lexer::Kind::Word);
    let free_words: Vec<usize> = (from..end).filter(|k| !consumed[*k] && word(*k)).collect();
    let noise = |k: usize| s.is_any(k, SEARCH_NOISE);
    let first = free_words.iter().position(|k| !noise(*k));
    let last = free_words.iter().rposition(|k| !noise(*k));
    let (Some(a), Some(b)) = (first, last) else {
        return None;
    };
    for (n, k) in free_words.iter().enumerate() {
        if n < a || n > b {
            consumed[*k] = true;
        }
    }
    let q = leftover(s, from..end, consumed);
    (!q.is_empty()).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::test_util::ctx;

    fn range(text: &str) -> (Option<String>, Option<String>) {
        let s = Sentence::new(text);
        let (a, b, _) = range_at(&s, 0, &ctx()).unwrap_or_else(|| panic!("{text:?} is a range"));
        (a.map(|d| d.to_string()), b.map(|d| d.to_string()))
    }

    fn both(a: &str, b: &str) -> (Option<String>, Option<String>) {
        (Some(a.into()), Some(b.into()))
    }

    #[test]
    fn ranges() {
        assert_eq!(range("today"), both("2026-11-26", "2026-11-27"));
        assert_eq!(range("this week"), both("2026-11-23", "2026-11-30"));
        assert_eq!(range("next week"), both("2026-11-30", "2026-12-07"));
        assert_eq!(range("last week"), both("2026-11-16", "2026-11-23"));
        assert_eq!(range("this month"), both("2026-11-01", "2026-12-01"));
        assert_eq!(range("next month"), both("2026-12-01", "2027-01-01"));
        assert_eq!(range("this weekend"), both("2026-11-28", "2026-11-30"));
        assert_eq!(range("on friday"), both("2026-11-27", "2026-11-28"));
        assert_eq!(range("the next 3 days"), both("2026-11-26", "2026-11-29"));
        assert_eq!(range("before friday"), (None, Some("2026-11-27".into())));
        assert_eq!(range("by friday"), (None, Some("2026-11-28".into())));
    }
}
