//! Recurrence rules (RFC 5545 RRULE through the `rrule` crate) and the engine that
//! finds the next occurrence, computed in the user's time zone so that "every day
//! at 09:00 Europe/Berlin" stays at 09:00 local time across DST changes.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ValidationError;

str_enum!(
    /// Where the next occurrence of a recurring task counts from: its due date
    /// (a fixed schedule) or the moment it was completed (Todoist's `every!`).
    RepeatFrom {
        /// From the due date: a fixed schedule.
        #[default]
        Due = "due",
        /// From the moment the task was completed.
        Completion = "completion",
    } field = "repeat_from"
);

/// Longest accepted RRULE string.
pub const RRULE_MAX_LEN: usize = 500;

/// Occurrences the engine walks before it gives up looking for the next one
/// (a daily rule completed ten years late still fits).
const MAX_STEPS: usize = 20_000;

/// A validated RFC 5545 recurrence rule such as `FREQ=WEEKLY;BYDAY=MO`, kept
/// without the `RRULE:` prefix and without `DTSTART` (the task's due date anchors it).
///
/// Not accepted: `COUNT` (a task series has no fixed start to count from; use
/// `UNTIL`), and `SECONDLY`/`MINUTELY` frequencies (no task repeats that fast).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize, ToSchema)]
#[serde(try_from = "String")]
#[schema(value_type = String, example = "FREQ=WEEKLY;BYDAY=MO,TH")]
pub struct Recurrence(String);

crate::domain::serialize_as_str!(Recurrence);

impl Recurrence {
    /// Parses an RRULE (with or without the `RRULE:` prefix); refuses `COUNT`, `SECONDLY`, `MINUTELY` and rules the `rrule` crate rejects.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let err = |m: String| ValidationError::new("recurrence", m);
        let t = s.trim();
        if t.len() > RRULE_MAX_LEN {
            return Err(err(format!("recurrence is longer than {RRULE_MAX_LEN} characters")));
        }
        let upper = t.to_ascii_uppercase();
        let body = upper.strip_prefix("RRULE:").unwrap_or(&upper);
        if body.contains('\n') || body.contains("DTSTART") {
            return Err(err("recurrence must be a single RRULE without DTSTART".into()));
        }
        let rule: RRule<Unvalidated> =
            body.parse().map_err(|e| err(format!("recurrence is not a valid RFC 5545 RRULE: {e}")))?;
        if rule.get_count().is_some() {
            return Err(err("recurrence COUNT is not supported; use UNTIL".into()));
        }
        if matches!(rule.get_freq(), Frequency::Secondly | Frequency::Minutely) {
            return Err(err("recurrence must repeat at most hourly".into()));
        }
        let anchor = rrule::Tz::UTC.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        rule.validate(anchor).map_err(|e| err(format!("recurrence is not a valid RFC 5545 RRULE: {e}")))?;
        // Canonical text: the rule as given, uppercased, without empty parts. Not
        // the rrule crate's Display, which prints BYDAY=1MO as BYDAY=MO (0.14).
        let parts: Vec<&str> = body.split(';').map(str::trim).filter(|p| !p.is_empty()).collect();
        Ok(Self(parts.join(";")))
    }

    /// The rule as stored, without the `RRULE:` prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Words for the rule: "every Monday and Thursday", "every 2 weeks", "monthly on
    /// the 1st", "every last Friday of the month", "every weekday"; the RRULE itself
    /// when it says more than these forms can.
    pub fn describe(&self) -> String {
        describe_rule(&self.0).unwrap_or_else(|| self.0.clone())
    }

    /// How often the rule repeats.
    pub fn frequency(&self) -> Frequency {
        self.rule().get_freq()
    }

    fn rule(&self) -> RRule<Unvalidated> {
        self.0.parse().expect("a Recurrence holds a parsable rule")
    }

    /// All occurrences of the rule anchored at `dtstart` (in `tz`), in order.
    fn occurrences(&self, dtstart: DateTime<Tz>) -> impl Iterator<Item = DateTime<Utc>> {
        let tz = rrule::Tz::Tz(dtstart.timezone());
        let set: Option<RRuleSet> = self.rule().build(dtstart.with_timezone(&tz)).ok();
        set.into_iter().flat_map(|s| s.limit().into_iter()).take(MAX_STEPS).map(|d| d.with_timezone(&Utc))
    }

    /// The first occurrence of the rule anchored at `dtstart` that is at or after
    /// `threshold`. Used when a recurring task is created: its `due_at` is the first
    /// occurrence at or after now.
    pub fn first_at_or_after(&self, dtstart: DateTime<Tz>, threshold: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.occurrences(dtstart).find(|d| *d >= threshold)
    }

    /// The due time of the occurrence that follows one completed at `completed_at`.
    ///
    /// - `RepeatFrom::Due` keeps the schedule anchored on `due_at`: the first
    ///   occurrence after both the current due time and the completion (missed
    ///   occurrences of an overdue task are skipped, not replayed).
    /// - `RepeatFrom::Completion` counts from the completion day, keeping the task's
    ///   time of day (hourly rules count from the completion instant).
    /// - A task without a due time repeats from its completion day, all day.
    ///
    /// `None` when the rule has ended (`UNTIL` passed).
    pub fn next_after_completion(
        &self,
        due_at: Option<DateTime<Utc>>,
        all_day: bool,
        repeat_from: RepeatFrom,
        completed_at: DateTime<Utc>,
        tz: Tz,
    ) -> Option<DateTime<Utc>> {
        match (repeat_from, due_at) {
            (RepeatFrom::Due, Some(due)) => {
                let after = due.max(completed_at);
                self.occurrences(due.with_timezone(&tz)).find(|d| *d > after)
            }
            _ => {
                let anchor = if self.frequency() == Frequency::Hourly {
                    completed_at.with_timezone(&tz)
                } else {
                    let day = completed_at.with_timezone(&tz).date_naive();
                    let time = match due_at {
                        Some(due) if !all_day => due.with_timezone(&tz).time(),
                        _ => NaiveTime::MIN,
                    };
                    local_datetime(tz, day, time)
                };
                let after = anchor.with_timezone(&Utc);
                self.occurrences(anchor).find(|d| *d > after)
            }
        }
    }
}

