//! Properties of the chat interpreter that hold for every input: it never
//! panics, it answers fast, and every task it proposes passes domain validation.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use todo_core::chat::{self, Command, Conversing, TaskRef};
use todo_core::domain::{Recurrence, Tag, TaskTitle};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
}

const ZONES: &[chrono_tz::Tz] = &[
    chrono_tz::Tz::UTC,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Kiritimati,
];

/// Words the grammar reacts to, so generated sentences reach deep into it.
const WORDS: &[&str] = &[
    "add",
    "remind",
    "me",
    "to",
    "every",
    "other",
    "day",
    "week",
    "month",
    "year",
    "monday",
    "fri",
    "and",
    "at",
    "on",
    "the",
    "1st",
    "last",
    "of",
    "in",
    "3",
    "minutes",
    "hours",
    "days",
    "tomorrow",
    "today",
    "tonight",
    "next",
    "this",
    "5pm",
    "17:30",
    "9.30",
    "noon",
    "midnight",
    "december",
    "3",
    "2026-12-10",
    "12/03",
    "#work",
    "#2",
    "high",
    "priority",
    "p1",
    "urgent",
    "task",
    "2",
    "delete",
    "remove",
    "it",
    "all",
    "mark",
    "as",
    "done",
    "complete",
    "move",
    "rename",
    "tag",
    "with",
    "show",
    "my",
    "tasks",
    "what's",
    "due",
    "overdue",
    "search",
    "for",
    "milk",
    "buy",
    "call",
    "mom",
    "until",
    "starting",
    "before",
    "15",
    "min",
    "remind",
    "reminder",
    "weekday",
    "weekend",
    "first",
    "second",
    "morning",
    "evening",
    "\"",
    ",",
    "?",
    "!",
    ":",
    "half",
    "past",
    "quarter",
    "o'clock",
    "end",
    "every!",
    "daily",
    "weekly",
    "yearly",
    "from",
    "between",
    "by",
    "set",
    "change",
    "priority",
    "of",
    "0192f0c1-7a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "feb",
    "29",
    "30th",
    "february",
    "99999",
    "-1",
    "½",
    "ｔｏｍｏｒｒｏｗ",
    "\u{200b}",
    "İ",
    "actually",
    "instead",
    "undo",
    "yes",
    "no",
    "skip",
    "them",
    "that",
    "one",
    "list",
    "shopping",
    "make",
    "before",
    "an",
    "hour",
    "the",
    "again",
];

fn sentence() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..40).prop_map(|w| w.join(" "))
}

/// Checks what a command promises: a proposed task is valid in the domain.
fn check_valid(cmd: &Command) {
    let json = serde_json::to_value(cmd).expect("serializes");
    assert!(json["intent"].is_string() && json["args"].is_object(), "{json}");
    match cmd {
        Command::AddTask(a) => {
            assert_eq!(TaskTitle::parse(a.title.as_str()).as_ref(), Ok(&a.title));
            for t in a.tags.iter() {
                assert_eq!(Tag::parse(t.as_str()).as_ref(), Ok(t));
            }
            if let Some(r) = &a.recurrence {
                assert!(Recurrence::parse(r.as_str()).is_ok(), "{r:?}");
            }
            // The JSON form is accepted back by the typed arguments.
            let back: Command = serde_json::from_value(json).expect("deserializes");
            assert_eq!(&back, cmd);
        }
        Command::UpdateTask(u) => {
            if let Some(t) = &u.title {
                assert!(TaskTitle::parse(t.as_str()).is_ok());
            }
            if let TaskRef::Index(n) = u.task {
                assert!(n >= 1);
            }
        }
        Command::Unknown(_) => assert!(cmd.reply().is_some_and(|r| !r.is_empty())),
        Command::AddTasks(a) => {
            assert!(!a.tasks.is_empty());
            for t in &a.tasks {
                check_valid(&Command::AddTask(t.clone()));
            }
        }
        _ => {}
    }
}

/// A task due at `due` (all day or not), for fitting follow-ups to.
fn task_due(due: Option<DateTime<Utc>>, all_day: bool, recurring: bool) -> todo_core::domain::Task {
    let mut t: todo_core::domain::Task = serde_json::from_value(serde_json::json!({
        "id": "0192f0c1-7a2b-7c3d-8e4f-5a6b7c8d9e0f", "user_id": "0192f0c1-7a2b-7c3d-8e4f-5a6b7c8d9e0e",
        "title": "t", "status": "pending", "priority": "medium", "due_at": null, "remind_at": null,
        "recurrence": null, "series_id": null, "created_at": "2026-11-26T09:00:00Z",
        "updated_at": "2026-11-26T09:00:00Z", "completed_at": null, "version": 1
    }))
    .expect("a task");
    t.due_at = due;
    t.all_day = all_day && due.is_some();
    if recurring {
        t.recurrence = Some(Recurrence::parse("FREQ=WEEKLY;BYDAY=MO").expect("a rule"));
    }
    t
}

