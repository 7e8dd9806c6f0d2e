//! The filters of a listing read one at a time: a date range, overdue, status,
//! priority, a tag.

use super::range::range_at;
use crate::chat::command::ListTasksArgs;
use crate::chat::datetime::Ctx;
use crate::chat::extract::{priority_at, tags_at};
use crate::chat::lexer::Sentence;
use crate::domain::{Priority, StatusFilter};

/// Reads one filter at `k`; returns where it ends.
pub(super) fn filter_at(
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
