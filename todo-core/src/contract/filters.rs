//! The filter contract of a task repository: a table of queries with the tasks
//! each must show on fixed fixtures (time zones across DST changes, names with
//! spaces, every term), and generated filters over generated task sets that must
//! list exactly what the in-memory evaluator gives. Every store runs both.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use crate::domain::query::{SortSpec, StatusFilter};
use crate::domain::{
    Cursor, Description, Priority, Recurrence, RepeatFrom, Status, Tags, Task, TaskId, TaskQuery, TaskTitle, UserId,
};
use crate::filter::{Context, Filter};
use crate::ports::{Change, TaskRepository, TaskWrite};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|_| panic!("{s:?} is an RFC 3339 instant"))
}

/// A fixture task, described field by field.
struct T {
    title: &'static str,
    due: Option<&'static str>,
    all_day: bool,
    priority: Priority,
    tags: &'static [&'static str],
    description: &'static str,
    created: &'static str,
    completed: Option<&'static str>,
    recurrence: Option<&'static str>,
    remind: Option<&'static str>,
}

const fn t(title: &'static str) -> T {
    T {
        title,
        due: None,
        all_day: false,
        priority: Priority::Medium,
        tags: &[],
        description: "",
        created: "2026-11-01T09:00:00Z",
        completed: None,
        recurrence: None,
        remind: None,
    }
}

impl T {
    const fn due(mut self, d: &'static str) -> Self {
        self.due = Some(d);
        self
    }
    const fn day(mut self, d: &'static str) -> Self {
        self.due = Some(d);
        self.all_day = true;
        self
    }
    const fn p(mut self, p: Priority) -> Self {
        self.priority = p;
        self
    }
    const fn tags(mut self, tags: &'static [&'static str]) -> Self {
        self.tags = tags;
        self
    }
    const fn desc(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }
    const fn created(mut self, c: &'static str) -> Self {
        self.created = c;
        self
    }
    const fn done(mut self, at: &'static str) -> Self {
        self.completed = Some(at);
        self
    }
    const fn every(mut self, rule: &'static str) -> Self {
        self.recurrence = Some(rule);
        self
    }
    const fn remind(mut self, at: &'static str) -> Self {
        self.remind = Some(at);
        self
    }

    fn task(&self, user: UserId) -> Task {
        let created = at(self.created);
        Task {
            id: TaskId::new(),
            user_id: user,
            title: TaskTitle::parse(self.title).expect("title"),
            description: Description::parse(self.description).expect("description"),
            status: if self.completed.is_some() { Status::Completed } else { Status::Pending },
            priority: self.priority,
            tags: Tags::parse(self.tags.iter().copied()).expect("tags"),
            due_at: self.due.map(at),
            all_day: self.all_day,
            remind_at: self.remind.map(at),
            recurrence: self.recurrence.map(|r| Recurrence::parse(r).expect("rule")),
            repeat_from: RepeatFrom::Due,
            series_id: None,
            created_at: created,
            updated_at: created,
            completed_at: self.completed.map(at),
            version: 1,
        }
    }
}

use Priority::{High, Low};

/// Thursday 2026-11-26 (times in UTC; most rows read them in UTC, some in Tokyo).
const BASIC: &[T] = &[
    t("report")
        .due("2026-11-26T17:00:00Z")
        .p(High)
        .tags(&["work"])
        .desc("quarterly numbers")
        .created("2026-11-20T10:00:00Z"),
    t("standup").due("2026-11-26T08:30:00Z").tags(&["work"]).every("FREQ=DAILY").remind("2026-11-26T08:15:00Z"),
    t("invoice").day("2026-11-24T00:00:00Z").p(Low).tags(&["work", "finance"]).created("2026-11-15T09:00:00Z"),
    t("groceries")
        .day("2026-11-26T00:00:00Z")
        .tags(&["home", "errand"])
        .desc("Milk and eggs")
        .created("2026-11-25T09:00:00Z"),
    t("plants").day("2026-11-27T00:00:00Z").p(Low).tags(&["home"]).every("FREQ=WEEKLY").created("2026-10-01T09:00:00Z"),
    t("dentist")
        .due("2026-11-27T14:00:00Z")
        .p(High)
        .tags(&["health"])
        .remind("2026-11-27T13:00:00Z")
        .created("2026-11-10T09:00:00Z"),
    t("taxes").day("2026-12-24T00:00:00Z").p(High).tags(&["finance", "home-office"]).created("2026-11-26T08:00:00Z"),
    t("novel").p(Low).desc("read a chapter").created("2026-09-01T09:00:00Z"),
    t("call mom").tags(&["family"]).created("2026-11-26T07:00:00Z"),
    t("team lunch").due("2026-12-02T12:00:00Z").tags(&["work", "team_events"]).created("2026-11-21T09:00:00Z"),
    t("conference").due("2026-12-03T09:00:00Z").tags(&["work", "travel"]).created("2026-11-22T09:00:00Z"),
    t("gym").due("2026-11-25T18:00:00Z").p(Low).tags(&["health"]).created("2026-11-20T09:00:00Z"),
    t("pack").day("2026-11-28T00:00:00Z").tags(&["travel"]).created("2026-11-23T09:00:00Z"),
    t("Ünïcode café").tags(&["x-1"]).desc("Straße fegen").created("2026-11-24T09:00:00Z"),
    t("backlog idea").p(Low).tags(&["work", "someday"]).created("2025-12-01T09:00:00Z"),
    t("office chair").day("2026-11-30T00:00:00Z").tags(&["home-office"]).created("2026-11-25T12:00:00Z"),
    t("desk lamp").due("2026-11-29T20:00:00Z").p(Low).tags(&["home_office"]).created("2026-11-25T13:00:00Z"),
    t("old report")
        .due("2026-11-25T17:00:00Z")
        .p(High)
        .tags(&["work"])
        .done("2026-11-25T18:00:00Z")
        .created("2026-11-18T09:00:00Z"),
    t("paid rent")
        .day("2026-11-01T00:00:00Z")
        .tags(&["home", "finance"])
        .every("FREQ=MONTHLY")
        .done("2026-11-01T09:00:00Z")
        .created("2026-10-01T09:00:00Z"),
];

