//! A translated filter back to the fixed listing arguments, when they can say it.

use super::*;

/// The fixed arguments that say what `f` says, if they can: a conjunction of at
/// most one status, priority, tag, search, lower and upper due bound, and overdue.
pub(crate) fn as_fixed_args(f: &Filter, ctx: &Ctx) -> Option<ListTasksArgs> {
    let mut terms = Vec::new();
    flatten(&f.lists()[0].expr, &mut terms)?;
    let mut args = ListTasksArgs::default();
    let mut status = None;
    let fctx = crate::filter::Context::new(ctx.now, ctx.tz);
    let once = |slot: bool| (!slot).then_some(());
    for t in terms {
        match t {
            Term::Status(st) => {
                once(status.is_some())?;
                status = Some(*st);
            }
            Term::Priority(set) => {
                once(args.priority.is_some())?;
                match set.members().as_slice() {
                    [p] => args.priority = Some(*p),
                    _ => return None,
                }
            }
            Term::Tag(p) => {
                once(args.tag.is_some())?;
                args.tag = Some(Tag::parse(p.exact()?).ok()?);
            }
            Term::Search(text) => {
                once(args.query.is_some())?;
                args.query = Some(text.clone());
            }
            Term::Overdue => args.overdue = true,
            Term::Today | Term::Tomorrow | Term::Days(_) => {
                let (a, b) = match t {
                    Term::Today => (0, 1),
                    Term::Tomorrow => (1, 2),
                    Term::Days(n) => (0, u64::from(*n)),
                    _ => return None,
                };
                once(args.due_after.is_some() || args.due_before.is_some())?;
                args.due_after = Some(fctx.midnight(ctx.today.checked_add_days(Days::new(a))?));
                args.due_before = Some(fctx.midnight(ctx.today.checked_add_days(Days::new(b))?));
            }
            Term::Date { field: DateField::Due, date, .. } if date.is_day => {
                let (from, before) = bounds(t, &fctx)?;
                if let Some(a) = from {
                    once(args.due_after.is_some())?;
                    args.due_after = Some(a);
                }
                if let Some(b) = before {
                    once(args.due_before.is_some())?;
                    args.due_before = Some(b);
                }
            }
            _ => return None,
        }
    }
    args.status = status.unwrap_or(StatusFilter::Pending);
    Some(args)
}

/// `[from, before)` on the due time; either end may be open.
type DueBounds = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The due range a date term resolves to, when it is one range.
fn bounds(t: &Term, ctx: &crate::filter::Context) -> Option<DueBounds> {
    use crate::filter::{Cond, TimeBound, TimeColumn};
    let list = crate::filter::FilterList { expr: Expr { kind: ExprKind::Term(t.clone()), span: 0..0 }, span: 0..0 };
    let Cond::And(xs) = list.cond(ctx) else { return None };
    let (mut from, mut before) = (None, None);
    for x in xs {
        match x {
            Cond::Status(_) => {}
            Cond::Time(TimeColumn::DueAt, TimeBound::From(a)) => from = Some(a),
            Cond::Time(TimeColumn::DueAt, TimeBound::Before(b)) => before = Some(b),
            _ => return None,
        }
    }
    Some((from, before))
}

/// The terms of a conjunction, or `None` if `e` is anything else.
fn flatten<'a>(e: &'a Expr, out: &mut Vec<&'a Term>) -> Option<()> {
    match &e.kind {
        ExprKind::And(xs) => xs.iter().try_for_each(|x| flatten(x, out)),
        ExprKind::Term(t) => {
            out.push(t);
            Some(())
        }
        _ => None,
    }
}
