//! The time rules of a task: the accepted range of instants, all-day tasks at
//! local midnight, a reminder's lead time.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};

use crate::domain::recurrence::local_datetime;
use crate::domain::{Timezone, ValidationError};

/// Earliest accepted timestamp.
pub const MIN_TIME: &str = "1970-01-01T00:00:00Z";
/// Timestamps must be before this.
pub const MAX_TIME: &str = "2200-01-01T00:00:00Z";

/// Parses an RFC 3339 instant for field `field`.
pub fn parse_instant(field: &'static str, s: &str) -> Result<DateTime<Utc>, ValidationError> {
    DateTime::parse_from_rfc3339(s.trim()).map(|d| d.with_timezone(&Utc)).map_err(|_| {
        ValidationError::new(
            field,
            format!("{field} must be an RFC 3339 date-time such as 2026-11-26T09:00:00Z; got {s:?}"),
        )
    })
}

fn check_range(field: &'static str, t: Option<DateTime<Utc>>) -> Result<(), ValidationError> {
    let (min, max) = (MIN_TIME.parse::<DateTime<Utc>>().unwrap(), MAX_TIME.parse::<DateTime<Utc>>().unwrap());
    match t {
        Some(t) if t < min || t >= max => {
            Err(ValidationError::new(field, format!("{field} must be between {MIN_TIME} and {MAX_TIME}")))
        }
        _ => Ok(()),
    }
}

/// Checks a task's time fields together: both instants in
/// [`MIN_TIME`]..[`MAX_TIME`], and an all-day task has a due date. Returns
/// `due_at`, moved to local midnight (in `tz`) for all-day tasks.
pub fn check_times(
    due_at: Option<DateTime<Utc>>,
    remind_at: Option<DateTime<Utc>>,
    all_day: bool,
    tz: Timezone,
) -> Result<Option<DateTime<Utc>>, ValidationError> {
    check_range("due_at", due_at)?;
    check_range("remind_at", remind_at)?;
    match (all_day, due_at) {
        (true, None) => Err(ValidationError::new("all_day", "all_day needs a due_at")),
        (true, Some(d)) => Ok(Some(local_midnight(d, tz))),
        (false, d) => Ok(d),
    }
}

/// Local midnight (in `tz`) of the local date of `t`.
pub fn local_midnight(t: DateTime<Utc>, tz: Timezone) -> DateTime<Utc> {
    let day = tz.tz().from_utc_datetime(&t.naive_utc()).date_naive();
    local_datetime(tz.tz(), day, NaiveTime::MIN).with_timezone(&Utc)
}