/// Berlin springs forward on Sunday 2026-03-29 (02:00 CET becomes 03:00 CEST): a
/// 23-hour day from 2026-03-28T23:00Z to 2026-03-29T22:00Z. All-day tasks are due
/// at local midnight.
const BERLIN: &[T] = &[
    t("b-early").due("2026-03-28T23:30:00Z"),
    t("b-late").due("2026-03-29T21:30:00Z"),
    t("b-next").due("2026-03-29T22:30:00Z"),
    t("b-allday").day("2026-03-28T23:00:00Z"),
    t("b-yesterday").day("2026-03-27T23:00:00Z"),
    t("b-monday").day("2026-03-29T22:00:00Z"),
    t("b-gap").due("2026-03-29T01:00:00Z"),
];

/// New York falls back on Sunday 2026-11-01 (02:00 EDT becomes 01:00 EST): a
/// 25-hour day from 2026-11-01T04:00Z to 2026-11-02T05:00Z; 01:30 happens twice.
const NEW_YORK: &[T] = &[
    t("n-first").due("2026-11-01T05:30:00Z"),
    t("n-second").due("2026-11-01T06:30:00Z"),
    t("n-late").due("2026-11-02T04:30:00Z"),
    t("n-allday").day("2026-11-01T04:00:00Z"),
    t("n-mon").day("2026-11-02T05:00:00Z"),
    t("n-sat").due("2026-10-31T23:00:00Z"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fixture {
    Basic,
    Berlin,
    NewYork,
}

/// Where and when a row is evaluated.
#[derive(Clone, Copy)]
struct When(Fixture, &'static str, &'static str);

const THU: When = When(Fixture::Basic, "2026-11-26T09:00:00Z", "UTC");
const TOKYO: When = When(Fixture::Basic, "2026-11-26T09:00:00Z", "Asia/Tokyo");
const BERLIN_NOON: When = When(Fixture::Berlin, "2026-03-29T10:00:00Z", "Europe/Berlin");
const BERLIN_NIGHT: When = When(Fixture::Berlin, "2026-03-29T00:30:00Z", "Europe/Berlin");
const BERLIN_MONDAY: When = When(Fixture::Berlin, "2026-03-29T22:45:00Z", "Europe/Berlin");
const NY: When = When(Fixture::NewYork, "2026-11-01T12:00:00Z", "America/New_York");

/// Every pending task of [`BASIC`].
const PENDING: &[&str] = &[
    "report",
    "standup",
    "invoice",
    "groceries",
    "plants",
    "dentist",
    "taxes",
    "novel",
    "call mom",
    "team lunch",
    "conference",
    "gym",
    "pack",
    "Ünïcode café",
    "backlog idea",
    "office chair",
    "desk lamp",
];

/// What a row expects: these tasks, or every pending one but these.
enum Want {
    Only(&'static [&'static str]),
    PendingBut(&'static [&'static str]),
    All,
}

use Want::{All, Only, PendingBut};

const P1: &[&str] = &["report", "dentist", "taxes"];
const P2: &[&str] =
    &["standup", "groceries", "call mom", "team lunch", "conference", "pack", "Ünïcode café", "office chair"];
const P3: &[&str] = &["invoice", "plants", "novel", "gym", "backlog idea", "desk lamp"];
const WORK: &[&str] = &["report", "standup", "invoice", "team lunch", "conference", "backlog idea"];
const TODAY: &[&str] = &["report", "standup", "groceries"];
const SEVEN_DAYS: &[&str] =
    &["report", "standup", "groceries", "plants", "dentist", "team lunch", "pack", "office chair", "desk lamp"];
const NO_DATE: &[&str] = &["novel", "call mom", "Ünïcode café", "backlog idea"];
const DUE_BEFORE_DEC_24: &[&str] = &[
    "report",
    "standup",
    "invoice",
    "groceries",
    "plants",
    "dentist",
    "team lunch",
    "conference",
    "gym",
    "pack",
    "office chair",
    "desk lamp",
];
const SPACED: &[&str] = &["taxes", "office chair", "desk lamp"];
const B_TODAY: &[&str] = &["b-early", "b-late", "b-allday", "b-gap"];
const N_TODAY: &[&str] = &["n-first", "n-second", "n-late", "n-allday"];

