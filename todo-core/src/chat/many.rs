//! Sentences about several tasks at once, in a conversation: lists of items
//! ("add milk, eggs and bread to my shopping list": one task per item, tagged
//! with the list's name) and bulk actions ("complete all my #work tasks",
//! "delete them all": the chat service asks before doing them).

use std::ops::Range;

use super::add;
use super::command::{AddTasksArgs, BulkArgs, Command, ContextRef, TaskRef};
use super::datetime::Ctx;
use super::edit::{DONE, lead, trim_end};
use super::extract::{Slots, extract};
use super::lexer::Sentence;
use super::list;
use super::reference::{Found, reference};
use super::reply;
use crate::domain::{StatusFilter, Tag};

/// Items one sentence may add.
const MAX_ITEMS: usize = 50;

const COMPLETE_VERBS: &[&[&str]] =
    &[&["complete"], &["finish"], &["close"], &["check", "off"], &["tick", "off"], &["cross", "off"], &["mark"]];

const DELETE_VERBS: &[&[&str]] = &[
    &["delete"],
    &["remove"],
    &["clear"],
    &["erase"],
    &["drop"],
    &["trash"],
    &["get", "rid", "of"],
    &["cancel"],
    &["purge"],
    &["wipe"],
    &["discard"],
    &["nuke"],
    &["clean", "up"],
];

/// Words of a bulk phrase that are no filter: "all of my tasks", "my whole list".
const BULK_FILLER: &[&str] = &[
    "all",
    "every",
    "everything",
    "each",
    "my",
    "the",
    "of",
    "tasks",
    "task",
    "todos",
    "items",
    "ones",
    "things",
    "stuff",
    "due",
    "that",
    "are",
    "which",
    "i",
    "have",
    "list",
    "whole",
    "entire",
    "to-do",
    "todo",
];

/// Words that make a reference mean several tasks.
const MANY: &[&str] = &["all", "every", "everything", "each", "both", "tasks", "todos", "items", "ones", "list"];

/// "complete all my #work tasks", "delete everything tagged work", "mark all of
/// today's tasks as done", "delete them all", "clear completed tasks".
pub(crate) fn bulk(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let (complete, k) = match lead(s, j, COMPLETE_VERBS) {
        Some(k) => (true, k),
        None => (false, lead(s, j, DELETE_VERBS)?),
    };
    let mut b = trim_end(s, k, end);
    // "... as done", "... done", "... off"
    if b > k && (s.is_any(b - 1, DONE) || s.is(b - 1, "off")) && complete {
        b -= 1;
        if b > k && s.is_any(b - 1, &["as", "to"]) {
            b -= 1;
        }
    } else if s.is(j, "mark") {
        return None;
    }
    if b <= k || !(k..b).any(|x| s.is_any(x, MANY)) {
        return None;
    }
    if !matches!(reference(s, k..b), Found::Ambiguous) {
        return None;
    }
    let words: Vec<&str> = (k..b).filter_map(|x| s.w(x)).collect();
    let of_them = words.iter().any(|w| matches!(*w, "them" | "these" | "those" | "both"));
    let mut args = BulkArgs::default();
    if of_them {
        args.task = Some(TaskRef::Context(ContextRef::Them));
    } else {
        let (cmd, consumed) = list::build_with(s, k, b, ctx, None);
        let Command::ListTasks(mut filter) = cmd else {
            return None;
        };
        // Words the listing grammar did not read ("delete all my old stuff"):
        // not a filter this can act on. A filter query is read whole or not at all.
        let tag = filter.tag.as_ref().map(|t| t.as_str().to_owned());
        let unread = filter.filter.is_none()
            && (k..b)
                .any(|x| !consumed[x] && s.w(x) != tag.as_deref() && s.w(x).is_some_and(|w| !BULK_FILLER.contains(&w)));
        if unread {
            return Some(Command::unknown(reply::BULK_UNCLEAR));
        }
        if complete && filter.status == StatusFilter::All {
            filter.status = StatusFilter::Pending;
        }
        args.filter = filter;
    }
    Some(if complete { Command::CompleteTasks(args) } else { Command::DeleteTasks(args) })
}