/// A turn of a conversation: a valid command, and an update that fits any task.
fn check_turn(text: &str, at: DateTime<Utc>, tz: chrono_tz::Tz, pending: bool, due_minutes: i64, all_day: bool) {
    let cmd = chat::parse_in(text, at, tz, Conversing { pending, about_one: !pending });
    check_valid(&cmd);
    if let Command::UpdateTask(mut u) = cmd {
        let due = (due_minutes >= 0).then(|| at + chrono::Duration::minutes(due_minutes - 60 * 24 * 30));
        let _ = u.fit_to(&task_due(due, all_day, due_minutes % 3 == 0), at, tz);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_any_text(text in any::<String>().prop_map(|s| s.chars().take(2000).collect::<String>()), z in 0..ZONES.len(), minutes in 0i64..(60 * 24 * 800)) {
        let at = now() + chrono::Duration::minutes(minutes) - chrono::Duration::days(400);
        check_valid(&chat::parse(&text, at, ZONES[z]));
    }

    #[test]
    fn grammar_words_in_any_order_are_safe(text in sentence(), z in 0..ZONES.len(), minutes in 0i64..(60 * 24 * 800)) {
        let at = now() + chrono::Duration::minutes(minutes) - chrono::Duration::days(400);
        check_valid(&chat::parse(&text, at, ZONES[z]));
    }

    #[test]
    fn conversation_turns_are_safe(
        text in sentence(),
        z in 0..ZONES.len(),
        minutes in 0i64..(60 * 24 * 800),
        pending in any::<bool>(),
        due in -1i64..(60 * 24 * 60),
        all_day in any::<bool>(),
    ) {
        let at = now() + chrono::Duration::minutes(minutes) - chrono::Duration::days(400);
        check_turn(&text, at, ZONES[z], pending, due, all_day);
    }

    #[test]
    fn conversation_turns_never_panic_on_any_text(text in any::<String>().prop_map(|s| s.chars().take(2000).collect::<String>()), z in 0..ZONES.len(), due in -1i64..(60 * 24 * 60)) {
        check_turn(&text, now(), ZONES[z], false, due, false);
    }
}

#[test]
fn long_messages_do_not_panic() {
    for unit in
        ["every monday and ", "in 3 days ", "#a ", "1 hour and ", "\"", "remind me to ", "é", "🦀 ", "tomorrow at 5pm "]
    {
        let text = unit.repeat(2_000 / unit.chars().count() + 1);
        check_valid(&chat::parse(&text, now(), chrono_tz::Europe::Berlin));
    }
}

/// Sentences of every shape, for timing.
fn timing_corpus() -> Vec<String> {
    let mut out: Vec<String> = [
        "add team meeting tomorrow at 3pm and remind me 15 minutes before",
        "add clean the fridge every last friday of the month",
        "remind me to pay rent on the 1st of every month at 9am",
        "what's due this week",
        "move task 2 to friday at 4pm",
        "delete everything",
        "what's the weather like in Paris",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..200 {
        out.push(sentence().new_tree(&mut runner).expect("generates").current());
    }
    for unit in ["every monday and ", "in 3 days ", "#a ", "word ", "tomorrow at 5pm "] {
        out.push(unit.repeat(2_000 / unit.len()));
    }
    out
}

#[test]
fn parses_well_under_a_millisecond() {
    let corpus = timing_corpus();
    // Warm up (page faults, lazy statics).
    for s in &corpus {
        std::hint::black_box(chat::parse(s, now(), chrono_tz::Europe::Berlin));
    }
    let mut times: Vec<Duration> = corpus
        .iter()
        .map(|s| {
            let t = Instant::now();
            std::hint::black_box(chat::parse(s, now(), chrono_tz::Europe::Berlin));
            t.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    println!(
        "parse time over {} sentences: median {median:?}, p99 {p99:?}, max {:?}",
        times.len(),
        times[times.len() - 1]
    );
    // Release builds take tens of microseconds for a sentence and a few hundred
    // for 2,000 characters of grammar words; debug builds are ten times slower
    // and the machine may be busy, so the bounds are generous.
    let slow = if cfg!(debug_assertions) { 20 } else { 1 };
    assert!(median < Duration::from_millis(1), "median {median:?}");
    assert!(p99 < Duration::from_millis(slow * 5), "p99 {p99:?}");
}

#[test]
fn generated_tasks_round_trip_through_the_domain() {
    let templates = [
        ("add ", " tomorrow at 5pm #home p1"),
        ("remind me to ", " every weekday at 9:30am"),
        ("add ", " on the 1st of every month"),
        ("", " next friday high priority #work #errands"),
        ("add ", " every other week starting next monday and remind me 1 hour before"),
    ];
    let titles = ["buy milk", "call the plumber", "stand-up meeting", "Renew PASSPORT", "x", "pay 50€ to Zoë"];
    for (pre, post) in templates {
        for title in titles {
            let msg = format!("{pre}{title}{post}");
            let cmd = chat::parse(&msg, now(), chrono_tz::America::New_York);
            let Command::AddTask(a) = &cmd else { panic!("{msg:?} is an add: {cmd:?}") };
            assert_eq!(a.title.as_str(), title, "{msg:?}");
            check_valid(&cmd);
        }
    }
}