/// The table: (where and when, query, the tasks it shows).
const TABLE: &[(When, &str, Want)] = &[
    // Days and the example.
    (THU, "today", Only(TODAY)),
    (THU, "tomorrow", Only(&["plants", "dentist"])),
    (THU, "overdue", Only(&["standup", "invoice", "gym"])),
    (THU, "today | overdue", Only(&["report", "standup", "groceries", "invoice", "gym"])),
    (THU, "(today | overdue) & #work & !p3", Only(&["report", "standup"])),
    (THU, "(today or overdue) and #work and not p3", Only(&["report", "standup"])),
    (THU, "( Today OR Overdue ) AND #Work AND NOT P3", Only(&["report", "standup"])),
    (THU, "today overdue", Only(&["standup"])),
    (THU, "7 days", Only(SEVEN_DAYS)),
    (THU, "next 7 days", Only(SEVEN_DAYS)),
    (THU, "1 day", Only(TODAY)),
    (THU, "3 days", Only(&["report", "standup", "groceries", "plants", "dentist", "pack"])),
    (THU, "no date", Only(NO_DATE)),
    (THU, "no due date", Only(NO_DATE)),
    (THU, "no time", Only(&["invoice", "groceries", "plants", "taxes", "pack", "office chair"])),
    (THU, "recurring", Only(&["standup", "plants"])),
    (THU, "has reminder", Only(&["standup", "dentist"])),
    (THU, "no reminder", PendingBut(&["standup", "dentist"])),
    // Priorities.
    (THU, "p1", Only(P1)),
    (THU, "p2", Only(P2)),
    (THU, "p3", Only(P3)),
    (THU, "no priority", Only(P2)),
    (THU, "priority:high", Only(P1)),
    (THU, "priority: H", Only(P1)),
    (THU, "priority >= medium", PendingBut(P3)),
    (THU, "priority < medium", Only(P3)),
    (THU, "priority != medium", PendingBut(P2)),
    (THU, "priority in (high, low)", PendingBut(P2)),
    (THU, "!p3", PendingBut(P3)),
    (THU, "-p3", PendingBut(P3)),
    (THU, "p1 p3", Only(&[])),
    (THU, "not (p2 or p3)", Only(P1)),
    // Tags.
    (THU, "#work", Only(WORK)),
    (THU, "#WORK", Only(WORK)),
    (THU, "+work", Only(WORK)),
    (THU, "-work", PendingBut(WORK)),
    (THU, "!#work", PendingBut(WORK)),
    (THU, "not #work", PendingBut(WORK)),
    (THU, "no tags", Only(&["novel"])),
    (THU, "#home", Only(&["groceries", "plants"])),
    (THU, "#home*", Only(&["groceries", "plants", "taxes", "office chair", "desk lamp"])),
    (THU, "#\"home office\"", Only(SPACED)),
    (THU, "#home\\ office", Only(SPACED)),
    (THU, "#\"Home  Office\"", Only(SPACED)),
    (THU, "#home-office", Only(&["taxes", "office chair"])),
    (THU, "#home_office", Only(&["desk lamp"])),
    (THU, "#*office", Only(SPACED)),
    (THU, "#*", PendingBut(&["novel"])),
    (THU, "#team_events", Only(&["team lunch"])),
    (THU, "#\"team events\"", Only(&["team lunch"])),
    (THU, "#t*", Only(&["conference", "pack", "team lunch"])),
    (THU, "#x-1", Only(&["Ünïcode café"])),
    (THU, "tags in (travel, health)", Only(&["conference", "pack", "dentist", "gym"])),
    (THU, "tags in (\"home office\")", Only(SPACED)),
    (
        THU,
        "tags not in (work, home)",
        Only(&["dentist", "taxes", "novel", "call mom", "gym", "pack", "Ünïcode café", "office chair", "desk lamp"]),
    ),
    (THU, "labels = finance", Only(&["invoice", "taxes"])),
    (THU, "tags != finance", PendingBut(&["invoice", "taxes"])),
    (THU, "#work & #finance", Only(&["invoice"])),
    (
        THU,
        "#work | #finance",
        Only(&["report", "standup", "invoice", "team lunch", "conference", "backlog idea", "taxes"]),
    ),
    (THU, "#work #someday", Only(&["backlog idea"])),
    (
        THU,
        "-#work -#home -#health",
        Only(&["taxes", "novel", "call mom", "pack", "Ünïcode café", "office chair", "desk lamp"]),
    ),
    (THU, "!!#family", Only(&["call mom"])),
    (THU, "((((#family))))", Only(&["call mom"])),
    (THU, "#errand, #family", Only(&["groceries", "call mom"])),
    // Text.
    (THU, "search: report", Only(&["report"])),
    (THU, "search: REPORT", Only(&["report"])),
    (THU, "/milk/", Only(&["groceries"])),
    (THU, "search: \"milk and\"", Only(&["groceries"])),
    (THU, "search: straße", Only(&["Ünïcode café"])),
    (THU, "search: ÜNÏCODE", Only(&["Ünïcode café"])),
    (THU, "search: \"café\"", Only(&["Ünïcode café"])),
    (THU, "search: chapter", Only(&["novel"])),
    (THU, "search: zzz", Only(&[])),
    (THU, "search: mom & no date", Only(&["call mom"])),
    (THU, "search: report | search: mom", Only(&["report", "call mom"])),
    (THU, "/a/ & p3 & no date", Only(&["novel", "backlog idea"])),
    (THU, "/ca/", Only(&["Ünïcode café", "call mom"])),
    // Statuses.
    (THU, "completed", Only(&["old report", "paid rent"])),
    (THU, "done = true", Only(&["old report", "paid rent"])),
    (THU, "done = false", PendingBut(&[])),
    (THU, "pending", PendingBut(&[])),
    (THU, "status:all", All),
    (THU, "status: completed & #work", Only(&["old report"])),
    (THU, "completed & #home", Only(&["paid rent"])),
    (THU, "completed | today", Only(&["old report", "paid rent", "report", "standup", "groceries"])),
    (THU, "!completed", PendingBut(&[])),
    (
        THU,
        "status:all & #work",
        Only(&["report", "standup", "invoice", "team lunch", "conference", "backlog idea", "old report"]),
    ),
    (THU, "status:all & recurring", Only(&["standup", "plants", "paid rent"])),
    (THU, "status:all & due before: today", Only(&["invoice", "gym", "old report", "paid rent"])),
    (THU, "status:all & no date", Only(NO_DATE)),
    (THU, "#finance & status:all", Only(&["invoice", "taxes", "paid rent"])),
    (THU, "done = false & #finance", Only(&["invoice", "taxes"])),
    (THU, "completed & due: yesterday", Only(&["old report"])),
    (THU, "completed before: today", Only(&["old report", "paid rent"])),
    (THU, "completed after: 2026-11-24", Only(&["old report"])),
    (THU, "completed >= 2026-11-25", Only(&["old report"])),
    (THU, "completed < 2026-11-25", Only(&["paid rent"])),
    (THU, "completed before: yesterday", Only(&["paid rent"])),
    (THU, "done_at = 2026-11-25", Only(&["old report"])),
    // Due dates.
    (THU, "due before: friday", Only(&["report", "standup", "invoice", "groceries", "gym"])),
    (THU, "due after: friday", Only(&["taxes", "team lunch", "conference", "pack", "office chair", "desk lamp"])),
    (THU, "due: friday", Only(&["plants", "dentist"])),
    (THU, "friday", Only(&["plants", "dentist"])),
    (THU, "due friday", Only(&["plants", "dentist"])),
    (THU, "due before: +4 hours", Only(&["standup", "invoice", "groceries", "gym"])),
    (THU, "due before: +4 hours & !overdue", Only(&["groceries"])),
    (
        THU,
        "due after: +4 hours",
        Only(&[
            "report",
            "plants",
            "dentist",
            "taxes",
            "team lunch",
            "conference",
            "pack",
            "office chair",
            "desk lamp",
        ]),
    ),
    (THU, "due < 2026-12-24", Only(DUE_BEFORE_DEC_24)),
    (THU, "due <= 2026-12-24", PendingBut(NO_DATE)),
    (THU, "due = 2026-12-24", Only(&["taxes"])),
    (THU, "due != 2026-12-24", Only(DUE_BEFORE_DEC_24)),
    (THU, "!(due = 2026-12-24)", PendingBut(&["taxes"])),
    (THU, "due > 2026-12-03", Only(&["taxes"])),
    (THU, "due >= 2026-12-03", Only(&["conference", "taxes"])),
    (
        THU,
        "dueDate < \"dec 1\"",
        Only(&[
            "report",
            "standup",
            "invoice",
            "groceries",
            "plants",
            "dentist",
            "gym",
            "pack",
            "office chair",
            "desk lamp",
        ]),
    ),
    (THU, "due before: dec 1 & due after: 2026-11-27", Only(&["pack", "office chair", "desk lamp"])),
    (THU, "due: today", Only(TODAY)),
    (THU, "due = today & no time", Only(&["groceries"])),
    (THU, "due >= today & due < tomorrow", Only(TODAY)),
    (THU, "due: tomorrow at 2pm", Only(&["plants", "dentist"])),
    (THU, "due < tomorrow at 2pm", Only(&["report", "standup", "invoice", "groceries", "plants", "gym"])),
    (THU, "due <= tomorrow at 2pm", Only(&["report", "standup", "invoice", "groceries", "plants", "gym", "dentist"])),
    (
        THU,
        "due before: in 3 days",
        Only(&["report", "standup", "invoice", "groceries", "plants", "dentist", "gym", "pack"]),
    ),
    (
        THU,
        "due before: end of the month",
        Only(&["report", "standup", "invoice", "groceries", "plants", "dentist", "gym", "pack", "desk lamp"]),
    ),
    (THU, "due: next week", Only(&["office chair"])),
    (THU, "due before: -1 day", Only(&["invoice"])),
    (THU, "due after: -2 days", PendingBut(&["novel", "call mom", "Ünïcode café", "backlog idea", "invoice"])),
    (THU, "due before: 2026-11-26T17:00:01Z", Only(&["report", "standup", "invoice", "groceries", "gym"])),
    (THU, "due < 2026-11-26T17:00:00Z", Only(&["standup", "invoice", "groceries", "gym"])),
    (THU, "!no date", PendingBut(NO_DATE)),
    (
        THU,
        "no date | no time",
        Only(&[
            "novel",
            "call mom",
            "Ünïcode café",
            "backlog idea",
            "invoice",
            "groceries",
            "plants",
            "taxes",
            "pack",
            "office chair",
        ]),
    ),
    (
        THU,
        "overdue | no date",
        Only(&["standup", "invoice", "gym", "novel", "call mom", "Ünïcode café", "backlog idea"]),
    ),
    (THU, "overdue & no time", Only(&["invoice"])),
    (THU, "overdue & !no time", Only(&["standup", "gym"])),
    (THU, "due after: today & due before: dec 1 & no time", Only(&["plants", "pack", "office chair"])),
    (THU, "due after: today & due before: dec 1 & !no time", Only(&["dentist", "desk lamp"])),
    // Created.
    (THU, "created before: 2026-11-20", Only(&["standup", "invoice", "plants", "dentist", "novel", "backlog idea"])),
    (THU, "created after: 2026-11-25", Only(&["taxes", "call mom"])),
    (THU, "created: today", Only(&["taxes", "call mom"])),
    (THU, "created >= 2026-11-25 & created < today", Only(&["groceries", "office chair", "desk lamp"])),
    (THU, "created < -6 months", Only(&["backlog idea"])),
    // Combinations.
    (THU, "(#work | #health) & tomorrow", Only(&["dentist"])),
    (THU, "!(today | tomorrow) & p1", Only(&["taxes"])),
    (THU, "p1 | p2 & #work", Only(&["report", "dentist", "taxes", "standup", "team lunch", "conference"])),
    (THU, "(p1 | p2) & #work", Only(&["report", "standup", "team lunch", "conference"])),
    (THU, "tags in (work) & priority in (low)", Only(&["invoice", "backlog idea"])),
    (THU, "today & #home | tomorrow & #health", Only(&["groceries", "dentist"])),
    (THU, "#health & (overdue | tomorrow)", Only(&["gym", "dentist"])),
    (THU, "recurring | has reminder", Only(&["standup", "plants", "dentist"])),
    (THU, "recurring & has reminder", Only(&["standup"])),
    (THU, "#travel & 7 days", Only(&["pack"])),
    (THU, "#travel & !7 days", Only(&["conference"])),
    (THU, "today, overdue", Only(&["report", "standup", "groceries", "invoice", "gym"])),
    (THU, "p1, #finance", Only(&["report", "dentist", "taxes", "invoice"])),
    // The same tasks seen from Tokyo (UTC+9): another "today".
    (TOKYO, "today", Only(&["standup", "groceries", "gym"])),
    (TOKYO, "tomorrow", Only(&["report", "plants", "dentist"])),
    (TOKYO, "overdue", Only(&["invoice", "standup", "gym"])),
    (TOKYO, "due before: today", Only(&["invoice"])),
    (
        TOKYO,
        "7 days",
        Only(&[
            "standup",
            "groceries",
            "gym",
            "report",
            "plants",
            "dentist",
            "pack",
            "office chair",
            "desk lamp",
            "team lunch",
        ]),
    ),
    // Berlin's 23-hour day.
    (BERLIN_NOON, "today", Only(B_TODAY)),
    (BERLIN_NOON, "tomorrow", Only(&["b-next", "b-monday"])),
    (BERLIN_NOON, "overdue", Only(&["b-early", "b-yesterday", "b-gap"])),
    (BERLIN_NOON, "today | overdue", Only(&["b-early", "b-late", "b-allday", "b-gap", "b-yesterday"])),
    (BERLIN_NOON, "due before: tomorrow", Only(&["b-early", "b-late", "b-allday", "b-yesterday", "b-gap"])),
    (BERLIN_NOON, "due after: today", Only(&["b-next", "b-monday"])),
    (BERLIN_NOON, "2 days", Only(&["b-early", "b-late", "b-allday", "b-gap", "b-next", "b-monday"])),
    (BERLIN_NOON, "no time", Only(&["b-allday", "b-yesterday", "b-monday"])),
    (BERLIN_NOON, "due before: +4 hours", Only(&["b-early", "b-allday", "b-yesterday", "b-gap"])),
    (BERLIN_NOON, "due: 2026-03-29", Only(B_TODAY)),
    (BERLIN_NOON, "due < 2026-03-29T03:00", Only(&["b-early", "b-allday", "b-yesterday"])),
    (BERLIN_NOON, "due <= 2026-03-29T03:00", Only(&["b-early", "b-allday", "b-yesterday", "b-gap"])),
    (BERLIN_NIGHT, "today", Only(B_TODAY)),
    (BERLIN_NIGHT, "overdue", Only(&["b-yesterday", "b-early"])),
    (BERLIN_NIGHT, "due before: +1 hour", Only(&["b-early", "b-allday", "b-yesterday", "b-gap"])),
    (BERLIN_MONDAY, "today", Only(&["b-next", "b-monday"])),
    (BERLIN_MONDAY, "overdue", Only(&["b-allday", "b-yesterday", "b-early", "b-late", "b-next", "b-gap"])),
    (BERLIN_MONDAY, "yesterday", Only(B_TODAY)),
    // New York's 25-hour day.
    (NY, "today", Only(N_TODAY)),
    (NY, "tomorrow", Only(&["n-mon"])),
    (NY, "overdue", Only(&["n-first", "n-second", "n-sat"])),
    (NY, "due after: today", Only(&["n-mon"])),
    (NY, "due before: today", Only(&["n-sat"])),
    (NY, "due: 2026-11-01", Only(N_TODAY)),
    (NY, "due < 2026-11-01T01:30", Only(&["n-allday", "n-sat"])),
    (NY, "due = 2026-11-01T01:30", Only(N_TODAY)),
    (NY, "1 day", Only(N_TODAY)),
    (NY, "due before: +7 hours", Only(&["n-first", "n-second", "n-allday", "n-sat"])),
];

