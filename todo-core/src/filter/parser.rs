//! The recursive-descent parser: query text to [`Expr`]s, one per comma-separated
//! list. Tokens are read on demand at the current position, because a date phrase
//! or a search text is read as raw text, not as tokens. Every loop consumes input
//! and the nesting depth is bounded, so any input is parsed in linear time without
//! exhausting the stack.

use super::FilterError;
use super::ast::{DateArg, DateCmp, DateField, Expr, ExprKind, PrioritySet, Span, TagPart, TagPattern, Term};
use super::dates::{self, Context, When};
use crate::domain::{Priority, StatusFilter};

/// Longest query, in characters.
pub const MAX_CHARS: usize = 1_000;
/// Deepest nesting of parentheses and negations.
pub const MAX_DEPTH: usize = 32;
/// Most terms in one query.
pub const MAX_TERMS: usize = 100;
/// Most comma-separated lists in one query.
pub const MAX_LISTS: usize = 10;
/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = crate::domain::query::QUERY_MAX_CHARS;
/// Largest `N` in `N days`.
pub const MAX_DAYS: u32 = 3_650;
/// Longest tag pattern (with wildcards), in characters.
const MAX_TAG_PATTERN_CHARS: usize = 64;

/// Characters that never belong to a bare word.
const SPECIAL: &[char] = &['&', '|', '!', '(', ')', ',', ':', '<', '>', '=', '"', '#', '/'];

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn date_cmp(self) -> DateCmp {
        match self {
            Op::Eq => DateCmp::On,
            Op::Ne => DateCmp::NotOn,
            Op::Lt => DateCmp::Before,
            Op::Le => DateCmp::OnOrBefore,
            Op::Gt => DateCmp::After,
            Op::Ge => DateCmp::OnOrAfter,
        }
    }
}

/// The instant date phrases are tried at while parsing: any instant would do,
/// since what a phrase spans does not depend on it; the value is computed again
/// at evaluation.
fn reference() -> Context {
    Context::new(
        chrono::DateTime::from_timestamp(1_781_870_400, 0).unwrap_or_default(), // 2026-06-19T12:00:00Z, a Friday
        chrono_tz::Tz::UTC,
    )
}

/// Earliest and latest dates a phrase may name (those a task may be due at).
const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 2199;

pub(crate) struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    terms: usize,
}

type R<T> = Result<T, FilterError>;

impl<'a> Parser<'a> {
    pub fn new(src: &'a str) -> Self {
        Self { src, pos: 0, depth: 0, terms: 0 }
    }

    fn err(&self, span: Span, message: impl std::fmt::Display) -> FilterError {
        FilterError::at(self.src, span, message)
    }

    /// The lists of the query.
    pub fn query(mut self) -> R<Vec<(Expr, Span)>> {
        let chars = self.src.chars().count();
        if chars > MAX_CHARS {
            return Err(self.err(0..0, format!("the filter is {chars} characters long; the limit is {MAX_CHARS}")));
        }
        // No database stores a NUL in text; other control characters are blanks
        // or literal text.
        if let Some(at) = self.src.find('\0') {
            return Err(self.err(at..at + 1, "the filter contains a NUL character"));
        }
        self.skip_ws();
        if self.at_end() {
            return Err(self.err(self.pos..self.pos, "the filter is empty: expected a term such as today, #tag or p1"));
        }
        let mut lists = Vec::new();
        loop {
            self.skip_ws();
            let start = self.pos;
            if self.at_end() || self.peek() == Some(',') {
                let what = if lists.is_empty() { "before ','" } else { "after ','" };
                return Err(self.err(self.pos..self.pos, format!("expected a filter {what}")));
            }
            let e = self.or_expr()?;
            lists.push((e, start..self.pos));
            self.skip_ws();
            if self.eat(",") {
                if lists.len() == MAX_LISTS {
                    return Err(self.err(
                        self.pos - 1..self.pos,
                        format!("a filter has at most {MAX_LISTS} lists (separated by ','"),
                    ));
                }
                continue;
            }
            if self.at_end() {
                return Ok(lists);
            }
            let p = self.pos;
            let c = self.peek().unwrap_or(' ');
            return Err(if c == ')' {
                self.err(p..p + 1, "unmatched ')'")
            } else {
                self.err(p..p + c.len_utf8(), format!("unexpected '{c}'"))
            });
        }
    }