fn describe_rule(rule: &str) -> Option<String> {
    const DAYS: [(&str, &str); 7] = [
        ("MO", "Monday"),
        ("TU", "Tuesday"),
        ("WE", "Wednesday"),
        ("TH", "Thursday"),
        ("FR", "Friday"),
        ("SA", "Saturday"),
        ("SU", "Sunday"),
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut freq = None;
    let mut interval = 1u32;
    let (mut byday, mut bymonthday, mut bymonth) = (None, None, None);
    for part in rule.split(';') {
        let (k, v) = part.split_once('=')?;
        match k {
            "FREQ" => freq = Some(v),
            "INTERVAL" => interval = v.parse().ok()?,
            "BYDAY" => byday = Some(v),
            "BYMONTHDAY" => bymonthday = Some(v),
            "BYMONTH" => bymonth = Some(v),
            "WKST" => {}
            _ => return None,
        }
    }
    let ordinal = |n: i32| -> String {
        match n {
            -1 => "last".into(),
            -2 => "second to last".into(),
            1 => "first".into(),
            2 => "second".into(),
            3 => "third".into(),
            4 => "fourth".into(),
            5 => "fifth".into(),
            _ => format!("{n}th"),
        }
    };
    let nth = |n: i32| -> String {
        let suffix = match (n % 10, n % 100) {
            (1, 11) | (2, 12) | (3, 13) => "th",
            (1, _) => "st",
            (2, _) => "nd",
            (3, _) => "rd",
            _ => "th",
        };
        if n == -1 { "last day".into() } else { format!("{n}{suffix}") }
    };
    let day_name = |code: &str| DAYS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n);
    // One ordinal weekday, `1MO` or `-1FR`: "first Monday", "last Friday".
    let nth_weekday = |day: &str| -> Option<String> {
        let (n, code) = day.split_at(day.len().checked_sub(2)?);
        Some(format!("{} {}", ordinal(n.parse().ok()?), day_name(code)?))
    };
    let month = |m: &str| MONTHS.get(m.parse::<usize>().ok()?.checked_sub(1)?).copied();
    let join = |items: Vec<String>| -> String {
        match items.len() {
            0 => String::new(),
            1 => items[0].clone(),
            n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
        }
    };
    let every = |unit: &str| if interval == 1 { format!("every {unit}") } else { format!("every {interval} {unit}s") };
    let text = match (freq?, byday, bymonthday, bymonth) {
        ("HOURLY", None, None, None) => every("hour"),
        ("DAILY", None, None, None) => every("day"),
        ("WEEKLY", None, None, None) => every("week"),
        ("WEEKLY", Some("MO,TU,WE,TH,FR"), None, None) if interval == 1 => "every weekday".into(),
        ("WEEKLY", Some("SA,SU"), None, None) if interval == 1 => "every weekend".into(),
        ("WEEKLY", Some(days), None, None) => {
            let names: Vec<String> = days.split(',').map(|d| day_name(d).map(str::to_owned)).collect::<Option<_>>()?;
            let lead = if interval == 1 { "every".to_owned() } else { format!("every {interval} weeks on") };
            format!("{lead} {}", join(names))
        }
        ("MONTHLY", None, None, None) => every("month"),
        ("MONTHLY", None, Some(days), None) => {
            let ns: Vec<String> = days.split(',').map(|d| d.parse().ok().map(nth)).collect::<Option<_>>()?;
            format!("{} on the {}", if interval == 1 { "monthly".to_owned() } else { every("month") }, join(ns))
        }
        ("MONTHLY", Some(day), None, None) => {
            let lead = if interval == 1 { "every".to_owned() } else { format!("every {interval} months, the") };
            format!("{lead} {} of the month", nth_weekday(day)?)
        }
        ("YEARLY", None, None, None) => every("year"),
        ("YEARLY", None, Some(d), Some(m)) => {
            format!("{} on {} {}", every("year"), month(m)?, d.parse().ok().map(nth)?)
        }
        ("YEARLY", Some(day), None, Some(m)) => {
            let lead = if interval == 1 { "every".to_owned() } else { format!("every {interval} years, the") };
            format!("{lead} {} of {}", nth_weekday(day)?, month(m)?)
        }
        _ => return None,
    };
    Some(text)
}

