//! Date and time phrases in filters: read by the chat interpreter's grammar
//! (`friday`, `dec 24`, `next week`, `end of the month`, `in 3 days`, `tomorrow at
//! 5pm`), plus what filter users write that chat users do not: `+4 hours` /
//! `-2 days` (from now) and ISO 8601 / RFC 3339 date-times.

use chrono::{DateTime, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::chat::datetime::{self as chat_dt, Ctx};
use crate::chat::lexer::Sentence;
use crate::chat::span::{Span, span_at};
use crate::domain::recurrence::local_datetime;

/// The instant a filter is evaluated at, and the user's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The instant relative dates are read from.
    pub now: DateTime<Utc>,
    /// The user's time zone: what "today" and local dates mean.
    pub tz: Tz,
}

impl Context {
    /// The context at `now` in `tz`.
    pub fn new(now: DateTime<Utc>, tz: Tz) -> Self {
        Self { now, tz }
    }

    /// The user's calendar date at `now`.
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }

    /// The instant local day `d` starts (the first instant after a DST gap).
    pub fn midnight(&self, d: NaiveDate) -> DateTime<Utc> {
        local_datetime(self.tz, d, NaiveTime::MIN).with_timezone(&Utc)
    }

    /// Local midnight `n` days after today, if the calendar reaches it.
    pub(crate) fn midnight_in(&self, n: u64) -> Option<DateTime<Utc>> {
        Some(self.midnight(self.today().checked_add_days(Days::new(n))?))
    }

    /// The local day of `t`.
    pub(crate) fn day_of(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }
}

/// What a phrase names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// A whole local day.
    Day(NaiveDate),
    /// An exact instant.
    Instant(DateTime<Utc>),
}

/// Characters that end a phrase: they belong to the filter around it.
pub(crate) const PHRASE_END: &[char] = &['&', '|', '(', ')', ',', '!', '#', '"', '<', '>', '='];

/// Reads the longest date or time phrase at the start of `text` (which starts at
/// a non-blank character); returns what it names and its length in bytes.
pub(crate) fn read(text: &str, ctx: &Context) -> Option<(When, usize)> {
    let text = match text.find(PHRASE_END) {
        Some(cut) => &text[..cut],
        None => text,
    };
    if let Some(r) = signed_span(text, ctx) {
        return Some(r);
    }
    if let Some(r) = iso(text, ctx) {
        return Some(r);
    }
    let s = Sentence::new(text);
    let chat = Ctx::new(ctx.now, ctx.tz);
    let (when, end) = chat_dt::when_seq(&s, 0, &chat);
    if end == 0 {
        return None;
    }
    let len = s.toks[end - 1].end;
    let named = if when.instant.is_none() && when.time_of_day().is_none() {
        When::Day(when.date?)
    } else {
        When::Instant(when.resolve(&chat)?.at)
    };
    Some((named, len))
}

/// Reads `text` whole as one phrase.
pub(crate) fn read_all(text: &str, ctx: &Context) -> Option<When> {
    let trimmed = text.trim();
    match read(trimmed, ctx)? {
        (when, len) if trimmed[len..].trim().is_empty() => Some(when),
        _ => None,
    }
}

/// `+4 hours`, `-2 days`, `+1w`: from now (minutes and hours: an instant; days and
/// longer: a date).
fn signed_span(text: &str, ctx: &Context) -> Option<(When, usize)> {
    let sign = text.chars().next().filter(|c| *c == '+' || *c == '-')?;
    let rest = &text[1..];
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let s = Sentence::new(rest);
    let (span, end) = span_at(&s, 0)?;
    let len = 1 + s.toks[end - 1].end;
    let today = ctx.today();
    let when = match (span, sign) {
        (Span::Minutes(m), '+') => When::Instant(ctx.now.checked_add_signed(chrono::Duration::try_minutes(m)?)?),
        (Span::Minutes(m), _) => When::Instant(ctx.now.checked_sub_signed(chrono::Duration::try_minutes(m)?)?),
        (Span::Days(n), '+') => When::Day(today.checked_add_days(Days::new(n))?),
        (Span::Days(n), _) => When::Day(today.checked_sub_days(Days::new(n))?),
        (Span::Months(n), '+') => When::Day(today.checked_add_months(Months::new(n))?),
        (Span::Months(n), _) => When::Day(today.checked_sub_months(Months::new(n))?),
    };
    Some((when, len))
}

/// `2026-12-24T10:00:00Z` (RFC 3339), `2026-12-24T10:00` (local).
fn iso(text: &str, ctx: &Context) -> Option<(When, usize)> {
    let len = text.find(char::is_whitespace).unwrap_or(text.len());
    let chunk = &text[..len];
    if !chunk.contains(['T', 't']) {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(chunk) {
        return Some((When::Instant(t.with_timezone(&Utc)), len));
    }
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dt%H:%M:%S", "%Y-%m-%dt%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(chunk, f).ok())?;
    let t = ctx.tz.from_local_datetime(&local).earliest()?;
    Some((When::Instant(t.with_timezone(&Utc)), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::new("2026-11-26T09:00:00Z".parse().unwrap(), Tz::UTC)
    }

    fn day(s: &str) -> String {
        match read_all(s, &ctx()) {
            Some(When::Day(d)) => d.to_string(),
            other => panic!("{s:?}: {other:?}"),
        }
    }

    fn instant(s: &str) -> String {
        match read_all(s, &ctx()) {
            Some(When::Instant(t)) => t.to_rfc3339(),
            other => panic!("{s:?}: {other:?}"),
        }
    }

    #[test]
    fn chat_phrases() {
        assert_eq!(day("friday"), "2026-11-27");
        assert_eq!(day("dec 24"), "2026-12-24");
        assert_eq!(day("next week"), "2026-11-30");
        assert_eq!(day("end of the month"), "2026-11-30");
        assert_eq!(day("in 3 days"), "2026-11-29");
        assert_eq!(day("2026-12-24"), "2026-12-24");
        assert_eq!(instant("tomorrow at 5pm"), "2026-11-27T17:00:00+00:00");
        assert_eq!(instant("in 2 hours"), "2026-11-26T11:00:00+00:00");
    }

    #[test]
    fn filter_phrases() {
        assert_eq!(instant("+4 hours"), "2026-11-26T13:00:00+00:00");
        assert_eq!(instant("-30 min"), "2026-11-26T08:30:00+00:00");
        assert_eq!(day("+2 days"), "2026-11-28");
        assert_eq!(day("-1w"), "2026-11-19");
        assert_eq!(instant("2026-12-24T10:00:00+01:00"), "2026-12-24T09:00:00+00:00");
        assert_eq!(instant("2026-12-24T10:00"), "2026-12-24T10:00:00+00:00");
    }

    #[test]
    fn a_phrase_ends_where_the_filter_goes_on() {
        let (when, len) = read("friday & #work", &ctx()).unwrap();
        assert_eq!((when, len), (When::Day("2026-11-27".parse().unwrap()), 6));
        let (_, len) = read("friday #work", &ctx()).unwrap();
        assert_eq!(len, 6);
        let (_, len) = read("tomorrow at 5pm or today", &ctx()).unwrap();
        assert_eq!(len, "tomorrow at 5pm".len());
        assert!(read("work", &ctx()).is_none());
        assert!(read_all("friday work", &ctx()).is_none());
    }
}