    // ---- characters and words ----

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Consumes `s` if the input continues with it.
    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// The bare word at the position (not consumed) and where it ends.
    fn word(&self) -> Option<(&'a str, usize)> {
        let rest = self.rest();
        let len = rest.find(|c: char| c.is_whitespace() || SPECIAL.contains(&c)).unwrap_or(rest.len());
        (len > 0).then(|| (&rest[..len], self.pos + len))
    }

    /// The next word after blanks, lowercased (not consumed), with its span.
    fn peek_word(&self) -> Option<(String, Span)> {
        let mut p = Parser { src: self.src, pos: self.pos, depth: 0, terms: 0 };
        p.skip_ws();
        p.word().map(|(w, end)| (w.to_lowercase(), p.pos..end))
    }

    /// Consumes the next word if it is `w` (case-insensitively).
    fn eat_word(&mut self, w: &str) -> bool {
        match self.peek_word() {
            Some((got, span)) if got == w => {
                self.pos = span.end;
                true
            }
            _ => false,
        }
    }

    /// Consumes a comparison operator (after blanks), `:` counting as `=`.
    fn op(&mut self) -> Option<Op> {
        self.skip_ws();
        for (s, op) in [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("!=", Op::Ne),
            ("==", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("=", Op::Eq),
        ] {
            if self.eat(s) {
                return Some(op);
            }
        }
        self.eat(":").then_some(Op::Eq)
    }

    fn count_term(&mut self, span: &Span) -> R<()> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.err(span.clone(), format!("the filter has more than {MAX_TERMS} terms")));
        }
        Ok(())
    }

    fn deeper(&mut self, at: usize) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(at..at + 1, format!("the filter nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    // ---- expressions ----

    /// Whether an operand list ends here: the end, `)`, `,`, `|` or `or`.
    fn at_stop(&self) -> bool {
        let mut p = Parser { src: self.src, pos: self.pos, depth: 0, terms: 0 };
        p.skip_ws();
        match p.peek() {
            None | Some(')' | ',' | '|') => true,
            _ => matches!(p.word(), Some((w, _)) if w.eq_ignore_ascii_case("or")),
        }
    }

    /// Requires an operand after the operator `op` (ending at the position).
    fn need_operand(&mut self, op: &str) -> R<()> {
        if self.at_stop() {
            self.skip_ws();
            return Err(self.err(self.pos..self.pos, format!("expected a term after '{op}'")));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> R<Expr> {
        let first = self.and_expr()?;
        let start = first.span.start;
        let mut xs = vec![first];
        loop {
            self.skip_ws();
            let op = if self.eat("||") {
                "||"
            } else if self.eat("|") {
                "|"
            } else if self.eat_word("or") {
                "or"
            } else {
                break;
            };
            self.need_operand(op)?;
            xs.push(self.and_expr()?);
        }
        Ok(join(xs, start, ExprKind::Or))
    }

    fn and_expr(&mut self) -> R<Expr> {
        let first = self.unary()?;
        let start = first.span.start;
        let mut xs = vec![first];
        loop {
            if self.at_stop() {
                break;
            }
            self.skip_ws();
            let op = if self.eat("&&") {
                Some("&&")
            } else if self.eat("&") {
                Some("&")
            } else if self.eat_word("and") {
                Some("and")
            } else {
                None // juxtaposition
            };
            if let Some(op) = op {
                self.need_operand(op)?;
            }
            xs.push(self.unary()?);
        }
        Ok(join(xs, start, ExprKind::And))
    }

    fn unary(&mut self) -> R<Expr> {
        self.skip_ws();
        let start = self.pos;
        let not = |inner: Expr| Expr { span: start..inner.span.end, kind: ExprKind::Not(Box::new(inner)) };
        if self.rest().starts_with("!=") {
            return Err(self.err(start..start + 2, "unexpected '!=': it compares a field, as in priority != low"));
        }
        if self.eat("!") {
            self.deeper(start)?;
            self.need_operand("!")?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(not(inner));
        }
        if let Some((w, end)) = self.word()
            && w.eq_ignore_ascii_case("not")
        {
            self.pos = end;
            self.deeper(start)?;
            self.need_operand("not")?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(not(inner));
        }
        if self.rest().starts_with('-') {
            self.pos += 1;
            // `-name` is Taskwarrior's "without tag"; `-today`, `-p3`, `-#tag`, `-(...)` negate.
            let names_tag = self.peek().is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '*' | '\\' | '"'));
            if names_tag && self.word().is_none_or(|(w, _)| !starts_term(&w.to_lowercase())) {
                let tag = self.tag_name(start)?;
                return Ok(not(tag));
            }
            self.deeper(start)?;
            self.need_operand("-")?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(not(inner));
        }
        self.primary()
    }

    fn primary(&mut self) -> R<Expr> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.err(start..start, "expected a term"));
        };
        match c {
            '(' => {
                self.pos += 1;
                self.deeper(start)?;
                self.need_operand("(")?;
                let inner = self.or_expr()?;
                self.skip_ws();
                if !self.eat(")") {
                    return Err(match self.peek() {
                        Some(',') => {
                            self.err(self.pos..self.pos + 1, "',' separates lists and cannot stand inside parentheses")
                        }
                        _ => self.err(
                            self.pos..self.pos,
                            format!("unclosed '(' from {}: expected ')'", char_index(self.src, start)),
                        ),
                    });
                }
                self.depth -= 1;
                Ok(Expr { span: start..self.pos, kind: inner.kind })
            }
            '#' | '+' => {
                self.pos += 1;
                self.tag_name(start)
            }
            '/' => self.slash_search(),
            '"' => {
                Err(self
                    .err(start..start + 1, "quoted text alone is not a term; to search for it write search: \"...\""))
            }
            ')' => Err(self.err(start..start + 1, "expected a term before ')'")),
            '&' | '|' | ',' | ':' | '<' | '>' | '=' | '!' => {
                Err(self.err(start..start + c.len_utf8(), format!("expected a term before '{c}'")))
            }
            _ => self.word_term(),
        }
    }

    // ---- terms ----

    fn term(&mut self, start: usize, term: Term) -> R<Expr> {
        let span = start..self.pos;
        self.count_term(&span)?;
        Ok(Expr { span, kind: ExprKind::Term(term) })
    }

    fn word_term(&mut self) -> R<Expr> {
        let start = self.pos;
        let Some((raw, end)) = self.word() else {
            let c = self.peek().unwrap_or(' ');
            return Err(self.err(start..start + c.len_utf8(), format!("unexpected '{c}'")));
        };
        let w = raw.to_lowercase();
        let simple = match w.as_str() {
            "today" => Some(Term::Today),
            "tomorrow" => Some(Term::Tomorrow),
            "overdue" => Some(Term::Overdue),
            "recurring" => Some(Term::Recurring),
            "pending" => Some(Term::Status(StatusFilter::Pending)),
            "p1" => Some(Term::Priority(PrioritySet::only(Priority::High))),
            "p2" => Some(Term::Priority(PrioritySet::only(Priority::Medium))),
            "p3" => Some(Term::Priority(PrioritySet::only(Priority::Low))),
            _ => None,
        };
        if let Some(t) = simple {
            self.pos = end;
            return self.term(start, t);
        }
        match w.as_str() {
            "and" | "or" => Err(self.err(start..end, format!("expected a term before '{w}'"))),
            _ if w.len() > 1 && w.starts_with('p') && w[1..].chars().all(|c| c.is_ascii_digit()) => {
                Err(self.err(start..end, "there are three priorities: p1 (high), p2 (medium) and p3 (low)"))
            }
            "no" => self.no_term(start, end),
            "has" => {
                self.pos = end;
                if self.eat_word("reminder") || self.eat_word("reminders") {
                    return self.term(start, Term::HasReminder);
                }
                self.skip_ws();
                Err(self.err(self.pos..self.pos, "expected 'reminder' after 'has'"))
            }
            "next" => {
                self.pos = end;
                if let Some(t) = self.days(start)? {
                    return Ok(t);
                }
                self.pos = start;
                self.date_term(start)
            }
            "search" => {
                self.pos = end;
                self.skip_ws();
                if !self.eat(":") {
                    return Err(self.err(self.pos..self.pos, "expected ':' after 'search'"));
                }
                self.search_text(start)
            }
            "priority" => {
                self.pos = end;
                self.priority(start)
            }
            "status" => {
                self.pos = end;
                self.status(start)
            }
            "done" => {
                self.pos = end;
                self.done(start)
            }
            "due" | "duedate" | "due_date" | "due_at" => {
                self.pos = end;
                self.date_comparison(start, DateField::Due, &w, true)
            }
            "created" | "created_at" | "createdat" => {
                self.pos = end;
                self.date_comparison(start, DateField::Created, &w, true)
            }
            "completed" => {
                self.pos = end;
                let mut probe = Parser { src: self.src, pos: self.pos, depth: 0, terms: 0 };
                let compares = probe.eat_word("before") || probe.eat_word("after") || probe.op().is_some();
                if compares {
                    return self.date_comparison(start, DateField::Completed, &w, false);
                }
                self.term(start, Term::Status(StatusFilter::Completed))
            }
            "completed_at" | "completedat" | "done_at" | "doneat" => {
                self.pos = end;
                self.date_comparison(start, DateField::Completed, &w, true)
            }
            "tags" | "tag" | "labels" | "label" => {
                self.pos = end;
                self.tags(start, &w)
            }
            _ if w.chars().all(|c| c.is_ascii_digit()) => {
                if let Some(t) = self.days(start)? {
                    return Ok(t);
                }
                self.date_term(start)
            }
            _ => self.date_term(start),
        }
    }

    /// `no date`, `no due date`, `no time`, `no priority`, `no tags`, `no reminder`.
    fn no_term(&mut self, start: usize, end: usize) -> R<Expr> {
        self.pos = end;
        let t = if self.eat_word("date") || (self.eat_word("due") && self.eat_word("date")) {
            Term::NoDate
        } else if self.eat_word("time") {
            Term::NoTime
        } else if self.eat_word("priority") {
            // Every task has a priority; "none" is the default one.
            Term::Priority(PrioritySet::only(Priority::Medium))
        } else if ["tags", "tag", "labels", "label"].iter().any(|w| self.eat_word(w)) {
            Term::NoTags
        } else if self.eat_word("reminder") || self.eat_word("reminders") {
            let inner = self.term(start, Term::HasReminder)?;
            return Ok(Expr { span: inner.span.clone(), kind: ExprKind::Not(Box::new(inner)) });
        } else {
            self.skip_ws();
            return Err(self.err(self.pos..self.pos, "expected date, time, priority, tags or reminder after 'no'"));
        };
        self.term(start, t)
    }

    /// `7 days`, `next 7 days` (the position after `next`, or at the number).
    fn days(&mut self, start: usize) -> R<Option<Expr>> {
        let back = self.pos;
        self.skip_ws();
        let n_at = self.pos;
        let Some((n, n_end)) = self.word().filter(|(w, _)| w.chars().all(|c| c.is_ascii_digit())) else {
            self.pos = back;
            return Ok(None);
        };
        self.pos = n_end;
        if !(self.eat_word("days") || self.eat_word("day")) {
            self.pos = back;
            return Ok(None);
        }
        let n: u32 = match n.parse() {
            Ok(n) if (1..=MAX_DAYS).contains(&n) => n,
            _ => return Err(self.err(n_at..n_end, format!("the number of days must be 1 to {MAX_DAYS}"))),
        };
        self.term(start, Term::Days(n)).map(Some)
    }

    /// A date alone: due that day.
    fn date_term(&mut self, start: usize) -> R<Expr> {
        let (raw, end) = self.word().unwrap_or(("", self.pos));
        match dates::read(self.rest(), &reference()) {
            Some((When::Day(_), _)) => {
                let date = self.date_value("", true)?;
                self.term(start, Term::Date { field: DateField::Due, cmp: DateCmp::On, date })
            }
            Some((When::Instant(_), len)) => Err(self.err(
                start..start + len,
                format!(
                    "'{}' is a time, not a day: compare with it, as in due before: {}",
                    &self.src[start..start + len].trim_end(),
                    &self.src[start..start + len].trim_end()
                ),
            )),
            None => {
                let hint = if crate::domain::Tag::parse(raw).is_ok() {
                    format!(" (for the tag, write #{})", raw.to_lowercase())
                } else {
                    String::new()
                };
                Err(self.err(
                    start..end,
                    format!(
                        "unknown term '{raw}': expected a term such as today, overdue, p1, #tag, search: text or a date{hint}"
                    ),
                ))
            }
        }
    }

    /// After `due`, `created`, `completed`: `before:`, `after:`, `:` or an operator,
    /// then a date. `colon_on`: whether `field:` alone means "on".
    fn date_comparison(&mut self, start: usize, field: DateField, name: &str, colon_on: bool) -> R<Expr> {
        let cmp = if self.eat_word("before") {
            self.skip_ws();
            self.eat(":");
            DateCmp::Before
        } else if self.eat_word("after") {
            self.skip_ws();
            self.eat(":");
            DateCmp::After
        } else {
            let at = {
                let mut p = Parser { src: self.src, pos: self.pos, depth: 0, terms: 0 };
                p.skip_ws();
                p.pos
            };
            match self.op() {
                Some(Op::Eq) if self.src[at..].starts_with(':') && !colon_on => {
                    return Err(self.err(at..at + 1, format!("expected 'before:' or 'after:' after '{name}'")));
                }
                Some(op) => op.date_cmp(),
                // `due friday`: due that day.
                None if colon_on && dates::read(&self.src[at..], &reference()).is_some() => DateCmp::On,
                None => {
                    return Err(self.err(
                        at..at,
                        format!("expected ':', 'before:', 'after:' or a comparison such as '<' after '{name}'"),
                    ));
                }
            }
        };
        let after = self.src[start..self.pos].trim().to_owned();
        let date = self.date_value(&after, false)?;
        self.term(start, Term::Date { field, cmp, date })
    }

    /// A date phrase (or a quoted one) at the position. `after`: what it follows, for
    /// the error message. `day_only`: a phrase naming an exact time is refused.
    fn date_value(&mut self, after: &str, day_only: bool) -> R<DateArg> {
        self.skip_ws();
        let start = self.pos;
        let (text, span) = if self.peek() == Some('"') {
            let text = self.quoted()?;
            (text, start..self.pos)
        } else {
            match dates::read(self.rest(), &reference()) {
                Some((_, len)) => {
                    let text = self.src[start..start + len].trim_end().to_owned();
                    self.pos = start + text.len();
                    (text, start..self.pos)
                }
                None => {
                    let what = if after.is_empty() { String::new() } else { format!(" after '{after}'") };
                    return Err(self.err(start..start, format!("expected a date{what}")));
                }
            }
        };
        let when = dates::read_all(&text, &reference())
            .ok_or_else(|| self.err(span.clone(), format!("'{text}' is not a date")))?;
        let year = match when {
            When::Day(d) => chrono::Datelike::year(&d),
            When::Instant(t) => chrono::Datelike::year(&t),
        };
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(self.err(span, format!("'{text}' is out of range: dates run from {FIRST_YEAR} to {LAST_YEAR}")));
        }
        let is_day = matches!(when, When::Day(_));
        if day_only && !is_day {
            return Err(self.err(span, format!("'{text}' is a time, not a day")));
        }
        Ok(DateArg { text, span, is_day })
    }

    /// `priority: high`, `priority >= medium`, `priority in (high, low)`.
    fn priority(&mut self, start: usize) -> R<Expr> {
        if self.eat_word("in") {
            let ps = self.list(|p| p.priority_value())?;
            return self.term(start, Term::Priority(PrioritySet::from_fn(|q| ps.contains(&q))));
        }
        if let Some((w, _)) = self.peek_word()
            && w == "not"
        {
            let back = self.pos;
            self.eat_word("not");
            if self.eat_word("in") {
                let ps = self.list(|p| p.priority_value())?;
                return self.term(start, Term::Priority(PrioritySet::from_fn(|q| !ps.contains(&q))));
            }
            self.pos = back;
        }
        let Some(op) = self.op() else {
            self.skip_ws();
            return Err(self.err(self.pos..self.pos, "expected ':' or a comparison such as '>=' after 'priority'"));
        };
        let p = self.priority_value()?;
        let set = PrioritySet::from_fn(|q| match op {
            Op::Eq => q == p,
            Op::Ne => q != p,
            Op::Lt => q < p,
            Op::Le => q <= p,
            Op::Gt => q > p,
            Op::Ge => q >= p,
        });
        self.term(start, Term::Priority(set))
    }

    fn priority_value(&mut self) -> R<Priority> {
        self.skip_ws();
        let at = self.pos;
        let (w, end) = self.word().unwrap_or(("", at));
        let p = match w.to_lowercase().as_str() {
            "high" | "h" | "p1" | "urgent" | "important" => Priority::High,
            "medium" | "m" | "p2" | "normal" | "none" => Priority::Medium,
            "low" | "l" | "p3" => Priority::Low,
            _ => return Err(self.err(at..end, "expected a priority: high, medium or low (p1, p2, p3)")),
        };
        self.pos = end;
        Ok(p)
    }

    /// `status: pending|completed|done|all`.
    fn status(&mut self, start: usize) -> R<Expr> {
        self.skip_ws();
        if !(self.eat(":") || self.eat("=")) {
            return Err(self.err(self.pos..self.pos, "expected ':' after 'status'"));
        }
        self.skip_ws();
        let at = self.pos;
        let (w, end) = self.word().unwrap_or(("", at));
        let s = match w.to_lowercase().as_str() {
            "pending" | "open" | "todo" => StatusFilter::Pending,
            "completed" | "done" | "closed" => StatusFilter::Completed,
            "all" | "any" => StatusFilter::All,
            _ => return Err(self.err(at..end, "expected a status: pending, completed or all")),
        };
        self.pos = end;
        self.term(start, Term::Status(s))
    }

    /// `done = true|false` (Vikunja), or `done` alone (completed).
    fn done(&mut self, start: usize) -> R<Expr> {
        let back = self.pos;
        let Some(op) = self.op() else {
            self.pos = back;
            return self.term(start, Term::Status(StatusFilter::Completed));
        };
        self.skip_ws();
        let at = self.pos;
        let (w, end) = self.word().unwrap_or(("", at));
        let value = match w.to_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(self.err(at..end, "expected true or false")),
        };
        let done = match op {
            Op::Eq => value,
            Op::Ne => !value,
            _ => return Err(self.err(at..end, "done compares with = or != only")),
        };
        self.pos = end;
        let s = if done { StatusFilter::Completed } else { StatusFilter::Pending };
        self.term(start, Term::Status(s))
    }

    /// `tags in (a, b)`, `tags not in (a, b)`, `tags = a`, `tags != a`.
    fn tags(&mut self, start: usize, name: &str) -> R<Expr> {
        let negated = if self.eat_word("in") {
            false
        } else if matches!(self.peek_word(), Some((w, _)) if w == "not") {
            self.eat_word("not");
            if !self.eat_word("in") {
                self.skip_ws();
                return Err(self.err(self.pos..self.pos, "expected 'in' after 'not'"));
            }
            true
        } else {
            match self.op() {
                Some(Op::Eq) => false,
                Some(Op::Ne) => true,
                _ => {
                    self.skip_ws();
                    return Err(
                        self.err(self.pos..self.pos, format!("expected 'in', 'not in', '=' or '!=' after '{name}'"))
                    );
                }
            }
        };
        let tags = self.list(|p| {
            p.skip_ws();
            let at = p.pos;
            p.eat("#");
            p.tag_name(at)
        })?;
        if tags.is_empty() {
            return Err(self.err(start..self.pos, "expected at least one tag in the list"));
        }
        let span = start..self.pos;
        let any = if tags.len() == 1 {
            tags.into_iter().next().unwrap_or_else(|| unreachable!())
        } else {
            Expr { span: span.clone(), kind: ExprKind::Or(tags) }
        };
        Ok(if negated { Expr { span, kind: ExprKind::Not(Box::new(any)) } } else { any })
    }

    /// `(x, y, ...)` or a single `x`, each read by `item`.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
        self.skip_ws();
        if !self.eat("(") {
            return Ok(vec![item(self)?]);
        }
        let open = self.pos - 1;
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(")") && out.is_empty() {
                return Ok(out);
            }
            out.push(item(self)?);
            self.skip_ws();
            if self.eat(")") {
                return Ok(out);
            }
            if !self.eat(",") {
                return Err(self.err(
                    self.pos..self.pos,
                    format!("unclosed list from {}: expected ',' or ')'", char_index(self.src, open)),
                ));
            }
        }
    }

    // ---- texts ----

    /// A tag name after `#`, `+` or `-` (the position is just after it; `start` is
    /// the prefix): bare, with `\` escapes, or quoted.
    fn tag_name(&mut self, start: usize) -> R<Expr> {
        let name_at = self.pos;
        let raw = if self.peek() == Some('"') {
            self.quoted()?
        } else {
            let mut s = String::new();
            let mut chars = self.rest().char_indices();
            let mut len = self.rest().len();
            while let Some((i, c)) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some((_, e)) => s.push(e),
                        None => {
                            len = i + 1;
                            break;
                        }
                    }
                } else if c.is_whitespace() || SPECIAL.contains(&c) {
                    len = i;
                    break;
                } else {
                    s.push(c);
                }
            }
            self.pos += len;
            s
        };
        let prefix = self.src[start..name_at].chars().last().unwrap_or('#');
        let name = raw.to_lowercase();
        if name.trim().is_empty() {
            return Err(self.err(name_at..name_at, format!("expected a tag name after '{prefix}'")));
        }
        let span = name_at..self.pos;
        let mut parts: Vec<TagPart> = Vec::new();
        for c in name.trim().chars() {
            let part = match c {
                '*' => TagPart::Any,
                c if c.is_whitespace() => TagPart::Separator,
                c if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' => {
                    if let Some(TagPart::Literal(s)) = parts.last_mut() {
                        s.push(c);
                        continue;
                    }
                    TagPart::Literal(c.to_string())
                }
                c => {
                    return Err(self.err(
                        span,
                        format!("a tag name holds a-z, 0-9, '_', '-', spaces and '*' only; '{c}' is not allowed"),
                    ));
                }
            };
            // `**` is `*`, and a run of spaces is one separator.
            if parts.last() != Some(&part) {
                parts.push(part);
            }
        }
        let pattern = TagPattern { parts };
        match pattern.exact() {
            Some(t) if t.chars().count() > crate::domain::task::TAG_MAX_CHARS => {
                return Err(
                    self.err(span, format!("a tag has at most {} characters", crate::domain::task::TAG_MAX_CHARS))
                );
            }
            None if name.chars().count() > MAX_TAG_PATTERN_CHARS => {
                return Err(self.err(span, format!("a tag pattern has at most {MAX_TAG_PATTERN_CHARS} characters")));
            }
            _ => {}
        }
        self.term(start, Term::Tag(pattern))
    }

    /// `"..."` with `\"` and `\\` escapes; the position is at the opening quote.
    fn quoted(&mut self) -> R<String> {
        let open = self.pos;
        self.pos += 1;
        let mut s = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(s);
                }
                '\\' => match chars.next() {
                    Some((_, e)) => s.push(e),
                    None => break,
                },
                c => s.push(c),
            }
        }
        Err(self.err(
            self.src.len()..self.src.len(),
            format!("unclosed '\"' from {}: expected '\"'", char_index(self.src, open)),
        ))
    }

    /// After `search:`: a quoted text, or the text up to `&`, `|`, `)`, `,` or the end.
    fn search_text(&mut self, start: usize) -> R<Expr> {
        self.skip_ws();
        let at = self.pos;
        let text = if self.peek() == Some('"') {
            self.quoted()?
        } else {
            let rest = self.rest();
            let len = rest.find(['&', '|', ')', ',']).unwrap_or(rest.len());
            let text = rest[..len].trim_end().to_owned();
            self.pos += text.len();
            text
        };
        self.check_search(&text, at)?;
        self.term(start, Term::Search(text))
    }

    /// `/text/`, with `\/` for a slash.
    fn slash_search(&mut self) -> R<Expr> {
        let start = self.pos;
        self.pos += 1;
        let mut s = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '/' => {
                    self.pos += i + 1;
                    self.check_search(&s, start)?;
                    return self.term(start, Term::Search(s));
                }
                '\\' => match chars.next() {
                    Some((_, e)) => s.push(e),
                    None => break,
                },
                c => s.push(c),
            }
        }
        Err(self.err(
            self.src.len()..self.src.len(),
            format!("unclosed '/' from {}: expected '/'", char_index(self.src, start)),
        ))
    }

    fn check_search(&self, text: &str, at: usize) -> R<()> {
        if text.trim().is_empty() {
            return Err(self.err(at..self.pos, "expected a text to search for"));
        }
        let n = text.chars().count();
        if n > MAX_SEARCH_CHARS {
            return Err(self.err(at..self.pos, format!("a search text has at most {MAX_SEARCH_CHARS} characters")));
        }
        Ok(())
    }
}