/// `day` at `time` in `tz`; a time skipped by a DST gap moves forward past the gap,
/// an ambiguous one takes the earlier instant.
pub fn local_datetime(tz: Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Tz> {
    let naive = day.and_time(time);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(d) => d,
        chrono::LocalResult::Ambiguous(a, _) => a,
        chrono::LocalResult::None => {
            // Walk forward minute by minute out of the gap (gaps are at most a few hours).
            (1..=24 * 60)
                .find_map(|m| tz.from_local_datetime(&(naive + chrono::Duration::minutes(m))).earliest())
                .unwrap_or_else(|| tz.from_utc_datetime(&naive))
        }
    }
}

impl TryFrom<String> for Recurrence {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Recurrence> for String {
    fn from(r: Recurrence) -> Self {
        r.0
    }
}

impl fmt::Display for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn rule(s: &str) -> Recurrence {
        Recurrence::parse(s).unwrap()
    }

    #[test]
    fn parses_and_canonicalises() {
        assert_eq!(rule("RRULE:freq=weekly;byday=MO").as_str(), "FREQ=WEEKLY;BYDAY=MO");
        assert_eq!(rule("FREQ=MONTHLY;BYDAY=-1FR").as_str(), "FREQ=MONTHLY;BYDAY=-1FR");
    }

    #[test]
    fn keeps_the_first_weekday_of_the_month() {
        let r = rule("FREQ=MONTHLY;BYDAY=1MO");
        assert_eq!(r.as_str(), "FREQ=MONTHLY;BYDAY=1MO");
        let due = utc("2026-12-07T09:00:00Z");
        assert_eq!(
            r.next_after_completion(Some(due), false, RepeatFrom::Due, due, Tz::UTC),
            Some(utc("2027-01-04T09:00:00Z"))
        );
    }

