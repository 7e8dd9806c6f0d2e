//! The typed syntax tree of a filter, with the place of every node in the query
//! (byte offsets), and its canonical text ([`std::fmt::Display`]): the text parses
//! back to the same tree.

use std::fmt;
use std::ops::Range;

use crate::domain::{Priority, StatusFilter};

/// Where a node stands in the query: a byte range.
pub type Span = Range<usize>;

/// One boolean expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it stands in the query.
    pub span: Span,
}

/// The kinds of expression, by operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprKind {
    /// Two or more operands.
    And(Vec<Expr>),
    /// Two or more operands.
    Or(Vec<Expr>),
    /// `!x`, `not x`.
    Not(Box<Expr>),
    /// A term alone.
    Term(Term),
}

/// The tasks one term selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// `pending`, `completed`, `status:all`, `done = true`.
    Status(StatusFilter),
    /// `p1`, `priority:high`, `priority >= medium`, `no priority`: the admitted priorities.
    Priority(PrioritySet),
    /// `#work`, `+work`, `#"home office"`, `#wor*`.
    Tag(TagPattern),
    /// `no tags`.
    NoTags,
    /// `search: text`, `/text/`: a case-insensitive substring of title or description.
    Search(String),
    /// `today`: due today (local day).
    Today,
    /// `tomorrow`: due tomorrow.
    Tomorrow,
    /// Pending and past due: a timed task once its time has passed, an all-day task
    /// once its day has.
    Overdue,
    /// `no date`: no due date.
    NoDate,
    /// `no time`: a due date without a time of day (all-day).
    NoTime,
    /// `recurring`: repeats.
    Recurring,
    /// `has reminder`.
    HasReminder,
    /// `7 days`, `next 7 days`: due from the start of today to the end of the
    /// (n-1)th day after it.
    Days(u32),
    /// `due before: friday`, `created >= 2026-12-01`, `completed after: monday`,
    /// or a date alone (`dec 24`: due that day).
    Date {
        /// Which time of the task.
        field: DateField,
        /// How it compares.
        cmp: DateCmp,
        /// The date or time compared with.
        date: DateArg,
    },
}

/// The set of priorities a priority term admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrioritySet {
    /// Admits low priority.
    pub low: bool,
    /// Admits medium priority.
    pub medium: bool,
    /// Admits high priority.
    pub high: bool,
}

impl PrioritySet {
    /// Admits `p` alone.
    pub fn only(p: Priority) -> Self {
        Self::from_fn(|q| q == p)
    }

    /// Admits the priorities for which `f` holds.
    pub fn from_fn(f: impl Fn(Priority) -> bool) -> Self {
        Self { low: f(Priority::Low), medium: f(Priority::Medium), high: f(Priority::High) }
    }

    /// Whether `p` is admitted.
    pub fn contains(&self, p: Priority) -> bool {
        match p {
            Priority::Low => self.low,
            Priority::Medium => self.medium,
            Priority::High => self.high,
        }
    }

    /// The admitted priorities, lowest first.
    pub fn members(&self) -> Vec<Priority> {
        Priority::ALL.iter().copied().filter(|p| self.contains(*p)).collect()
    }
}

/// A tag name as written, lowercased: exact, or with `*` (any run of characters)
/// and spaces (one `-` or `_`, the separators a tag may hold).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagPattern {
    /// The pattern, in order.
    pub parts: Vec<TagPart>,
}

/// One piece of a [`TagPattern`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TagPart {
    /// Characters that must be there, lowercased.
    Literal(String),
    /// `*`: any run of characters, the empty one included.
    Any,
    /// A space: one `-` or `_`.
    Separator,
}

impl TagPattern {
    /// The tag itself when the pattern has no wildcard or space.
    pub fn exact(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [TagPart::Literal(s)] => Some(s),
            _ => None,
        }
    }

    /// Whether `tag` matches the whole pattern.
    pub fn matches(&self, tag: &str) -> bool {
        if let Some(exact) = self.exact() {
            return exact == tag;
        }
        // Expand to one token per character of the pattern, then match with the
        // classic two-row dynamic program (no exponential backtracking).
        #[derive(Clone, Copy)]
        enum P {
            Char(char),
            Any,
            Sep,
        }
        let mut pat = Vec::new();
        for part in &self.parts {
            match part {
                TagPart::Literal(s) => pat.extend(s.chars().map(P::Char)),
                TagPart::Any => pat.push(P::Any),
                TagPart::Separator => pat.push(P::Sep),
            }
        }
        let text: Vec<char> = tag.chars().collect();
        // row[j]: pattern[..i] matches text[..j]
        let mut row = vec![false; text.len() + 1];
        row[0] = true;
        for p in &pat {
            let mut next = vec![false; text.len() + 1];
            if let P::Any = p {
                next[0] = row[0];
            }
            for j in 1..=text.len() {
                next[j] = match p {
                    P::Any => next[j - 1] || row[j],
                    P::Sep => row[j - 1] && matches!(text[j - 1], '-' | '_'),
                    P::Char(c) => row[j - 1] && text[j - 1] == *c,
                };
            }
            row = next;
        }
        row[text.len()]
    }
}

