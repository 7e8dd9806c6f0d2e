//! The calendar feed as iCalendar (RFC 5545), written with the `icalendar`
//! crate: one VEVENT per dated task (optionally a VTODO as well), in the user's
//! time zone with its VTIMEZONE, so that a recurring task's RRULE expands to the
//! same local times the recurrence engine computes, across DST changes.
//!
//! - `UID` is stable (`<task id>@todo-events`), `SEQUENCE` is the task's version
//!   minus one, `DTSTAMP` and `LAST-MODIFIED` its `updated_at`: the same tasks
//!   always render the same bytes, so the feed's ETag only changes with them.
//! - All-day tasks have `DATE` values; timed ones `TZID=<IANA name>` (UTC users: UTC).
//! - The pending occurrence of a recurring task carries the RRULE as stored; a
//!   completed occurrence is a single event (its successor is in the feed).
//! - A reminder is a `VALARM` (`DISPLAY`), relative to the start when the task
//!   has a time.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use icalendar::{Alarm, Calendar, CalendarDateTime, Component, EventLike, Property, Todo, TodoStatus, Trigger};
use todo_core::domain::{Priority, Task};

/// Product identifier of the feed.
pub const PRODID: &str = "-//todo-events//calendar feed//EN";
/// How often calendar apps are asked to refresh.
const REFRESH: &str = "PT15M";
/// Years past the current one whose transitions a VTIMEZONE lists explicitly
/// (after them, yearly rules continue the pattern).
const ZONE_YEARS_AHEAD: i32 = 3;
/// Years over which a zone's transitions must follow one yearly rule to be
/// written as an RRULE.
const PATTERN_YEARS: i32 = 8;

/// What a feed holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedOptions {
    /// One VEVENT per task (what calendar apps show).
    pub events: bool,
    /// One VTODO per task (for apps that read tasks from calendars).
    pub todos: bool,
}

impl Default for FeedOptions {
    fn default() -> Self {
        Self { events: true, todos: false }
    }
}

/// The stable UID of `task`'s event.
pub fn event_uid(task: &Task) -> String {
    format!("{}@todo-events", task.id)
}

/// The stable UID of `task`'s to-do (distinct from its event's: a calendar
/// holding both must not take them for one component).
pub fn todo_uid(task: &Task) -> String {
    format!("{}-todo@todo-events", task.id)
}

/// The feed of `tasks` (the user's dated tasks) in the time zone `tz`, as text.
pub fn render(tasks: &[Task], tz: Tz, now: DateTime<Utc>, opts: FeedOptions) -> String {
    let mut cal = Calendar::empty();
    for (k, v) in [("VERSION", "2.0"), ("PRODID", PRODID), ("CALSCALE", "GREGORIAN"), ("METHOD", "PUBLISH")] {
        cal.append_property(Property::new(k, v));
    }
    cal.name("todo-events");
    cal.append_property(Property::new("X-WR-TIMEZONE", tz.name()));
    cal.append_property(Property::new("REFRESH-INTERVAL", REFRESH).append_parameter(("VALUE", "DURATION")).done());
    cal.append_property(Property::new("X-PUBLISHED-TTL", REFRESH));
    for task in tasks {
        let Some(due) = task.due_at else { continue };
        if opts.events {
            cal.push(event(task, due, tz));
        }
        if opts.todos {
            cal.push(todo(task, due, tz));
        }
    }
    let mut text = cal.to_string();
    // The crate writes no VTIMEZONE (and would give any component it prints a
    // random UID and a DTSTAMP of now, which a VTIMEZONE must not have and which
    // would change the feed's bytes at every request): it is written here and
    // goes before the first component, as RFC 5545 orders them.
    let timed_local = tz != Tz::UTC && tasks.iter().any(|t| t.due_at.is_some() && !t.all_day);
    if timed_local {
        let years = tasks.iter().filter_map(|t| t.due_at).map(|d| d.year());
        let first = years.clone().min().unwrap_or(now.year()).min(now.year()) - 1;
        let last = years.max().unwrap_or(now.year()).max(now.year()) + ZONE_YEARS_AHEAD;
        let at = ["BEGIN:VEVENT\r\n", "BEGIN:VTODO\r\n", "END:VCALENDAR\r\n"]
            .iter()
            .filter_map(|m| text.find(m))
            .min()
            .unwrap_or(text.len());
        text.insert_str(at, &vtimezone(tz, first, last));
    }
    text
}

