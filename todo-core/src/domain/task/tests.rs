//! The task rules, without a store or a service.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::domain::Timezone;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn berlin() -> Timezone {
    Timezone::parse("Europe/Berlin").unwrap()
}

fn new_task(f: impl FnOnce(&mut NewTask)) -> NewTask {
    let mut n = NewTask::titled(TaskTitle::parse("water the plants").unwrap());
    f(&mut n);
    n
}

#[test]
fn a_new_task_is_pending_at_version_one_with_defaults() {
    let now = at("2026-11-26T09:00:00Z");
    let user = UserId::new();
    let t = Task::new(user, new_task(|_| {}), Timezone::default(), now).unwrap();
    assert_eq!((t.user_id, t.status, t.priority, t.version), (user, Status::Pending, Priority::Medium, 1));
    assert_eq!((t.created_at, t.updated_at, t.completed_at), (now, now, None));
    assert_eq!((t.series_id, t.repeat_from), (None, RepeatFrom::Due));
}

#[test]
fn an_all_day_due_date_moves_to_local_midnight() {
    let n = new_task(|n| {
        n.due_at = Some(at("2026-11-26T15:00:00Z"));
        n.all_day = Some(true);
    });
    let t = Task::new(UserId::new(), n, berlin(), at("2026-11-26T09:00:00Z")).unwrap();
    assert_eq!(t.due_at, Some(at("2026-11-25T23:00:00Z")), "midnight in Berlin (UTC+1)");
    assert_eq!(local_midnight(at("2026-07-01T12:00:00Z"), berlin()), at("2026-06-30T22:00:00Z"), "summer time");
}

#[test]
fn times_out_of_range_or_all_day_without_a_date_are_refused() {
    let now = at("2026-11-26T09:00:00Z");
    let all_day = new_task(|n| n.all_day = Some(true));
    assert_eq!(Task::new(UserId::new(), all_day, berlin(), now).unwrap_err().field, "all_day");
    let late = new_task(|n| n.due_at = Some(at("2200-01-01T00:00:00Z")));
    assert_eq!(Task::new(UserId::new(), late, berlin(), now).unwrap_err().field, "due_at");
    let early = new_task(|n| n.remind_at = Some(at("1969-12-31T23:59:59Z")));
    assert_eq!(Task::new(UserId::new(), early, berlin(), now).unwrap_err().field, "remind_at");
    assert!(check_times(Some(at("1970-01-01T00:00:00Z")), None, false, berlin()).is_ok());
}

#[test]
fn a_recurring_task_starts_a_series_and_its_successor_continues_it() {
    let n = new_task(|n| {
        n.due_at = Some(at("2026-11-26T09:00:00Z"));
        n.remind_at = Some(at("2026-11-26T08:30:00Z"));
        n.recurrence = Some(Recurrence::parse("FREQ=DAILY").unwrap());
    });
    let mut t = Task::new(UserId::new(), n, Timezone::default(), at("2026-11-25T09:00:00Z")).unwrap();
    assert_eq!(t.series_id, Some(SeriesId(t.id.0)));
    assert_eq!(t.successor(Timezone::default(), at("2026-11-26T10:00:00Z")), None, "not completed yet");

    let done = at("2026-11-26T10:00:00Z");
    assert!(t.set_status(Status::Completed, done));
    assert!(!t.set_status(Status::Completed, done), "already completed");
    let next = t.successor(Timezone::default(), done).unwrap();
    assert_ne!(next.id, t.id);
    assert_eq!((next.status, next.version, next.series_id), (Status::Pending, 1, t.series_id));
    assert_eq!(next.due_at, Some(at("2026-11-27T09:00:00Z")));
    assert_eq!(next.remind_at, Some(at("2026-11-27T08:30:00Z")), "the reminder keeps its lead time");
}

#[test]
fn repeat_from_completion_counts_from_the_completion_day() {
    let n = new_task(|n| {
        n.due_at = Some(at("2026-11-20T09:00:00Z"));
        n.recurrence = Some(Recurrence::parse("FREQ=WEEKLY").unwrap());
        n.repeat_from = Some(RepeatFrom::Completion);
    });
    let mut t = Task::new(UserId::new(), n, Timezone::default(), at("2026-11-01T09:00:00Z")).unwrap();
    t.set_status(Status::Completed, at("2026-11-26T15:00:00Z"));
    let next = t.successor(Timezone::default(), at("2026-11-26T15:00:00Z")).unwrap();
    assert_eq!(next.due_at, Some(at("2026-12-03T09:00:00Z")));
}

#[test]
fn a_task_without_recurrence_has_no_successor() {
    let mut t = Task::new(UserId::new(), new_task(|_| {}), Timezone::default(), at("2026-11-26T09:00:00Z")).unwrap();
    t.set_status(Status::Completed, at("2026-11-26T10:00:00Z"));
    assert_eq!(t.successor(Timezone::default(), at("2026-11-26T10:00:00Z")), None);
}

