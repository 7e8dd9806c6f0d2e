//! The date and time grammar: "tomorrow at 5pm", "next friday", "on December 3",
//! "in 30 minutes", "at the end of the month", "2026-12-10 14:30".
//!
//! A phrase is read as a sequence of [`Piece`]s (a date, a clock time, a part of
//! the day, or an exact instant) gathered into a [`When`], which is resolved in
//! the user's time zone only at the end, so "at 3pm on friday" and "friday at
//! 3pm" mean the same. All calendar arithmetic goes through chrono; local times
//! become instants through [`local_datetime`], which handles DST gaps and folds.
//!
//! The pieces' grammars live in `calendar` (dates), `clock` (times of day) and
//! `span` (lengths of time). Defaults chosen here (see docs/chat.md): morning
//! 09:00, afternoon 15:00, evening 18:00, night and tonight 20:00; a bare time
//! already past today means tomorrow; midnight is the end of the named day.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

pub(crate) use super::calendar::date_at;
pub(crate) use super::clock::{Clock, time_at};
use super::lexer::Sentence;
pub(crate) use super::span::{Span, span_at};
use crate::domain::recurrence::local_datetime;

/// The instant of the message and the user's calendar.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub today: NaiveDate,
    /// Read as a turn of a conversation: what is said relative to a task ("6pm",
    /// "an hour before") is kept for the chat service to fit to that task.
    pub convo: bool,
}

impl Ctx {
    pub fn new(now: DateTime<Utc>, tz: Tz) -> Self {
        Self { now, tz, today: now.with_timezone(&tz).date_naive(), convo: false }
    }

    /// This context, for a turn of a conversation.
    pub fn conversing(self) -> Self {
        Self { convo: true, ..self }
    }

    /// Local midnight of `d` as an instant.
    pub fn midnight(&self, d: NaiveDate) -> DateTime<Utc> {
        self.at(d, NaiveTime::MIN)
    }

    pub fn at(&self, d: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
        local_datetime(self.tz, d, t).with_timezone(&Utc)
    }

    /// Monday of the current week (weeks start on Monday).
    pub fn monday(&self) -> NaiveDate {
        self.today.week(Weekday::Mon).first_day()
    }

    pub fn plus_days(&self, n: u64) -> Option<NaiveDate> {
        self.today.checked_add_days(Days::new(n))
    }
}

/// A part of the day, used alone ("tomorrow morning") or to place a bare hour
/// ("at 7 in the evening").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Period {
    Morning,
    Afternoon,
    Evening,
    Night,
}

impl Period {
    pub fn from_word(w: &str) -> Option<Self> {
        match w {
            "morning" => Some(Self::Morning),
            "afternoon" => Some(Self::Afternoon),
            "evening" => Some(Self::Evening),
            "night" | "tonight" => Some(Self::Night),
            _ => None,
        }
    }

    fn default_time(self) -> NaiveTime {
        let h = match self {
            Self::Morning => 9,
            Self::Afternoon => 15,
            Self::Evening => 18,
            Self::Night => 20,
        };
        NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)
    }
}

/// One recognised piece of a date/time phrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Date(NaiveDate),
    /// "tonight", "tomorrow morning".
    DatePeriod(NaiveDate, Period),
    Time(Clock),
    /// "in the evening", "at night".
    Period(Period),
    /// "in 30 minutes".
    Instant(DateTime<Utc>),
}

/// How sure a match is. A bare weekday ("read the sunday paper") is only taken
/// where it sits at the edge of the remaining text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strength {
    Strong,
    Weak,
}

/// A date/time phrase, assembled from pieces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct When {
    pub date: Option<NaiveDate>,
    pub time: Option<Clock>,
    pub period: Option<Period>,
    pub instant: Option<DateTime<Utc>>,
}

/// A resolved due time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Due {
    pub at: DateTime<Utc>,
    pub all_day: bool,
}

