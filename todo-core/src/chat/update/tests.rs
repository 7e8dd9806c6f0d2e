use super::*;
use crate::chat::test_util::run;

#[test]
fn updates() {
    assert_eq!(
        run(update, "rename task 1 to buy oat milk"),
        r#"{"intent":"update_task","args":{"ref":{"index":1},"title":"buy oat milk"}}"#
    );
    assert_eq!(
        run(update, "change go to gym to friday"),
        r#"{"intent":"update_task","args":{"ref":{"title":"go to gym"},"due_at":"2026-11-27T00:00:00Z","all_day":true}}"#
    );
    assert_eq!(
        run(update, "remove the due date from task 2"),
        r#"{"intent":"update_task","args":{"ref":{"index":2},"due_at":null}}"#
    );
    assert_eq!(
        run(update, "mark task 2 as not done"),
        r#"{"intent":"update_task","args":{"ref":{"index":2},"status":"pending"}}"#
    );
    for sentence in ["make task 1 not recurring", "set task 1 to not repeat", "stop repeating task 1"] {
        assert_eq!(
            run(update, sentence),
            r#"{"intent":"update_task","args":{"ref":{"index":1},"recurrence":null}}"#,
            "{sentence}"
        );
    }
    assert_eq!(
        run(update, "tag \"buy milk\" with groceries"),
        r#"{"intent":"update_task","args":{"ref":{"title":"buy milk"},"tags_add":["groceries"]}}"#
    );
    assert_eq!(
        run(update, "tag lunch with sam with work"),
        r#"{"intent":"update_task","args":{"ref":{"title":"lunch with sam"},"tags_add":["work"]}}"#
    );
    assert_eq!(run(update, "move it to friday"), r#"{"intent":"unknown","args":{}}"#);
    assert_eq!(run(update, "change the oil tomorrow"), "none");
}
