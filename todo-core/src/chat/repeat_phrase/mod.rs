//! The repeat-phrase grammar (chat words to a rule; the RFC 5545 engine is
//! [`crate::domain::recurrence`]): "every weekday", "every other week", "daily",
//! "every monday and thursday", "on the 1st of every month", "every last friday
//! of the month", "every year on March 3", "every first monday of january",
//! "every 3 days until December 31", "every weekday except fridays".
//!
//! A phrase becomes a [`RuleSpec`], which prints as an RFC 5545 RRULE (no
//! `BYHOUR`: the time of day lives in the task's due time, which anchors the
//! rule). The first due time is computed by the domain's recurrence engine, so
//! DST and month lengths are the `rrule` crate's business, not ours.

mod spec;
#[cfg(test)]
mod tests;

use chrono::Weekday;

use super::datetime::{self, Ctx, Period};
use super::lexer::Sentence;
use super::vocab;
pub(crate) use spec::{Freq, RuleSpec};

/// Reads a recurrence at `i`, with its "starting ..." / "until ..." tails.
pub(crate) fn rule_at(s: &Sentence, i: usize, ctx: &Ctx) -> Option<(RuleSpec, usize)> {
    let (mut spec, mut j) = head_at(s, i)?;
    while let Some(k) = tail_at(s, j, ctx, &mut spec) {
        j = k;
    }
    Some((spec, j))
}

fn head_at(s: &Sentence, i: usize) -> Option<(RuleSpec, usize)> {
    let w = s.w(i)?;
    let simple = |freq, n| Some((RuleSpec::every(freq, n), i + 1));
    match w {
        "every" | "each" | "evry" => {
            // Todoist's "every!": count from completion.
            let bang = s.is_punct(i + 1, '!') && s.toks.get(i + 1).map(|t| t.start) == s.toks.get(i).map(|t| t.end);
            let (mut spec, j) = every_body(s, if bang { i + 2 } else { i + 1 })?;
            spec.from_completion |= bang;
            Some((spec, j))
        }
        "daily" | "everyday" => simple(Freq::Daily, 1),
        "nightly" => Some((RuleSpec { period: Some(Period::Night), ..RuleSpec::every(Freq::Daily, 1) }, i + 1)),
        "hourly" => simple(Freq::Hourly, 1),
        "weekly" | "biweekly" | "fortnightly" => {
            let n = if w == "weekly" { 1 } else { 2 };
            Some(weekly_on_days(s, i + 1, n))
        }
        "monthly" | "bimonthly" | "quarterly" => {
            let n = match w {
                "monthly" => 1,
                "bimonthly" => 2,
                _ => 3,
            };
            Some(monthly_on(s, i + 1, n))
        }
        "yearly" | "annually" => Some(yearly_on(s, i + 1, 1)),
        "weekdays" => Some((RuleSpec::weekly_on(workweek(), 1), i + 1)),
        "weekends" => Some((RuleSpec::weekly_on(vec![Weekday::Sat, Weekday::Sun], 1), i + 1)),
        "once" if s.is_any(i + 1, &["a", "per"]) => {
            let f = freq_unit(s.w(i + 2)?)?;
            simple(f, 1).map(|(r, _)| (r, i + 3))
        }
        "on" | "the" => {
            let k = if w == "on" { i + 1 } else { i };
            if s.is_any(k, &["weekdays", "weekends"]) {
                return head_at(s, k);
            }
            if let Some((days, j)) = weekday_list(s, k, true) {
                // "on mondays", "on monday and thursday"; "on monday" alone is a date.
                if s.w(k).and_then(vocab::weekday_plural).is_some() || days.len() > 1 {
                    return Some(with_period(s, RuleSpec::weekly_on(days, 1), j));
                }
            }
            in_month_at(s, if s.is(k, "the") { k + 1 } else { k })
        }
        _ => {
            // "mondays and thursdays"; "mon wed fri", "monday and thursday":
            // several weekdays name a weekly rule.
            let (days, j) = weekday_list(s, i, true)?;
            let plural = vocab::weekday_plural(w).is_some();
            (plural || days.len() > 1).then(|| with_period(s, RuleSpec::weekly_on(days, 1), j))
        }
    }
}

fn workweek() -> Vec<Weekday> {
    vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri]
}

fn freq_unit(w: &str) -> Option<Freq> {
    match w {
        "hour" | "hours" => Some(Freq::Hourly),
        "day" | "days" => Some(Freq::Daily),
        "week" | "weeks" => Some(Freq::Weekly),
        "month" | "months" => Some(Freq::Monthly),
        "year" | "years" => Some(Freq::Yearly),
        _ => None,
    }
}

