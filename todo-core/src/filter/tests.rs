//! The parser and the in-memory evaluator, term by term; errors and their spans;
//! canonical texts; and a fuzz run over generated and mutated queries.

use chrono::{DateTime, Utc};
use proptest::prelude::*;

use super::*;
use crate::domain::{Description, Priority, Recurrence, RepeatFrom, Status, Tags, TaskId, TaskTitle, UserId};

fn ctx() -> Context {
    Context::new("2026-11-26T09:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC)
}

fn task() -> Task {
    let at: DateTime<Utc> = "2026-11-20T08:00:00Z".parse().unwrap();
    Task {
        id: TaskId::new(),
        user_id: UserId::new(),
        title: TaskTitle::parse("Write the Report").unwrap(),
        description: Description::parse("for the boss").unwrap(),
        status: Status::Pending,
        priority: Priority::Medium,
        tags: Tags::default(),
        due_at: None,
        all_day: false,
        remind_at: None,
        recurrence: None,
        repeat_from: RepeatFrom::Due,
        series_id: None,
        created_at: at,
        updated_at: at,
        completed_at: None,
        version: 1,
    }
}

fn with(f: impl FnOnce(&mut Task)) -> Task {
    let mut t = task();
    f(&mut t);
    t
}

fn due(s: &str) -> Option<DateTime<Utc>> {
    Some(s.parse().unwrap())
}

fn m(q: &str, t: &Task) -> bool {
    Filter::parse(q).unwrap_or_else(|e| panic!("{q:?}: {e}")).matches(t, &ctx())
}

fn err(q: &str) -> (String, [usize; 2]) {
    let e = Filter::parse(q).expect_err(q);
    (e.message, e.span)
}

#[test]
fn canonical_text_of_the_issue_example() {
    let f = Filter::parse("( today or overdue )  and #Work AND not p3").unwrap();
    assert_eq!(f.to_string(), "(today | overdue) & #work & !p3");
    assert_eq!(Filter::parse("(today | overdue) & #work & !p3").unwrap().to_string(), f.to_string());
}

#[test]
fn precedence_is_not_then_and_then_or() {
    assert_eq!(Filter::parse("a1 | #b & !#c").map(|f| f.to_string()).unwrap_err().span, [0, 2]);
    let f = Filter::parse("#a | #b & !#c #d").unwrap();
    assert_eq!(f.to_string(), "#a | #b & !#c & #d");
    let ExprKind::Or(xs) = &f.lists()[0].expr.kind else { panic!("or at the top") };
    assert!(matches!(xs[1].kind, ExprKind::And(ref ys) if ys.len() == 3));
    assert_eq!(Filter::parse("!(#a | #b)").unwrap().to_string(), "!(#a | #b)");
    assert_eq!(Filter::parse("--#a").unwrap().to_string(), "!!#a");
}

#[test]
fn spans_point_into_the_query() {
    let f = Filter::parse("today  &  #work").unwrap();
    let ExprKind::And(xs) = &f.lists()[0].expr.kind else { panic!() };
    assert_eq!(xs[0].span, 0..5);
    assert_eq!(xs[1].span, 10..15);
    assert_eq!(f.lists()[0].expr.span, 0..15);
}

#[test]
fn comma_splits_lists() {
    let f = Filter::parse("today, overdue & #work ,p1").unwrap();
    assert_eq!(f.lists().len(), 3);
    assert_eq!(f.list_source(1), Some("overdue & #work"));
    assert_eq!(f.to_string(), "today, overdue & #work, p1");
}

#[test]
fn status_terms() {
    let done = with(|t| {
        t.status = Status::Completed;
        t.completed_at = due("2026-11-25T10:00:00Z");
    });
    let open = task();
    assert!(m("p2", &open) && !m("p2", &done), "pending by default");
    assert!(m("completed", &done) && !m("completed", &open));
    assert!(m("status:all", &done) && m("status: all", &open));
    assert!(m("done = true", &done) && m("done = false", &open) && !m("done != false", &open));
    assert!(m("!completed", &open) && !m("!completed", &done), "a negated status is a status");
    assert!(m("completed before: today", &done) && !m("completed before: yesterday", &done));
    assert!(m("completed after: 2026-11-24", &done));
    assert!(m("pending | completed", &done));
}

#[test]
fn priorities() {
    let high = with(|t| t.priority = Priority::High);
    let low = with(|t| t.priority = Priority::Low);
    assert!(m("p1", &high) && !m("p1", &low));
    assert!(m("priority:high", &high) && m("priority: H", &high) && m("Priority:Urgent", &high));
    assert!(m("priority >= medium", &high) && !m("priority >= medium", &low));
    assert!(m("priority < medium", &low) && m("priority != high", &low));
    assert!(m("no priority", &task()) && !m("no priority", &low));
    assert!(m("priority in (high, low)", &low) && !m("priority not in (high, low)", &low));
    assert!(!m("priority > high", &high));
    assert_eq!(Filter::parse("priority >= medium").unwrap().to_string(), "priority in (medium, high)");
    assert_eq!(Filter::parse("priority > high").unwrap().to_string(), "priority in ()");
}

#[test]
fn tags() {
    let t = with(|t| t.tags = Tags::parse(["work", "home-office", "x_y"]).unwrap());
    let none = task();
    assert!(m("#work", &t) && m("#WORK", &t) && m("+work", &t) && !m("-work", &t));
    assert!(m("#\"home office\"", &t) && m("#home\\ office", &t) && m("#home-office", &t));
    assert!(m("#\"x y\"", &t) && !m("#\"xy\"", &t));
    assert!(m("#wor*", &t) && m("#*office", &t) && m("#*", &t) && !m("#*", &none));
    assert!(m("!#work", &none), "a negated tag includes untagged tasks");
    assert!(m("no tags", &none) && !m("no tags", &t));
    assert!(m("tags in (home, work)", &t) && !m("tags not in (home, work)", &t));
    assert!(m("tags = work", &t) && m("labels != shopping", &t));
    assert!(m("-shopping", &t), "Taskwarrior's -tag");
}

#[test]
fn search() {
    let t = task();
    assert!(m("search: report", &t) && m("search: THE BOSS", &t) && m("/report/", &t));
    assert!(m("search: write the report & p2", &t));
    assert!(!m("search: \"report & p2\"", &t));
    assert!(m("/the boss/", &t) && !m("/x\\/y/", &t));
}

#[test]
fn dates() {
    let today_timed = with(|t| t.due_at = due("2026-11-26T17:00:00Z"));
    let today_all_day = with(|t| {
        t.due_at = due("2026-11-26T00:00:00Z");
        t.all_day = true;
    });
    let earlier_today = with(|t| t.due_at = due("2026-11-26T08:00:00Z"));
    let yesterday_all_day = with(|t| {
        t.due_at = due("2026-11-25T00:00:00Z");
        t.all_day = true;
    });
    let friday = with(|t| t.due_at = due("2026-11-27T12:00:00Z"));
    let undated = task();
    assert!(m("today", &today_timed) && m("today", &today_all_day) && m("today", &earlier_today));
    assert!(m("overdue", &earlier_today) && !m("overdue", &today_all_day) && m("overdue", &yesterday_all_day));
    assert!(!m("overdue", &undated) && m("!overdue", &undated));
    assert!(m("tomorrow", &friday) && m("friday", &friday) && m("due: friday", &friday) && m("due friday", &friday));
    assert!(m("7 days", &friday) && m("next 7 days", &friday) && !m("7 days", &yesterday_all_day));
    assert!(m("due before: friday", &today_timed) && !m("due before: friday", &friday));
    assert!(m("due after: today", &friday) && !m("due after: today", &today_timed));
    assert!(m("due before: +4 hours", &earlier_today) && !m("due before: +4 hours", &today_timed));
    assert!(m("due <= today", &today_timed) && m("due >= today", &today_timed) && m("due = today", &today_timed));
    assert!(m("due != today", &friday) && !m("due != today", &undated), "no date never compares");
    assert!(m("no date", &undated) && !m("no date", &friday));
    assert!(m("no time", &today_all_day) && !m("no time", &today_timed) && !m("no time", &undated));
    assert!(m("due < 2026-12-24", &friday) && m("dueDate < \"dec 24\"", &friday));
    assert!(m("created before: today", &task()) && m("created = 2026-11-20", &task()));
    assert!(m("due before: 2026-11-26T17:00:01Z", &today_timed) && !m("due < 2026-11-26T17:00:00Z", &today_timed));
}

#[test]
fn the_other_terms() {
    let r = with(|t| {
        t.recurrence = Some(Recurrence::parse("FREQ=DAILY").unwrap());
        t.remind_at = due("2026-11-26T08:00:00Z");
    });
    assert!(m("recurring", &r) && !m("recurring", &task()));
    assert!(m("has reminder", &r) && m("no reminder", &task()) && !m("no reminder", &r));
}

#[test]
fn errors_say_what_was_expected_and_where() {
    assert_eq!(err("due before: "), ("expected a date after 'due before:' at 12".into(), [12, 12]));
    assert_eq!(err("today &"), ("expected a term after '&' at 7".into(), [7, 7]));
    assert_eq!(err("(today | p1"), ("unclosed '(' from 0: expected ')' at 11".into(), [11, 11]));
    assert_eq!(err("today)"), ("unmatched ')' at 5".into(), [5, 6]));
    assert_eq!(err("wrok"), ("unknown term 'wrok': expected a term such as today, overdue, p1, #tag, search: text or a date (for the tag, write #wrok) at 0".into(), [0, 4]));
    assert_eq!(err("#").1, [1, 1]);
    assert_eq!(err("search:").1, [7, 7]);
    assert_eq!(err("p4").1, [0, 2]);
    assert_eq!(err("#wörk").1, [1, 5]);
    assert_eq!(err("\"x\"").1, [0, 1]);
    assert_eq!(err("/abc").1, [4, 4]);
    assert_eq!(err("today, ").1, [7, 7]);
    assert_eq!(err("(today, p1)").1, [6, 7]);
    assert_eq!(err("due before: tomorrow p5").1, [21, 23]);
    assert_eq!(err("at 5pm").1, [0, 6]);
    assert_eq!(err("due before: in 1000 years").1, [12, 25]);
    assert_eq!(err("").0, "the filter is empty: expected a term such as today, #tag or p1 at 0");
    assert_eq!(err("0 days").1, [0, 1]);
    // Spans count characters, not bytes.
    assert_eq!(err("#über").1, [1, 5]);
    assert_eq!(err("ümlaut &").1, [0, 6]);
}

#[test]
fn limits() {
    let deep = format!("{}today{}", "(".repeat(40), ")".repeat(40));
    assert!(err(&deep).0.contains("nests deeper"));
    let many = vec!["p1"; 101].join(" | ");
    assert!(err(&many).0.contains("more than 100 terms"));
    assert!(err(&"x".repeat(1001)).0.contains("limit is 1000"));
    assert!(err(&"!".repeat(500)).0.contains("nests deeper"));
}

// ---- generated queries ----

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("today".to_owned()),
        Just("tomorrow".to_owned()),
        Just("overdue".to_owned()),
        Just("no date".to_owned()),
        Just("no time".to_owned()),
        Just("recurring".to_owned()),
        Just("has reminder".to_owned()),
        Just("no priority".to_owned()),
        Just("no tags".to_owned()),
        Just("completed".to_owned()),
        Just("pending".to_owned()),
        Just("status:all".to_owned()),
        Just("done = false".to_owned()),
        (1u8..=3).prop_map(|n| format!("p{n}")),
        prop::sample::select(vec!["high", "medium", "low"]).prop_map(|p| format!("priority:{p}")),
        (
            prop::sample::select(vec!["<", "<=", ">", ">=", "=", "!="]),
            prop::sample::select(vec!["low", "medium", "high"])
        )
            .prop_map(|(o, p)| format!("priority {o} {p}")),
        prop::sample::select(vec!["work", "home", "x-1", "y_2", "\"home office\"", "wo*", "*"])
            .prop_map(|t| format!("#{t}")),
        prop::sample::select(vec!["work", "home"]).prop_map(|t| format!("+{t}")),
        prop::sample::select(vec!["milk", "Report", "ß", "a & b"]).prop_map(|t| format!("search: \"{t}\"")),
        prop::sample::select(vec!["milk", "a b"]).prop_map(|t| format!("/{t}/")),
        (1u32..30).prop_map(|n| format!("{n} days")),
        (1u32..30).prop_map(|n| format!("next {n} days")),
        (
            prop::sample::select(vec!["due", "created", "completed"]),
            prop::sample::select(vec![" before:", " after:", " <", " <=", " >", " >=", " =", " !="]),
            prop::sample::select(vec!["today", "friday", "dec 24", "+4 hours", "-2 days", "2026-12-24", "next week"]),
        )
            .prop_map(|(f, o, d)| format!("{f}{o} {d}")),
        prop::sample::select(vec!["work", "home"]).prop_map(|t| format!("tags in ({t}, x-1)")),
        prop::sample::select(vec!["friday", "dec 24", "in 3 days"]).prop_map(str::to_owned),
    ]
}

