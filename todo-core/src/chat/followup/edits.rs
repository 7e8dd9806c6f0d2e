//! Follow-up edits of the task the conversation is on: "make it 6pm", "call it X",
//! "tag it #family", "add a note: ...", "remove the reminder".
use super::pronouns::{it, pronoun_at};
use super::remind::{remind, reminder_phrase};
use crate::chat::command::{Command, RefArgs, TaskRef, UpdateTaskArgs};
use crate::chat::datetime::{self, Ctx};
use crate::chat::edit::{DONE, trim_end};
use crate::chat::extract::{Reminder, Slots, extract, leftover, named_tags, tag_list};
use crate::chat::lexer::Sentence;
use crate::chat::{many, reply, vocab};
use crate::domain::TaskTitle;

/// A follow-up about a task: "make it 6pm", "call it X", "tag it #family",
/// "remind me an hour before", "it's urgent", "done", "remove the reminder".
pub(super) fn correction(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    if let Some(c) = remind(s, j, end, ctx) {
        return Some(c);
    }
    let w = s.w(j)?;
    // "add it to my shopping list", "put them on the grocery list": the list's tag.
    if matches!(w, "add" | "put" | "move" | "file")
        && let Some((target, k)) = pronoun_at(s, j + 1)
        && let Some((Some(tag), e)) = many::list_phrase(s, k)
        && trim_end(s, e, end) == e
    {
        return Some(Command::UpdateTask(UpdateTaskArgs { tags_add: vec![tag], ..UpdateTaskArgs::of(target) }));
    }
    // "done", "finished", "did it", "it's done", "that's done"
    let words: Vec<&str> = (j..end).filter_map(|k| s.w(k)).collect();
    if matches!(
        words.as_slice(),
        [d] if DONE.contains(d) && *d != "checked" && *d != "ticked"
    ) || matches!(
        words.as_slice(),
        ["did", "it"]
            | ["i", "did", "it"]
            | ["i've", "done", "it"]
            | ["i", "have", "done", "it"]
            | ["i", "finished", "it"]
            | ["finished", "it"]
            | ["all", "done"]
    ) {
        return Some(Command::CompleteTask(RefArgs { task: it() }));
    }
    match w {
        "make" | "set" | "change" | "switch" | "turn" | "update" | "put" | "move" | "push" | "shift" | "reschedule"
        | "postpone" | "bump" | "delay" | "schedule" | "bring" => {
            if let Some(c) = field_edit(s, j + 1, end, ctx) {
                return Some(c);
            }
            let (target, k) = pronoun_at(s, j + 1)?;
            let k = if s.is_any(k, &["back", "forward", "out", "up"]) && w != "make" { k + 1 } else { k };
            let k = if s.is_any(k, &["to", "into", "as", "until", "till"]) { k + 1 } else { k };
            let title_ok = matches!(w, "make" | "change" | "set" | "switch" | "turn" | "update");
            let earlier = s.is_any(j + 2, &["forward", "up"]) || w == "bring";
            value(s, k, end, ctx, target, title_ok, earlier)
        }
        "call" | "rename" | "name" | "retitle" | "title" | "relabel" => {
            let (target, k) = match pronoun_at(s, j + 1) {
                Some(r) => r,
                None if w == "rename" && s.is_any(j + 1, &["to", "as"]) => (it(), j + 1),
                None => return None,
            };
            let k = if s.is_any(k, &["to", "as", "into"]) || s.is_punct(k, ':') { k + 1 } else { k };
            Some(renamed(target, &leftover(s, k..end, &[])))
        }
        "tag" | "label" | "untag" | "unlabel" => {
            let (target, k) = pronoun_at(s, j + 1)?;
            let k = if s.is_any(k, &["with", "as", "#"]) { k + 1 } else { k };
            let (tags, e) = tag_list(s, k)?;
            (e >= end).then(|| {
                let mut u = UpdateTaskArgs::of(target);
                if w.starts_with("un") {
                    u.tags_remove = tags;
                } else {
                    u.tags_add = tags;
                }
                Command::UpdateTask(u)
            })
        }
        "check" | "tick" | "cross" => {
            let (target, k) = pronoun_at(s, j + 1)?;
            (s.is(k, "off") && trim_end(s, k + 1, end) == k + 1)
                .then_some(Command::CompleteTask(RefArgs { task: target }))
        }
        "add" => add_to_it(s, j + 1, end),
        "remove" | "delete" | "clear" | "cancel" | "drop" | "unset" | "take" => remove_from_it(s, j + 1, end),
        // "stop repeating", "don't repeat it", "no longer repeat it"
        "stop" | "don't" | "dont" | "no"
            if (j + 1..end).any(|x| s.is_any(x, &["repeating", "recurring", "repeat", "recur"])) =>
        {
            let k = (j + 1..end).find(|x| s.is_any(*x, &["repeating", "recurring", "repeat", "recur"]))? + 1;
            let head_ok = (j + 1..k - 1).all(|x| s.is_any(x, &["longer", "do", "it", "that"]));
            let (target, e) = pronoun_at(s, k).unwrap_or((it(), k));
            (head_ok && trim_end(s, e, end) == e)
                .then(|| Command::UpdateTask(UpdateTaskArgs { recurrence: Some(None), ..UpdateTaskArgs::of(target) }))
        }
        "repeat" | "recur" => {
            let (target, k) = pronoun_at(s, j + 1)?;
            let slots = extract(s, k..end, ctx);
            (slots.rule.is_some() && slots.title(s).is_empty()).then(|| edited(target, &slots, ctx))
        }
        "it's" | "its" | "that's" | "thats" | "it" | "that" => {
            let k = if matches!(w, "it" | "that") { s.seq(j + 1, &["is"])? } else { j + 1 };
            let words: Vec<&str> = (k..end).filter_map(|x| s.w(x)).collect();
            if matches!(words.as_slice(), [d] if DONE.contains(d)) || words == ["all", "done"] {
                return Some(Command::CompleteTask(RefArgs { task: it() }));
            }
            value(s, k, end, ctx, it(), false, false)
        }
        _ => None,
    }
}

