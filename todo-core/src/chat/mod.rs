//! The chat interpreter: a sentence, the current instant and the user's time zone
//! in; an intent with its arguments out. Deterministic, rule-based, no network.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use todo_core::chat::{self, Intent};
//!
//! let now: DateTime<Utc> = "2026-11-26T09:00:00Z".parse().unwrap();
//! let cmd = chat::parse("buy milk tomorrow at 5pm #groceries", now, chrono_tz::Tz::UTC);
//! assert_eq!(cmd.intent(), Intent::AddTask);
//! assert_eq!(
//!     serde_json::to_string(&cmd).unwrap(),
//!     r#"{"intent":"add_task","args":{"title":"buy milk","due_at":"2026-11-27T17:00:00Z","all_day":false,"tags":["groceries"]}}"#
//! );
//!
//! let cmd = chat::parse("delete everything", now, chrono_tz::Tz::UTC);
//! assert_eq!(cmd.intent(), Intent::Unknown);
//! assert!(cmd.reply().is_some());
//! ```
//!
//! The argument conventions are DESIGN §7 and `tests/data/chat-examples.jsonl`;
//! the choices made beyond them are in `docs/chat.md` at the repository root.
//!
//! How it works: the message is split into tokens that remember their place in
//! the original text (`lexer`); the opening words pick the intent (`intent`);
//! small recursive-descent grammars over the tokens read dates and times
//! (`datetime`, `calendar`, `clock`, `span`), recurrences (`recurrence`),
//! priorities, tags and reminders (`extract`) and task references
//! (`reference`); for a new task, what no grammar took is the title. Every grammar rule looks ahead a bounded
//! number of tokens, so a message is read in time linear in its length.

mod add;
mod calendar;
mod clock;
mod command;
pub(crate) mod datetime;
mod edit;
mod extract;
mod filter_phrase;
mod fit;
mod followup;
mod intent;
pub(crate) mod lexer;
mod list;
mod many;
mod reference;
mod repeat_phrase;
mod reply;
pub(crate) mod span;
#[cfg(test)]
mod test_util;
mod update;
mod vocab;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use command::{
    AddTaskArgs, AddTasksArgs, BulkArgs, Clarification, Command, ContextRef, DueAt, Intent, ListTasksArgs, NoArgs,
    RecurrenceRule, RefArgs, SaveFilterArgs, SkipArgs, SkipSpan, TaskRef, UpdateTaskArgs,
};
pub use followup::Conversing;
pub use reply::HELP;

/// Longest message read; the rest is ignored (a chat message is a sentence or two).
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// Interprets one chat message sent at `now` by a user in time zone `tz`.
///
/// Never fails: a sentence that is not understood, or that would need a guess
/// to act on ("delete everything"), becomes [`Command::Unknown`] with a
/// clarifying [`Command::reply`].
pub fn parse(message: &str, now: DateTime<Utc>, tz: Tz) -> Command {
    let message = match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => &message[..cut],
        None => message,
    };
    let sentence = lexer::Sentence::new(message);
    intent::interpret(&sentence, &datetime::Ctx::new(now, tz))
}

/// Interprets one turn of a conversation (docs/chat.md, "Conversations"): as
/// [`parse`], and also "yes"/"no" to a pending question, "undo", "skip the next
/// one", lists of items, bulk actions, and follow-ups about what the
/// conversation is on ("actually make it 6pm", "tag it #family"), whose task is a
/// [`TaskRef::Context`] reference for the chat service to resolve.
pub fn parse_in(message: &str, now: DateTime<Utc>, tz: Tz, conversing: Conversing) -> Command {
    let message = match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => &message[..cut],
        None => message,
    };
    let sentence = lexer::Sentence::conversing(message);
    followup::interpret(&sentence, &datetime::Ctx::new(now, tz).conversing(), conversing)
}
