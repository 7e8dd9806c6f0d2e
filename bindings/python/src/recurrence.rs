//! The recurrence engine: `validate_rrule`, `next_occurrence` and
//! `first_occurrence`, wrapping [`todo_core::domain::Recurrence`].

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use todo_core::domain::{Recurrence, RepeatFrom};

use crate::convert::{Instant, TimeZone};
use crate::error::Result;

/// Checks an RFC 5545 RRULE (`FREQ=WEEKLY;BYDAY=MO`, with or without the
/// `RRULE:` prefix) and returns its canonical text: uppercased, without the
/// prefix and empty parts. Raises `ValidationError` for a rule the system does
/// not accept (unparsable, `COUNT`, `DTSTART`, more often than hourly).
#[pyfunction]
pub fn validate_rrule(rrule: &str) -> Result<String> {
    Ok(Recurrence::parse(rrule)?.as_str().to_owned())
}

/// The due time of the occurrence that follows one completed at `completed_at`,
/// computed in time zone `tz` (so "every day at 09:00 Europe/Berlin" stays at
/// 09:00 local time across DST changes). `None` when the rule has ended.
///
/// - `repeat_from="due"` keeps the schedule anchored on `due_at`: the first
///   occurrence after both the due time and the completion.
/// - `repeat_from="completion"` counts from the completion day, keeping the
///   task's time of day (Todoist's `every!`).
/// - Without `due_at` the task repeats from its completion day, all day.
///
/// Datetimes are timezone-aware `datetime`s or RFC 3339 text; the result is a
/// timezone-aware `datetime` in UTC. Raises `ValidationError` for bad input.
#[pyfunction]
#[pyo3(
    signature = (rrule, due_at, *, completed_at, all_day = false, repeat_from = "due", tz = TimeZone::default()),
    text_signature = "(rrule, due_at, *, completed_at, all_day=False, repeat_from='due', tz='UTC')"
)]
pub fn next_occurrence(
    rrule: &str,
    due_at: Option<Instant>,
    completed_at: Instant,
    all_day: bool,
    repeat_from: &str,
    tz: TimeZone,
) -> Result<Option<DateTime<Utc>>> {
    let rule = Recurrence::parse(rrule)?;
    let repeat_from = RepeatFrom::parse(repeat_from)?;
    Ok(rule.next_after_completion(due_at.map(|d| d.0), all_day, repeat_from, completed_at.0, tz.0))
}

/// The first occurrence of `rrule` anchored at `start` (its first possible
/// occurrence, read in time zone `tz`) that is at or after `at_or_after`
/// (default: `start`). This is how a new recurring task gets its `due_at`.
/// `None` when the rule has ended.
#[pyfunction]
#[pyo3(
    signature = (rrule, start, at_or_after = None, *, tz = TimeZone::default()),
    text_signature = "(rrule, start, at_or_after=None, *, tz='UTC')"
)]
pub fn first_occurrence(
    rrule: &str,
    start: Instant,
    at_or_after: Option<Instant>,
    tz: TimeZone,
) -> Result<Option<DateTime<Utc>>> {
    let rule = Recurrence::parse(rrule)?;
    let threshold = at_or_after.unwrap_or(start).0;
    Ok(rule.first_at_or_after(start.0.with_timezone(&tz.0), threshold))
}