impl fmt::Display for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spaced = self.parts.iter().any(|p| matches!(p, TagPart::Separator));
        let mut s = String::new();
        for p in &self.parts {
            match p {
                TagPart::Literal(l) => s.push_str(l),
                TagPart::Any => s.push('*'),
                TagPart::Separator => s.push(' '),
            }
        }
        if spaced { write!(f, "\"{s}\"") } else { f.write_str(&s) }
    }
}

/// The time a date term compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateField {
    /// When the task is due.
    Due,
    /// When the task was created.
    Created,
    /// When the task was completed.
    Completed,
}

impl DateField {
    /// The field's name in the canonical text.
    pub fn as_str(&self) -> &'static str {
        match self {
            DateField::Due => "due",
            DateField::Created => "created",
            DateField::Completed => "completed",
        }
    }
}

/// How a date term compares. For a date (a whole day), `Before` is before its
/// start, `After` after its end, `On` within it; for an exact instant they compare
/// with the instant, and `On`/`NotOn` take the instant's local day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateCmp {
    /// `due: D`, `due = D`, a date alone.
    On,
    /// `due != D`: has the time, outside the day.
    NotOn,
    /// `due before: D`, `due < D`.
    Before,
    /// `due <= D`.
    OnOrBefore,
    /// `due after: D`, `due > D`.
    After,
    /// `due >= D`.
    OnOrAfter,
}

impl DateCmp {
    /// The operator in the canonical text (`=`, `!=`, `<`, `<=`, `>`, `>=`).
    pub fn operator(&self) -> &'static str {
        match self {
            DateCmp::On => "=",
            DateCmp::NotOn => "!=",
            DateCmp::Before => "<",
            DateCmp::OnOrBefore => "<=",
            DateCmp::After => ">",
            DateCmp::OnOrAfter => ">=",
        }
    }
}

/// A date or time phrase as written ("friday", "+4 hours", "2026-12-24"): it is
/// read again, in the user's time zone and at the moment of evaluation, every
/// time the filter is evaluated, so "today" in a saved filter stays today.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DateArg {
    /// The phrase, exactly as written (without quotes).
    pub text: String,
    /// Where it stands in the query.
    pub span: Span,
    /// Whether it names a whole day (as opposed to an exact time).
    pub is_day: bool,
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Precedence: Not > And > Or; a child is parenthesised when it binds looser.
        fn level(e: &Expr) -> u8 {
            match e.kind {
                ExprKind::Or(_) => 0,
                ExprKind::And(_) => 1,
                ExprKind::Not(_) | ExprKind::Term(_) => 2,
            }
        }
        let child = |f: &mut fmt::Formatter<'_>, e: &Expr, min: u8| {
            if level(e) < min { write!(f, "({e})") } else { write!(f, "{e}") }
        };
        match &self.kind {
            ExprKind::Or(xs) | ExprKind::And(xs) => {
                // Both are associative: a nested list of the same kind needs no parentheses.
                let (sep, min) = if matches!(self.kind, ExprKind::Or(_)) { (" | ", 0) } else { (" & ", 1) };
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    child(f, x, min)?;
                }
                Ok(())
            }
            ExprKind::Not(x) => {
                f.write_str("!")?;
                child(f, x, 2)
            }
            ExprKind::Term(t) => write!(f, "{t}"),
        }
    }
}

/// `text` as a double-quoted string, with `"` and `\` escaped.
pub(crate) fn quoted(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Status(StatusFilter::Pending) => f.write_str("pending"),
            Term::Status(StatusFilter::Completed) => f.write_str("completed"),
            Term::Status(StatusFilter::All) => f.write_str("status:all"),
            Term::Priority(set) => match set.members().as_slice() {
                [Priority::High] => f.write_str("p1"),
                [Priority::Medium] => f.write_str("p2"),
                [Priority::Low] => f.write_str("p3"),
                [] => f.write_str("priority in ()"),
                many => {
                    let names: Vec<&str> = many.iter().map(|p| p.as_str()).collect();
                    write!(f, "priority in ({})", names.join(", "))
                }
            },
            Term::Tag(p) => write!(f, "#{p}"),
            Term::NoTags => f.write_str("no tags"),
            Term::Search(text) => write!(f, "search: {}", quoted(text)),
            Term::Today => f.write_str("today"),
            Term::Tomorrow => f.write_str("tomorrow"),
            Term::Overdue => f.write_str("overdue"),
            Term::NoDate => f.write_str("no date"),
            Term::NoTime => f.write_str("no time"),
            Term::Recurring => f.write_str("recurring"),
            Term::HasReminder => f.write_str("has reminder"),
            Term::Days(n) => write!(f, "{n} days"),
            Term::Date { field, cmp, date } => {
                write!(f, "{} {} {}", field.as_str(), cmp.operator(), quoted(&date.text))
            }
        }
    }
}