/// What follows "every": a unit with an optional interval, weekdays, a day of
/// the month, or a date of the year.
fn every_body(s: &Sentence, i: usize) -> Option<(RuleSpec, usize)> {
    let w = s.w(i)?;
    // The interval: "other", "3", "three", "second" (before a unit only).
    let (n, k) = if w == "other" {
        (2, i + 1)
    } else if let Some(n) =
        vocab::cardinal(w).filter(|_| s.w(i + 1).and_then(freq_unit).is_some() || s.is(i + 1, "fortnights"))
    {
        (n, i + 1)
    } else if let Some(n) = vocab::ordinal(w).filter(|_| s.w(i + 1).and_then(freq_unit).is_some()) {
        (n, i + 1)
    } else {
        (1, i)
    };
    let u = s.w(k)?;
    if let Some(f) = freq_unit(u) {
        return Some(match f {
            Freq::Weekly => weekly_on_days(s, k + 1, n),
            Freq::Monthly => monthly_on(s, k + 1, n),
            Freq::Yearly => yearly_on(s, k + 1, n),
            f => with_period(s, RuleSpec::every(f, n), k + 1),
        });
    }
    match u {
        "fortnight" | "fortnights" => return Some(weekly_on_days(s, k + 1, 2 * n)),
        "weekday" | "weekdays" | "workday" | "workdays" => {
            return Some(with_period(s, RuleSpec::weekly_on(workweek(), n), k + 1));
        }
        "work" | "business" | "working" if s.is_any(k + 1, &["day", "days"]) => {
            return Some(with_period(s, RuleSpec::weekly_on(workweek(), n), k + 2));
        }
        "weekend" | "weekends" => {
            let j = if s.is_any(k + 1, &["day", "days"]) { k + 2 } else { k + 1 };
            return Some(with_period(s, RuleSpec::weekly_on(vec![Weekday::Sat, Weekday::Sun], n), j));
        }
        _ => {}
    }
    if let Some(p) = Period::from_word(u) {
        return Some((RuleSpec { period: Some(p), ..RuleSpec::every(Freq::Daily, n) }, k + 1));
    }
    if let Some((days, j)) = weekday_list(s, k, true) {
        return Some(with_period(s, RuleSpec::weekly_on(days, n), j));
    }
    if n == 1 {
        // "every last friday of the month", "every 15th", "every March 3"
        if let Some(r) = in_month_at(s, k) {
            return Some(r);
        }
        if let Some(((m, d), j)) = month_day_at(s, k) {
            return Some((RuleSpec { by_month: Some(m), by_month_day: vec![d], ..RuleSpec::new(Freq::Yearly) }, j));
        }
    }
    None
}

/// A part of the day right after the days: "every monday morning", "every weekday evening".
fn with_period(s: &Sentence, mut spec: RuleSpec, j: usize) -> (RuleSpec, usize) {
    match s.w(j).and_then(Period::from_word) {
        Some(p) => {
            spec.period = Some(p);
            (spec, j + 1)
        }
        None => (spec, j),
    }
}

/// "weekly", then optionally "on monday and thursday".
fn weekly_on_days(s: &Sentence, i: usize, n: u32) -> (RuleSpec, usize) {
    if s.is(i, "on")
        && let Some((days, j)) = weekday_list(s, i + 1, true)
    {
        return (RuleSpec::weekly_on(days, n), j);
    }
    (RuleSpec::every(Freq::Weekly, n), i)
}

/// "monthly", then optionally "on the 15th" or "on the last friday".
fn monthly_on(s: &Sentence, i: usize, n: u32) -> (RuleSpec, usize) {
    if let Some(k) = s.seq(i, &["on", "the"])
        && let Some((mut spec, j)) = day_in_month_at(s, k)
    {
        spec.interval = n;
        return (spec, j);
    }
    (RuleSpec::every(Freq::Monthly, n), i)
}

/// "yearly", then optionally "on March 3" or "on the 3rd of March".
fn yearly_on(s: &Sentence, i: usize, n: u32) -> (RuleSpec, usize) {
    if s.is(i, "on") || s.is(i, "in") {
        let k = if s.is(i + 1, "the") { i + 2 } else { i + 1 };
        if let Some(((m, d), j)) = month_day_at(s, k) {
            let spec = RuleSpec { by_month: Some(m), by_month_day: vec![d], ..RuleSpec::every(Freq::Yearly, n) };
            return (spec, j);
        }
        // "yearly on the fourth thursday of november"
        if let Some((spec, j)) = day_in_month_at(s, k)
            && let Some((m, e)) = of_named_month(s, j)
        {
            return (RuleSpec { interval: n, ..in_month_of_year(spec, m) }, e);
        }
    }
    (RuleSpec::every(Freq::Yearly, n), i)
}