    #[test]
    fn describes_common_rules_in_words() {
        for (r, words) in [
            ("FREQ=DAILY", "every day"),
            ("FREQ=WEEKLY;INTERVAL=2", "every 2 weeks"),
            ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday"),
            ("FREQ=WEEKLY;BYDAY=TU,TH", "every Tuesday and Thursday"),
            ("FREQ=MONTHLY;BYMONTHDAY=1", "monthly on the 1st"),
            ("FREQ=MONTHLY;BYMONTHDAY=-1", "monthly on the last day"),
            ("FREQ=MONTHLY;BYDAY=-1FR", "every last Friday of the month"),
            ("FREQ=MONTHLY;BYDAY=1MO", "every first Monday of the month"),
            ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3", "every year on March 3rd"),
            ("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "every fourth Thursday of November"),
            ("FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO", "every last Monday of May"),
            ("FREQ=MONTHLY;BYDAY=MO,FR", "FREQ=MONTHLY;BYDAY=MO,FR"),
            ("FREQ=YEARLY", "every year"),
            ("FREQ=DAILY;UNTIL=20261201T000000Z", "FREQ=DAILY;UNTIL=20261201T000000Z"),
        ] {
            assert_eq!(rule(r).describe(), words, "{r}");
        }
    }

    #[test]
    fn rejects_bad_rules() {
        for bad in [
            "",
            "FREQ=SOMETIMES",
            "BYDAY=MO",
            "FREQ=DAILY;COUNT=3",
            "FREQ=MINUTELY",
            "FREQ=WEEKLY;BYDAY=XX",
            "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY",
        ] {
            assert!(Recurrence::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Recurrence::parse(&"FREQ=DAILY;".repeat(100)).is_err());
    }

    #[test]
    fn daily_stays_at_local_time_across_dst() {
        // Europe/Berlin springs forward on 2026-03-29: 09:00 CET = 08:00Z, 09:00 CEST = 07:00Z.
        let r = rule("FREQ=DAILY");
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let due = utc("2026-03-28T08:00:00Z");
        let next = r.next_after_completion(Some(due), false, RepeatFrom::Due, due, berlin).unwrap();
        assert_eq!(next, utc("2026-03-29T07:00:00Z"));
        // and back in autumn (2026-10-25)
        let due = utc("2026-10-24T07:00:00Z");
        let next = r.next_after_completion(Some(due), false, RepeatFrom::Due, due, berlin).unwrap();
        assert_eq!(next, utc("2026-10-25T08:00:00Z"));
    }

    #[test]
    fn last_friday_of_month() {
        let r = rule("FREQ=MONTHLY;BYDAY=-1FR");
        let mut due = utc("2026-11-27T00:00:00Z");
        let mut seen = vec![];
        for _ in 0..3 {
            due = r
                .next_after_completion(Some(due), true, RepeatFrom::Due, utc("2026-11-26T10:00:00Z"), Tz::UTC)
                .unwrap();
            seen.push(due);
        }
        assert_eq!(seen, vec![utc("2026-12-25T00:00:00Z"), utc("2027-01-29T00:00:00Z"), utc("2027-02-26T00:00:00Z")]);
    }

    #[test]
    fn nth_weekday_and_last_day_of_month() {
        let second_tuesday = rule("FREQ=MONTHLY;BYDAY=2TU");
        let due = utc("2026-11-10T09:00:00Z");
        assert_eq!(
            second_tuesday.next_after_completion(Some(due), false, RepeatFrom::Due, due, Tz::UTC),
            Some(utc("2026-12-08T09:00:00Z"))
        );
        let last_day = rule("FREQ=MONTHLY;BYMONTHDAY=-1");
        let due = utc("2027-01-31T00:00:00Z");
        assert_eq!(
            last_day.next_after_completion(Some(due), true, RepeatFrom::Due, due, Tz::UTC),
            Some(utc("2027-02-28T00:00:00Z"))
        );
    }

    #[test]
    fn monthly_on_the_31st_skips_short_months() {
        let r = rule("FREQ=MONTHLY;BYMONTHDAY=31");
        let due = utc("2027-01-31T00:00:00Z");
        assert_eq!(
            r.next_after_completion(Some(due), true, RepeatFrom::Due, due, Tz::UTC),
            Some(utc("2027-03-31T00:00:00Z"))
        );
    }

    #[test]
    fn overdue_due_based_skips_missed_occurrences() {
        let r = rule("FREQ=DAILY");
        let due = utc("2026-11-20T09:00:00Z");
        let next = r.next_after_completion(Some(due), false, RepeatFrom::Due, utc("2026-11-26T10:00:00Z"), Tz::UTC);
        assert_eq!(next, Some(utc("2026-11-27T09:00:00Z")));
    }

    #[test]
    fn early_completion_keeps_the_schedule() {
        let r = rule("FREQ=WEEKLY;BYDAY=MO");
        let due = utc("2026-11-30T00:00:00Z");
        let next = r.next_after_completion(Some(due), true, RepeatFrom::Due, utc("2026-11-28T10:00:00Z"), Tz::UTC);
        assert_eq!(next, Some(utc("2026-12-07T00:00:00Z")));
    }

    #[test]
    fn repeat_from_completion_keeps_time_of_day() {
        let r = rule("FREQ=DAILY;INTERVAL=3");
        let due = utc("2026-11-20T09:00:00Z");
        let next =
            r.next_after_completion(Some(due), false, RepeatFrom::Completion, utc("2026-11-26T15:00:00Z"), Tz::UTC);
        assert_eq!(next, Some(utc("2026-11-29T09:00:00Z")));
    }

    #[test]
    fn repeat_from_completion_in_local_time() {
        // Completed 23:30 in New York on Nov 26 (04:30Z on the 27th): counts from the 26th local.
        let ny: Tz = "America/New_York".parse().unwrap();
        let r = rule("FREQ=DAILY");
        let next = r.next_after_completion(
            Some(utc("2026-11-20T14:00:00Z")),
            false,
            RepeatFrom::Completion,
            utc("2026-11-27T04:30:00Z"),
            ny,
        );
        assert_eq!(next, Some(utc("2026-11-27T14:00:00Z")));
    }

    #[test]
    fn without_due_date_repeats_from_completion_day() {
        let r = rule("FREQ=WEEKLY;INTERVAL=2");
        let next = r.next_after_completion(None, false, RepeatFrom::Due, utc("2026-11-26T15:00:00Z"), Tz::UTC);
        assert_eq!(next, Some(utc("2026-12-10T00:00:00Z")));
    }

    #[test]
    fn hourly_from_completion_counts_from_the_instant() {
        let r = rule("FREQ=HOURLY;INTERVAL=2");
        let next = r.next_after_completion(None, false, RepeatFrom::Completion, utc("2026-11-26T15:10:00Z"), Tz::UTC);
        assert_eq!(next, Some(utc("2026-11-26T17:10:00Z")));
    }

    #[test]
    fn until_ends_the_series() {
        let r = rule("FREQ=DAILY;UNTIL=20261127T000000Z");
        let due = utc("2026-11-26T09:00:00Z");
        assert_eq!(r.next_after_completion(Some(due), false, RepeatFrom::Due, due, Tz::UTC), None);
    }

    #[test]
    fn first_at_or_after_is_inclusive() {
        let r = rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
        let start = Tz::UTC.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap();
        assert_eq!(r.first_at_or_after(start, utc("2026-11-26T09:00:00Z")), Some(utc("2026-11-26T09:30:00Z")));
        assert_eq!(r.first_at_or_after(start, utc("2026-11-26T09:30:00Z")), Some(utc("2026-11-26T09:30:00Z")));
        assert_eq!(r.first_at_or_after(start, utc("2026-11-26T09:31:00Z")), Some(utc("2026-11-27T09:30:00Z")));
    }
}
