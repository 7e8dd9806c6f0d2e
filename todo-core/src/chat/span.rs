//! Lengths of time: "30 minutes", "an hour and a half", "2h", "a couple of
//! days", "3 weeks", for "in 30 minutes" and "remind me 15 minutes before".

use chrono::{DateTime, Days, Duration, Months, Utc};

use super::datetime::{Ctx, Piece};
use super::lexer::Sentence;
use super::vocab;

/// A length of time, kept in calendar units so "in 1 month" and "2 days before"
/// follow the calendar, not a fixed number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    Minutes(i64),
    Days(u64),
    Months(u32),
}

impl Span {
    /// `at` moved back by this span, in local time for calendar units.
    pub fn before(self, at: DateTime<Utc>, ctx: &Ctx) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&ctx.tz);
        let (day, time) = (local.date_naive(), local.time());
        match self {
            Span::Minutes(m) => at.checked_sub_signed(Duration::try_minutes(m)?),
            Span::Days(n) => Some(ctx.at(day.checked_sub_days(Days::new(n))?, time)),
            Span::Months(n) => Some(ctx.at(day.checked_sub_months(Months::new(n))?, time)),
        }
    }

    /// `at` moved forward by this span, in local time for calendar units.
    pub fn after(self, at: DateTime<Utc>, ctx: &Ctx) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&ctx.tz);
        let (day, time) = (local.date_naive(), local.time());
        match self {
            Span::Minutes(m) => at.checked_add_signed(Duration::try_minutes(m)?),
            Span::Days(n) => Some(ctx.at(day.checked_add_days(Days::new(n))?, time)),
            Span::Months(n) => Some(ctx.at(day.checked_add_months(Months::new(n))?, time)),
        }
    }

    /// What "in <span>" names: an exact instant for minutes and hours, a date otherwise.
    pub fn after_now(self, ctx: &Ctx) -> Option<Piece> {
        match self {
            Span::Minutes(m) => Some(Piece::Instant(ctx.now.checked_add_signed(Duration::try_minutes(m)?)?)),
            Span::Days(n) => Some(Piece::Date(ctx.plus_days(n)?)),
            Span::Months(n) => Some(Piece::Date(ctx.today.checked_add_months(Months::new(n))?)),
        }
    }
}

/// Largest amount accepted in a span ("in 100000 days" is not a plan).
const MAX_AMOUNT: f64 = 100_000.0;

/// An amount and unit: "30 minutes", "an hour", "2h", "a couple of days",
/// "one and a half hours", "half an hour".
pub(crate) fn span_at(s: &Sentence, i: usize) -> Option<(Span, usize)> {
    if let Some(j) = s.seq(i, &["half", "an", "hour"]).or_else(|| s.seq(i, &["a", "half", "hour"])) {
        return Some((Span::Minutes(30), j));
    }
    if let Some(j) =
        s.seq(i, &["a", "quarter", "of", "an", "hour"]).or_else(|| s.seq(i, &["quarter", "of", "an", "hour"]))
    {
        return Some((Span::Minutes(15), j));
    }
    // A number glued to its unit: "30min", "2h", "3days".
    if let Some(w) = s.w(i) {
        let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if !digits.is_empty() && digits.len() < w.len() {
            let n: f64 = digits.parse().ok()?;
            let span = unit(&w[digits.len()..]).and_then(|u| make_span(n, u))?;
            return Some((span, i + 1));
        }
    }
    let (n, j) = amount_at(s, i)?;
    let u = unit(s.w(j)?)?;
    let mut n = n;
    let mut k = j + 1;
    if let Some(after) = s.seq(k, &["and", "a", "half"]) {
        n += 0.5;
        k = after;
    }
    let span = make_span(n, u)?;
    // "1 hour and 30 minutes", "2 hours 15 minutes"
    if let Span::Minutes(m) = span {
        let more = if s.is(k, "and") { k + 1 } else { k };
        if let Some((x, u2)) = amount_at(s, more).filter(|_| !s.is_any(more, &["a", "an"]))
            && matches!(s.w(u2).and_then(unit), Some(Unit::Minute))
            && x.fract() == 0.0
        {
            return Some((Span::Minutes(m + x as i64), u2 + 1));
        }
    }
    Some((span, k))
}

/// "3", "three", "twenty five", "a", "an", "a couple of", "a few", "1.5", "one and a half".
fn amount_at(s: &Sentence, i: usize) -> Option<(f64, usize)> {
    let w = s.w(i)?;
    if let Some(j) = s.seq(i, &["a", "couple", "of"]).or_else(|| s.seq(i, &["couple", "of"])) {
        return Some((2.0, j));
    }
    if let Some(j) = s.seq(i, &["a", "few"]) {
        return Some((3.0, j));
    }
    if matches!(w, "a" | "an" | "one") && s.seq(i + 1, &["and", "a", "half"]).is_some() {
        return Some((1.5, i + 4));
    }
    if matches!(w, "a" | "an") {
        return Some((1.0, i + 1));
    }
    if let Some(n) = vocab::cardinal(w) {
        // "twenty five"
        if n % 10 == 0
            && n >= 20
            && let Some(u) = s.w(i + 1).and_then(vocab::cardinal).filter(|u| (1..10).contains(u))
        {
            return Some((f64::from(n + u), i + 2));
        }
        return Some((f64::from(n), i + 1));
    }
    let x: f64 = w.parse().ok().filter(|x: &f64| x.is_finite() && *x >= 0.0)?;
    w.contains('.').then_some((x, i + 1))
}

#[derive(Clone, Copy)]
enum Unit {
    Minute,
    Hour,
    Day,
    Week,
    Fortnight,
    Month,
    Year,
}

fn unit(w: &str) -> Option<Unit> {
    let u = match w {
        "m" | "min" | "mins" | "minute" | "minutes" | "mn" => Unit::Minute,
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Hour,
        "d" | "day" | "days" => Unit::Day,
        "w" | "wk" | "wks" | "week" | "weeks" => Unit::Week,
        "fortnight" | "fortnights" => Unit::Fortnight,
        "mo" | "mos" | "month" | "months" => Unit::Month,
        "y" | "yr" | "yrs" | "year" | "years" => Unit::Year,
        _ => return None,
    };
    Some(u)
}

fn make_span(n: f64, u: Unit) -> Option<Span> {
    if !(0.0..=MAX_AMOUNT).contains(&n) {
        return None;
    }
    let whole = |x: f64| (x.fract() == 0.0).then_some(x as u64);
    // `n` is bounded above, so these casts cannot overflow.
    match u {
        Unit::Minute => whole(n).map(|m| Span::Minutes(m as i64)),
        Unit::Hour => Some(Span::Minutes((n * 60.0).round() as i64)),
        Unit::Day => whole(n).map(Span::Days),
        Unit::Week => whole(n * 7.0).map(Span::Days),
        Unit::Fortnight => whole(n * 14.0).map(Span::Days),
        Unit::Month => whole(n).and_then(|m| u32::try_from(m).ok()).map(Span::Months),
        Unit::Year => whole(n * 12.0).and_then(|m| u32::try_from(m).ok()).map(Span::Months),
    }
}
