//! The repeat-phrase grammar (chat words to a rule; the RFC 5545 engine is
//! [`crate::domain::recurrence`]): "every weekday", "every other week", "daily",
//! "every monday and thursday", "on the 1st of every month", "every last friday
//! of the month", "every year on March 3", "every 3 days until December 31".
//!
//! A phrase becomes a [`RuleSpec`], which prints as an RFC 5545 RRULE (no
//! `BYHOUR`: the time of day lives in the task's due time, which anchors the
//! rule). The first due time is computed by the domain's recurrence engine, so
//! DST and month lengths are the `rrule` crate's business, not ours.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, Timelike, Utc, Weekday};

use super::command::RecurrenceRule;
use super::datetime::{self, Ctx, Due, Period, When};
use super::lexer::Sentence;
use super::vocab;
use crate::domain::Recurrence;
use crate::domain::recurrence::local_datetime;

/// Largest interval accepted ("every 5000 days" is not a plan).
const MAX_INTERVAL: u32 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Freq {
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A recognised recurrence, before it is printed as an RRULE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleSpec {
    pub freq: Freq,
    pub interval: u32,
    /// Weekdays, each with its position in the month (0 = every such day, -1 = the last).
    pub by_day: Vec<(i32, Weekday)>,
    pub by_month_day: Vec<i32>,
    pub by_month: Option<u32>,
    /// "every morning": a part of the day that gives the time.
    pub period: Option<Period>,
    /// "starting next monday": where the series begins.
    pub start: Option<NaiveDate>,
    /// "until December 31": the last day of the series (inclusive, local).
    pub until: Option<NaiveDate>,
    /// "every! 3 days", "every 3 days after completion".
    pub from_completion: bool,
    /// More than one time a day ("daily at 8am and 8pm"): the hours, all at
    /// the same minute past.
    pub hours: Vec<u32>,
}

impl RuleSpec {
    fn new(freq: Freq) -> Self {
        Self {
            freq,
            interval: 1,
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            by_month: None,
            period: None,
            start: None,
            until: None,
            from_completion: false,
            hours: Vec::new(),
        }
    }

    fn every(freq: Freq, interval: u32) -> Self {
        Self { interval, ..Self::new(freq) }
    }

    fn weekly_on(days: Vec<Weekday>, interval: u32) -> Self {
        Self { by_day: days.into_iter().map(|d| (0, d)).collect(), ..Self::every(Freq::Weekly, interval) }
    }

    /// The rule as RRULE text, validated by the domain; `None` if the phrase
    /// names no possible rule.
    pub fn to_rule(&self, ctx: &Ctx) -> Option<RecurrenceRule> {
        RecurrenceRule::parse(&self.rrule(ctx)?).ok()
    }

    /// The rule the engine evaluates to find the first occurrence: without its
    /// interval, so "every 3 months on the 15th" starts on the next 15th (the
    /// interval then counts from that first due date); and with "1MO" (the
    /// first Monday) written as BYSETPOS, because the domain's canonical text
    /// would turn it into "MO" (every Monday).
    fn first_rule(&self, ctx: &Ctx) -> Option<Recurrence> {
        let mut spec = Self { interval: 1, ..self.clone() };
        let mut text = spec.rrule(ctx)?;
        if let [(1, d)] = spec.by_day.as_slice() {
            spec.by_day = vec![(0, *d)];
            text = format!("{};BYSETPOS=1", spec.rrule(ctx)?);
        }
        Recurrence::parse(&text).ok()
    }

    fn rrule(&self, ctx: &Ctx) -> Option<String> {
        if self.interval == 0 || self.interval > MAX_INTERVAL {
            return None;
        }
        let freq = match self.freq {
            Freq::Hourly => "HOURLY",
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
            Freq::Yearly => "YEARLY",
        };
        let mut parts = vec![format!("FREQ={freq}")];
        if self.interval > 1 {
            parts.push(format!("INTERVAL={}", self.interval));
        }
        if let Some(m) = self.by_month {
            // A date that never happens (February 30) would make the engine search forever.
            let valid = self.by_month_day.iter().all(|d| NaiveDate::from_ymd_opt(2000, m, d.unsigned_abs()).is_some());
            if !valid {
                return None;
            }
            parts.push(format!("BYMONTH={m}"));
        }
        if !self.by_month_day.is_empty() {
            let days: Vec<String> = self.by_month_day.iter().map(i32::to_string).collect();
            parts.push(format!("BYMONTHDAY={}", days.join(",")));
        }
        if !self.by_day.is_empty() {
            let days: Vec<String> = self
                .by_day
                .iter()
                .map(|(n, d)| match n {
                    0 => vocab::weekday_code(*d).to_owned(),
                    n => format!("{n}{}", vocab::weekday_code(*d)),
                })
                .collect();
            parts.push(format!("BYDAY={}", days.join(",")));
        }
        if self.hours.len() > 1 {
            let hours: Vec<String> = self.hours.iter().map(u32::to_string).collect();
            parts.push(format!("BYHOUR={}", hours.join(",")));
        }
        if let Some(u) = self.until {
            // The end of that local day, in UTC as RFC 5545 requires.
            let end = ctx.midnight(u.succ_opt()?) - chrono::Duration::seconds(1);
            parts.push(format!("UNTIL={}", end.format("%Y%m%dT%H%M%SZ")));
        }
        Some(parts.join(";"))
    }

    /// The first due time of the series: its first occurrence at or after now,
    /// at the time `when` gives (or all day: the first occurrence dated today or later).
    pub fn first_due(&self, when: &When, ctx: &Ctx) -> Option<Due> {
        let rule = self.first_rule(ctx)?;
        let mut when = *when;
        if when.period.is_none() {
            when.period = self.period;
        }
        let instant = when.instant.map(|t| t.with_timezone(&ctx.tz));
        let start = self.start.or(when.date).or(instant.map(|t| t.date_naive())).unwrap_or(ctx.today);
        let start = self.fast_forward(start, ctx.today)?;
        let tod = when.time_of_day().or(instant.map(|t| (t.time(), false)));
        match tod {
            Some((t, end_of_day)) => {
                let start = if end_of_day { start.succ_opt()? } else { start };
                let at = rule.first_at_or_after(local_datetime(ctx.tz, start, t), ctx.now)?;
                Some(Due { at, all_day: false })
            }
            None if self.freq == Freq::Hourly => {
                let now = ctx.now.with_timezone(&ctx.tz);
                let t = NaiveTime::from_hms_opt(now.hour(), now.minute(), 0)?;
                let dtstart = local_datetime(ctx.tz, start, t);
                let at = rule.first_at_or_after(dtstart, dtstart.with_timezone(&Utc))?;
                Some(Due { at, all_day: false })
            }
            None => {
                let dtstart = local_datetime(ctx.tz, start, NaiveTime::MIN);
                let today: DateTime<Utc> = ctx.midnight(ctx.today);
                Some(Due { at: rule.first_at_or_after(dtstart, today)?, all_day: true })
            }
        }
    }
}

impl RuleSpec {
    /// A start in the past moved close to `today` without changing which
    /// occurrences come after it, so the engine does not walk years of them
    /// ("every hour from 2026-12-10" read in 2030).
    fn fast_forward(&self, start: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
        if start >= today {
            return Some(start);
        }
        // Does the start date pick the weekday / day of month the rule repeats on?
        let anchored = match self.freq {
            Freq::Hourly | Freq::Daily => false,
            Freq::Weekly => self.by_day.is_empty(),
            Freq::Monthly => self.by_day.is_empty() && self.by_month_day.is_empty(),
            Freq::Yearly => self.by_month.is_none() && self.by_day.is_empty() && self.by_month_day.is_empty(),
        };
        if !anchored {
            return Some(today);
        }
        if self.freq == Freq::Weekly {
            let weeks = (today - start).num_days() / 7;
            return start.checked_add_days(Days::new(7 * weeks.unsigned_abs()));
        }
        // Whole years keep the day of the month (February 29 aside).
        let years = u32::try_from(today.year() - start.year() - 1).unwrap_or(0);
        start.checked_add_months(Months::new(12 * years))
    }
}

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

/// "starting tomorrow", "from next monday", "until December 31", "after completion".
fn tail_at(s: &Sentence, i: usize, ctx: &Ctx, spec: &mut RuleSpec) -> Option<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::test_util::ctx;

    fn rule(phrase: &str) -> String {
        let s = Sentence::new(phrase);
        let c = ctx();
        let (spec, end) = rule_at(&s, 0, &c).unwrap_or_else(|| panic!("{phrase:?} is a rule"));
        assert_eq!(end, s.len(), "{phrase:?} not fully read");
        spec.rrule(&c).unwrap()
    }

    #[test]
    fn simple_frequencies() {
        assert_eq!(rule("every day"), "FREQ=DAILY");
        assert_eq!(rule("daily"), "FREQ=DAILY");
        assert_eq!(rule("every other day"), "FREQ=DAILY;INTERVAL=2");
        assert_eq!(rule("every 2 weeks"), "FREQ=WEEKLY;INTERVAL=2");
        assert_eq!(rule("every three months"), "FREQ=MONTHLY;INTERVAL=3");
        assert_eq!(rule("biweekly"), "FREQ=WEEKLY;INTERVAL=2");
        assert_eq!(rule("quarterly"), "FREQ=MONTHLY;INTERVAL=3");
        assert_eq!(rule("annually"), "FREQ=YEARLY");
        assert_eq!(rule("every year"), "FREQ=YEARLY");
        assert_eq!(rule("every 4 hours"), "FREQ=HOURLY;INTERVAL=4");
        assert_eq!(rule("once a week"), "FREQ=WEEKLY");
        assert_eq!(rule("every second week"), "FREQ=WEEKLY;INTERVAL=2");
    }

    #[test]
    fn weekdays() {
        assert_eq!(rule("every weekday"), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
        assert_eq!(rule("on weekends"), "FREQ=WEEKLY;BYDAY=SA,SU");
        assert_eq!(rule("every monday"), "FREQ=WEEKLY;BYDAY=MO");
        assert_eq!(rule("every tuesday and thursday"), "FREQ=WEEKLY;BYDAY=TU,TH");
        assert_eq!(rule("every mon, wed and fri"), "FREQ=WEEKLY;BYDAY=MO,WE,FR");
        assert_eq!(rule("on mondays"), "FREQ=WEEKLY;BYDAY=MO");
        assert_eq!(rule("every other friday"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR");
        assert_eq!(rule("weekly on sunday"), "FREQ=WEEKLY;BYDAY=SU");
        assert_eq!(rule("every 2 weeks on tuesday"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU");
    }

    #[test]
    fn days_of_the_month_and_year() {
        assert_eq!(rule("on the 1st of every month"), "FREQ=MONTHLY;BYMONTHDAY=1");
        assert_eq!(rule("every month on the 15th"), "FREQ=MONTHLY;BYMONTHDAY=15");
        assert_eq!(rule("on the 1st and 15th of each month"), "FREQ=MONTHLY;BYMONTHDAY=1,15");
        assert_eq!(rule("every last friday of the month"), "FREQ=MONTHLY;BYDAY=-1FR");
        assert_eq!(rule("every first monday of the month"), "FREQ=MONTHLY;BYDAY=1MO");
        assert_eq!(rule("on the last day of every month"), "FREQ=MONTHLY;BYMONTHDAY=-1");
        assert_eq!(rule("the second tuesday of every month"), "FREQ=MONTHLY;BYDAY=2TU");
        assert_eq!(rule("every 15th"), "FREQ=MONTHLY;BYMONTHDAY=15");
        assert_eq!(rule("every year on March 3"), "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3");
        assert_eq!(rule("every 3rd of march"), "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3");
        assert_eq!(rule("on march 3 every year"), "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3");
        assert_eq!(rule("monthly on the 1st"), "FREQ=MONTHLY;BYMONTHDAY=1");
        assert!(
            rule_at(&Sentence::new("every year on february 30"), 0, &ctx())
                .and_then(|(r, _)| r.rrule(&ctx()))
                .is_none()
        );
    }

    #[test]
    fn tails() {
        assert_eq!(rule("every day until december 31"), "FREQ=DAILY;UNTIL=20261231T235959Z");
        let s = Sentence::new("every monday starting next week");
        let (spec, _) = rule_at(&s, 0, &ctx()).unwrap();
        assert_eq!(spec.start, NaiveDate::from_ymd_opt(2026, 11, 30));
        let s = Sentence::new("every! 3 days");
        assert!(rule_at(&s, 0, &ctx()).unwrap().0.from_completion);
    }

    #[test]
    fn first_due_dates() {
        let c = ctx();
        let due = |phrase: &str, when: When| {
            let s = Sentence::new(phrase);
            let (spec, _) = rule_at(&s, 0, &c).unwrap();
            let d = spec.first_due(&when, &c).unwrap();
            (d.at.to_rfc3339(), d.all_day)
        };
        let at = |h, m| When {
            time: Some(datetime::Clock { hour: h, minute: m, meridiem: None, h24: true, end_of_day: false }),
            ..When::default()
        };
        assert_eq!(due("every monday", When::default()), ("2026-11-30T00:00:00+00:00".into(), true));
        assert_eq!(due("every day", When::default()), ("2026-11-26T00:00:00+00:00".into(), true));
        assert_eq!(due("daily", at(8, 0)), ("2026-11-27T08:00:00+00:00".into(), false));
        assert_eq!(due("every weekday", at(9, 30)), ("2026-11-26T09:30:00+00:00".into(), false));
        assert_eq!(due("every last friday of the month", When::default()), ("2026-11-27T00:00:00+00:00".into(), true));
        assert_eq!(due("every first monday of the month", When::default()), ("2026-12-07T00:00:00+00:00".into(), true));
        assert_eq!(due("every year on march 3", When::default()), ("2027-03-03T00:00:00+00:00".into(), true));
        assert_eq!(due("every morning", When::default()), ("2026-11-26T09:00:00+00:00".into(), false));
        assert_eq!(due("every evening", When::default()), ("2026-11-26T18:00:00+00:00".into(), false));
    }
}