/// How many rows the table has.
pub fn table_len() -> usize {
    TABLE.len()
}

/// Every row of the table on `repo`: the listing (one page of up to 200, through
/// the store) shows exactly the expected tasks, and so does the in-memory
/// evaluation of the same query.
pub async fn table(repo: &dyn TaskRepository) {
    let fixtures = [(Fixture::Basic, BASIC), (Fixture::Berlin, BERLIN), (Fixture::NewYork, NEW_YORK)];
    let mut users = Vec::new();
    let mut all = Vec::new();
    for (fixture, tasks) in fixtures {
        let user = UserId::new();
        let tasks: Vec<Task> = tasks.iter().map(|t| t.task(user)).collect();
        let change = Change { writes: tasks.iter().cloned().map(TaskWrite::Insert).collect(), ..Change::default() };
        repo.commit(change).await.expect("insert the fixture");
        users.push((fixture, user));
        all.extend(tasks);
    }
    let mut failures = Vec::new();
    for (When(fixture, now, tz), query, want) in TABLE {
        let user = users.iter().find(|(f, _)| f == fixture).map(|(_, u)| *u).expect("a fixture user");
        let tz: Tz = tz.parse().expect("a time zone");
        let ctx = Context::new(at(now), tz);
        let filter = Filter::parse(query).unwrap_or_else(|e| panic!("{query:?} parses: {e}"));
        let mut q = TaskQuery::new(user, ctx.now);
        q.tz = tz;
        q.status = StatusFilter::All;
        q.filter = Some(filter.cond(&ctx));
        q.limit = 200;
        let titles = |ts: &[Task]| ts.iter().map(|t| t.title.as_str().to_owned()).collect::<BTreeSet<_>>();
        let got = titles(&repo.list(&q).await.expect("list").items);
        let reference = titles(&q.apply(&all).items);
        let expected: BTreeSet<String> = match want {
            Only(names) => names.iter().map(|s| (*s).to_owned()).collect(),
            PendingBut(names) => PENDING.iter().filter(|p| !names.contains(p)).map(|s| (*s).to_owned()).collect(),
            All => BASIC.iter().map(|t| t.title.to_owned()).collect(),
        };
        if got != expected || reference != expected {
            failures.push(format!(
                "{query:?} at {now} in {tz}: expected {expected:?}\n  store gave {got:?}\n  memory gave {reference:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), TABLE.len(), failures.join("\n"));
}

// ---- generated filters over generated tasks ----

/// Query pieces: every term, in every spelling family.
fn leaf() -> impl Strategy<Value = String> {
    let s = |xs: &[&'static str]| prop::sample::select(xs.to_vec()).prop_map(str::to_owned);
    prop_oneof![
        s(&[
            "today",
            "tomorrow",
            "overdue",
            "no date",
            "no time",
            "recurring",
            "has reminder",
            "no reminder",
            "no priority",
            "no tags",
            "completed",
            "pending",
            "status:all",
            "done = false",
            "done = true",
            "p1",
            "p2",
            "p3",
            "yesterday",
            "friday",
        ]),
        (
            s(&["priority:", "priority =", "priority !=", "priority <", "priority >=", "priority >"]),
            s(&["low", "medium", "high"])
        )
            .prop_map(|(o, p)| format!("{o} {p}")),
        s(&["work", "home", "home-office", "home_office", "\"home office\"", "x-1", "wo*", "*office", "*", "h*e"])
            .prop_map(|t| format!("#{t}")),
        s(&["work", "home"]).prop_map(|t| format!("-{t}")),
        s(&["milk", "MILK", "ß", "café", "report", "e", "a b"]).prop_map(|t| format!("search: \"{t}\"")),
        s(&["milk", "mom"]).prop_map(|t| format!("/{t}/")),
        (1u32..12).prop_map(|n| format!("{n} days")),
        (
            s(&["due", "created", "completed"]),
            s(&[" before:", " after:", " <", " <=", " >", " >=", " =", " !="]),
            s(&[
                "today",
                "tomorrow",
                "yesterday",
                "friday",
                "+4 hours",
                "-2 days",
                "+1 day",
                "next week",
                "end of the month",
                "in 30 minutes",
                "tomorrow at 5pm",
            ]),
        )
            .prop_map(|(f, o, d)| format!("{f}{o} {d}")),
        s(&["(work, x-1)", "(home)"]).prop_map(|t| format!("tags in {t}")),
        s(&["(work, x-1)", "(home)"]).prop_map(|t| format!("tags not in {t}")),
    ]
}

/// A random query of up to a few levels of `&`, `|`, `!` and parentheses.
pub fn arb_query() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(vec![" & ", " and ", " "]), inner.clone())
                .prop_map(|(a, o, b)| format!("{a}{o}{b}")),
            (inner.clone(), prop::sample::select(vec![" | ", " or "]), inner.clone())
                .prop_map(|(a, o, b)| format!("({a}{o}{b})")),
            (prop::sample::select(vec!["!", "not ", "-"]), inner).prop_map(|(n, a)| format!("{n}({a})")),
        ]
    })
}

