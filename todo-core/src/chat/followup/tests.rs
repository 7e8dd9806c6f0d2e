use super::*;
use crate::chat::test_util::ctx;

fn turn(text: &str, pending: bool) -> String {
    let s = Sentence::conversing(text);
    let c = interpret(&s, &ctx().conversing(), Conversing { pending, about_one: false });
    serde_json::to_string(&c).unwrap()
}

fn t(text: &str) -> String {
    turn(text, false)
}

#[test]
fn yes_no_undo() {
    assert_eq!(turn("yes", true), r#"{"intent":"confirm","args":{}}"#);
    assert_eq!(turn("ok do it", true), r#"{"intent":"confirm","args":{}}"#);
    assert_eq!(turn("no", true), r#"{"intent":"cancel","args":{}}"#);
    assert_eq!(t("ok"), r#"{"intent":"unknown","args":{}}"#, "nothing asked: a thanks");
    for u in ["undo", "undo that", "Undo!", "undo it please", "take that back"] {
        assert_eq!(t(u), r#"{"intent":"undo","args":{}}"#, "{u}");
    }
    assert_eq!(t("undo task 3"), r#"{"intent":"update_task","args":{"ref":{"index":3},"status":"pending"}}"#);
}

#[test]
fn corrections_refer_to_it() {
    let it = r#""ref":{"context":"it"}"#;
    assert_eq!(
        t("actually make it 6pm"),
        format!(r#"{{"intent":"update_task","args":{{{it},"due_at":"2026-11-26T18:00:00Z","all_day":false}}}}"#)
    );
    assert_eq!(
        t("no, 6pm"),
        format!(r#"{{"intent":"update_task","args":{{{it},"due_at":"2026-11-26T18:00:00Z","all_day":false}}}}"#)
    );
    assert_eq!(t("make it high priority"), format!(r#"{{"intent":"update_task","args":{{{it},"priority":"high"}}}}"#));
    assert_eq!(t("tag it #family"), format!(r#"{{"intent":"update_task","args":{{{it},"tags_add":["family"]}}}}"#));
    assert_eq!(
        t("rename it to renew passport and ID card"),
        format!(r#"{{"intent":"update_task","args":{{{it},"title":"renew passport and ID card"}}}}"#)
    );
    assert_eq!(t("call it Call Dad"), format!(r#"{{"intent":"update_task","args":{{{it},"title":"Call Dad"}}}}"#));
    assert_eq!(t("mark it as done"), format!(r#"{{"intent":"complete_task","args":{{{it}}}}}"#));
    assert_eq!(t("done"), format!(r#"{{"intent":"complete_task","args":{{{it}}}}}"#));
    assert_eq!(t("delete it"), format!(r#"{{"intent":"delete_task","args":{{{it}}}}}"#));
    assert_eq!(t("delete them"), r#"{"intent":"delete_task","args":{"ref":{"context":"them"}}}"#);
    assert!(t("remind me an hour before").starts_with(&format!(r#"{{"intent":"update_task","args":{{{it}"#)));
    assert!(t("and remind me the day before at 6pm").starts_with(r#"{"intent":"update_task""#));
    assert!(t("actually every tuesday").contains(r#""recurrence":"FREQ=WEEKLY;BYDAY=TU""#));
    assert!(t("change it to next tuesday").contains(r#""all_day":true"#));
    assert!(t("move it to monday at 10am").contains("2026-11-30T10:00:00Z"));
    assert_eq!(t("remove the reminder"), format!(r#"{{"intent":"update_task","args":{{{it},"remind_at":null}}}}"#));
    // Not follow-ups: new tasks and listings stay what they were.
    assert!(t("remind me to call mom at 6pm").contains(r#""title":"call mom""#));
    assert!(t("and buy bread").contains(r#""intent":"add_task""#));
    assert!(t("show my tasks").contains(r#""intent":"list_tasks""#));
    assert!(t("tomorrow").contains(r#""intent":"list_tasks""#));
}

#[test]
fn set_values() {
    let it = r#""ref":{"context":"it"}"#;
    for text in ["make it all day", "actually all day", "make it an all-day task"] {
        assert_eq!(t(text), format!(r#"{{"intent":"update_task","args":{{{it},"all_day":true}}}}"#), "{text}");
    }
    for text in ["make it a one-off", "actually just once", "stop repeating", "don't repeat it", "no longer repeat it"]
    {
        assert_eq!(t(text), format!(r#"{{"intent":"update_task","args":{{{it},"recurrence":null}}}}"#), "{text}");
    }
    assert_eq!(t("make it a priority"), format!(r#"{{"intent":"update_task","args":{{{it},"priority":"high"}}}}"#));
    // "recurring" alone does not say how often: ask.
    assert!(t("make it recurring").starts_with(r#"{"intent":"unknown""#), "{}", t("make it recurring"));
    // A restatement moved from the due time.
    for (text, later) in
        [("actually an hour later", true), ("no, a day earlier", false), ("make it 2 hours later", true)]
    {
        let s = Sentence::conversing(text);
        let c = interpret(&s, &ctx().conversing(), Conversing { pending: false, about_one: false });
        assert!(
            matches!(&c, Command::UpdateTask(u) if u.relative.shift.is_some_and(|(_, l)| l == later)),
            "{text}: {c:?}"
        );
    }
}

#[test]
fn a_task_picked() {
    let choose = |r: &str| format!(r#"{{"intent":"choose","args":{{"ref":{r}}}}}"#);
    for text in ["the second one", "2", "number 2", "task 2", "#2", "the 2nd", "second one please"] {
        assert_eq!(t(text), choose(r#"{"index":2}"#), "{text}");
    }
    assert_eq!(t("the last one"), choose(r#"{"context":"last"}"#));
    assert_eq!(t("that one"), choose(r#"{"context":"it"}"#));
    // Titles, dates and "them" are not picks.
    for text in ["the report", "tomorrow", "them", "\"2\""] {
        assert!(!t(text).contains(r#""choose""#), "{text}: {}", t(text));
    }
}

#[test]
fn skips() {
    for (text, span) in [("skip the next one", "null"), ("skip this week", "\"week\""), ("skip it", "null")] {
        let want = if span == "null" {
            r#"{"intent":"skip_occurrence","args":{"ref":{"context":"it"}}}"#.to_owned()
        } else {
            format!(r#"{{"intent":"skip_occurrence","args":{{"ref":{{"context":"it"}},"rest_of":{span}}}}}"#)
        };
        assert_eq!(t(text), want, "{text}");
    }
    assert_eq!(t("skip the team meeting"), r#"{"intent":"skip_occurrence","args":{"ref":{"title":"team meeting"}}}"#);
}
