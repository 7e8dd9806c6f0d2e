//! A listing sentence as a filter query: "show (overdue or today) #work" is
//! `(overdue | today) & #work`, "list overdue tasks not tagged work" is
//! `overdue & !#work`. The fixed `list_tasks` arguments (one tag, one priority, one
//! due range, ...) stay the answer when they can say it; a filter is given when
//! they cannot (or, not, several tags, no date, recurring, reminders). The
//! translation with relative dates kept relative ("today") is also what "save
//! this as ..." saves.

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::command::{Command, ListTasksArgs, SaveFilterArgs};
use super::datetime::Ctx;
use super::extract::{priority_at, tags_at};
use super::lexer::{Kind, Sentence};
use super::list::range_at;
use crate::domain::{Priority, StatusFilter, Tag};
use crate::filter::{DateField, Expr, ExprKind, Filter, Term};

mod fixed;

pub(crate) use fixed::as_fixed_args;

/// Words that carry nothing for a filter.
const FILLER: &[&str] = &[
    "show", "list", "display", "view", "see", "get", "give", "tell", "check", "pull", "bring", "print", "ls", "me",
    "my", "the", "your", "our", "of", "please", "again", "now", "what", "what's", "whats", "which", "are", "is", "do",
    "does", "have", "has", "i", "got", "to", "any", "anything", "there", "tasks", "task", "todos", "todo", "to-dos",
    "to-do", "items", "item", "things", "stuff", "ones", "one", "that", "that's", "with", "for", "in", "on", "agenda",
    "schedule", "a", "an", "us", "them", "it", "all", "priority", "marked", "as", "only", "just", "ones", "due",
    "which", "those", "these", "where", "whose", "either", "both", "also",
];

/// The translation as it is built: filter text pieces, with where the last
/// complete operand starts, so that a spoken "or" can group its two neighbours
/// ("tagged work or home this week" is `(#work | #home) & ...`: in speech "or"
/// binds tighter than the words around it).
#[derive(Default)]
struct Out {
    pieces: Vec<String>,
    /// Indexes of the open parentheses.
    open: Vec<usize>,
    /// Where the last complete operand starts (a `!` before it not included: in
    /// speech "not work or home" is neither).
    last: Option<usize>,
    /// A spoken "or" waiting for its right operand: (start of the left one, depth).
    or: Vec<(usize, usize)>,
}

impl Out {
    fn push(&mut self, piece: &str) {
        match piece {
            "(" => {
                self.open.push(self.pieces.len());
                self.pieces.push("(".into());
                self.last = None;
            }
            ")" => {
                self.pieces.push(")".into());
                let start = self.open.pop();
                self.operand_done(start);
            }
            "!" | "|" | "&" => {
                self.pieces.push(piece.into());
                self.last = None;
            }
            term => {
                let start = self.pieces.len();
                self.pieces.push(term.into());
                self.operand_done(Some(start));
            }
        }
    }

    fn operand_done(&mut self, start: Option<usize>) {
        let depth = self.open.len();
        let mut start = start;
        while let (Some(&(left, d)), Some(_)) = (self.or.last(), start) {
            if d != depth {
                break;
            }
            self.or.pop();
            self.pieces.insert(left, "(".into());
            self.pieces.push(")".into());
            start = Some(left);
        }
        self.last = start;
    }

    /// A spoken "or": groups the operands on either side.
    fn spoken_or(&mut self) {
        if let Some(left) = self.last.take() {
            self.or.push((left, self.open.len()));
        }
        self.pieces.push("|".into());
    }
}

/// Translates the words `i..end` of a listing into a filter query; `None` when a
/// word is not understood. `unknown_as_tags`: a word that is nothing else is a tag
/// (in the name of a list: "my work today list").
pub(crate) fn translate(s: &Sentence, i: usize, end: usize, ctx: &Ctx, unknown_as_tags: bool) -> Option<Filter> {
    let mut out = Out::default();
    let mut k = i;
    let mut after_tag = false;
    let mut all = false;
    while k < end {
        let tok = &s.toks[k];
        match tok.kind {
            Kind::Punct('(') => {
                out.push("(");
                k += 1;
                continue;
            }
            Kind::Punct(')') => {
                out.push(")");
                k += 1;
                continue;
            }
            Kind::Punct(_) | Kind::Quote => {
                k += 1;
                continue;
            }
            Kind::Word if tok.quoted => return None,
            Kind::Word => {}
        }
        let w = s.w(k)?;
        if w == "or" {
            out.spoken_or();
            k += 1;
            continue;
        }
        let (piece, j, is_tag) = piece_at(s, k, end, ctx, w, after_tag, unknown_as_tags, &mut all)?;
        if let Some(p) = piece {
            out.push(&p);
        }
        after_tag = is_tag;
        k = j.max(k + 1);
    }
    let mut text = out.pieces.join(" ");
    if all {
        text = format!("status:all & ({text})");
    }
    let f = Filter::parse(&text).ok()?;
    (f.lists().len() == 1).then_some(f)
}