/// "set the time to 6pm", "change the priority to high", "change the title to X",
/// "change its due date to friday": a field of what the conversation is about.
fn field_edit(s: &Sentence, k: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let k = if s.is_any(k, &["the", "its", "it's"]) { k + 1 } else { k };
    let (field, f) = match s.w(k)? {
        "time" | "date" | "deadline" | "day" => ("due", k + 1),
        "due" if s.is_any(k + 1, &["date", "time"]) => ("due", k + 2),
        "due" => ("due", k + 1),
        "priority" | "prio" | "importance" => ("priority", k + 1),
        "title" | "name" | "text" => ("title", k + 1),
        "reminder" | "alarm" | "alert" => ("reminder", k + 1),
        "recurrence" | "repeat" | "schedule" => ("recurrence", k + 1),
        _ => return None,
    };
    // "the priority of task 3": an explicit task is the single-sentence grammar's.
    if s.is_any(f, &["of", "on", "for", "in"]) {
        return None;
    }
    let v = if s.is_any(f, &["to", "as", "at", "for", "="]) || s.is_punct(f, ':') { f + 1 } else { f };
    if v >= end {
        return None;
    }
    let mut u = UpdateTaskArgs::of(it());
    match field {
        "title" => return Some(renamed(it(), &leftover(s, v..end, &[]))),
        "reminder" => {
            let at = if s.is_any(f, &["to", "for"]) { f + 1 } else { f };
            u.relative.remind = Some(reminder_phrase(s, at, end, ctx)?);
        }
        "priority" => {
            let p = s.w(v).and_then(vocab::priority)?;
            let e = if s.is_any(v + 1, &["priority", "prio"]) { v + 2 } else { v + 1 };
            if e < end {
                return None;
            }
            u.priority = Some(p);
        }
        _ => {
            let slots = value_slots(s, v, end, ctx)?;
            if !slots.title(s).is_empty() {
                return None;
            }
            if field == "recurrence" && slots.rule.is_none() || field == "due" && slots.when.is_empty() {
                return None;
            }
            return Some(edited(it(), &slots, ctx));
        }
    }
    Some(Command::UpdateTask(u))
}

