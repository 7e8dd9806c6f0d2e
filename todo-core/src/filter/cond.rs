//! [`Cond`]: a filter resolved at one instant in one time zone, down to plain
//! comparisons of task fields with fixed values. Both evaluators read this form:
//! [`Cond::eval`] here, and the SQL compiler of todo-store, atom for atom. Every
//! atom is two-valued (a task without a due date fails `due < t`, and `!(due < t)`
//! holds for it), which the SQL side keeps by guarding nullable columns.

use chrono::{DateTime, Duration, Utc};

use super::ast::TagPattern;
use crate::domain::query::search_text;
use crate::domain::{Priority, Status, Task};
use crate::ports::truncate_micros;

/// A time column of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeColumn {
    /// When it is due.
    DueAt,
    /// When it was created.
    CreatedAt,
    /// When it was completed.
    CompletedAt,
}

/// A nullable column of a task, for "is set" tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetColumn {
    /// A due time.
    DueAt,
    /// A reminder.
    RemindAt,
    /// A recurrence rule.
    Recurrence,
}

/// A bound on a time column. The instant is always a whole microsecond (what the
/// stores keep), so comparing a stored, truncated value gives the same answer as
/// comparing the exact one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeBound {
    /// `column < t`.
    Before(DateTime<Utc>),
    /// `column >= t`.
    From(DateTime<Utc>),
}

impl TimeBound {
    /// `column < t`, with `t` rounded up to a whole microsecond.
    pub fn before(t: DateTime<Utc>) -> Self {
        Self::Before(ceil_micros(t))
    }

    /// `column >= t`, with `t` rounded up to a whole microsecond.
    pub fn from(t: DateTime<Utc>) -> Self {
        Self::From(ceil_micros(t))
    }

    /// `column <= t`.
    pub fn at_or_before(t: DateTime<Utc>) -> Self {
        Self::Before(truncate_micros(t) + Duration::microseconds(1))
    }

    /// `column > t`.
    pub fn after(t: DateTime<Utc>) -> Self {
        Self::From(truncate_micros(t) + Duration::microseconds(1))
    }

    /// Whether `v` is within the bound.
    pub fn admits(&self, v: DateTime<Utc>) -> bool {
        match self {
            TimeBound::Before(t) => v < *t,
            TimeBound::From(t) => v >= *t,
        }
    }
}

/// The smallest whole-microsecond instant at or after `t`.
pub fn ceil_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = truncate_micros(t);
    if floor < t { floor + Duration::microseconds(1) } else { floor }
}

/// A resolved condition on one task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// Every task.
    True,
    /// No task.
    False,
    /// All of these.
    And(Vec<Cond>),
    /// Any of these.
    Or(Vec<Cond>),
    /// Not this.
    Not(Box<Cond>),
    /// The task has this status.
    Status(Status),
    /// The priority is one of these (none: nothing matches).
    Priority(Vec<Priority>),
    /// Has a tag matching the pattern.
    Tag(TagPattern),
    /// Has no tags.
    NoTags,
    /// The lowercased text is in the lowercased title or description.
    Text(String),
    /// The column is set and within the bound.
    Time(TimeColumn, TimeBound),
    /// The column is set.
    IsSet(SetColumn),
    /// The due date has no time of day.
    AllDay,
}

