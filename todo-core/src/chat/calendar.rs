//! Calendar dates: "today", "tomorrow", "next friday", "friday next week",
//! "next week", "this weekend", "the end of the month", "December 3", "3rd of
//! December", "2026-12-10", "12/10", "the 15th".
//!
//! A weekday, with or without "next", is the first such day after today;
//! "this friday" may be today. A day of the year without a year that has
//! passed means next year. Weeks start on Monday.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

use super::datetime::{Ctx, Period, Piece, Strength};
use super::lexer::Sentence;
use super::vocab;

/// A calendar date. `prep` says a preposition came before, which makes a bare
/// weekday certain.
pub(crate) fn date_at(s: &Sentence, i: usize, ctx: &Ctx, prep: bool) -> Option<(Piece, usize, Strength)> {
    let w = s.w(i)?;
    let today = ctx.today;
    let strong = |p: Piece, j: usize| Some((p, j, Strength::Strong));
    let with_period = |d: NaiveDate, j: usize| match s.w(j).and_then(Period::from_word) {
        Some(p) => (Piece::DatePeriod(d, p), j + 1),
        None => (Piece::Date(d), j),
    };
    match w {
        "today" => return strong(Piece::Date(today), i + 1),
        "tonight" | "tonite" => return strong(Piece::DatePeriod(today, Period::Night), i + 1),
        "tomorrow" | "tmr" | "tmrw" | "tomorow" | "tommorow" | "tommorrow" => {
            let (p, j) = with_period(today.succ_opt()?, i + 1);
            return strong(p, j);
        }
        "yesterday" => return strong(Piece::Date(today.pred_opt()?), i + 1),
        "overmorrow" => return strong(Piece::Date(ctx.plus_days(2)?), i + 1),
        _ => {}
    }
    let k = if s.is(i, "the") { i + 1 } else { i };
    if let Some(j) = s.seq(k, &["day", "after", "tomorrow"]) {
        return strong(Piece::Date(ctx.plus_days(2)?), j);
    }
    if let Some(j) = s.seq(i, &["later", "today"]) {
        return strong(Piece::Date(today), j);
    }
    if w == "this"
        && let Some(p) = s.w(i + 1).and_then(Period::from_word)
    {
        return strong(Piece::DatePeriod(today, p), i + 2);
    }
    if let Some(r) = named_day_at(s, i, ctx, prep) {
        return Some(r);
    }
    if let Some((d, j)) = end_of_at(s, i, ctx) {
        return strong(Piece::Date(d), j);
    }
    if let Some((d, j)) = calendar_date_at(s, i, ctx) {
        return strong(Piece::Date(d), j);
    }
    None
}

/// "friday", "next friday", "this friday", "friday next week", "next week",
/// "next month", "this weekend", with an optional part of the day after.
fn named_day_at(s: &Sentence, i: usize, ctx: &Ctx, prep: bool) -> Option<(Piece, usize, Strength)> {
    let today = ctx.today;
    let (mode, j) = if let Some(j) = s.seq(i, &["this", "coming"]) {
        (Some("next"), j)
    } else if s.is_any(i, &["next", "coming", "following"]) {
        (Some("next"), i + 1)
    } else if s.is(i, "this") {
        (Some("this"), i + 1)
    } else {
        (None, i)
    };
    let w = s.w(j)?;
    let lead = mode.is_some() || prep;
    if let Some(wd) = vocab::weekday(w, lead) {
        let mut k = j + 1;
        let d = if mode.is_none() && s.seq(k, &["next", "week"]).is_some() {
            k += 2;
            ctx.monday().checked_add_days(Days::new(7 + u64::from(wd.num_days_from_monday())))?
        } else if mode.is_none() && s.seq(k, &["this", "week"]).is_some() {
            k += 2;
            ctx.monday().checked_add_days(Days::new(u64::from(wd.num_days_from_monday())))?
        } else {
            // A weekday, with or without "next", is the first such day after
            // today; "this friday" may be today.
            let ahead = (7 + wd.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
            let ahead = if ahead == 0 && mode != Some("this") { 7 } else { ahead };
            ctx.plus_days(u64::from(ahead))?
        };
        let (p, k) = match s.w(k).and_then(Period::from_word) {
            Some(p) => (Piece::DatePeriod(d, p), k + 1),
            None => (Piece::Date(d), k),
        };
        let strength = if lead || k > j + 1 { Strength::Strong } else { Strength::Weak };
        return Some((p, k, strength));
    }
    let strong = |d: NaiveDate, k: usize| Some((Piece::Date(d), k, Strength::Strong));
    if mode.is_none() && w != "the" {
        return None;
    }
    match (mode, w) {
        (Some("next"), "week") => strong(ctx.monday().checked_add_days(Days::new(7))?, j + 1),
        (Some("this"), "week") => strong(ctx.monday().checked_add_days(Days::new(6))?, j + 1),
        (Some("next"), "month") => {
            strong(NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?.checked_add_months(Months::new(1))?, j + 1)
        }
        (Some("next"), "year") => strong(NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)?, j + 1),
        (Some("this"), "weekend") => strong(weekend(ctx, 0)?, j + 1),
        (Some("next"), "weekend") => strong(weekend(ctx, 7)?, j + 1),
        (None, "the") if s.is(j + 1, "weekend") && prep => strong(weekend(ctx, 0)?, j + 2),
        _ => None,
    }
}

