//! Words that point at the task the conversation is on: "it", "that one", "them".

use crate::chat::command::{ContextRef, TaskRef};
use crate::chat::lexer::Sentence;
use crate::chat::vocab;

/// The task the conversation is on.
pub(super) fn it() -> TaskRef {
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