/// The instants and zones tasks are generated around: ordinary days and DST changes.
const NOWS: &[(&str, &str)] = &[
    ("2026-11-26T09:00:00Z", "UTC"),
    ("2026-11-26T09:00:00.000000500Z", "Europe/Berlin"),
    ("2026-03-29T10:00:00Z", "Europe/Berlin"),
    ("2026-03-28T23:30:00Z", "Europe/Berlin"),
    ("2026-11-01T05:30:00Z", "America/New_York"),
    ("2026-11-26T16:00:00Z", "Asia/Tokyo"),
    ("2026-06-30T20:00:00Z", "Asia/Kolkata"),
];

/// A generated case: a moment, a zone, tasks around them, and filters to list.
#[derive(Clone, Debug)]
pub struct Case {
    /// The instant the filters are evaluated at.
    pub now: DateTime<Utc>,
    /// The user's time zone.
    pub tz: Tz,
    /// The tasks to store.
    pub tasks: Vec<GenTask>,
    /// Each filter query with the order to list it in.
    pub filters: Vec<(String, SortSpec)>,
}

/// A generated task, relative to the case's moment.
#[derive(Clone, Debug)]
pub struct GenTask {
    title: &'static str,
    description: &'static str,
    priority: Priority,
    tags: Vec<&'static str>,
    /// Whole local days from today (all-day), or an offset from now in microseconds.
    due: Option<Due>,
    created_offset_us: i64,
    completed_offset_us: Option<i64>,
    recurring: bool,
    reminder: bool,
}