/// "add milk, eggs and bread to my shopping list", "put eggs and milk on the
/// grocery list for tomorrow", "add to my shopping list: milk, eggs", "add
/// milk, eggs, bread": one task per item, tagged with the list's name. Without
/// commas or a named list, "add X and Y" stays one task (the single-sentence
/// grammar's).
pub(crate) fn items(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let k = lead(s, j, &[&["add"], &["put"], &["append"], &["throw"], &["stick"], &["pop"]])?;
    let end = trim_end(s, k, end);
    // "add it to my shopping list": a tag for what the conversation is about.
    if super::followup::pronoun_at(s, k).is_some_and(|(_, e)| list_phrase(s, e).is_some()) {
        return None;
    }
    // "add to my shopping list: milk, eggs" or "add milk and eggs to my shopping list"
    let (list, items, shared) = if let Some((name, e)) = list_phrase(s, k) {
        let e = if s.is_punct(e, ':') { e + 1 } else { e };
        (Some(name), e..end, end..end)
    } else {
        match (k + 1..end).find_map(|x| list_phrase(s, x).map(|(name, e)| (x, name, e))) {
            Some((x, name, e)) => (Some(name), k..x, e..end),
            None => (None, k..end, end..end),
        }
    };
    let tag = list.flatten();
    let commas = items.clone().any(|x| s.is_punct(x, ',') || s.is_punct(x, ';'));
    if !commas && tag.is_none() {
        return None;
    }
    let parts = split(s, items, commas || tag.is_some());
    let mut slots: Vec<Slots> = parts.iter().map(|r| extract(s, r.clone(), ctx)).collect();
    slots.retain(|sl| !sl.title(s).is_empty());
    if slots.is_empty() || slots.len() > MAX_ITEMS {
        return None;
    }
    // A date said once for the whole list: after it, or after the last item only.
    let mut common = extract(s, shared, ctx);
    if let [first @ .., last] = slots.as_slice()
        && !first.is_empty()
        && last.has_any()
        && first.iter().all(|sl| !sl.has_any())
    {
        common = merged(common, last);
    }
    let mut tasks = Vec::new();
    for mut sl in slots {
        sl = merged(sl, &common);
        if let Some(t) = &tag
            && !sl.tags.contains(t)
        {
            sl.tags.push(t.clone());
        }
        match add::build_from(s, sl, ctx, false) {
            Command::AddTask(a) => tasks.push(a),
            other => return Some(other),
        }
    }
    Some(match tasks.len() {
        1 => Command::AddTask(tasks.remove(0)),
        _ => Command::AddTasks(AddTasksArgs { tasks }),
    })
}

/// `item` with what `common` found and `item` did not.
fn merged(mut item: Slots, common: &Slots) -> Slots {
    if item.when.is_empty() {
        item.when = common.when;
    }
    if item.rule.is_none() {
        item.rule.clone_from(&common.rule);
    }
    if item.priority.is_none() {
        item.priority = common.priority;
    }
    if item.reminder.is_none() {
        item.reminder = common.reminder;
    }
    for t in &common.tags {
        if !item.tags.contains(t) {
            item.tags.push(t.clone());
        }
    }
    item
}

/// The items of `r`: split at commas and semicolons, and at "and" when `at_and`
/// ("milk, eggs, and bread" has three).
fn split(s: &Sentence, r: Range<usize>, at_and: bool) -> Vec<Range<usize>> {
    let mut parts = Vec::new();
    let mut a = r.start;
    for x in r.clone() {
        let cut = s.is_punct(x, ',') || s.is_punct(x, ';') || (at_and && s.is(x, "and"));
        if cut {
            parts.push(a..x);
            a = x + 1;
        }
    }
    parts.push(a..r.end);
    parts.retain(|p| p.clone().any(|x| s.w(x).is_some()));
    parts
}

