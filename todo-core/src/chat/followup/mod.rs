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

mod answers;
mod edits;
mod pronouns;
mod remind;
mod skip;
#[cfg(test)]
mod tests;

use super::command::{Command, ContextRef, NoArgs, RefArgs, TaskRef, UpdateTaskArgs};
use super::datetime::{self, Ctx};
use super::edit::trim_end;
use super::extract::{Reminder, before_at};
use super::lexer::Sentence;
use super::reference::{Found, reference};
use super::{intent, many};
use crate::domain::TaskTitle;
use answers::{NO_ANSWER, is_no, is_undo, is_yes, one_of};
use edits::{correction, edited, fixed_value, value_slots};
use pronouns::it;
pub(crate) use pronouns::pronoun_at;
use skip::skip;

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