#[derive(Clone, Copy, Debug)]
enum Due {
    Day(i64),
    Offset(i64),
    /// A local midnight plus some microseconds (the edges of days).
    Midnight(i64, i64),
}

fn arb_task() -> impl Strategy<Value = GenTask> {
    let us = |x: i64| x;
    let offsets = vec![
        0,
        1,
        -1,
        us(3_600_000_000),
        -us(3_600_000_000),
        us(4 * 3_600_000_000),
        us(4 * 3_600_000_000) + 1,
        us(86_400_000_000),
        -us(86_400_000_000),
        us(3 * 86_400_000_000),
        us(8 * 86_400_000_000),
        -us(40 * 86_400_000_000),
        us(1_800_000_000),
    ];
    let due = prop_oneof![
        Just(None),
        (-3i64..10).prop_map(|d| Some(Due::Day(d))),
        prop::sample::select(offsets.clone()).prop_map(|o| Some(Due::Offset(o))),
        ((-2i64..8), prop::sample::select(vec![-1i64, 0, 1])).prop_map(|(d, e)| Some(Due::Midnight(d, e))),
    ];
    (
        (
            prop::sample::select(vec![
                "Buy milk",
                "buy MILK",
                "Report",
                "call mom",
                "Straße fegen",
                "café",
                "a b c",
                "z",
            ]),
            prop::sample::select(vec!["", "with milk", "MOM said so", "über"]),
            prop::sample::select(Priority::ALL.to_vec()),
            prop::sample::subsequence(vec!["work", "home", "home-office", "home_office", "x-1", "hoe"], 0..=3),
        ),
        due,
        prop::sample::select(offsets.clone()),
        prop::option::weighted(0.3, prop::sample::select(offsets)),
        any::<bool>(),
        prop::bool::weighted(0.3),
    )
        .prop_map(|((title, description, priority, tags), due, created, completed, recurring, reminder)| GenTask {
            title,
            description,
            priority,
            tags,
            due,
            created_offset_us: created - 86_400_000_000,
            completed_offset_us: completed,
            recurring: recurring && due.is_some(),
            reminder: reminder && due.is_some(),
        })
}