/// The edit a value names, for `target`: a time, date, recurrence, priority,
/// tags, a shift ("an hour later"), "done", or (when `title_ok`) a new title.
fn value(
    s: &Sentence,
    k: usize,
    end: usize,
    ctx: &Ctx,
    target: TaskRef,
    title_ok: bool,
    earlier: bool,
) -> Option<Command> {
    if k >= end {
        return Some(Command::unknown(reply::WHAT_UPDATE));
    }
    let words: Vec<&str> = (k..end).filter_map(|x| s.w(x)).collect();
    if matches!(words.as_slice(), [d] if DONE.contains(d)) {
        return Some(Command::CompleteTask(RefArgs { task: target }));
    }
    if let Some(c) = fixed_value(&words, &target) {
        return Some(c);
    }
    // "an hour later", "a day earlier", "by 2 days", "a week"
    let a = if s.is(k, "by") { k + 1 } else { k };
    if let Some((span, e)) = datetime::span_at(s, a) {
        let (later, e) = match s.w(e) {
            Some("later" | "after") => (true, e + 1),
            Some("earlier" | "sooner" | "before") => (false, e + 1),
            _ => (!earlier, e),
        };
        if trim_end(s, e, end) == e {
            let mut u = UpdateTaskArgs::of(target);
            u.relative.shift = Some((span, later));
            return Some(Command::UpdateTask(u));
        }
    }
    // "high", "low priority", "p1"
    if let Some(p) = s.w(k).filter(|w| !w.bytes().all(|b| b.is_ascii_digit())).and_then(vocab::priority) {
        let e = if s.is_any(k + 1, &["priority", "prio"]) { k + 2 } else { k + 1 };
        if trim_end(s, e, end) == e {
            return Some(Command::UpdateTask(UpdateTaskArgs { priority: Some(p), ..UpdateTaskArgs::of(target) }));
        }
    }
    let slots = value_slots(s, k, end, ctx)?;
    let title = slots.title(s);
    if title.is_empty() {
        return slots.has_any().then(|| edited(target, &slots, ctx));
    }
    if !title_ok {
        return None;
    }
    let Command::UpdateTask(mut u) = edited(target, &slots, ctx) else {
        return None;
    };
    match TaskTitle::parse(&title) {
        Ok(t) => u.title = Some(t),
        Err(_) => return Some(Command::unknown(reply::TITLE_TOO_LONG)),
    }
    Some(Command::UpdateTask(u))
}

/// Values said in set words: "all day", "a priority", "a one-off", "recurring"
/// (which asks how often).
pub(super) fn fixed_value(words: &[&str], target: &TaskRef) -> Option<Command> {
    let u = || UpdateTaskArgs::of(target.clone());
    Some(match words {
        ["all", "day"] | ["all-day"] | ["an", "all-day", "task"] | ["an", "all", "day", "task"] => {
            Command::UpdateTask(UpdateTaskArgs { all_day: Some(true), ..u() })
        }
        ["a", "priority"] | ["a", "high", "priority"] | ["a", "top", "priority"] | ["top", "priority"] => {
            Command::UpdateTask(UpdateTaskArgs { priority: Some(crate::domain::Priority::High), ..u() })
        }
        ["one-off"]
        | ["a", "one-off"]
        | ["a", "one", "off"]
        | ["just", "once"]
        | ["once"]
        | ["not", "recurring"]
        | ["non-recurring"]
        | ["not", "repeating"]
        | ["a", "one-time", "task"]
        | ["one-time"] => Command::UpdateTask(UpdateTaskArgs { recurrence: Some(None), ..u() }),
        ["recurring"] | ["repeating"] | ["repeat"] | ["recur"] | ["a", "recurring", "task"] => {
            Command::unknown(reply::HOW_OFTEN)
        }
        _ => return None,
    })
}

/// The phrases of `k..end`; a bare hour ("6", "6:30") reads as a time.
pub(super) fn value_slots(s: &Sentence, k: usize, end: usize, ctx: &Ctx) -> Option<Slots> {
    if let Some((datetime::Piece::Time(c), e)) = datetime::time_at(s, k, true)
        && trim_end(s, e, end) == e
    {
        let mut slots = extract(s, k..k, ctx);
        slots.when.time = Some(c);
        return Some(slots);
    }
    Some(extract(s, k..end, ctx))
}

/// Sets what `slots` found on `target`, keeping what is relative to the task for
/// the chat service to fit.
pub(super) fn edited(target: TaskRef, slots: &Slots, ctx: &Ctx) -> Command {
    let mut u = UpdateTaskArgs::of(target);
    if let Some(spec) = &slots.rule {
        let Some(rule) = spec.to_rule(ctx) else {
            return Command::unknown(reply::NOT_UNDERSTOOD);
        };
        if let Some(d) = spec.first_due(&slots.when, ctx) {
            u.due_at = Some(Some(d.at));
            u.all_day = Some(d.all_day);
        }
        u.recurrence = Some(Some(rule));
        u.relative.rule = Some(spec.clone());
        if !slots.when.is_empty() {
            u.relative.due = Some(slots.when);
        }
    } else if !slots.when.is_empty() {
        if let Some(d) = slots.when.resolve(ctx) {
            u.due_at = Some(Some(d.at));
            u.all_day = Some(d.all_day);
        }
        u.relative.due = Some(slots.when);
    }
    u.priority = slots.priority;
    u.tags_add.clone_from(&slots.tags);
    if let Some(r) = slots.reminder {
        if let Reminder::At(w) = r
            && let Some(d) = w.resolve(ctx)
        {
            u.remind_at = Some(Some(d.at));
        }
        u.relative.remind = Some(r);
    }
    Command::UpdateTask(u)
}

