//! A turn of a conversation: the sentence read with what came before in mind.
//!
//! Before the single-sentence grammar ([`super::intent`]) gets the sentence, the
//! turn is checked for what only makes sense in a conversation: "yes"/"no" to a
//! pending question, "undo", "skip the next one", bulk actions and lists of
//! items ([`super::many`]), and follow-ups about the task the conversation is on
//! ("actually make it 6pm", "no, 6pm", "remind me an hour before", "tag it
//! #family", "call it X"). Pronouns become [`TaskRef::Context`] references,
//! which the chat service resolves against the conversation's context (or asks
//! about); times said relative to the task are kept ([`super::fit`]) for the
//! service to fit to it. Nothing here guesses which task is meant.

use super::command::{Command, ContextRef, NoArgs, RefArgs, SkipArgs, SkipSpan, TaskRef, UpdateTaskArgs};
use super::datetime::{self, Ctx, When};
use super::edit::{DONE, trim_end};
use super::extract::{Reminder, Slots, before_at, extract, leftover, tag_list};
use super::lexer::Sentence;
use super::reference::{Found, reference};
use super::{intent, many, reply, vocab};
use crate::domain::TaskTitle;

/// What the grammar knows of the conversation besides the sentence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conversing {
    /// A bulk action waits for "yes" or "no".
    pub pending: bool,
    /// The last turn added or changed one task (it did not list tasks): a bare
    /// "high priority" or "#family" is about that task, not a listing.
    pub about_one: bool,
}

/// How a turn opened: with a correction ("actually", "no,"), an addition
/// ("and", "also"), or neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    None,
    Correct,
    Add,
}

/// Interprets one turn of a conversation.
pub(crate) fn interpret(s: &Sentence, ctx: &Ctx, conv: Conversing) -> Command {
    let (i, end) = intent::trim_politeness(s, 0, s.len());
    let w: Vec<&str> = (i..end).filter_map(|k| s.w(k)).collect();
    // "yes" with nothing asked is answered as such; "ok" alone is a thanks.
    if is_yes(&w) && (conv.pending || !matches!(w.as_slice(), ["ok" | "okay" | "k" | "right" | "correct"])) {
        return Command::Confirm(NoArgs {});
    }
    if is_no(&w) || (conv.pending && one_of(&w, NO_ANSWER)) {
        return Command::Cancel(NoArgs {});
    }
    if is_undo(&w) {
        return Command::Undo(NoArgs {});
    }
    if let Some(task) = chosen(s, i, end) {
        return Command::Choose(RefArgs { task });
    }
    // From the first word: politeness may hide a marker ("let's do 6pm").
    let (j, mut mark) = markers(s, 0, end);
    let end = trailing_markers(s, j, end, &mut mark);
    if j >= end {
        return intent::interpret(s, ctx);
    }
    if let Some(c) = skip(s, j, end, ctx)
        .or_else(|| many::bulk(s, j, end, ctx))
        .or_else(|| many::items(s, j, end, ctx))
        .or_else(|| correction(s, j, end, ctx))
    {
        return c;
    }
    let normal = intent::interpret_range(s, j, end, ctx);
    // Words no grammar took ("tomorrow at 7am" after "add gym"), or, after
    // "actually" or "and", words read as a new task or a listing: the task the
    // conversation is on, said again.
    let unread = matches!(normal, Command::Unknown(_));
    let bare = conv.about_one && matches!(normal, Command::ListTasks(_)) && !asks_for_a_list(s, j, end);
    if (unread || bare || mark != Mark::None)
        && restatement_wanted(&normal, s, j)
        && let Some(c) = restatement(s, j, end, ctx, mark)
    {
        return c;
    }
    normal
}

/// A turn that only names a task, as one names it in an answer to "which one?":
/// "the second one", "number 2", "task 2", "#2", "the last one", "that one".
fn chosen(s: &Sentence, i: usize, end: usize) -> Option<TaskRef> {
    if i >= end || (i..end).any(|k| s.toks[k].quoted) {
        return None;
    }
    match reference(s, i..end) {
        Found::Ref(r @ (TaskRef::Index(_) | TaskRef::Id(_) | TaskRef::Context(ContextRef::It | ContextRef::Last))) => {
            Some(r)
        }
        _ => None,
    }
}