/// After "the" / "every": a day of the month followed by what makes it
/// monthly ("of every month", "of the month", "every month"), or a date of
/// the year followed by "every year".
fn after_every(s: &Sentence, i: usize) -> bool {
    i > 0 && s.is_any(i - 1, &["every", "each"])
}

fn in_month_at(s: &Sentence, i: usize) -> Option<(RuleSpec, usize)> {
    if let Some(((m, d), j)) = month_day_at(s, i) {
        let k = s.seq(j, &["every", "year"]).or_else(|| s.seq(j, &["each", "year"]))?;
        return Some((RuleSpec { by_month: Some(m), by_month_day: vec![d], ..RuleSpec::new(Freq::Yearly) }, k));
    }
    let (mut spec, j) = day_in_month_at(s, i)?;
    // "every first monday of january", "the last friday of march every year";
    // without "every" it is one date ("the first monday of january").
    if let Some((m, k)) = of_named_month(s, j) {
        let tail = s.seq(k, &["every", "year"]).or_else(|| s.seq(k, &["each", "year"]));
        if !after_every(s, i) && tail.is_none() {
            return None;
        }
        return Some((in_month_of_year(spec, m), tail.unwrap_or(k)));
    }
    // "of every month", "of each other month", "of the month", "every month"
    let (k, lead_every) = if s.is(j, "of") { (j + 1, false) } else { (j, true) };
    let k = match s.w(k) {
        Some("every" | "each") => k + 1,
        // "of the month" repeats only after "every": "every last friday of
        // the month", but "on the last day of the month" is one date.
        Some("the" | "a") if !lead_every && after_every(s, i) => k + 1,
        Some("month") if !lead_every && after_every(s, i) => k,
        // "every 15th", "every last friday" with nothing after.
        _ => return after_every(s, i).then_some((spec, j)),
    };
    let (n, k) = if s.is(k, "other") {
        (2, k + 1)
    } else if let Some(n) = s.w(k).and_then(vocab::cardinal).filter(|_| s.is(k + 1, "months")) {
        (n, k + 1)
    } else {
        (1, k)
    };
    if !s.is_any(k, &["month", "months"]) {
        return None;
    }
    spec.interval = n;
    Some((spec, k + 1))
}

/// "of january", "in march": the month and where its name ends.
fn of_named_month(s: &Sentence, j: usize) -> Option<(u32, usize)> {
    let m = s.is_any(j, &["of", "in"]).then(|| s.w(j + 1).and_then(vocab::month)).flatten()?;
    Some((m, j + 2))
}

/// A day of every month ("the first monday", "the last day") as that day of
/// one month every year.
fn in_month_of_year(spec: RuleSpec, m: u32) -> RuleSpec {
    RuleSpec { freq: Freq::Yearly, by_month: Some(m), ..spec }
}

/// "15th", "1st and 15th", "last day", "last friday", "first monday", "2nd tuesday".
fn day_in_month_at(s: &Sentence, i: usize) -> Option<(RuleSpec, usize)> {
    let w = s.w(i)?;
    let nth = if w == "last" { Some(-1) } else { vocab::ordinal(w).map(|n| n as i32) };
    if let Some(n) = nth.filter(|n| (-1..=5).contains(n) && *n != 0)
        && let Some(d) = s.w(i + 1).and_then(|w| vocab::weekday(w, true))
    {
        let spec = RuleSpec { by_day: vec![(n, d)], ..RuleSpec::new(Freq::Monthly) };
        return Some((spec, i + 2));
    }
    if w == "last" && s.is(i + 1, "day") {
        return Some((RuleSpec { by_month_day: vec![-1], ..RuleSpec::new(Freq::Monthly) }, i + 2));
    }
    let mut days = Vec::new();
    let mut j = i;
    while let Some(d) = s.w(j).and_then(vocab::ordinal).filter(|d| (1..=31).contains(d)) {
        if !days.contains(&(d as i32)) {
            days.push(d as i32);
        }
        j += 1;
        if s.is(j, "day") {
            j += 1;
        }
        let sep = if s.is_punct(j, ',') { j + 1 } else { j };
        let sep = if s.is_any(sep, &["and", "&"]) { sep + 1 } else { sep };
        if sep == j || s.w(sep).and_then(vocab::ordinal).is_none() {
            break;
        }
        j = if s.is(sep, "the") { sep + 1 } else { sep };
    }
    (!days.is_empty()).then_some((RuleSpec { by_month_day: days, ..RuleSpec::new(Freq::Monthly) }, j))
}