impl Cond {
    /// All of `conds`, simplified: nested conjunctions flattened, `True` dropped,
    /// `False` absorbing.
    pub fn all(conds: impl IntoIterator<Item = Cond>) -> Cond {
        let mut out = Vec::new();
        for c in conds {
            match c {
                Cond::True => {}
                Cond::False => return Cond::False,
                Cond::And(xs) => out.extend(xs),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Cond::True,
            1 => out.pop().unwrap_or(Cond::True),
            _ => Cond::And(out),
        }
    }

    /// Any of `conds`, simplified like [`Cond::all`].
    pub fn any(conds: impl IntoIterator<Item = Cond>) -> Cond {
        let mut out = Vec::new();
        for c in conds {
            match c {
                Cond::False => {}
                Cond::True => return Cond::True,
                Cond::Or(xs) => out.extend(xs),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Cond::False,
            1 => out.pop().unwrap_or(Cond::False),
            _ => Cond::Or(out),
        }
    }

    /// The negation, simplified.
    #[allow(clippy::should_implement_trait)]
    pub fn not(c: Cond) -> Cond {
        match c {
            Cond::True => Cond::False,
            Cond::False => Cond::True,
            Cond::Not(x) => *x,
            other => Cond::Not(Box::new(other)),
        }
    }

    /// `column` within `bound` (and set).
    pub fn time(column: TimeColumn, bound: TimeBound) -> Cond {
        Cond::Time(column, bound)
    }

    /// `column` in `[from, to)`.
    pub fn between(column: TimeColumn, from: DateTime<Utc>, to: DateTime<Utc>) -> Cond {
        Cond::all([Cond::Time(column, TimeBound::from(from)), Cond::Time(column, TimeBound::before(to))])
    }

    /// Whether `t` satisfies the condition.
    pub fn eval(&self, t: &Task) -> bool {
        match self {
            Cond::True => true,
            Cond::False => false,
            Cond::And(xs) => xs.iter().all(|x| x.eval(t)),
            Cond::Or(xs) => xs.iter().any(|x| x.eval(t)),
            Cond::Not(x) => !x.eval(t),
            Cond::Status(s) => t.status == *s,
            Cond::Priority(ps) => ps.contains(&t.priority),
            Cond::Tag(p) => t.tags.iter().any(|g| p.matches(g.as_str())),
            Cond::NoTags => t.tags.is_empty(),
            Cond::Text(q) => search_text(t.title.as_str(), t.description.as_str()).contains(q.as_str()),
            Cond::Time(col, bound) => {
                let v = match col {
                    TimeColumn::DueAt => t.due_at,
                    TimeColumn::CreatedAt => Some(t.created_at),
                    TimeColumn::CompletedAt => t.completed_at,
                };
                v.is_some_and(|v| bound.admits(v))
            }
            Cond::IsSet(col) => match col {
                SetColumn::DueAt => t.due_at.is_some(),
                SetColumn::RemindAt => t.remind_at.is_some(),
                SetColumn::Recurrence => t.recurrence.is_some(),
            },
            Cond::AllDay => t.all_day,
        }
    }

    /// The statuses a matching task may have (a superset): lets a store narrow the
    /// scan to one status, which its indexes lead with.
    pub fn statuses(&self) -> StatusSet {
        match self {
            Cond::False => StatusSet::NONE,
            Cond::Status(s) => StatusSet::only(*s),
            Cond::And(xs) => xs.iter().fold(StatusSet::ALL, |acc, x| acc.and(x.statuses())),
            Cond::Or(xs) => xs.iter().fold(StatusSet::NONE, |acc, x| acc.or(x.statuses())),
            _ => StatusSet::ALL,
        }
    }

    /// A range that the due time of every matching task lies in (a superset), or
    /// `None` when a matching task may have no due time or the range is unbounded:
    /// lets a store scan its due-date index over a range.
    pub fn due_range(&self) -> Option<DueRange> {
        let r = self.due_hull();
        (!r.maybe_unset && (r.from.is_some() || r.before.is_some()))
            .then_some(DueRange { from: r.from, before: r.before })
    }

    fn due_hull(&self) -> Hull {
        match self {
            Cond::False => Hull::EMPTY,
            Cond::Time(TimeColumn::DueAt, TimeBound::Before(t)) => {
                Hull { from: None, before: Some(*t), maybe_unset: false, empty: false }
            }
            Cond::Time(TimeColumn::DueAt, TimeBound::From(t)) => {
                Hull { from: Some(*t), before: None, maybe_unset: false, empty: false }
            }
            Cond::IsSet(SetColumn::DueAt) => Hull { maybe_unset: false, ..Hull::ANY },
            Cond::And(xs) => xs.iter().fold(Hull::ANY, |acc, x| acc.meet(x.due_hull())),
            Cond::Or(xs) => xs.iter().fold(Hull::EMPTY, |acc, x| acc.join(x.due_hull())),
            _ => Hull::ANY,
        }
    }

    /// How many atoms (leaves) the condition has.
    pub fn size(&self) -> usize {
        match self {
            Cond::And(xs) | Cond::Or(xs) => xs.iter().map(Cond::size).sum(),
            Cond::Not(x) => x.size(),
            _ => 1,
        }
    }
}

/// Which statuses may match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusSet {
    /// Pending tasks may match.
    pub pending: bool,
    /// Completed tasks may match.
    pub completed: bool,
}

impl StatusSet {
    /// Either status may match.
    pub const ALL: Self = Self { pending: true, completed: true };
    /// No status may match.
    pub const NONE: Self = Self { pending: false, completed: false };

    /// Only `s` may match.
    pub fn only(s: Status) -> Self {
        Self { pending: s == Status::Pending, completed: s == Status::Completed }
    }

    fn and(self, o: Self) -> Self {
        Self { pending: self.pending && o.pending, completed: self.completed && o.completed }
    }

    fn or(self, o: Self) -> Self {
        Self { pending: self.pending || o.pending, completed: self.completed || o.completed }
    }

    /// The one status, when exactly one may match.
    pub fn single(&self) -> Option<Status> {
        match (self.pending, self.completed) {
            (true, false) => Some(Status::Pending),
            (false, true) => Some(Status::Completed),
            _ => None,
        }
    }
}

/// `[from, before)` on the due time; either end may be open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueRange {
    /// Inclusive start, if bounded.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive end, if bounded.
    pub before: Option<DateTime<Utc>>,
}

/// The smallest interval holding every due time that may match, and whether a
/// task without one may match.
#[derive(Clone, Copy, Debug)]
struct Hull {
    from: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    maybe_unset: bool,
    /// Nothing matches.
    empty: bool,
}

impl Hull {
    const ANY: Hull = Hull { from: None, before: None, maybe_unset: true, empty: false };
    const EMPTY: Hull = Hull { from: None, before: None, maybe_unset: false, empty: true };

    fn meet(self, o: Hull) -> Hull {
        if self.empty || o.empty {
            return Hull::EMPTY;
        }
        Hull {
            from: max_opt(self.from, o.from),
            before: min_opt(self.before, o.before),
            maybe_unset: self.maybe_unset && o.maybe_unset,
            empty: false,
        }
    }

    fn join(self, o: Hull) -> Hull {
        if self.empty {
            return o;
        }
        if o.empty {
            return self;
        }
        Hull {
            from: self.from.zip(o.from).map(|(a, b)| a.min(b)),
            before: self.before.zip(o.before).map(|(a, b)| a.max(b)),
            maybe_unset: self.maybe_unset || o.maybe_unset,
            empty: false,
        }
    }
}

fn max_opt(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

fn min_opt(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