/// Saturday of this week (or today, on a Sunday), plus `extra` days.
fn weekend(ctx: &Ctx, extra: u64) -> Option<NaiveDate> {
    let sat = ctx.monday().checked_add_days(Days::new(5 + extra))?;
    Some(if extra == 0 && ctx.today > sat { ctx.today } else { sat })
}

/// "end of the month", "the end of next week", "end of year", "eom", "end of day"
/// (today), "the end of january" (see [`in_named_month`]).
fn end_of_at(s: &Sentence, i: usize, ctx: &Ctx) -> Option<(NaiveDate, usize)> {
    let today = ctx.today;
    let mut j = if s.is(i, "the") { i + 1 } else { i };
    // "the last day of the month", "last day of next month", "the last day of
    // february"
    if s.seq(j, &["last", "day", "of"]).is_some() {
        let k = j + 3;
        if let Some(r) = in_named_month(s, k, ctx, last_of_month) {
            return Some(r);
        }
        let next = s.is(k, "next");
        let k = if s.is_any(k, &["the", "this", "next"]) { k + 1 } else { k };
        if s.is(k, "month") {
            let base = if next { today.checked_add_months(Months::new(1))? } else { today };
            return Some((last_of_month(base)?, k + 1));
        }
        return None;
    }
    match s.w(j)? {
        "eod" | "cob" | "eob" => return Some((today, j + 1)),
        "eom" => return Some((last_of_month(today)?, j + 1)),
        "eow" => return Some((ctx.monday().checked_add_days(Days::new(6))?, j + 1)),
        "end" => {}
        _ => return None,
    }
    j += 1;
    if !s.is(j, "of") {
        return None;
    }
    j += 1;
    if let Some(r) = in_named_month(s, j, ctx, last_of_month) {
        return Some(r);
    }
    let next = s.is(j, "next");
    if s.is_any(j, &["the", "this", "next"]) {
        j += 1;
    }
    let d = match s.w(j)? {
        "day" | "today" => today,
        "month" => {
            let base = if next { today.checked_add_months(Months::new(1))? } else { today };
            last_of_month(base)?
        }
        // The week's last day: weeks run Monday to Sunday.
        "week" => ctx.monday().checked_add_days(Days::new(if next { 13 } else { 6 }))?,
        "year" => NaiveDate::from_ymd_opt(today.year() + i32::from(next), 12, 31)?,
        _ => return None,
    };
    Some((d, j + 1))
}

/// A month by name, "january", "jan 2028", and the day `pick` finds in it from
/// its first day ("the end of january", "the first monday of january"). With a
/// year, that year's; without, the next such day not yet past: this year's, or
/// next year's once it has passed (so "end of november" said on November 30 is
/// today).
fn in_named_month(
    s: &Sentence,
    i: usize,
    ctx: &Ctx,
    pick: impl Fn(NaiveDate) -> Option<NaiveDate>,
) -> Option<(NaiveDate, usize)> {
    let m = vocab::month(s.w(i)?)?;
    let first = |y: i32| NaiveDate::from_ymd_opt(y, m, 1);
    if let Some(y) = s.w(i + 1).filter(|y| y.len() == 4).and_then(|y| y.parse::<i32>().ok()) {
        return Some((pick(first(y)?)?, i + 2));
    }
    let this_year = ctx.today.year();
    (this_year..=this_year + 1).filter_map(|y| pick(first(y)?)).find(|d| *d >= ctx.today).map(|d| (d, i + 1))
}