const YES: &[&[&str]] = &[
    &["yes"],
    &["y"],
    &["yeah"],
    &["yea"],
    &["yep"],
    &["yup"],
    &["sure"],
    &["ok"],
    &["okay"],
    &["k"],
    &["confirm"],
    &["confirmed"],
    &["do", "it"],
    &["go", "ahead"],
    &["go", "for", "it"],
    &["please", "do"],
    &["absolutely"],
    &["correct"],
    &["affirmative"],
    &["of", "course"],
    &["definitely"],
    &["right"],
    &["that's", "right"],
    &["proceed"],
    &["yes", "do", "it"],
    &["yes", "go", "ahead"],
    &["ok", "do", "it"],
    &["okay", "do", "it"],
    &["sure", "go", "ahead"],
    &["yes", "please"],
    &["yes", "all", "of", "them"],
    &["all", "of", "them"],
    &["do", "them", "all"],
];

/// "no" at any time (a no-op when nothing was asked).
const NO: &[&[&str]] = &[
    &["no"],
    &["n"],
    &["nope"],
    &["nah"],
    &["never", "mind"],
    &["nevermind"],
    &["nvm"],
    &["no", "thanks"],
    &["no", "thank", "you"],
    &["no", "way"],
];

/// "no" to a question asked; otherwise "cancel it" deletes what it names.
const NO_ANSWER: &[&[&str]] = &[
    &["cancel"],
    &["cancel", "that"],
    &["cancel", "it"],
    &["don't"],
    &["dont"],
    &["do", "not"],
    &["don't", "do", "it"],
    &["dont", "do", "it"],
    &["do", "not", "do", "it"],
    &["stop"],
    &["abort"],
    &["forget", "it"],
    &["leave", "it"],
    &["leave", "them"],
    &["keep", "them"],
    &["not", "now"],
];

const UNDO: &[&[&str]] = &[
    &["undo"],
    &["undo", "that"],
    &["undo", "it"],
    &["undo", "this"],
    &["undo", "last"],
    &["undo", "the", "last", "one"],
    &["undo", "the", "last", "change"],
    &["undo", "my", "last", "change"],
    &["undo", "the", "last", "action"],
    &["undo", "that", "change"],
    &["undo", "the", "change"],
    &["undo", "again"],
    &["undo", "that", "too"],
    &["undo", "that", "as", "well"],
    &["undo", "one", "more"],
    &["and", "undo"],
    &["oops", "undo"],
    &["revert"],
    &["revert", "that"],
    &["revert", "it"],
    &["revert", "the", "last", "change"],
    &["take", "that", "back"],
    &["take", "it", "back"],
    &["scratch", "that"],
    &["go", "back"],
    &["ctrl+z"],
];

fn one_of(w: &[&str], phrases: &[&[&str]]) -> bool {
    phrases.contains(&w)
}

fn is_yes(w: &[&str]) -> bool {
    one_of(w, YES)
}

fn is_no(w: &[&str]) -> bool {
    one_of(w, NO)
}

fn is_undo(w: &[&str]) -> bool {
    one_of(w, UNDO) || (w.len() > 1 && w[..w.len() - 1].iter().all(|x| *x == "undo") && w.last() == Some(&"undo"))
}

