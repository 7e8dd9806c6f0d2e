use crate::chat::test_util::ctx;

fn parse(m: &str) -> serde_json::Value {
    serde_json::to_value(crate::chat::parse(m, ctx().now, ctx().tz)).unwrap()
}

fn filter(m: &str) -> String {
    let v = parse(m);
    assert_eq!(v["intent"], "list_tasks", "{m:?}: {v}");
    v["args"]["filter"].as_str().unwrap_or_else(|| panic!("{m:?} has a filter: {v}")).to_owned()
}

#[test]
fn listings_the_fixed_arguments_cannot_say() {
    assert_eq!(filter("show (overdue or today) #work"), "(overdue | today) & #work");
    assert_eq!(filter("what's overdue or due today in #work"), "(overdue | today) & #work");
    assert_eq!(filter("list overdue tasks not tagged work"), "overdue & !#work");
    assert_eq!(
        filter("show tasks tagged work or home due this week"),
        "(#work | #home) & due >= \"2026-11-23\" & due < \"2026-11-30\""
    );
    assert_eq!(filter("show tasks not tagged work or home"), "!(#work | #home)");
    assert_eq!(filter("show tasks without a date"), "no date");
    assert_eq!(filter("show recurring tasks with a reminder"), "recurring & has reminder");
    assert_eq!(filter("show p1 tasks due on monday or tuesday"), "p1 & (due = \"monday\" | due = \"tuesday\")");
    assert_eq!(filter("show all tasks tagged work or home"), "status:all & (#work | #home)");
    assert_eq!(filter("overdue or today"), "overdue | today");
}

#[test]
fn the_fixed_arguments_stay_when_they_can_say_it() {
    let v = parse("what's due before friday in #home");
    assert_eq!(
        v["args"],
        serde_json::json!({"status": "pending", "tag": "home", "due_before": "2026-11-27T00:00:00Z"})
    );
    let v = parse("show high priority tasks due this week");
    assert!(v["args"].get("filter").is_none(), "{v}");
}

#[test]
fn saved_lists_by_name() {
    let v = parse("show my work today list");
    assert_eq!(v["args"]["list"], "work today");
    assert_eq!(v["args"]["tag"], "work", "without such a list the words mean #work & today: {v}");
    assert_eq!(v["args"]["due_after"], "2026-11-26T00:00:00Z");
    assert_eq!(parse("open the 'bills' filter")["args"]["list"], "bills");
    assert!(parse("show my task list")["args"].get("list").is_none());
}

#[test]
fn save_this_as() {
    for m in [
        "save this as 'work today'",
        "save this list as work today",
        "Save that as \"work today\".",
        "call this list work today",
        "remember this as work today",
        "save the filter as work today",
    ] {
        let v = parse(m);
        assert_eq!(v, serde_json::json!({"intent": "save_filter", "args": {"name": "work today"}}), "{m:?}");
    }
    assert_eq!(parse("save this as")["intent"], "unknown");
    for m in ["save money for the trip", "call the plumber tomorrow", "name the baby", "remember the milk"] {
        assert_ne!(parse(m)["intent"], "save_filter", "{m:?}");
    }
}

#[test]
fn the_phrase_keeps_relative_dates() {
    let crate::chat::Command::ListTasks(a) = crate::chat::parse("show my work tasks due today", ctx().now, ctx().tz)
    else {
        panic!("a listing")
    };
    assert_eq!(a.phrase.as_deref(), Some("#work & today"));
    let crate::chat::Command::ListTasks(a) =
        crate::chat::parse("what's due before friday in #home", ctx().now, ctx().tz)
    else {
        panic!("a listing")
    };
    assert_eq!(a.phrase.as_deref(), Some("due < \"friday\" & #home"));
}