/// Whether a word begins a term (so `-word` negates the term rather than naming a tag).
fn starts_term(w: &str) -> bool {
    matches!(
        w,
        "today"
            | "tomorrow"
            | "overdue"
            | "recurring"
            | "pending"
            | "completed"
            | "p1"
            | "p2"
            | "p3"
            | "no"
            | "has"
            | "next"
            | "search"
            | "priority"
            | "status"
            | "done"
            | "due"
            | "duedate"
            | "due_date"
            | "due_at"
            | "created"
            | "created_at"
            | "createdat"
            | "completed_at"
            | "completedat"
            | "done_at"
            | "doneat"
            | "tags"
            | "tag"
            | "labels"
            | "label"
            | "not"
    )
}

/// One operand, or the `kind` of several.
fn join(mut xs: Vec<Expr>, start: usize, kind: fn(Vec<Expr>) -> ExprKind) -> Expr {
    if xs.len() == 1 {
        return xs.pop().unwrap_or_else(|| unreachable!());
    }
    let end = xs.last().map_or(start, |x| x.span.end);
    Expr { span: start..end, kind: kind(xs) }
}

/// The character index of byte offset `byte` in `src`.
pub(crate) fn char_index(src: &str, byte: usize) -> usize {
    src.get(..byte.min(src.len())).map_or_else(|| src.chars().count(), |s| s.chars().count())
}