/// A day of the year without a year: "March 3", "March 3rd", "3 March", "3rd of March".
fn month_day_at(s: &Sentence, i: usize) -> Option<((u32, i32), usize)> {
    let day =
        |w: &str| vocab::ordinal(w).or_else(|| vocab::cardinal(w)).filter(|d| (1..=31).contains(d)).map(|d| d as i32);
    if let Some(m) = s.w(i).and_then(vocab::month) {
        let k = if s.is(i + 1, "the") { i + 2 } else { i + 1 };
        return Some(((m, s.w(k).and_then(day)?), k + 1));
    }
    let d = s.w(i).and_then(day)?;
    let k = if s.is(i + 1, "of") { i + 2 } else { i + 1 };
    Some(((s.w(k).and_then(vocab::month)?, d), k + 1))
}

/// "monday", "mon, wed and fri", "tuesdays & thursdays".
fn weekday_list(s: &Sentence, i: usize, short: bool) -> Option<(Vec<Weekday>, usize)> {
    let day = |w: &str| vocab::weekday(w, short).or_else(|| vocab::weekday_plural(w));
    let mut days = vec![s.w(i).and_then(day)?];
    let mut j = i + 1;
    loop {
        let mut k = j;
        if s.is_punct(k, ',') || s.is_punct(k, '/') {
            k += 1;
        }
        if s.is_any(k, &["and", "&", "or"]) {
            k += 1;
        }
        // "mon wed fri": abbreviations may follow each other directly.
        let adjacent = k == j && s.w(k).and_then(|w| vocab::weekday(w, true)).is_some() && short;
        match s.w(k).and_then(day) {
            Some(d) if k > j || adjacent => {
                if !days.contains(&d) {
                    days.push(d);
                }
                j = k + 1;
            }
            _ => break,
        }
    }
    Some((days, j))
}

/// Days left out of a weekly rule: "except fridays", "but not on mondays or
/// wednesdays", "excluding weekends", "except for sunday", "every day but
/// sunday". Returns the days and where the phrase ends; whether the rule can
/// drop them is [`RuleSpec::without`]'s business.
pub(crate) fn exception_at(s: &Sentence, i: usize) -> Option<(Vec<Weekday>, usize)> {
    let i = if s.is_punct(i, ',') { i + 1 } else { i };
    let lead = [
        &["except", "for"][..],
        &["except", "on"],
        &["except"],
        &["excluding"],
        &["excl"],
        &["but", "not", "on"],
        &["but", "not"],
        &["but"],
        &["apart", "from"],
        &["other", "than"],
        &["not", "on"],
    ];
    let j = lead.iter().filter_map(|l| s.seq(i, l)).max()?;
    let j = if s.is(j, "the") { j + 1 } else { j };
    match s.w(j)? {
        "weekend" | "weekends" => Some((vec![Weekday::Sat, Weekday::Sun], j + 1)),
        "weekdays" => Some((workweek(), j + 1)),
        _ => weekday_list(s, j, true),
    }
}

/// "starting tomorrow", "from next monday", "until December 31", "after
/// completion", "except fridays".
fn tail_at(s: &Sentence, i: usize, ctx: &Ctx, spec: &mut RuleSpec) -> Option<usize> {
    if let Some((days, k)) = exception_at(s, i)
        && spec.without(&days)
    {
        return Some(k);
    }
    let j = if s.is_punct(i, ',') { i + 1 } else { i };
    for lead in [
        &["after", "completion"][..],
        &["after", "completing"],
        &["from", "completion"],
        &["after", "it's", "done"],
        &["after", "done"],
    ] {
        if let Some(k) = s.seq(j, lead) {
            spec.from_completion = true;
            return Some(if s.is(k, "it") { k + 1 } else { k });
        }
    }
    let w = s.w(j)?;
    let start = matches!(w, "starting" | "beginning" | "from" | "effective");
    let until = matches!(w, "until" | "till" | "til" | "through" | "thru" | "ending");
    if !(start || until) {
        return None;
    }
    let k = if s.is_any(j + 1, &["on", "from"]) { j + 2 } else { j + 1 };
    let (piece, end, _) = datetime::date_at(s, k, ctx, true)?;
    let d = match piece {
        datetime::Piece::Date(d) | datetime::Piece::DatePeriod(d, _) => d,
        _ => return None,
    };
    if start {
        spec.start = Some(d);
    } else {
        spec.until = Some(d);
    }
    Some(end)
}