/// One piece of the translation at `k` (the word `w`): the filter text (`None`
/// for a filler), where it ends, and whether it was a tag.
#[allow(clippy::too_many_arguments)]
fn piece_at(
    s: &Sentence,
    k: usize,
    end: usize,
    ctx: &Ctx,
    w: &str,
    after_tag: bool,
    unknown_as_tags: bool,
    all: &mut bool,
) -> Option<(Option<String>, usize, bool)> {
    let seq = |words: &[&str]| s.seq(k, words).filter(|j| *j <= end);
    let term = |t: &str, j: usize| Some((Some(t.to_owned()), j, false));
    for (words, t) in [
        (&["no", "date"][..], "no date"),
        (&["no", "due", "date"], "no date"),
        (&["without", "a", "date"], "no date"),
        (&["without", "date"], "no date"),
        (&["without", "a", "due", "date"], "no date"),
        (&["without", "due", "date"], "no date"),
        (&["without", "dates"], "no date"),
        (&["with", "no", "date"], "no date"),
        (&["with", "no", "due", "date"], "no date"),
        (&["no", "deadline"], "no date"),
        (&["without", "a", "deadline"], "no date"),
        (&["undated"], "no date"),
        (&["unscheduled"], "no date"),
        (&["no", "time"], "no time"),
        (&["without", "a", "time"], "no time"),
        (&["all-day"], "no time"),
        (&["all", "day"], "no time"),
        (&["no", "tags"], "no tags"),
        (&["no", "tag"], "no tags"),
        (&["without", "tags"], "no tags"),
        (&["without", "a", "tag"], "no tags"),
        (&["untagged"], "no tags"),
        (&["with", "a", "reminder"], "has reminder"),
        (&["with", "reminders"], "has reminder"),
        (&["with", "reminder"], "has reminder"),
        (&["that", "have", "reminders"], "has reminder"),
        (&["has", "a", "reminder"], "has reminder"),
        (&["without", "reminders"], "no reminder"),
        (&["without", "a", "reminder"], "no reminder"),
        (&["with", "no", "reminder"], "no reminder"),
        (&["with", "no", "reminders"], "no reminder"),
        (&["no", "reminders"], "no reminder"),
        (&["recurring"], "recurring"),
        (&["repeating"], "recurring"),
        (&["recurrent"], "recurring"),
        (&["not", "done"], "pending"),
        (&["not", "completed"], "pending"),
        (&["not", "finished"], "pending"),
        (&["not", "yet", "done"], "pending"),
        (&["including", "completed"], "status:all"),
        (&["including", "done"], "status:all"),
        (&["past", "due"], "overdue"),
        (&["|"], "|"),
        (&["||"], "|"),
        (&["and"], "&"),
        (&["&"], "&"),
        (&["&&"], "&"),
        (&["but", "not"], "!"),
        (&["but"], "&"),
        (&["other", "than"], "!"),
        (&["not"], "!"),
        (&["without"], "!"),
        (&["except"], "!"),
        (&["excluding"], "!"),
        (&["no"], "!"),
    ] {
        if let Some(j) = seq(words) {
            return term(t, j);
        }
    }
    match w {
        "completed" | "complete" | "done" | "finished" | "closed" | "checked" | "ticked" | "accomplished" => {
            return term("completed", k + 1);
        }
        "pending" | "open" | "incomplete" | "unfinished" | "outstanding" | "remaining" | "active" | "uncompleted"
        | "undone" => return term("pending", k + 1),
        "all" | "every" | "everything" if s.seq(k, &["all", "day"]).is_none() => {
            *all = true;
            return Some((None, k + 1, false));
        }
        "overdue" | "late" | "missed" | "past-due" => return term("overdue", k + 1),
        "urgent" | "important" => return term("p1", k + 1),
        _ => {}
    }
    if let Some(rest) = w.strip_prefix('!') {
        // "!#work", "!p1" typed into the chat as in the filter language.
        return (!rest.is_empty()).then(|| (Some(format!("!{rest}")), k + 1, rest.starts_with('#')));
    }
    if let Some(rest) = w.strip_prefix('+').filter(|r| Tag::parse(r).is_ok()) {
        return Some((Some(format!("#{rest}")), k + 1, true));
    }
    if let Some((p, j)) = priority_at(s, k).filter(|(_, j)| *j <= end) {
        let t = match p {
            Priority::High => "p1",
            Priority::Medium => "p2",
            Priority::Low => "p3",
        };
        return term(t, j);
    }
    if let Some((tags, j)) = tags_at(s, k).filter(|(_, j)| *j <= end) {
        let text = tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(" & ");
        return Some((Some(text), j, true));
    }
    if let Some(rest) = w.strip_prefix('#') {
        // A tag with a wildcard, which the chat's tag grammar does not take.
        return Some((Some(format!("#{rest}")), k + 1, true));
    }
    if let Some(t) = relative_date(s, k, end, ctx) {
        return Some((Some(t.0), t.1, false));
    }
    if let Some((after, before, j)) = range_at(s, k, ctx).filter(|(_, _, j)| *j <= end) {
        return Some((Some(range_text(ctx, after, before)), j, false));
    }
    if FILLER.contains(&w) {
        return Some((None, k + 1, false));
    }
    // "show work tasks": a free word right before "tasks" is the tag.
    if s.is_any(k + 1, &["tasks", "todos", "to-dos", "items", "stuff"])
        && !super::list::NOT_TAGS.contains(&w)
        && !super::list::LIST_WORDS.contains(&w)
        && !w.starts_with('#')
        && Tag::parse(w).is_ok()
    {
        return Some((Some(format!("#{w}")), k + 1, true));
    }
    // After a tag, a bare word is another tag: "tagged work or home".
    if (unknown_as_tags || after_tag && bare_tag(s, k).is_some()) && !w.starts_with('#') && Tag::parse(w).is_ok() {
        return Some((Some(format!("#{w}")), k + 1, true));
    }
    None
}

