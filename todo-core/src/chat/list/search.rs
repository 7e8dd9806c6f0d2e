//! The text of a search: "search for dentist".

use crate::chat::extract::leftover;
use crate::chat::lexer::Sentence;

/// Words around a search text that are not part of it.
const SEARCH_NOISE: &[&str] = &[
    "tasks",
    "task",
    "my",
    "all",
    "the",
    "a",
    "an",
    "for",
    "me",
    "about",
    "containing",
    "contain",
    "contains",
    "with",
    "mentioning",
    "matching",
    "match",
    "called",
    "named",
    "titled",
    "related",
    "to",
    "any",
    "anything",
    "something",
    "that",
    "which",
    "are",
    "is",
    "in",
    "title",
    "titles",
    "list",
    "items",
    "item",
    "todos",
    "todo",
    "have",
    "i",
    "do",
    "please",
    "where",
    "what",
    "stuff",
    "things",
    "word",
    "text",
    "on",
];

/// The text to search for: what is left of the search phrase, without noise words at its edges.
pub(super) fn query(s: &Sentence, from: usize, end: usize, consumed: &mut [bool]) -> Option<String> {
    let word = |k: usize| s.toks.get(k).is_some_and(|t| t.kind == crate::chat::lexer::Kind::Word);
    let free_words: Vec<usize> = (from..end).filter(|k| !consumed[*k] && word(*k)).collect();
    let noise = |k: usize| s.is_any(k, SEARCH_NOISE);
    let first = free_words.iter().position(|k| !noise(*k));
    let last = free_words.iter().rposition(|k| !noise(*k));
    let (Some(a), Some(b)) = (first, last) else {
        return None;
    };
    for (n, k) in free_words.iter().enumerate() {
        if n < a || n > b {
            consumed[*k] = true;
        }
    }
    let q = leftover(s, from..end, consumed);
    (!q.is_empty()).then_some(q)
}
