//! Reminders on the task the conversation is on: "remind me an hour before".
use super::pronouns::{it, pronoun_at};
use crate::chat::command::{Command, UpdateTaskArgs};
use crate::chat::datetime::{self, Ctx, When};
use crate::chat::edit::trim_end;
use crate::chat::extract::{Reminder, before_at};
use crate::chat::lexer::Sentence;

/// "remind me an hour before", "remind me at 8", "remind me the day before at
/// 6pm", "set a reminder for 5pm", "remind me about it tomorrow": a reminder on
/// what the conversation is about. "remind me to ..." is a new task, not this.
pub(super) fn remind(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
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
pub(super) fn reminder_phrase(s: &Sentence, k: usize, end: usize, ctx: &Ctx) -> Option<Reminder> {
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