/// A bare word at `k` that can be a tag (and is not a word of the language).
fn bare_tag(s: &Sentence, k: usize) -> Option<String> {
    let w = s.w(k)?;
    let known = FILLER.contains(&w)
        || matches!(w, "today" | "tomorrow" | "overdue" | "completed" | "done" | "pending" | "not" | "no" | "without");
    (!known && !w.starts_with('#') && Tag::parse(w).is_ok()).then(|| w.to_owned())
}

/// "before friday", "due by dec 24", "on monday": a due bound or day as a filter
/// term that keeps the phrase as said, so that a saved list stays relative.
fn relative_date(s: &Sentence, k: usize, end: usize, ctx: &Ctx) -> Option<(String, usize)> {
    let mut q = k;
    while q < k + 2 && s.is_any(q, &["due", "on", "for"]) {
        q += 1;
    }
    let (op, from) = match s.w(q)? {
        "before" => ("before:", q + 1),
        "by" | "until" | "till" => ("<=", q + 1),
        "after" => ("after:", q + 1),
        "since" => (">=", q + 1),
        _ => (":", q),
    };
    let (piece, j, _) = super::datetime::date_at(s, from, ctx, true).filter(|(_, j, _)| *j <= end)?;
    let chat_day = match piece {
        super::datetime::Piece::Date(d) | super::datetime::Piece::DatePeriod(d, _) => d,
        _ => return None,
    };
    // The same range the listing grammar reads there ("next week" is a week to it,
    // a Monday to the date grammar).
    let next = chat_day.checked_add_days(Days::new(1));
    let same = match (range_at(s, k, ctx)?, op) {
        ((None, Some(b), rj), "before:") => b == chat_day && rj == j,
        ((None, b, rj), "<=") => b == next && rj == j,
        ((a, None, rj), "after:") => a == next && rj == j,
        ((Some(a), None, rj), ">=") => a == chat_day && rj == j,
        ((Some(a), b, rj), ":") => a == chat_day && b == next && rj == j,
        _ => false,
    };
    if !same {
        return None;
    }
    // Only a phrase the filter language reads back as the same day.
    let text = s.slice(from, j);
    let fctx = crate::filter::Context::new(ctx.now, ctx.tz);
    if crate::filter::read_day(text, &fctx)? != chat_day {
        return None;
    }
    if op == ":" && chat_day == ctx.today {
        return Some(("today".into(), j));
    }
    if op == ":" && Some(chat_day) == ctx.today.checked_add_days(Days::new(1)) {
        return Some(("tomorrow".into(), j));
    }
    let f = Filter::parse(&format!("due {op} {}", crate::filter::ast::quoted(text))).ok()?;
    Some((f.to_string(), j))
}