/// Skips the words that open a correction or an addition, and politeness after them.
fn markers(s: &Sentence, i: usize, end: usize) -> (usize, Mark) {
    let mut j = i;
    let mut mark = Mark::None;
    loop {
        while j < end && s.is_mark(j) {
            j += 1;
        }
        let correct = [
            &["actually"][..],
            &["sorry"],
            &["oops"],
            &["whoops"],
            &["wait"],
            &["hmm"],
            &["hm"],
            &["correction"],
            &["i", "meant"],
            &["i", "mean"],
            &["rather"],
            &["instead"],
            &["oh", "wait"],
            &["no", "wait"],
            &["how", "about"],
            &["what", "about"],
            &["let's", "do"],
            &["lets", "do"],
            &["let's", "say"],
            &["lets", "say"],
            &["let's", "make", "it"],
            &["go", "with"],
            &["maybe"],
            &["perhaps"],
        ]
        .iter()
        .filter_map(|p| s.seq(j, p))
        .max();
        if let Some(k) = correct.filter(|k| *k < end) {
            (j, mark) = (k, Mark::Correct);
            continue;
        }
        // "no, 6pm" but not "no reminder", "no rush".
        if s.is_any(j, &["no", "nope", "nah"])
            && j + 1 < end
            && !s.is_any(j + 1, &["reminder", "reminders", "rush", "due", "date", "deadline", "longer", "more", "need"])
        {
            (j, mark) = (j + 1, Mark::Correct);
            continue;
        }
        let add = [&["and"][..], &["also"], &["plus"], &["oh", "and"], &["then"], &["and", "also"]]
            .iter()
            .filter_map(|p| s.seq(j, p))
            .max();
        if let Some(k) = add.filter(|k| *k < end) {
            if mark == Mark::None {
                mark = Mark::Add;
            }
            j = k;
            continue;
        }
        let (k, _) = intent::trim_politeness(s, j, end);
        if k > j {
            j = k;
            continue;
        }
        return (j, mark);
    }
}

/// "6pm instead", "friday then": trailing words that mark a correction.
fn trailing_markers(s: &Sentence, j: usize, end: usize, mark: &mut Mark) -> usize {
    let mut b = trim_end(s, j, end);
    while b > j + 1 && s.is_any(b - 1, &["instead", "rather", "actually"]) {
        *mark = Mark::Correct;
        b = trim_end(s, j, b - 1);
    }
    b
}

fn it() -> TaskRef {
    TaskRef::Context(ContextRef::It)
}

/// A reference to what the conversation is about at `k`: "it", "that", "this
/// one", "the task", "them", "those", "the last one", "the second one".
/// Returns it and where it ends.
pub(crate) fn pronoun_at(s: &Sentence, k: usize) -> Option<(TaskRef, usize)> {
    let one = |j: usize| if s.is_any(j, &["one", "task", "item"]) { j + 1 } else { j };
    match s.w(k)? {
        "it" => Some((it(), k + 1)),
        "that" | "this" => Some((it(), one(k + 1))),
        "them" | "those" | "these" => {
            let j = if s.is_any(k + 1, &["ones", "tasks", "items"]) { k + 2 } else { k + 1 };
            Some((TaskRef::Context(ContextRef::Them), j))
        }
        "the" => {
            let w = s.w(k + 1)?;
            if s.is_any(k + 2, &["one", "task", "item"]) {
                if matches!(w, "last" | "latest") {
                    return Some((TaskRef::Context(ContextRef::Last), k + 3));
                }
                if let Some(n) = vocab::ordinal(w).filter(|n| *n >= 1) {
                    return Some((TaskRef::Index(n), k + 3));
                }
            }
            s.is_any(k + 1, &["task", "item", "one"]).then(|| (it(), k + 2))
        }
        _ => None,
    }
}

