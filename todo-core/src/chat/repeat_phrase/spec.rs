//! [`RuleSpec`]: a recognised recurrence, printed as an RRULE, and its first due time.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, Timelike, Utc, Weekday};

use crate::chat::command::RecurrenceRule;
use crate::chat::datetime::{Ctx, Due, Period, When};
use crate::chat::vocab;
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
    pub(super) fn new(freq: Freq) -> Self {
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

    pub(super) fn every(freq: Freq, interval: u32) -> Self {
        Self { interval, ..Self::new(freq) }
    }

    pub(super) fn weekly_on(days: Vec<Weekday>, interval: u32) -> Self {
        Self { by_day: days.into_iter().map(|d| (0, d)).collect(), ..Self::every(Freq::Weekly, interval) }
    }

    /// Leaves `days` out of the rule ("every weekday except fridays", "every day
    /// but sunday"): a weekly rule on weekdays loses them, a plain daily rule
    /// becomes weekly on the other days. `false` (the rule unchanged) when that
    /// says nothing or everything: a rule without weekdays to remove from
    /// ("every 2 days", "every month"), none of `days` in it, or no day left.
    pub fn without(&mut self, days: &[Weekday]) -> bool {
        let all = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
        let from: Vec<Weekday> = match self.freq {
            Freq::Weekly if !self.by_day.is_empty() && self.by_day.iter().all(|(n, _)| *n == 0) => {
                self.by_day.iter().map(|(_, d)| *d).collect()
            }
            Freq::Daily if self.interval == 1 && self.by_day.is_empty() && self.by_month_day.is_empty() => all.to_vec(),
            _ => return false,
        };
        let left: Vec<Weekday> = from.iter().copied().filter(|d| !days.contains(d)).collect();
        if left.is_empty() || left.len() == from.len() {
            return false;
        }
        self.freq = Freq::Weekly;
        self.by_day = left.into_iter().map(|d| (0, d)).collect();
        true
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

    pub(super) fn rrule(&self, ctx: &Ctx) -> Option<String> {
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
