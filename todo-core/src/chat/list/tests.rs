use super::*;
use crate::chat::test_util::ctx;

fn range(text: &str) -> (Option<String>, Option<String>) {
    let s = Sentence::new(text);
    let (a, b, _) = range_at(&s, 0, &ctx()).unwrap_or_else(|| panic!("{text:?} is a range"));
    (a.map(|d| d.to_string()), b.map(|d| d.to_string()))
}

fn both(a: &str, b: &str) -> (Option<String>, Option<String>) {
    (Some(a.into()), Some(b.into()))
}

#[test]
fn ranges() {
    assert_eq!(range("today"), both("2026-11-26", "2026-11-27"));
    assert_eq!(range("this week"), both("2026-11-23", "2026-11-30"));
    assert_eq!(range("next week"), both("2026-11-30", "2026-12-07"));
    assert_eq!(range("last week"), both("2026-11-16", "2026-11-23"));
    assert_eq!(range("this month"), both("2026-11-01", "2026-12-01"));
    assert_eq!(range("next month"), both("2026-12-01", "2027-01-01"));
    assert_eq!(range("this weekend"), both("2026-11-28", "2026-11-30"));
    assert_eq!(range("on friday"), both("2026-11-27", "2026-11-28"));
    assert_eq!(range("the next 3 days"), both("2026-11-26", "2026-11-29"));
    assert_eq!(range("before friday"), (None, Some("2026-11-27".into())));
    assert_eq!(range("by friday"), (None, Some("2026-11-28".into())));
    assert_eq!(range("due sometime next week"), both("2026-11-30", "2026-12-07"));
    assert_eq!(range("some time this week"), both("2026-11-23", "2026-11-30"));
}

#[test]
fn questions_about_a_day() {
    let run = |t: &str| crate::chat::test_util::run(by_verb, t);
    assert_eq!(
        run("what should I do today"),
        r#"{"intent":"list_tasks","args":{"status":"pending","due_after":"2026-11-26T00:00:00Z","due_before":"2026-11-27T00:00:00Z"}}"#
    );
    assert_eq!(run("what should I cook today"), "none");
}