/// A case with `filters` queries.
pub fn arb_case(filters: usize) -> impl Strategy<Value = Case> {
    let sorts = ["due_at", "-due_at", "priority", "-priority", "created_at", "-created_at", "title", "-title"];
    (
        prop::sample::select(NOWS.to_vec()),
        prop::collection::vec(arb_task(), 0..40),
        prop::collection::vec((arb_query(), prop::sample::select(sorts.to_vec())), filters),
    )
        .prop_map(|((now, tz), tasks, queries)| Case {
            now: at(now),
            tz: tz.parse().expect("a zone"),
            tasks,
            filters: queries.into_iter().map(|(q, s)| (q, SortSpec::parse(s).expect("a sort"))).collect(),
        })
}

impl Case {
    /// The case's tasks for `user`.
    pub fn tasks(&self, user: UserId) -> Vec<Task> {
        let ctx = Context::new(self.now, self.tz);
        let today = ctx.today();
        let day = |d: i64| -> NaiveDate { today + Duration::days(d) };
        let off = |us: i64| self.now + Duration::microseconds(us);
        self.tasks
            .iter()
            .map(|g| {
                let created = crate::ports::truncate_micros(off(g.created_offset_us));
                let (due_at, all_day) = match g.due {
                    None => (None, false),
                    Some(Due::Day(d)) => (Some(ctx.midnight(day(d))), true),
                    Some(Due::Offset(o)) => (Some(off(o)), false),
                    Some(Due::Midnight(d, e)) => (Some(ctx.midnight(day(d)) + Duration::microseconds(e)), false),
                };
                let completed = g.completed_offset_us.map(|o| crate::ports::truncate_micros(off(o)));
                Task {
                    id: TaskId::new(),
                    user_id: user,
                    title: TaskTitle::parse(g.title).expect("title"),
                    description: Description::parse(g.description).expect("description"),
                    status: if completed.is_some() { Status::Completed } else { Status::Pending },
                    priority: g.priority,
                    tags: Tags::parse(g.tags.iter().copied()).expect("tags"),
                    due_at: due_at.map(crate::ports::truncate_micros),
                    all_day,
                    remind_at: g
                        .reminder
                        .then(|| due_at.map(|d| crate::ports::truncate_micros(d) - Duration::hours(1)))
                        .flatten(),
                    recurrence: g.recurring.then(|| Recurrence::parse("FREQ=DAILY").expect("rule")),
                    repeat_from: RepeatFrom::Due,
                    series_id: None,
                    created_at: created,
                    updated_at: created,
                    completed_at: completed,
                    version: 1,
                }
            })
            .collect()
    }
}