impl When {
    /// Takes `p` if its slot is free; a second date in one sentence is left alone.
    pub fn accept(&mut self, p: Piece) -> bool {
        match p {
            Piece::Date(d) if self.date.is_none() && self.instant.is_none() => self.date = Some(d),
            Piece::DatePeriod(d, per) if self.date.is_none() && self.period.is_none() && self.instant.is_none() => {
                self.date = Some(d);
                self.period = Some(per);
            }
            Piece::Time(c) if self.time.is_none() && self.instant.is_none() => self.time = Some(c),
            Piece::Period(per) if self.period.is_none() && self.instant.is_none() => {
                self.period = Some(per);
            }
            Piece::Instant(t) if self.is_empty() => self.instant = Some(t),
            _ => return false,
        }
        true
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The local time of day, and whether it is the end of the day (midnight).
    pub fn time_of_day(&self) -> Option<(NaiveTime, bool)> {
        match (self.time, self.period) {
            (Some(c), _) if c.end_of_day => Some((NaiveTime::MIN, true)),
            (Some(c), p) => Some((c.time(p), false)),
            (None, Some(p)) => Some((p.default_time(), false)),
            (None, None) => None,
        }
    }

    /// The due time this phrase names, or `None` if it names nothing.
    pub fn resolve(&self, ctx: &Ctx) -> Option<Due> {
        if let Some(at) = self.instant {
            return Some(Due { at, all_day: false });
        }
        match (self.date, self.time_of_day()) {
            (None, None) => None,
            (Some(d), None) => Some(Due { at: ctx.midnight(d), all_day: true }),
            (Some(d), Some((t, end))) => {
                let d = if end { d.succ_opt()? } else { d };
                Some(Due { at: ctx.at(d, t), all_day: false })
            }
            (None, Some((t, end))) => {
                let first = if end { ctx.plus_days(1)? } else { ctx.today };
                let at = ctx.at(first, t);
                // A bare time already past today means tomorrow.
                let at = if at < ctx.now { ctx.at(first.succ_opt()?, t) } else { at };
                Some(Due { at, all_day: false })
            }
        }
    }

    /// Like [`When::resolve`], but a time without a date falls on `day`
    /// ("with a reminder at 8am" on the due date).
    pub fn resolve_on(&self, day: NaiveDate, ctx: &Ctx) -> Option<Due> {
        if self.date.is_none() && self.instant.is_none() && self.time_of_day().is_some() {
            return Self { date: Some(day), ..*self }.resolve(ctx);
        }
        self.resolve(ctx)
    }
}

/// Words that may stand before a date or time and belong to it.
const PREPOSITIONS: &[&str] = &["on", "by", "due", "before", "until", "till", "til", "for", "at", "@", "around"];

/// Words after which "some time" is a length of time, the object of a verb or
/// a preposition ("spend some time tomorrow", "take some time off next week",
/// "read for some time tonight"), not a loose date.
const TIME_AS_OBJECT: &[&str] = &[
    "for", "spend", "spent", "spending", "take", "took", "taking", "find", "make", "need", "have", "get", "give",
    "book", "block", "save", "set", "put", "carve", "allow", "waste", "kill", "with", "enjoy",
];

/// Reads one date/time piece at `i`, with the prepositions before it, and a
/// "sometime" next to it that only says the date is loose ("sometime next
/// week", "friday sometime").
pub(crate) fn piece_at(s: &Sentence, i: usize, ctx: &Ctx) -> Option<(Piece, usize, Strength)> {
    let mut j = i;
    if s.is(j, "sometime") {
        j += 1;
    } else if s.seq(j, &["some", "time"]).is_some() && !(j > 0 && s.is_any(j - 1, TIME_AS_OBJECT)) {
        j += 2;
    }
    let (mut at, mut prep, first) = (false, j > i, j);
    while j < first + 3 && s.is_any(j, PREPOSITIONS) {
        at |= s.is_any(j, &["at", "@", "around"]);
        prep = true;
        j += 1;
    }
    let (p, mut j, strength) = piece_bare_at(s, j, ctx, at, prep)?;
    // "next week sometime"; "some time" only where the words end.
    if s.is(j, "sometime") {
        j += 1;
    } else if s.seq(j, &["some", "time"]).is_some() && (j + 2 == s.len() || s.is_any_punct(j + 2)) {
        j += 2;
    }
    Some((p, j, strength))
}

fn piece_bare_at(s: &Sentence, i: usize, ctx: &Ctx, at: bool, prep: bool) -> Option<(Piece, usize, Strength)> {
    let strong = |(p, j): (Piece, usize)| (p, j, Strength::Strong);
    if let Some(r) = time_at(s, i, at) {
        return Some(strong(r));
    }
    if let Some(r) = date_at(s, i, ctx, prep) {
        return Some(r);
    }
    if (s.is(i, "in") || s.is(i, "within"))
        && let Some((span, j)) = span_at(s, i + 1)
    {
        return Some(strong((span.after_now(ctx)?, j)));
    }
    // "2 days from now", "a week from today"
    if let Some((span, j)) = span_at(s, i)
        && let Some(k) =
            s.seq(j, &["from", "now"]).or_else(|| s.seq(j, &["from", "today"])).or_else(|| s.seq(j, &["later"]))
    {
        return Some(strong((span.after_now(ctx)?, k)));
    }
    period_at(s, i).map(strong)
}

/// "in the morning", "at night", "this evening" (today), "in the afternoon".
fn period_at(s: &Sentence, i: usize) -> Option<(Piece, usize)> {
    let (p, j) = if let Some(j) = s.seq(i, &["in", "the"]).or_else(|| s.seq(i, &["during", "the"])) {
        (Period::from_word(s.w(j)?)?, j)
    } else if s.seq(i, &["at", "night"]).is_some() {
        (Period::Night, i + 1)
    } else {
        return None;
    };
    (s.w(j) != Some("tonight")).then_some((Piece::Period(p), j + 1))
}

/// A run of date/time pieces starting at `i` (as after "remind me" or "move
/// task 2 to"), all taken as strong. Returns the phrase and where it ends.
pub(crate) fn when_seq(s: &Sentence, i: usize, ctx: &Ctx) -> (When, usize) {
    let mut when = When::default();
    let mut j = i;
    while let Some((p, k, _)) = piece_at(s, j, ctx) {
        if !when.accept(p) {
            break;
        }
        j = k;
        if s.is_punct(j, ',') && piece_at(s, j + 1, ctx).is_some() {
            j += 1;
        }
    }
    (when, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(now: &str, tz: &str) -> Ctx {
        let now = DateTime::parse_from_rfc3339(now).unwrap().with_timezone(&Utc);
        Ctx::new(now, tz.parse().unwrap())
    }

    /// Resolves the whole phrase; panics if a word is left over.
    fn due(phrase: &str, c: &Ctx) -> (String, bool) {
        let s = Sentence::new(phrase);
        let (when, end) = when_seq(&s, 0, c);
        assert_eq!(end, s.len(), "{phrase:?} not fully read: {when:?}");
        let d = when.resolve(c).unwrap_or_else(|| panic!("{phrase:?} resolves"));
        (d.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), d.all_day)
    }

    fn timed(phrase: &str, c: &Ctx) -> String {
        let (at, all_day) = due(phrase, c);
        assert!(!all_day, "{phrase:?} should have a time");
        at
    }

    fn day(phrase: &str, c: &Ctx) -> String {
        let (at, all_day) = due(phrase, c);
        assert!(all_day, "{phrase:?} should be all day");
        at
    }

    // Thursday 2026-11-26 09:00 UTC.
    fn thu() -> Ctx {
        ctx("2026-11-26T09:00:00Z", "UTC")
    }

    #[test]
    fn relative_days() {
        let c = thu();
        assert_eq!(day("today", &c), "2026-11-26T00:00:00Z");
        assert_eq!(day("tomorrow", &c), "2026-11-27T00:00:00Z");
        assert_eq!(day("the day after tomorrow", &c), "2026-11-28T00:00:00Z");
        assert_eq!(day("in 3 days", &c), "2026-11-29T00:00:00Z");
        assert_eq!(day("in two weeks", &c), "2026-12-10T00:00:00Z");
        assert_eq!(day("in a month", &c), "2026-12-26T00:00:00Z");
        assert_eq!(day("3 days from now", &c), "2026-11-29T00:00:00Z");
    }

    #[test]
    fn weekdays_are_strictly_after_today() {
        let c = thu();
        assert_eq!(day("friday", &c), "2026-11-27T00:00:00Z");
        assert_eq!(day("next friday", &c), "2026-11-27T00:00:00Z");
        assert_eq!(day("on thursday", &c), "2026-12-03T00:00:00Z");
        assert_eq!(day("next thursday", &c), "2026-12-03T00:00:00Z");
        assert_eq!(day("this thursday", &c), "2026-11-26T00:00:00Z");
        assert_eq!(day("on mon", &c), "2026-11-30T00:00:00Z");
        assert_eq!(day("friday next week", &c), "2026-12-04T00:00:00Z");
        assert_eq!(day("next week", &c), "2026-11-30T00:00:00Z");
        assert_eq!(day("next month", &c), "2026-12-01T00:00:00Z");
        assert_eq!(day("this weekend", &c), "2026-11-28T00:00:00Z");
    }

    #[test]
    fn ends_of_periods() {
        let c = thu();
        assert_eq!(day("at the end of the month", &c), "2026-11-30T00:00:00Z");
        assert_eq!(day("by end of month", &c), "2026-11-30T00:00:00Z");
        assert_eq!(day("end of next month", &c), "2026-12-31T00:00:00Z");
        assert_eq!(day("end of the week", &c), "2026-11-29T00:00:00Z");
        let feb = ctx("2028-02-10T09:00:00Z", "UTC");
        assert_eq!(day("end of the month", &feb), "2028-02-29T00:00:00Z");
        // A month by name: its last day, next year's once this year's has passed.
        assert_eq!(day("by the end of january", &c), "2027-01-31T00:00:00Z");
        assert_eq!(day("end of november", &c), "2026-11-30T00:00:00Z");
        assert_eq!(day("end of feb", &feb), "2028-02-29T00:00:00Z");
        assert_eq!(day("end of february", &c), "2027-02-28T00:00:00Z");
        assert_eq!(day("the end of june 2028", &c), "2028-06-30T00:00:00Z");
        let dec = ctx("2026-12-01T09:00:00Z", "UTC");
        assert_eq!(day("end of november", &dec), "2027-11-30T00:00:00Z");
    }

    #[test]
    fn days_named_within_a_month() {
        let c = thu();
        assert_eq!(day("on the last friday of the month", &c), "2026-11-27T00:00:00Z");
        assert_eq!(day("the first monday of next month", &c), "2026-12-07T00:00:00Z");
        assert_eq!(day("the first monday of the month", &c), "2026-12-07T00:00:00Z");
        assert_eq!(day("on the last day of the month", &c), "2026-11-30T00:00:00Z");
        assert_eq!(day("the 1st of next month", &c), "2026-12-01T00:00:00Z");
        assert_eq!(day("by eod", &c), "2026-11-26T00:00:00Z");
        assert_eq!(day("in a fortnight", &c), "2026-12-10T00:00:00Z");
    }

    #[test]
    fn days_named_within_a_month_by_name() {
        let c = thu();
        assert_eq!(day("the first monday of january", &c), "2027-01-04T00:00:00Z");
        assert_eq!(day("on the second sunday of may", &c), "2027-05-09T00:00:00Z");
        assert_eq!(day("the first friday in april 2028", &c), "2028-04-07T00:00:00Z");
        // This year's until it has passed: today's counts.
        assert_eq!(day("the fourth thursday of november", &c), "2026-11-26T00:00:00Z");
        assert_eq!(day("the last thursday of november", &c), "2026-11-26T00:00:00Z");
        assert_eq!(day("the third thursday of november", &c), "2027-11-18T00:00:00Z");
        assert_eq!(day("by the last day of february", &c), "2027-02-28T00:00:00Z");
        assert_eq!(timed("the first monday of january at 10am", &c), "2027-01-04T10:00:00Z");
        // No fifth Monday in February this year or next: not a date.
        let s = Sentence::new("the fifth monday of february");
        assert!(piece_at(&s, 0, &c).is_none());
    }

    #[test]
    fn sometime_before_a_date_goes_with_it() {
        let c = thu();
        assert_eq!(day("sometime next week", &c), "2026-11-30T00:00:00Z");
        assert_eq!(day("some time on saturday", &c), "2026-11-28T00:00:00Z");
        assert_eq!(day("sometime friday", &c), "2026-11-27T00:00:00Z");
        assert_eq!(timed("sometime around 3pm tomorrow", &c), "2026-11-27T15:00:00Z");
        assert_eq!(day("next week sometime", &c), "2026-11-30T00:00:00Z");
        assert_eq!(day("friday some time", &c), "2026-11-27T00:00:00Z");
        // A length of time, or no date after it: not a date.
        for phrase in ["sometime", "sometime soon", "spend some time tomorrow"] {
            let s = Sentence::new(phrase);
            assert!(!matches!(piece_at(&s, 0, &c), Some((_, _, Strength::Strong))), "{phrase:?}");
        }
        let s = Sentence::new("spend some time tomorrow");
        assert!(piece_at(&s, 1, &c).is_none(), "'some time' after 'spend' is not a date's");
    }

    #[test]
    fn calendar_dates() {
        let c = thu();
        assert_eq!(day("on December 3", &c), "2026-12-03T00:00:00Z");
        assert_eq!(day("dec 3rd", &c), "2026-12-03T00:00:00Z");
        assert_eq!(day("the 3rd of December", &c), "2026-12-03T00:00:00Z");
        assert_eq!(day("3 december 2027", &c), "2027-12-03T00:00:00Z");
        assert_eq!(day("December 3, 2027", &c), "2027-12-03T00:00:00Z");
        assert_eq!(day("2026-12-10", &c), "2026-12-10T00:00:00Z");
        assert_eq!(day("on march 3", &c), "2027-03-03T00:00:00Z");
        assert_eq!(day("on the 15th", &c), "2026-12-15T00:00:00Z");
        assert_eq!(day("on the 26th", &c), "2026-11-26T00:00:00Z");
        assert_eq!(day("25/12", &c), "2026-12-25T00:00:00Z");
        assert_eq!(day("10.12.2026", &c), "2026-12-10T00:00:00Z");
        // Ambiguous slashes follow the zone's custom.
        assert_eq!(day("12/03", &c), "2027-03-12T00:00:00Z");
        let ny = ctx("2026-11-26T14:00:00Z", "America/New_York");
        assert_eq!(day("12/03", &ny), "2026-12-03T05:00:00Z");
    }

    #[test]
    fn clock_times() {
        let c = thu();
        assert_eq!(timed("tomorrow at 5pm", &c), "2026-11-27T17:00:00Z");
        assert_eq!(timed("at 5:30 pm tomorrow", &c), "2026-11-27T17:30:00Z");
        assert_eq!(timed("2026-12-10 at 14:30", &c), "2026-12-10T14:30:00Z");
        assert_eq!(timed("tomorrow 9.30", &c), "2026-11-27T09:30:00Z");
        assert_eq!(timed("tomorrow at 9", &c), "2026-11-27T09:00:00Z");
        assert_eq!(timed("tomorrow at 3", &c), "2026-11-27T15:00:00Z");
        assert_eq!(timed("tomorrow at 06:30", &c), "2026-11-27T06:30:00Z");
        assert_eq!(timed("tomorrow at 7 in the evening", &c), "2026-11-27T19:00:00Z");
        assert_eq!(timed("tomorrow at noon", &c), "2026-11-27T12:00:00Z");
        assert_eq!(timed("tomorrow at half past four", &c), "2026-11-27T16:30:00Z");
        assert_eq!(timed("tomorrow at quarter to 6", &c), "2026-11-27T17:45:00Z");
        assert_eq!(timed("friday at 10 o'clock", &c), "2026-11-27T10:00:00Z");
        assert_eq!(timed("friday at 1030am", &c), "2026-11-27T10:30:00Z");
    }

    #[test]
    fn parts_of_the_day() {
        let c = thu();
        assert_eq!(timed("tonight", &c), "2026-11-26T20:00:00Z");
        assert_eq!(timed("tomorrow morning", &c), "2026-11-27T09:00:00Z");
        assert_eq!(timed("this afternoon", &c), "2026-11-26T15:00:00Z");
        assert_eq!(timed("friday evening", &c), "2026-11-27T18:00:00Z");
        assert_eq!(timed("tonight at 9", &c), "2026-11-26T21:00:00Z");
        assert_eq!(timed("in the morning", &c), "2026-11-26T09:00:00Z");
        let later = ctx("2026-11-26T09:01:00Z", "UTC");
        assert_eq!(timed("in the morning", &later), "2026-11-27T09:00:00Z");
    }

    #[test]
    fn bare_times_roll_over_to_tomorrow() {
        let c = thu();
        assert_eq!(timed("at 8am", &c), "2026-11-27T08:00:00Z");
        assert_eq!(timed("at 9am", &c), "2026-11-26T09:00:00Z");
        assert_eq!(timed("at 6pm", &c), "2026-11-26T18:00:00Z");
        assert_eq!(timed("at midnight", &c), "2026-11-27T00:00:00Z");
        assert_eq!(timed("friday at midnight", &c), "2026-11-28T00:00:00Z");
    }

    #[test]
    fn exact_offsets() {
        let c = thu();
        assert_eq!(timed("in 30 minutes", &c), "2026-11-26T09:30:00Z");
        assert_eq!(timed("in an hour", &c), "2026-11-26T10:00:00Z");
        assert_eq!(timed("in 2h", &c), "2026-11-26T11:00:00Z");
        assert_eq!(timed("in half an hour", &c), "2026-11-26T09:30:00Z");
        assert_eq!(timed("in an hour and a half", &c), "2026-11-26T10:30:00Z");
        assert_eq!(timed("in 1.5 hours", &c), "2026-11-26T10:30:00Z");
        assert_eq!(timed("in forty five minutes", &c), "2026-11-26T09:45:00Z");
    }

    #[test]
    fn time_zones_and_dst() {
        let ny = ctx("2026-11-26T14:00:00Z", "America/New_York");
        assert_eq!(timed("tomorrow at 6pm", &ny), "2026-11-27T23:00:00Z");
        // Berlin springs forward on 2026-03-29: 09:00 is 07:00Z that day, 08:00Z the day before.
        let berlin = ctx("2026-03-28T10:00:00Z", "Europe/Berlin");
        assert_eq!(timed("tomorrow at 9am", &berlin), "2026-03-29T07:00:00Z");
        assert_eq!(day("tomorrow", &berlin), "2026-03-28T23:00:00Z");
        // 02:30 does not exist that night; it moves past the gap.
        assert_eq!(timed("tomorrow at 2:30am", &berlin), "2026-03-29T01:00:00Z");
        // New York falls back on 2026-11-01: 01:30 happens twice; the first is taken.
        let ny = ctx("2026-10-31T16:00:00Z", "America/New_York");
        assert_eq!(timed("tomorrow at 1:30am", &ny), "2026-11-01T05:30:00Z");
        // Local "today" differs from UTC's.
        let tokyo = ctx("2026-11-26T16:00:00Z", "Asia/Tokyo");
        assert_eq!(day("today", &tokyo), "2026-11-26T15:00:00Z");
    }

    #[test]
    fn not_dates() {
        let c = thu();
        for phrase in ["read 2 chapters", "sunday paper", "may", "march on", "1.5", "the weekend"] {
            let s = Sentence::new(phrase);
            let hit = (0..s.len()).find_map(|i| piece_at(&s, i, &c).filter(|(_, _, st)| *st == Strength::Strong));
            assert!(hit.is_none(), "{phrase:?} read as {hit:?}");
        }
    }

    #[test]
    fn spans() {
        let s = Sentence::new("15 minutes");
        assert_eq!(span_at(&s, 0), Some((Span::Minutes(15), 2)));
        let s = Sentence::new("a day");
        assert_eq!(span_at(&s, 0), Some((Span::Days(1), 2)));
        let s = Sentence::new("999999999999 days");
        assert_eq!(span_at(&s, 0), None);
        let c = thu();
        let at = c.now;
        assert_eq!(Span::Minutes(15).before(at, &c).unwrap().to_rfc3339(), "2026-11-26T08:45:00+00:00");
    }
}