/// A follow-up about a task: "make it 6pm", "call it X", "tag it #family",
/// "remind me an hour before", "it's urgent", "done", "remove the reminder".
fn correction(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
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
fn fixed_value(words: &[&str], target: &TaskRef) -> Option<Command> {
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
fn value_slots(s: &Sentence, k: usize, end: usize, ctx: &Ctx) -> Option<Slots> {
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
fn edited(target: TaskRef, slots: &Slots, ctx: &Ctx) -> Command {
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

/// "remind me an hour before", "remind me at 8", "remind me the day before at
/// 6pm", "set a reminder for 5pm", "remind me about it tomorrow": a reminder on
/// what the conversation is about. "remind me to ..." is a new task, not this.
fn remind(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    let openers: &[&[&str]] = &[
        &["remind", "me"],
        &["alert", "me"],
        &["notify", "me"],
        &["ping", "me"],
        &["set", "a", "reminder"],
        &["set", "reminder"],
        &["add", "a", "reminder"],
        &["add", "reminder"],
        &["give", "me", "a", "reminder"],
        &["with", "a", "reminder"],
        &["a", "reminder"],
        &["reminder"],
    ];
    let mut k = openers.iter().filter_map(|p| s.seq(j, p)).max()?;
    let mut target = it();
    if s.is_any(k, &["about", "of", "for", "on"])
        && let Some((r, e)) = pronoun_at(s, k + 1)
    {
        (target, k) = (r, e);
    } else if let Some((r, e)) = pronoun_at(s, k) {
        (target, k) = (r, e);
    }
    if s.is_punct(k, ':') {
        k += 1;
    }
    let mut u = UpdateTaskArgs::of(target);
    let end = trim_end(s, k, end);
    let end = if end > k && s.is_any(end - 1, &["too", "also"]) { end - 1 } else { end };
    u.relative.remind = Some(if k >= end { Reminder::AtDue } else { reminder_phrase(s, k, end, ctx)? });
    Some(Command::UpdateTask(u))
}

/// Exactly a reminder time in `k..end`: "an hour before", "the day before at
/// 6pm", "at 8", "tomorrow at 9", "for 5pm".
fn reminder_phrase(s: &Sentence, k: usize, end: usize, ctx: &Ctx) -> Option<Reminder> {
    if let Some((span, e)) = before_at(s, k) {
        // "an hour before it starts", "15 minutes before the meeting"
        let filler = |x: usize| {
            s.is_any(
                x,
                &[
                    "it",
                    "that",
                    "starts",
                    "start",
                    "begins",
                    "begin",
                    "happens",
                    "is",
                    "due",
                    "the",
                    "my",
                    "meeting",
                    "appointment",
                    "event",
                    "task",
                    "time",
                    "deadline",
                ],
            )
        };
        let (when, e2) = datetime::when_seq(s, e, ctx);
        if e2 >= end && !when.is_empty() && when.date.is_none() {
            return Some(Reminder::BeforeAt(span, when));
        }
        return (e..end).all(filler).then_some(Reminder::Before(span));
    }
    let k = if s.is_any(k, &["for", "to"]) { k + 1 } else { k };
    // A bare hour after "remind me" is a time: "remind me 8".
    let (when, e) = match datetime::time_at(s, k, true) {
        Some((datetime::Piece::Time(c), e)) if datetime::piece_at(s, k, ctx).is_none() => {
            (When { time: Some(c), ..When::default() }, e)
        }
        _ => datetime::when_seq(s, k, ctx),
    };
    (!when.is_empty() && e >= end).then_some(Reminder::At(when))
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
    let (k, explicit) = if s.is_any(k, &["tag", "tags", "label", "labels"]) { (k + 1, true) } else { (k, false) };
    if !explicit && !s.w(k).is_some_and(|w| w.starts_with('#')) {
        return None;
    }
    let (tags, e) = tag_list(s, k)?;
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
    let (k, explicit) = if s.is_any(k, &["tag", "tags", "label", "labels"]) { (k + 1, true) } else { (k, false) };
    if !explicit && !s.w(k).is_some_and(|w| w.starts_with('#') && !w[1..].bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let (tags, e) = tag_list(s, k)?;
    let (target, e) = tail(e)?;
    (trim_end(s, e, end) == e)
        .then(|| Command::UpdateTask(UpdateTaskArgs { tags_remove: tags, ..UpdateTaskArgs::of(target) }))
}

/// "skip the next one", "skip this week", "skip it", "skip the team meeting",
/// "skip tomorrow", "skip next week".
fn skip(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    if !s.is(j, "skip") {
        return None;
    }
    let mut k = j + 1;
    let mut target = None;
    let mut span = None;
    let mut through = None;
    let mut b = trim_end(s, k, end);
    // Which occurrence, at either end: "the next one", "this week" (the rest of
    // the skipped occurrence's week), "next week" (through its Sunday).
    let sunday = ctx.monday().checked_add_days(chrono::Days::new(13));
    let phrases: &[(&[&str], Option<SkipSpan>, Option<chrono::NaiveDate>)] = &[
        (&["the", "next", "one"], None, None),
        (&["the", "next", "occurrence"], None, None),
        (&["the", "next", "time"], None, None),
        (&["next", "one"], None, None),
        (&["next", "occurrence"], None, None),
        (&["next", "time"], None, None),
        (&["this", "time"], None, None),
        (&["this", "one"], None, None),
        (&["this", "occurrence"], None, None),
        (&["the", "next"], None, None),
        (&["next"], None, None),
        (&["once"], None, None),
        (&["for", "this", "week"], Some(SkipSpan::Week), None),
        (&["this", "week"], Some(SkipSpan::Week), None),
        (&["this", "week's"], Some(SkipSpan::Week), None),
        (&["for", "next", "week"], None, sunday),
        (&["next", "week"], None, sunday),
        (&["next", "week's"], None, sunday),
        (&["for", "today"], Some(SkipSpan::Day), None),
        (&["today"], Some(SkipSpan::Day), None),
        (&["today's"], Some(SkipSpan::Day), None),
        (&["tonight"], Some(SkipSpan::Day), None),
        (&["tonight's"], Some(SkipSpan::Day), None),
        (&["this", "month"], Some(SkipSpan::Month), None),
        (&["this", "month's"], Some(SkipSpan::Month), None),
        (&["for", "this", "month"], Some(SkipSpan::Month), None),
    ];
    let mut phrases = phrases.to_vec();
    phrases.sort_by_key(|(p, _, _)| std::cmp::Reverse(p.len()));
    'outer: loop {
        for (p, sp, th) in &phrases {
            if let Some(e) = s.seq(k, p).filter(|e| *e <= b) {
                k = e;
                (span, through) = (span.or(*sp), through.or(*th));
                continue 'outer;
            }
            if b >= k + p.len() && s.seq(b - p.len(), p).is_some() {
                b -= p.len();
                (span, through) = (span.or(*sp), through.or(*th));
                continue 'outer;
            }
        }
        if target.is_none()
            && let Some((r, e)) = pronoun_at(s, k).filter(|(_, e)| *e <= b)
        {
            (target, k) = (Some(r), e);
            continue 'outer;
        }
        break;
    }
    let mut b = trim_end(s, k, b);
    // "skip tomorrow", "skip monday's", "skip it on friday": every occurrence
    // through that day. A date at the end ("skip the team meeting on friday") too.
    for a in k..b {
        let from = if s.is_any(a, &["on", "for"]) { a + 1 } else { a };
        let (when, e) = datetime::when_seq(s, from, ctx);
        let possessive = when.is_empty() && s.w(from).is_some_and(|w| w.ends_with("'s"));
        let e = if possessive {
            from + 1
        } else if s.is(e, "'s") {
            e + 1
        } else {
            e
        };
        if (!when.is_empty() || possessive) && e >= b {
            let day = match when.date {
                Some(d) => Some(d),
                None => s.w(from).and_then(|w| w.strip_suffix("'s")).and_then(|w| match w {
                    "tomorrow" => ctx.plus_days(1),
                    _ => vocab::weekday(w, false).and_then(|wd| {
                        let ahead = (7 + wd.num_days_from_monday()
                            - chrono::Datelike::weekday(&ctx.today).num_days_from_monday())
                            % 7;
                        ctx.plus_days(u64::from(if ahead == 0 { 7 } else { ahead }))
                    }),
                }),
            };
            if let Some(d) = day {
                through = through.or(Some(d));
                b = a;
                break;
            }
        }
    }
    let b = trim_end(s, k, b);
    if k < b {
        if target.is_some() {
            return None;
        }
        let r = if s.is_any(k, &["one", "occurrence", "meeting", "session", "class"]) && k + 1 == b {
            it()
        } else {
            match reference(s, k..b) {
                Found::Ref(r) => r,
                _ => return Some(Command::unknown(reply::WHICH_SKIP)),
            }
        };
        target = Some(r);
    }
    Some(Command::SkipOccurrence(SkipArgs { task: target.unwrap_or_else(it), rest_of: span, through }))
}

/// Whether the words say a list is wanted: "tasks", "list", a question.
fn asks_for_a_list(s: &Sentence, j: usize, end: usize) -> bool {
    s.is_punct(end.saturating_sub(1), '?')
        || (j..end).any(|k| {
            s.is_any(k, &["tasks", "task", "todos", "list", "items", "ones", "things", "anything", "everything", "all"])
        })
}

/// Whether a correction's words are better read as a restatement of the task
/// than as what the single-sentence grammar made of them: an add without an add
/// verb, a listing by filters alone ("actually tomorrow"), or nothing.
fn restatement_wanted(normal: &Command, s: &Sentence, j: usize) -> bool {
    let verb = s.w(j).unwrap_or("");
    match normal {
        Command::AddTask(_) => !matches!(
            verb,
            "add" | "create" | "new" | "remind" | "put" | "schedule" | "log" | "jot" | "append" | "insert" | "remember"
        ),
        // "what about tomorrow?" after a listing asks for another listing.
        Command::ListTasks(_) if s.toks.last().is_some_and(|t| t.norm == "?") => false,
        Command::ListTasks(_) => !matches!(
            verb,
            "show"
                | "list"
                | "display"
                | "print"
                | "what"
                | "what's"
                | "whats"
                | "which"
                | "search"
                | "find"
                | "view"
                | "see"
                | "any"
                | "do"
                | "how"
        ),
        Command::Unknown(_) => true,
        _ => false,
    }
}

/// "no, 6pm", "actually every tuesday", "actually high priority", "I meant call
/// dad": the task the conversation is on, said again differently. After "and",
/// only what adds to it (no new title: "and buy bread" is a new task).
fn restatement(s: &Sentence, j: usize, end: usize, ctx: &Ctx, mark: Mark) -> Option<Command> {
    let k = if s.is_any(j, &["make", "it's", "its"]) { j + 1 } else { j };
    let words: Vec<&str> = (k..end).filter_map(|x| s.w(x)).collect();
    if let Some(c) = fixed_value(&words, &it()) {
        return Some(c);
    }
    let span = datetime::span_at(s, k);
    // "an hour later", "a day earlier": moved from the due time.
    if let Some((span, e)) = span
        && let Some(later) = match s.w(e) {
            Some("later") => Some(true),
            Some("earlier" | "sooner") => Some(false),
            _ => None,
        }
        && trim_end(s, e + 1, end) == e + 1
    {
        let mut u = UpdateTaskArgs::of(it());
        u.relative.shift = Some((span, later));
        return Some(Command::UpdateTask(u));
    }
    // "actually 20 minutes before", "the day before": the reminder.
    if let Some((before, e)) = before_at(s, k)
        && trim_end(s, e, end) == e
    {
        let mut u = UpdateTaskArgs::of(it());
        u.relative.remind = Some(Reminder::Before(before));
        return Some(Command::UpdateTask(u));
    }
    // A length of time alone ("actually 20 minutes") says too little to act on.
    if span.is_some() {
        return None;
    }
    let slots = value_slots(s, k, end, ctx)?;
    let title = slots.title(s);
    if title.is_empty() {
        return slots.has_any().then(|| edited(it(), &slots, ctx));
    }
    if mark != Mark::Correct {
        return None;
    }
    let Command::UpdateTask(mut u) = edited(it(), &slots, ctx) else {
        return None;
    };
    u.title = Some(TaskTitle::parse(&title).ok()?);
    Some(Command::UpdateTask(u))
}

#[cfg(test)]
mod tests {
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
        assert_eq!(
            t("make it high priority"),
            format!(r#"{{"intent":"update_task","args":{{{it},"priority":"high"}}}}"#)
        );
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
        for text in
            ["make it a one-off", "actually just once", "stop repeating", "don't repeat it", "no longer repeat it"]
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
        assert_eq!(
            t("skip the team meeting"),
            r#"{"intent":"skip_occurrence","args":{"ref":{"title":"team meeting"}}}"#
        );
    }
}
