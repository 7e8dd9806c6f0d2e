//! Helpers of the grammar modules' unit tests.

use chrono::{DateTime, Utc};

use super::command::Command;
use super::datetime::Ctx;
use super::lexer::Sentence;

/// The context the grammar tests parse in: 2026-11-26 09:00 UTC.
pub(super) fn ctx() -> Ctx {
    Ctx::new(DateTime::parse_from_rfc3339("2026-11-26T09:00:00Z").unwrap().with_timezone(&Utc), chrono_tz::Tz::UTC)
}

/// Runs the grammar rule `f` over all of `text` in [`ctx`]: the command as JSON, or `"none"`.
pub(super) fn run(f: fn(&Sentence, usize, usize, &Ctx) -> Option<Command>, text: &str) -> String {
    let s = Sentence::new(text);
    f(&s, 0, s.len(), &ctx()).map_or("none".into(), |c| serde_json::to_string(&c).unwrap())
}