/// Where a task is on the calendar: a local date, or a local time in `tz`.
enum When {
    Day(NaiveDate),
    At(CalendarDateTime),
}

fn when(task: &Task, due: DateTime<Utc>, tz: Tz) -> When {
    let local = due.with_timezone(&tz);
    if task.all_day {
        When::Day(local.date_naive())
    } else if tz == Tz::UTC {
        When::At(CalendarDateTime::Utc(due))
    } else {
        When::At(CalendarDateTime::WithTimezone { date_time: local.naive_local(), tzid: tz.name().to_owned() })
    }
}

/// The properties an event and a to-do share.
fn common<C: EventLike>(c: &mut C, task: &Task) {
    let title = if task.is_pending() { task.title.as_str().to_owned() } else { format!("✓ {}", task.title.as_str()) };
    c.summary(&title);
    if !task.description.as_str().is_empty() {
        c.description(task.description.as_str());
    }
    c.timestamp(task.updated_at);
    c.last_modified(task.updated_at);
    c.created(task.created_at);
    c.sequence(u32::try_from(task.version.saturating_sub(1)).unwrap_or(u32::MAX));
    c.priority(match task.priority {
        Priority::High => 1,
        Priority::Medium => 5,
        Priority::Low => 9,
    });
    if !task.tags.is_empty() {
        c.categories(task.tags.iter().map(|t| t.as_str()));
    }
    c.class(icalendar::Class::Private);
}

/// The reminder of `task` as a VALARM: relative to the start for a timed task, at
/// an absolute UTC time otherwise.
fn alarm(task: &Task, due: DateTime<Utc>) -> Option<Alarm> {
    let remind = task.remind_at?;
    if !task.is_pending() {
        return None;
    }
    let trigger = if task.all_day { Trigger::from(remind) } else { Trigger::before_start(due - remind) };
    let mut alarm = Alarm::display(task.title.as_str(), trigger);
    // Stable, so the feed's bytes only change with the task.
    alarm.uid(&format!("{}-alarm@todo-events", task.id)).timestamp(task.updated_at);
    Some(alarm.done())
}

fn event(task: &Task, due: DateTime<Utc>, tz: Tz) -> icalendar::Event {
    let mut e = icalendar::Event::new();
    e.uid(&event_uid(task));
    common(&mut e, task);
    match when(task, due, tz) {
        When::Day(d) => {
            e.starts(d);
            e.ends(d.succ_opt().unwrap_or(d));
        }
        When::At(at) => {
            e.starts(at.clone());
            e.ends(shift(&at, Duration::minutes(30)));
        }
    }
    // Only the pending occurrence repeats: a completed one is in the past, and its
    // successor (another task) carries the rule on.
    if task.is_pending()
        && let Some(rule) = &task.recurrence
    {
        e.add_property("RRULE", rule.as_str());
    }
    e.add_property("TRANSP", "TRANSPARENT");
    if let Some(a) = alarm(task, due) {
        e.alarm(a);
    }
    e.done()
}

