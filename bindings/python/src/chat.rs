//! The chat interpreter: `parse_command`, wrapping [`todo_core::chat::parse`].

use chrono::Utc;
use pyo3::prelude::*;

use crate::convert::{Instant, TimeZone, to_py};

/// Interprets one chat message as the assistant would: returns
/// `{"intent": ..., "args": {...}}`, exactly what `todo parse` prints.
///
/// `now` is the instant the message was sent (a timezone-aware `datetime` or
/// RFC 3339 text; default: now), `tz` the user's time zone (IANA name or
/// `ZoneInfo`; default UTC). Never fails on the message: a sentence that is not
/// understood gets intent `"unknown"` and empty `args`.
#[pyfunction]
#[pyo3(signature = (message, now = None, tz = TimeZone::default()), text_signature = "(message, now=None, tz='UTC')")]
pub fn parse_command<'py>(
    py: Python<'py>,
    message: &str,
    now: Option<Instant>,
    tz: TimeZone,
) -> PyResult<Bound<'py, PyAny>> {
    let now = now.map_or_else(Utc::now, |n| n.0);
    let command = todo_core::chat::parse(message, now, tz.0);
    to_py(py, &command)
}