/// A due range of local dates as filter text: `today`, `tomorrow`, `7 days`, or dates.
fn range_text(ctx: &Ctx, after: Option<NaiveDate>, before: Option<NaiveDate>) -> String {
    let today = ctx.today;
    let plus = |n| today.checked_add_days(Days::new(n));
    match (after, before) {
        (Some(a), Some(b)) if a == today && Some(b) == plus(1) => "today".into(),
        (Some(a), Some(b)) if Some(a) == plus(1) && Some(b) == plus(2) => "tomorrow".into(),
        (Some(a), Some(b)) if a == today && b > today => format!("{} days", (b - a).num_days()),
        (Some(a), Some(b)) => format!("(due >= {a} & due < {b})"),
        (Some(a), None) => format!("due >= {a}"),
        (None, Some(b)) => format!("due < {b}"),
        (None, None) => "status:all".into(),
    }
}

/// The listing's filter: `args.phrase` always (when the words translate), and
/// `args.filter` with the fixed arguments cleared when they cannot say it.
pub(crate) fn apply(args: &mut ListTasksArgs, s: &Sentence, i: usize, end: usize, ctx: &Ctx) {
    let Some(f) = translate(s, i, end, ctx, false) else {
        return;
    };
    args.phrase = Some(f.to_string());
    if as_fixed_args(&f, ctx).is_none() {
        let status = args.status;
        *args =
            ListTasksArgs { status, filter: Some(f.to_string()), phrase: Some(f.to_string()), ..Default::default() };
    }
}

/// "save this as 'work today'", "save this list as bills", "remember that as
/// errands", "call this list home stuff", "name this filter 'urgent work'": save
/// the last listing under a name.
pub(crate) fn save(s: &Sentence, i: usize, end: usize) -> Option<Command> {
    let verb = s.w(i)?;
    if !matches!(verb, "save" | "store" | "keep" | "remember" | "name" | "call") {
        return None;
    }
    const NOUNS: &[&str] = &["list", "listing", "filter", "search", "view", "query"];
    let mut k = i + 1;
    let deictic = s.is_any(k, &["this", "that", "it", "these", "those"]) || (s.is(k, "the") && s.is_any(k + 1, NOUNS));
    if deictic {
        k += 1;
    }
    let noun = s.is_any(k, NOUNS) || (deictic && s.is(k, "one"));
    if noun {
        k += 1;
    }
    // "call the plumber" is a task; "call this list ..." names the list.
    if !noun && (!deictic || matches!(verb, "name" | "call")) {
        return None;
    }
    let linked = s.is_any(k, &["as", "under"]) || s.seq(k, &["with", "the", "name"]).is_some();
    if s.seq(k, &["with", "the", "name"]).is_some() {
        k += 3;
    } else if linked {
        k += 1;
        if s.is_any(k, &["a", "my"]) && s.is_any(k + 1, &["list", "filter", "view"]) {
            k += 2;
        }
    }
    if s.is_any(k, &["called", "named"]) {
        k += 1;
    } else if !linked && !matches!(verb, "name" | "call") {
        return None;
    }
    let name = s.slice(k, end).trim_matches(|c: char| "\"“”'‘’.!?".contains(c)).trim().to_owned();
    if name.is_empty() {
        return Some(Command::unknown(
            "What should I call this list? Say, for example, \"save this as 'work today'\".",
        ));
    }
    Some(Command::SaveFilter(SaveFilterArgs { name }))
}

#[cfg(test)]
mod tests;