fn query() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(vec![" & ", " and ", " ", " && "]), inner.clone())
                .prop_map(|(a, o, b)| format!("{a}{o}{b}")),
            (inner.clone(), prop::sample::select(vec![" | ", " or ", " || "]), inner.clone())
                .prop_map(|(a, o, b)| format!("{a}{o}{b}")),
            (prop::sample::select(vec!["!", "not ", "-", "! "]), inner.clone()).prop_map(|(n, a)| format!("{n}({a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// The canonical text parses back to the same filter, and means the same.
    #[test]
    fn canonical_text_round_trips(q in query(), q2 in query()) {
        let q = format!("{q}, {q2}");
        let f = Filter::parse(&q).map_err(|e| TestCaseError::fail(format!("{q:?}: {e}")))?;
        let text = f.to_string();
        let g = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        prop_assert_eq!(&g.to_string(), &text);
        prop_assert_eq!(f.cond(&ctx()), g.cond(&ctx()), "{} vs {}", q, text);
    }
}

/// Queries made of random pieces, and valid queries with random bytes changed:
/// parsing, evaluating and displaying never panic, and what parses round-trips.
#[test]
fn fuzzed_queries_never_panic() {
    let t = with(|t| {
        t.tags = Tags::parse(["work"]).unwrap();
        t.due_at = due("2026-11-26T17:00:00Z");
    });
    let contexts = [
        ctx(),
        Context::new("2026-03-29T01:30:00Z".parse().unwrap(), chrono_tz::Europe::Berlin),
        Context::new("1970-01-01T00:00:00Z".parse().unwrap(), chrono_tz::Pacific::Kiritimati),
        Context::new("2199-12-31T23:59:59Z".parse().unwrap(), chrono_tz::America::New_York),
    ];
    let n = 100_000;
    let mut parsed = 0;
    for (i, q) in crate::contract::filters::fuzz_queries(0x6669_6c74_6572, n).into_iter().enumerate() {
        match Filter::parse(&q) {
            Ok(f) => {
                parsed += 1;
                let c = &contexts[i % contexts.len()];
                let _ = f.matches(&t, c);
                let _ = f.cond(c).due_range();
                let text = f.to_string();
                let g = Filter::parse(&text).unwrap_or_else(|e| panic!("{q:?} -> {text:?}: {e}"));
                assert_eq!(g.to_string(), text, "{q:?}");
            }
            Err(e) => {
                let chars = q.chars().count();
                assert!(e.span[0] <= e.span[1] && e.span[1] <= chars, "{q:?}: {e:?}");
                assert!(e.message.ends_with(&format!(" at {}", e.span[0])), "{q:?}: {}", e.message);
            }
        }
    }
    assert!(parsed > n / 50, "the fuzz run should parse some queries, parsed {parsed}");
    eprintln!("fuzz: {n} queries, {parsed} parsed");
}

/// Every example of docs/filters.md parses, and its canonical text parses back.
#[test]
fn the_documented_examples_parse() {
    for q in [
        "today & #work",
        "tomorrow",
        "overdue",
        "7 days",
        "friday",
        "dec 24",
        "2026-12-24",
        "no date & p1",
        "no due date",
        "today & no time",
        "recurring",
        "has reminder",
        "no reminder",
        "p1",
        "priority: high",
        "priority:h",
        "priority:urgent",
        "priority:normal",
        "no priority",
        "#work",
        "+work",
        "-someday",
        "#\"home office\"",
        "#home\\ office",
        "#*office",
        "no tags",
        "no labels",
        "search: invoice",
        "/call mom/",
        "search: \"a & b\"",
        "due before: friday",
        "due after: next week",
        "due: dec 24",
        "due dec 24",
        "created after: -7 days",
        "completed after: monday",
        "completed & #work",
        "status:all & #work",
        "status:pending",
        "status:completed",
        "done",
        "due < 2026-12-24",
        "due >= today",
        "dueDate < \"dec 1\"",
        "due_date <= friday",
        "due_at > +4 hours",
        "created_at >= 2026-01-01",
        "done_at < today",
        "completed_at >= yesterday",
        "priority >= medium",
        "priority in (high, low)",
        "priority not in (low)",
        "tags in (work, home)",
        "tags not in (someday)",
        "labels = finance",
        "tag != x",
        "label in (a)",
        "done = false",
        "p1 | p2 & #work",
        "today, overdue",
        "due before: +4 hours",
        "due before: tomorrow at 5pm",
        "due: in 2 hours",
        "due < 2026-12-24 14:30",
        "due < 2026-12-24T10:00:00Z",
        "due < 2026-12-24T10:00",
        "due before: end of the month",
        "due before: the 15th",
        "due before: 24 december 2026",
        "due: next friday",
        "due after: in 3 days",
        "7 days & #work",
        "!#work",
        "-work",
        "due before: may 5",
        "due < 2026-05-05",
        "completed",
        "done = true",
        "a1 | !a2".replace("a1", "#a1").replace("a2", "#a2").as_str(),
    ] {
        let f = Filter::parse(q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        let text = f.to_string();
        Filter::parse(&text).unwrap_or_else(|e| panic!("{q:?} -> {text:?}: {e}"));
        let _ = f.cond(&ctx());
    }
}