fn renamed(target: TaskRef, title: &str) -> Command {
    match TaskTitle::parse(title) {
        Ok(t) => Command::UpdateTask(UpdateTaskArgs { title: Some(t), ..UpdateTaskArgs::of(target) }),
        Err(_) if title.trim().is_empty() => Command::unknown(reply::WHAT_UPDATE),
        Err(_) => Command::unknown(reply::TITLE_TOO_LONG),
    }
}

/// After "add": "#family", "the tag family", "tags x and y" (to it), "a note: ...".
fn add_to_it(s: &Sentence, j: usize, end: usize) -> Option<Command> {
    let article = s.is_any(j, &["a", "an", "the"])
        && s.is_any(j + 1, &["note", "description", "comment", "tag", "tags", "label", "labels"]);
    let k = if article { j + 1 } else { j };
    if s.is_any(k, &["note", "description", "comment"]) {
        let mut v = k + 1;
        let mut target = it();
        if s.is_any(v, &["to", "on", "for"]) {
            let (r, e) = pronoun_at(s, v + 1)?;
            (target, v) = (r, e);
        }
        if s.is_punct(v, ':') || s.is_any(v, &["saying", "that"]) {
            v += 1;
        }
        let text = leftover(s, v..end, &[]);
        return Some(match crate::domain::Description::parse(&text) {
            Ok(d) if !d.as_str().is_empty() => {
                Command::UpdateTask(UpdateTaskArgs { description: Some(d), ..UpdateTaskArgs::of(target) })
            }
            Ok(_) => Command::unknown(reply::WHAT_UPDATE),
            Err(_) => Command::unknown(reply::DESCRIPTION_TOO_LONG),
        });
    }
    // "add the family tag", "add a work label"
    if s.is_any(j, &["the", "a"])
        && s.is_any(j + 2, &["tag", "label"])
        && let Some(t) = s.w(j + 1).and_then(|w| crate::domain::Tag::parse(w.trim_start_matches('#')).ok())
    {
        let (target, e) = if s.is_any(j + 3, &["to", "on"]) { pronoun_at(s, j + 4)? } else { (it(), j + 3) };
        return (trim_end(s, e, end) == e)
            .then(|| Command::UpdateTask(UpdateTaskArgs { tags_add: vec![t], ..UpdateTaskArgs::of(target) }));
    }
    let (tags, e) = named_tags(s, k, true)?;
    let (target, e) = if s.is_any(e, &["to", "on"]) { pronoun_at(s, e + 1)? } else { (it(), e) };
    (trim_end(s, e, end) == e)
        .then(|| Command::UpdateTask(UpdateTaskArgs { tags_add: tags, ..UpdateTaskArgs::of(target) }))
}

/// After "remove": "the reminder", "the due date", "the tag x", "#x" (from it).
fn remove_from_it(s: &Sentence, j: usize, end: usize) -> Option<Command> {
    let j = if s.is(j, "off") { j + 1 } else { j };
    let k = if s.is_any(j, &["the", "its", "it's", "my"]) { j + 1 } else { j };
    let tail = |e: usize| -> Option<(TaskRef, usize)> {
        if s.is_any(e, &["from", "of", "on", "for", "off"]) { pronoun_at(s, e + 1) } else { Some((it(), e)) }
    };
    let field = match s.w(k)? {
        "reminder" | "reminders" | "alarm" | "alert" => Some(("reminder", k + 1)),
        "due" if s.is_any(k + 1, &["date", "time"]) => Some(("due", k + 2)),
        "due" | "deadline" | "date" => Some(("due", k + 1)),
        "recurrence" | "repeat" | "repetition" => Some(("recurrence", k + 1)),
        _ => None,
    };
    if let Some((field, f)) = field {
        let (target, e) = tail(f)?;
        if trim_end(s, e, end) != e {
            return None;
        }
        let mut u = UpdateTaskArgs::of(target);
        match field {
            "reminder" => u.remind_at = Some(None),
            "due" => u.due_at = Some(None),
            _ => u.recurrence = Some(None),
        }
        return Some(Command::UpdateTask(u));
    }
    let (tags, e) = named_tags(s, k, false)?;
    let (target, e) = tail(e)?;
    (trim_end(s, e, end) == e)
        .then(|| Command::UpdateTask(UpdateTaskArgs { tags_remove: tags, ..UpdateTaskArgs::of(target) }))
}