/// Stores the case's tasks for a new user and lists every filter through `repo`
/// (every 8th one page by page with a small limit, following the cursors): each
/// listing must equal [`TaskQuery::apply`] on the same tasks. Returns how many
/// filters were checked.
pub async fn check_case(repo: &dyn TaskRepository, case: &Case) -> Result<usize, String> {
    let user = UserId::new();
    let tasks = case.tasks(user);
    if !tasks.is_empty() {
        let change = Change { writes: tasks.iter().cloned().map(TaskWrite::Insert).collect(), ..Change::default() };
        repo.commit(change).await.map_err(|e| format!("insert: {e}"))?;
    }
    let ctx = Context::new(case.now, case.tz);
    for (i, (query, sort)) in case.filters.iter().enumerate() {
        let filter = Filter::parse(query).map_err(|e| format!("{query:?}: {e}"))?;
        let mut q = TaskQuery::new(user, case.now);
        q.tz = case.tz;
        q.status = StatusFilter::All;
        q.filter = Some(filter.cond(&ctx));
        q.sort = *sort;
        q.limit = if i % 8 == 0 { 3 } else { 200 };
        for page in 0.. {
            if page > 40 {
                return Err(format!("{query:?}: the cursor does not advance"));
            }
            let got = repo.list(&q).await.map_err(|e| format!("{query:?}: {e}"))?;
            let want = q.apply(&tasks);
            if got != want {
                let ids = |p: &crate::domain::TaskPage| p.items.iter().map(|t| t.title.to_string()).collect::<Vec<_>>();
                return Err(format!(
                    "{query:?} sorted by {} at {} in {}, page {page}: the store listed {:?}, memory {:?}",
                    sort.as_string(),
                    case.now,
                    case.tz,
                    ids(&got),
                    ids(&want)
                ));
            }
            match got.next_cursor {
                Some(c) => q.cursor = Some(Cursor::decode(&c, q.sort).map_err(|e| e.to_string())?),
                None => break,
            }
        }
    }
    Ok(case.filters.len())
}

/// Runs `cases` generated cases of `filters` queries each against `repo` (on the
/// runtime `rt`, from synchronous code): the property test of a store. Returns how
/// many filter listings were compared.
pub fn equivalence(rt: &tokio::runtime::Runtime, repo: &dyn TaskRepository, cases: u32, filters: usize) -> usize {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 200, ..Config::default() };
    let checked = std::sync::atomic::AtomicUsize::new(0);
    let started = std::time::Instant::now();
    TestRunner::new(config)
        .run(&arb_case(filters), |case| {
            let n = rt.block_on(check_case(repo, &case)).map_err(TestCaseError::fail)?;
            checked.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("the store and the in-memory evaluator disagree: {e}"));
    let n = checked.into_inner();
    eprintln!("filter equivalence: {n} filters over {cases} task sets in {:.1?}", started.elapsed());
    n
}

// ---- fuzzing ----

/// A small deterministic generator (splitmix64), for the fuzz run.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

pub(crate) const FUZZ_PIECES: &[&str] = &[
    "today",
    "tomorrow",
    "overdue",
    "no",
    "date",
    "time",
    "tags",
    "priority",
    "p1",
    "p2",
    "p3",
    "p4",
    "#",
    "#work",
    "+",
    "-",
    "!",
    "&",
    "&&",
    "|",
    "||",
    "(",
    ")",
    ",",
    ":",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!=",
    "==",
    "\"",
    "\\",
    "/",
    "*",
    "search",
    "search:",
    "due",
    "before",
    "after",
    "before:",
    "after:",
    "created",
    "completed",
    "done",
    "true",
    "false",
    "status",
    "all",
    "in",
    "not",
    "and",
    "or",
    "tags",
    "7",
    "days",
    "next",
    "friday",
    "dec",
    "24",
    "2026-12-24",
    "+4",
    "hours",
    "-2",
    "in 3 days",
    "end of the month",
    "2026-12-24T10:00:00Z",
    "ü",
    "日本",
    "🎉",
    "\u{0}",
    "\t",
    "\n",
    "  ",
    "9999999999999999999999",
    "-0",
    "0",
    "1e9",
    "recurring",
    "has",
    "reminder",
    "labels",
    "high",
    "medium",
    "low",
    "h",
    "{",
    "}",
    "'",
    "%",
    "_",
    "$1",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "eod",
    "at",
    "5pm",
    "noon",
    "+99999 hours",
    "100000 days",
    "3650 days",
    "3651 days",
];

/// `n` queries from `seed`: random pieces of the language (operators, terms,
/// dates, quotes, escapes, odd characters) in random order, and valid queries with
/// random bytes inserted, removed or cut. Most do not parse; all must be refused
/// cleanly.
pub fn fuzz_queries(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    let valid =
        ["(today | overdue) & #work & !p3", "due before: friday, search: milk", "tags in (a, b) & priority >= medium"];
    (0..n)
        .map(|i| {
            if i % 4 == 0 {
                let mut bytes = valid[rng.below(valid.len())].as_bytes().to_vec();
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(bytes.len() + 1);
                    match rng.below(3) {
                        0 if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        1 => bytes.insert(at, b" &|()!#:\"\\/-+*,<>=x0"[rng.below(20)]),
                        _ => bytes.truncate(at),
                    }
                }
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                (0..1 + rng.below(12))
                    .map(|_| {
                        let sep = if rng.below(3) == 0 { "" } else { " " };
                        format!("{}{sep}", rng.pick(FUZZ_PIECES))
                    })
                    .collect()
            }
        })
        .collect()
}