/// The last day of `d`'s month.
pub(crate) fn last_of_month(d: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?.checked_add_months(Months::new(1))?.pred_opt()
}

/// Dates written with a month or as numbers: "December 3", "Dec 3rd, 2027",
/// "3 December", "the 3rd of December", "2026-12-10", "12/10", "the 15th".
/// A date without a year that has passed this year means next year.
fn calendar_date_at(s: &Sentence, i: usize, ctx: &Ctx) -> Option<(NaiveDate, usize)> {
    // "the last friday of the month", "the first monday of next month"
    if let Some(r) = nth_weekday_at(s, i, ctx) {
        return Some(r);
    }
    let w = s.w(i)?;
    if let Some(d) = numeric_date(w, ctx) {
        return Some((d, i + 1));
    }
    // Month first: "december 3", "dec 3rd", "december the 3rd"
    if let Some(m) = vocab::month(w) {
        let j = if s.is_punct(i + 1, '.') { i + 2 } else { i + 1 };
        let j = if s.is(j, "the") { j + 1 } else { j };
        let day = s.w(j).and_then(day_number)?;
        return with_year(s, j + 1, m, day, ctx);
    }
    // Day first: "3 december", "3rd of december", "the 3rd of december", "the 15th"
    let j = if w == "the" { i + 1 } else { i };
    let dw = s.w(j)?;
    let day = day_number(dw)?;
    let k = if s.is(j + 1, "of") { j + 2 } else { j + 1 };
    if let Some(m) = s.w(k).and_then(vocab::month) {
        return with_year(s, k + 1, m, day, ctx);
    }
    // "the 15th", "the 15th of the month": the next such day of a month, today
    // included; "the 15th of next month".
    if w == "the"
        && vocab::ordinal(dw).is_some()
        && !s.is(j + 1, "day")
        && vocab::weekday(s.w(j + 1).unwrap_or(""), true).is_none()
    {
        let (skip, end) = if let Some(e) = s.seq(j + 1, &["of", "next", "month"]) {
            (1, e)
        } else if let Some(e) = s.seq(j + 1, &["of", "the", "month"]).or_else(|| s.seq(j + 1, &["of", "this", "month"]))
        {
            (0, e)
        } else if s.is(j + 1, "of") {
            return None;
        } else {
            (0, j + 1)
        };
        let first = NaiveDate::from_ymd_opt(ctx.today.year(), ctx.today.month(), 1)?;
        return (skip..=12u32)
            .filter_map(|k| first.checked_add_months(Months::new(k)))
            .filter_map(|m| NaiveDate::from_ymd_opt(m.year(), m.month(), day))
            .find(|d| *d >= ctx.today)
            .map(|d| (d, end));
    }
    None
}

/// "the last friday of the month", "the 2nd tuesday of next month": this
/// month's if it has not passed, else next month's (unless "next month");
/// "the first monday of january", "the last friday in march 2028": see
/// [`in_named_month`].
fn nth_weekday_at(s: &Sentence, i: usize, ctx: &Ctx) -> Option<(NaiveDate, usize)> {
    let j = if s.is(i, "the") { i + 1 } else { i };
    let (n, wd) = nth_weekday_words(s, j)?;
    let k = j + 3;
    if !s.is(j + 2, "of") {
        // "in" only before a month's name: "the first monday in january".
        return s.is(j + 2, "in").then(|| in_named_month(s, k, ctx, |m| nth_weekday_in(m, n, wd))).flatten();
    }
    if let Some(r) = in_named_month(s, k, ctx, |m| nth_weekday_in(m, n, wd)) {
        return Some(r);
    }
    let next = s.is(k, "next");
    let k = if s.is_any(k, &["the", "this", "next"]) { k + 1 } else { k };
    if !s.is(k, "month") {
        return None;
    }
    let first = NaiveDate::from_ymd_opt(ctx.today.year(), ctx.today.month(), 1)?;
    (u32::from(next)..=2)
        .filter_map(|m| first.checked_add_months(Months::new(m)))
        .filter_map(|m| nth_weekday_in(m, n, wd))
        .find(|d| *d >= ctx.today || next)
        .map(|d| (d, k + 1))
}