fn todo(task: &Task, due: DateTime<Utc>, tz: Tz) -> Todo {
    let mut t = Todo::new();
    t.uid(&todo_uid(task));
    common(&mut t, task);
    match when(task, due, tz) {
        When::Day(d) => {
            t.due(d);
        }
        When::At(at) => {
            t.due(at);
        }
    }
    if task.is_pending() {
        t.status(TodoStatus::NeedsAction);
        if let Some(rule) = &task.recurrence {
            // A VTODO with an RRULE needs a DTSTART (RFC 5545 3.8.5.3).
            match when(task, due, tz) {
                When::Day(d) => t.starts(d),
                When::At(at) => t.starts(at),
            };
            t.add_property("RRULE", rule.as_str());
        }
    } else {
        t.status(TodoStatus::Completed);
        if let Some(done) = task.completed_at {
            t.completed(done);
        }
        t.percent_complete(100);
    }
    if let Some(a) = alarm(task, due) {
        t.alarm(a);
    }
    t.done()
}

/// `at` moved by `d`, in its own form.
fn shift(at: &CalendarDateTime, d: Duration) -> CalendarDateTime {
    match at {
        CalendarDateTime::Utc(t) => CalendarDateTime::Utc(*t + d),
        CalendarDateTime::Floating(t) => CalendarDateTime::Floating(*t + d),
        CalendarDateTime::WithTimezone { date_time, tzid } => {
            CalendarDateTime::WithTimezone { date_time: *date_time + d, tzid: tzid.clone() }
        }
    }
}

/// One change of a zone's offset.
#[derive(Clone, Debug, PartialEq)]
struct Transition {
    /// The instant it happens.
    at: DateTime<Utc>,
    /// UTC offsets before and after, in seconds.
    from: i32,
    to: i32,
    /// Whether the offset after is daylight saving time.
    dst: bool,
    /// The abbreviation after (`CEST`), if the database has one.
    name: Option<String>,
}

impl Transition {
    /// The local wall time at which it happens (in the offset before it).
    fn local_start(&self) -> NaiveDateTime {
        self.at.naive_utc() + Duration::seconds(i64::from(self.from))
    }
}

/// What `tz` says at `t`: total offset, DST or not, abbreviation.
fn offset_at(tz: Tz, t: DateTime<Utc>) -> (i32, bool, Option<String>) {
    let o = tz.offset_from_utc_datetime(&t.naive_utc());
    (o.fix().local_minus_utc(), !o.dst_offset().is_zero(), o.abbreviation().map(str::to_owned))
}

/// Every offset change of `tz` from `from_year` through `to_year` (UTC years).
fn transitions(tz: Tz, from_year: i32, to_year: i32) -> Vec<Transition> {
    let start = Utc.with_ymd_and_hms(from_year, 1, 1, 0, 0, 0).single().expect("a valid instant");
    let end = Utc.with_ymd_and_hms(to_year + 1, 1, 1, 0, 0, 0).single().expect("a valid instant");
    let step = Duration::hours(6);
    let mut out = Vec::new();
    let mut t = start;
    let mut here = offset_at(tz, t);
    while t < end {
        let next = t + step;
        let there = offset_at(tz, next);
        if there != here {
            // The first second in (t, next] with the new offset.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid) == here { lo = mid } else { hi = mid }
            }
            let after = offset_at(tz, hi);
            out.push(Transition { at: hi, from: here.0, to: after.0, dst: after.1, name: after.2.clone() });
            here = after;
        }
        t = next;
    }
    out
}

/// `+0100`, `-0430`, `+053028`.
fn utc_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    if s == 0 { format!("{sign}{h:02}{m:02}") } else { format!("{sign}{h:02}{m:02}{s:02}") }
}

fn ical_local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// `BYDAY` weekday codes.
fn weekday_code(d: chrono::Weekday) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][d.num_days_from_monday() as usize]
}

/// The yearly rules (`BYMONTH`, `BYDAY` with `n` or `-1`) a transition's local
/// start matches: the first Sunday, the last Sunday, ...
fn yearly_rules(t: &Transition) -> Vec<String> {
    let d = t.local_start().date();
    let wd = weekday_code(d.weekday());
    let mut rules = Vec::new();
    let next_month = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    // "The last ..." first: where it holds every year it is the rule, even in
    // years when it is also the fourth.
    if next_month.is_some_and(|nm| (nm - d).num_days() <= 7) {
        rules.push(format!("FREQ=YEARLY;BYMONTH={};BYDAY=-1{wd}", d.month()));
    }
    rules.push(format!("FREQ=YEARLY;BYMONTH={};BYDAY={}{wd}", d.month(), (d.day() - 1) / 7 + 1));
    rules
}

