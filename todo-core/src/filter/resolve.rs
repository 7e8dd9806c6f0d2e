//! From the syntax tree to a [`Cond`] at one instant, in one time zone: every
//! relative date becomes a fixed bound. The fixed meanings of the language live
//! here (see docs/filters.md).

use chrono::{DateTime, Days, Utc};

use super::ast::{DateCmp, DateField, Expr, ExprKind, Term};
use super::cond::{Cond, SetColumn, TimeBound, TimeColumn};
use super::dates::{self, Context, When};
use crate::domain::{Status, StatusFilter};

/// The condition of one list: its expression, and `pending` unless it names a
/// status. The expression is kept whole, as if in parentheses, before the status
/// (or any other system condition) is added.
pub(crate) fn list_cond(e: &Expr, ctx: &Context) -> Cond {
    let cond = lower(e, ctx);
    if names_status(e) { cond } else { Cond::all([Cond::Status(Status::Pending), cond]) }
}

/// Whether the expression says which statuses it wants (then no default applies).
pub(crate) fn names_status(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::And(xs) | ExprKind::Or(xs) => xs.iter().any(names_status),
        ExprKind::Not(x) => names_status(x),
        ExprKind::Term(Term::Status(_)) => true,
        ExprKind::Term(Term::Date { field: DateField::Completed, .. }) => true,
        ExprKind::Term(_) => false,
    }
}

fn lower(e: &Expr, ctx: &Context) -> Cond {
    match &e.kind {
        ExprKind::And(xs) => Cond::all(xs.iter().map(|x| lower(x, ctx))),
        ExprKind::Or(xs) => Cond::any(xs.iter().map(|x| lower(x, ctx))),
        ExprKind::Not(x) => Cond::not(lower(x, ctx)),
        ExprKind::Term(t) => term(t, ctx),
    }
}

/// `[midnight of today + from, midnight of today + to)` on the due time.
fn due_days(ctx: &Context, from: u64, to: u64) -> Cond {
    match (ctx.midnight_in(from), ctx.midnight_in(to)) {
        (Some(a), Some(b)) => Cond::between(TimeColumn::DueAt, a, b),
        _ => Cond::False,
    }
}

/// Pending, and past due: a timed task once its time has passed, an all-day task
/// once its (local) day has.
pub fn overdue(ctx: &Context) -> Cond {
    let today = ctx.midnight(ctx.today());
    Cond::all([
        Cond::Status(Status::Pending),
        Cond::any([
            Cond::all([Cond::AllDay, Cond::time(TimeColumn::DueAt, TimeBound::before(today))]),
            Cond::all([Cond::not(Cond::AllDay), Cond::time(TimeColumn::DueAt, TimeBound::before(ctx.now))]),
        ]),
    ])
}

fn term(t: &Term, ctx: &Context) -> Cond {
    match t {
        Term::Status(StatusFilter::Pending) => Cond::Status(Status::Pending),
        Term::Status(StatusFilter::Completed) => Cond::Status(Status::Completed),
        Term::Status(StatusFilter::All) => Cond::True,
        Term::Priority(set) => match set.members() {
            m if m.is_empty() => Cond::False,
            m if m.len() == 3 => Cond::True,
            m => Cond::Priority(m),
        },
        Term::Tag(p) => Cond::Tag(p.clone()),
        Term::NoTags => Cond::NoTags,
        Term::Search(text) => Cond::Text(text.to_lowercase()),
        Term::Today => due_days(ctx, 0, 1),
        Term::Tomorrow => due_days(ctx, 1, 2),
        Term::Overdue => overdue(ctx),
        Term::NoDate => Cond::not(Cond::IsSet(SetColumn::DueAt)),
        Term::NoTime => Cond::all([Cond::IsSet(SetColumn::DueAt), Cond::AllDay]),
        Term::Recurring => Cond::IsSet(SetColumn::Recurrence),
        Term::HasReminder => Cond::IsSet(SetColumn::RemindAt),
        Term::Days(n) => due_days(ctx, 0, u64::from(*n)),
        Term::Date { field, cmp, date } => {
            let column = match field {
                DateField::Due => TimeColumn::DueAt,
                DateField::Created => TimeColumn::CreatedAt,
                DateField::Completed => TimeColumn::CompletedAt,
            };
            // A phrase that names nothing at this moment (a calendar edge) matches nothing.
            dates::read_all(&date.text, ctx).and_then(|w| compare(column, *cmp, w, ctx)).unwrap_or(Cond::False)
        }
    }
}

/// The local day `d`: `[start, end)`.
fn day_bounds(ctx: &Context, d: chrono::NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((ctx.midnight(d), ctx.midnight(d.checked_add_days(Days::new(1))?)))
}

fn compare(col: TimeColumn, cmp: DateCmp, when: When, ctx: &Context) -> Option<Cond> {
    let day = |d| day_bounds(ctx, d);
    let (start, end) = match when {
        When::Day(d) => day(d)?,
        When::Instant(t) => {
            let c = match cmp {
                DateCmp::Before => TimeBound::before(t),
                DateCmp::OnOrBefore => TimeBound::at_or_before(t),
                DateCmp::After => TimeBound::after(t),
                DateCmp::OnOrAfter => TimeBound::from(t),
                // An exact time compared for equality stands for its local day.
                DateCmp::On | DateCmp::NotOn => return compare(col, cmp, When::Day(ctx.day_of(t)), ctx),
            };
            return Some(Cond::time(col, c));
        }
    };
    Some(match cmp {
        DateCmp::On => Cond::between(col, start, end),
        DateCmp::NotOn => Cond::any([Cond::time(col, TimeBound::before(start)), Cond::time(col, TimeBound::from(end))]),
        DateCmp::Before => Cond::time(col, TimeBound::before(start)),
        DateCmp::OnOrBefore => Cond::time(col, TimeBound::before(end)),
        DateCmp::After => Cond::time(col, TimeBound::from(end)),
        DateCmp::OnOrAfter => Cond::time(col, TimeBound::from(start)),
    })
}