/// "first monday", "2nd tue", "last friday": the position (-1 = the last) and the weekday.
fn nth_weekday_words(s: &Sentence, j: usize) -> Option<(i32, Weekday)> {
    let w = s.w(j)?;
    let n: i32 =
        if w == "last" { -1 } else { i32::try_from(vocab::ordinal(w).filter(|n| (1..=5).contains(n))?).ok()? };
    let wd = s.w(j + 1).and_then(|w| vocab::weekday(w, true))?;
    Some((n, wd))
}

/// The `n`th `wd` of the month that starts on `first` (-1 = the last); `None`
/// if that month has no such day (a fifth Monday).
fn nth_weekday_in(first: NaiveDate, n: i32, wd: Weekday) -> Option<NaiveDate> {
    let days: Vec<NaiveDate> = (0..31)
        .filter_map(|d| first.checked_add_days(Days::new(d)))
        .filter(|d| d.month() == first.month() && d.weekday() == wd)
        .collect();
    if n < 0 { days.last().copied() } else { days.get(usize::try_from(n - 1).ok()?).copied() }
}

fn day_number(w: &str) -> Option<u32> {
    let d = vocab::ordinal(w).or_else(|| (w.len() <= 2).then(|| vocab::cardinal(w)).flatten())?;
    (1..=31).contains(&d).then_some(d)
}

/// Reads an optional year after a month and day; without one, the next such date.
fn with_year(s: &Sentence, j: usize, m: u32, day: u32, ctx: &Ctx) -> Option<(NaiveDate, usize)> {
    let k = if s.is_punct(j, ',') { j + 1 } else { j };
    if let Some(y) = s.w(k).filter(|y| y.len() == 4).and_then(|y| y.parse::<i32>().ok()) {
        return NaiveDate::from_ymd_opt(y, m, day).map(|d| (d, k + 1));
    }
    next_date(m, day, ctx).map(|d| (d, j))
}

/// The next `m`/`day` on or after today (Feb 29 waits for a leap year).
fn next_date(m: u32, day: u32, ctx: &Ctx) -> Option<NaiveDate> {
    (ctx.today.year()..=ctx.today.year() + 8)
        .filter_map(|y| NaiveDate::from_ymd_opt(y, m, day))
        .find(|d| *d >= ctx.today)
}

/// "2026-12-10", "2026/12/10", "12/10", "12/10/2026", "10.12.2026".
/// Slashed dates that could be either way round are month/day in US time
/// zones and day/month elsewhere.
fn numeric_date(w: &str, ctx: &Ctx) -> Option<NaiveDate> {
    if !w.starts_with(|c: char| c.is_ascii_digit()) || w.len() > 10 {
        return None;
    }
    let sep = if w.contains('-') {
        '-'
    } else if w.contains('/') {
        '/'
    } else if w.matches('.').count() == 2 {
        '.'
    } else {
        return None;
    };
    let parts: Vec<&str> = w.split(sep).collect();
    if parts.iter().any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let n: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    match (parts.len(), parts[0].len()) {
        (3, 4) => NaiveDate::from_ymd_opt(i32::try_from(n[0]).ok()?, n[1], n[2]),
        (3, _) if sep != '-' => {
            let y = match parts[2].len() {
                4 => i32::try_from(n[2]).ok()?,
                2 => 2000 + i32::try_from(n[2]).ok()?,
                _ => return None,
            };
            let (m, d) = if sep == '.' { (n[1], n[0]) } else { month_day(n[0], n[1], ctx)? };
            NaiveDate::from_ymd_opt(y, m, d)
        }
        (2, _) if sep == '/' => {
            let (m, d) = month_day(n[0], n[1], ctx)?;
            next_date(m, d, ctx)
        }
        _ => None,
    }
}

/// Orders two numbers of a slashed date as (month, day).
fn month_day(a: u32, b: u32, ctx: &Ctx) -> Option<(u32, u32)> {
    let us = ctx.tz.name().starts_with("US/")
        || matches!(
            ctx.tz.name(),
            "America/New_York"
                | "America/Chicago"
                | "America/Denver"
                | "America/Los_Angeles"
                | "America/Phoenix"
                | "America/Anchorage"
                | "America/Detroit"
                | "America/Boise"
                | "Pacific/Honolulu"
        );
    match (a <= 12, b <= 12) {
        (true, true) if us => Some((a, b)),
        (true, true) => Some((b, a)),
        (true, false) => Some((a, b)),
        (false, true) => Some((b, a)),
        (false, false) => None,
    }
}