#[test]
fn a_patch_names_what_changed_and_moves_the_reminder_with_the_due_date() {
    let n = new_task(|n| {
        n.due_at = Some(at("2026-11-26T09:00:00Z"));
        n.remind_at = Some(at("2026-11-26T08:00:00Z"));
    });
    let t = Task::new(UserId::new(), n, Timezone::default(), at("2026-11-25T09:00:00Z")).unwrap();
    let mut after = t.clone();
    let patch = TaskPatch { due_at: Some(Some(at("2026-11-27T09:00:00Z"))), ..TaskPatch::default() };
    assert_eq!(after.apply_patch(&patch, Timezone::default()).unwrap(), ["due_at", "remind_at"]);
    assert_eq!(after.remind_at, Some(at("2026-11-27T09:00:00Z") - Duration::hours(1)));

    let mut same = t.clone();
    let noop = TaskPatch { title: Some(t.title.clone()), ..TaskPatch::default() };
    assert!(same.apply_patch(&noop, Timezone::default()).unwrap().is_empty());

    let mut cleared = t.clone();
    let clear = TaskPatch { due_at: Some(None), all_day: Some(true), ..TaskPatch::default() };
    assert!(cleared.apply_patch(&clear, Timezone::default()).is_ok(), "clearing the date clears all_day");
    assert!(!cleared.all_day);

    let mut recurring = t.clone();
    let rule = TaskPatch { recurrence: Some(Some(Recurrence::parse("FREQ=DAILY").unwrap())), ..TaskPatch::default() };
    recurring.apply_patch(&rule, Timezone::default()).unwrap();
    assert_eq!(recurring.series_id, Some(SeriesId(t.id.0)));

    let mut bad = t;
    let all_day =
        TaskPatch { due_at: Some(None), remind_at: Some(Some(at("2300-01-01T00:00:00Z"))), ..TaskPatch::default() };
    assert_eq!(bad.apply_patch(&all_day, Timezone::default()).unwrap_err().field, "remind_at");
}

#[test]
fn a_version_check_passes_without_an_expectation_or_with_the_current_version() {
    let t = Task::new(UserId::new(), new_task(|_| {}), Timezone::default(), at("2026-11-26T09:00:00Z")).unwrap();
    assert!(t.check_version(None).is_ok());
    assert!(t.check_version(Some(1)).is_ok());
    assert!(matches!(t.check_version(Some(2)), Err(Error::VersionMismatch { current: 1 })));
}

/// Taking an owned string (what the stores do with a row's text) gives what
/// parsing the same text gives, whether the text is already canonical or not;
/// and each value serializes as its text, the tags as a sorted list.
#[test]
fn owned_strings_parse_as_borrowed_ones_and_serialize_as_text() {
    for t in ["Buy milk", "  padded  ", "ünïcødé title", "", " ", "bell\u{7}"] {
        assert_eq!(TaskTitle::try_from(t.to_owned()), TaskTitle::parse(t), "{t:?}");
    }
    let long = "x".repeat(DESCRIPTION_MAX_CHARS + 1);
    for d in ["", "  notes kept as typed ", "é".repeat(DESCRIPTION_MAX_CHARS).as_str(), long.as_str()] {
        assert_eq!(Description::try_from(d.to_owned()), Description::parse(d), "{}", d.len());
    }
    for g in ["work", "#Work", " home ", "a-b_c9", "", "x".repeat(33).as_str(), "héllo", "UPPER"] {
        assert_eq!(Tag::try_from(g.to_owned()), Tag::parse(g), "{g:?}");
    }
    let strings = vec!["work".to_owned(), "#Home".to_owned(), "work".to_owned()];
    assert_eq!(Tags::from_strings(strings.clone()), Tags::parse(&strings));
    let statuses = [
        ("pending", Some(Status::Pending)),
        (" Completed ", Some(Status::Completed)),
        ("PENDING", Some(Status::Pending)),
        ("done", None),
        ("", None),
    ];
    for (name, want) in statuses {
        assert_eq!(Status::parse(name).ok(), want, "{name:?}");
    }

    let tags = Tags::parse(["b", "a"]).unwrap();
    let json = serde_json::json!({
        "title": TaskTitle::parse("Say \"hi\"").unwrap(),
        "description": Description::parse("line\nbreak").unwrap(),
        "tags": tags,
    });
    assert_eq!(json.to_string(), r#"{"description":"line\nbreak","tags":["a","b"],"title":"Say \"hi\""}"#);
    let back: Tags = serde_json::from_value(json["tags"].clone()).unwrap();
    assert_eq!(back, Tags::parse(["a", "b"]).unwrap());
}