/// The VTIMEZONE of `tz`: an observance for the offset in force at the start of
/// `from_year`, each transition through `to_year`, and, when the last years follow
/// a yearly pattern (e.g. the last Sunday of March and of October), that pattern
/// as RRULEs from then on, so dates after `to_year` keep the right offset.
pub fn vtimezone(tz: Tz, from_year: i32, to_year: i32) -> String {
    // The yearly pattern is read off the PATTERN_YEARS after `to_year` (long enough
    // for a "last Sunday" to fall on every possible date, so that it is not taken
    // for a "fourth Sunday"); without one, those years are listed too.
    let mut all = transitions(tz, from_year, to_year + PATTERN_YEARS);
    let tail_start = Utc.with_ymd_and_hms(to_year + 1, 1, 1, 0, 0, 0).single().expect("a valid instant");
    let later: Vec<Transition> = all.iter().filter(|t| t.at >= tail_start).cloned().collect();
    let mut tail: Vec<(Transition, String)> = Vec::new();
    for kind in [true, false] {
        let group: Vec<&Transition> = later.iter().filter(|t| t.dst == kind).collect();
        let Some(first) = group.first() else { break };
        if group.len() != PATTERN_YEARS as usize {
            break;
        }
        let time = first.local_start().time();
        let shared = yearly_rules(first).into_iter().find(|rule| {
            group.iter().all(|t| {
                yearly_rules(t).contains(rule)
                    && t.local_start().time() == time
                    && (t.from, t.to, &t.name) == (first.from, first.to, &first.name)
            })
        });
        match shared {
            Some(rule) => tail.push(((*first).clone(), rule)),
            None => break,
        }
    }
    if tail.len() == 2 && later.len() == 2 * PATTERN_YEARS as usize {
        all.retain(|t| t.at < tail_start);
    } else {
        tail.clear();
    }
    let start = Utc.with_ymd_and_hms(from_year, 1, 1, 0, 0, 0).single().expect("a valid instant");
    let (offset, dst, name) = offset_at(tz, start);
    let mut s = String::new();
    let _ = write!(s, "BEGIN:VTIMEZONE\r\nTZID:{}\r\nX-LIC-LOCATION:{}\r\n", tz.name(), tz.name());
    let mut observance =
        |dst: bool, local: NaiveDateTime, from: i32, to: i32, name: &Option<String>, rule: Option<&str>| {
            let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
            let _ = write!(
                s,
                "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\n",
                ical_local(local),
                utc_offset(from),
                utc_offset(to)
            );
            if let Some(rule) = rule {
                let _ = write!(s, "RRULE:{rule}\r\n");
            }
            if let Some(n) = name {
                let _ = write!(s, "TZNAME:{n}\r\n");
            }
            let _ = write!(s, "END:{kind}\r\n");
        };
    observance(dst, start.naive_utc() + Duration::seconds(i64::from(offset)), offset, offset, &name, None);
    for t in &all {
        observance(t.dst, t.local_start(), t.from, t.to, &t.name, None);
    }
    for (t, rule) in &tail {
        observance(t.dst, t.local_start(), t.from, t.to, &t.name, Some(rule));
    }
    s.push_str("END:VTIMEZONE\r\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_core::domain::{Recurrence, Status, Tags, TaskId, TaskTitle, UserId};

    fn task(title: &str, due: &str, all_day: bool) -> Task {
        let at: DateTime<Utc> = "2026-11-26T09:00:00Z".parse().unwrap();
        Task {
            id: TaskId::new(),
            user_id: UserId::new(),
            title: TaskTitle::parse(title).unwrap(),
            description: Default::default(),
            status: Status::Pending,
            priority: Priority::High,
            tags: Tags::parse(["home"]).unwrap(),
            due_at: Some(due.parse().unwrap()),
            all_day,
            remind_at: None,
            recurrence: None,
            repeat_from: Default::default(),
            series_id: None,
            created_at: at,
            updated_at: at,
            completed_at: None,
            version: 3,
        }
    }

    #[test]
    fn berlin_has_its_transitions_and_a_yearly_tail() {
        let z = vtimezone(chrono_tz::Europe::Berlin, 2025, 2030);
        assert!(z.contains("DTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200"), "{z}");
        assert!(z.contains("DTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100"), "{z}");
        assert!(z.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"), "{z}");
        assert!(z.contains("RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"), "{z}");
        assert!(z.contains("TZNAME:CEST"), "{z}");
        // New York: second Sunday of March, first Sunday of November.
        let ny = vtimezone(chrono_tz::America::New_York, 2025, 2030);
        assert!(ny.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU"), "{ny}");
        assert!(ny.contains("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU"), "{ny}");
        // No DST: one observance.
        let tokyo = vtimezone(chrono_tz::Asia::Tokyo, 2025, 2030);
        assert_eq!(tokyo.matches("BEGIN:STANDARD").count(), 1, "{tokyo}");
        assert!(tokyo.contains("TZOFFSETTO:+0900"));
        assert!(!z.contains("UID") && !z.contains("DTSTAMP"), "{z}");
        // A zone whose pattern is irregular over the years ahead lists them all
        // (Morocco suspends its DST each Ramadan).
        let casablanca = vtimezone(chrono_tz::Africa::Casablanca, 2025, 2030);
        assert!(!casablanca.contains("RRULE"), "{casablanca}");
    }

    #[test]
    fn events_carry_uid_sequence_rrule_and_alarm() {
        let now: DateTime<Utc> = "2026-11-26T09:00:00Z".parse().unwrap();
        let mut weekly = task("water the plants", "2026-11-30T08:00:00Z", false);
        weekly.recurrence = Some(Recurrence::parse("FREQ=WEEKLY;BYDAY=MO").unwrap());
        weekly.remind_at = Some("2026-11-30T07:45:00Z".parse().unwrap());
        let day = task("pay rent", "2026-11-30T23:00:00Z", true);
        let ics = render(&[weekly.clone(), day.clone()], chrono_tz::Europe::Berlin, now, FeedOptions::default());
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("UID:{}", event_uid(&weekly))), "{ics}");
        assert!(unfolded.contains("DTSTART;TZID=Europe/Berlin:20261130T090000"), "{ics}");
        assert!(unfolded.contains("RRULE:FREQ=WEEKLY;BYDAY=MO"), "{ics}");
        assert!(unfolded.contains("SEQUENCE:2"), "{ics}");
        assert!(unfolded.contains("BEGIN:VALARM") && unfolded.contains("TRIGGER"), "{ics}");
        assert!(unfolded.contains("DTSTART;VALUE=DATE:20261201"), "all-day on the local date: {ics}");
        assert!(unfolded.contains("BEGIN:VTIMEZONE"), "{ics}");
        assert!(!unfolded.contains("BEGIN:VTODO"));
        let again = render(&[weekly, day], chrono_tz::Europe::Berlin, now, FeedOptions::default());
        assert_eq!(ics, again, "the same tasks render the same bytes");
        let both = render(
            &[task("x", "2026-12-01T10:00:00Z", false)],
            Tz::UTC,
            now,
            FeedOptions { events: true, todos: true },
        );
        assert!(both.contains("BEGIN:VTODO") && both.contains("BEGIN:VEVENT") && !both.contains("VTIMEZONE"));
        assert!(both.contains("DTSTART:20261201T100000Z"), "{both}");
    }
}