/// "to my shopping list", "on the grocery list", "onto our list": at `k`, the
/// list's tag (`Some(None)` for a list without a name, "my list", "my to-do
/// list") and where the phrase ends.
pub(crate) fn list_phrase(s: &Sentence, k: usize) -> Option<(Option<Tag>, usize)> {
    if !s.is_any(k, &["to", "on", "onto", "in", "into", "for"]) {
        return None;
    }
    let mut a = k + 1;
    if s.is_any(a, &["my", "the", "our", "a"]) {
        a += 1;
    }
    let e = (a..(a + 4).min(s.len())).find(|x| s.is_any(*x, &["list", "lists"]))?;
    if (a..e).any(|x| s.w(x).is_none()) {
        return None;
    }
    let name: Vec<&str> = (a..e).filter_map(|x| s.w(x)).collect();
    let generic = name.is_empty()
        || matches!(
            name.as_slice(),
            ["todo" | "to-do" | "task" | "tasks" | "todos"] | ["to", "do"] | ["things", "to", "do"]
        );
    let tag = if generic { None } else { Tag::parse(&name.join("-")).ok() };
    if !generic && tag.is_none() {
        return None;
    }
    Some((tag, e + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::test_util::ctx;

    fn run(f: fn(&Sentence, usize, usize, &Ctx) -> Option<Command>, text: &str) -> String {
        let s = Sentence::conversing(text);
        f(&s, 0, s.len(), &ctx().conversing()).map_or("none".into(), |c| serde_json::to_string(&c).unwrap())
    }

    fn titles(text: &str) -> Vec<(String, Vec<String>)> {
        let s = Sentence::conversing(text);
        match items(&s, 0, s.len(), &ctx().conversing()) {
            Some(Command::AddTasks(a)) => a.tasks.iter().map(|t| (t.title.to_string(), t.tags.to_vec())).collect(),
            Some(Command::AddTask(t)) => vec![(t.title.to_string(), t.tags.to_vec())],
            _ => vec![],
        }
    }

    #[test]
    fn lists_of_items() {
        let shopping = |t: &str| (t.to_owned(), vec!["shopping".to_owned()]);
        assert_eq!(
            titles("add milk, eggs and bread to my shopping list"),
            [shopping("milk"), shopping("eggs"), shopping("bread")]
        );
        assert_eq!(titles("add milk and eggs to my shopping list"), [shopping("milk"), shopping("eggs")]);
        assert_eq!(
            titles("add to my shopping list: milk, eggs, and bread"),
            [shopping("milk"), shopping("eggs"), shopping("bread")]
        );
        assert_eq!(titles("add milk to my shopping list"), [shopping("milk")]);
        assert_eq!(titles("add milk, eggs"), [("milk".to_owned(), vec![]), ("eggs".to_owned(), vec![])]);
        assert!(titles("add call mom and dad").is_empty(), "one task: the single-sentence grammar's");
        assert!(titles("add call mom and dad to my list").is_empty());
        let s = Sentence::conversing("add milk, eggs and bread to my grocery list for tomorrow");
        let Some(Command::AddTasks(a)) = items(&s, 0, s.len(), &ctx().conversing()) else { panic!() };
        assert!(a.tasks.iter().all(|t| t.due.is_some_and(|d| d.all_day) && t.tags.to_vec() == ["grocery"]));
    }

    #[test]
    fn bulk_actions() {
        assert_eq!(
            run(bulk, "complete all my #work tasks"),
            r#"{"intent":"complete_tasks","args":{"status":"pending","tag":"work"}}"#
        );
        assert_eq!(
            run(bulk, "delete all my #work tasks"),
            r#"{"intent":"delete_tasks","args":{"status":"all","tag":"work"}}"#
        );
        assert_eq!(
            run(bulk, "mark all #work tasks as done"),
            r#"{"intent":"complete_tasks","args":{"status":"pending","tag":"work"}}"#
        );
        assert_eq!(
            run(bulk, "delete them all"),
            r#"{"intent":"delete_tasks","args":{"status":"pending","ref":{"context":"them"}}}"#
        );
        assert_eq!(run(bulk, "clear completed tasks"), r#"{"intent":"delete_tasks","args":{"status":"completed"}}"#);
        assert_eq!(run(bulk, "delete task 3"), "none");
        assert_eq!(run(bulk, "delete it"), "none");
        assert_eq!(run(bulk, "mark all as urgent"), "none");
    }
}
