//! Splits a message into tokens that remember where they came from, so that a
//! title can be cut out of the original text with its casing and inner
//! punctuation ("stand-up", "mom's") intact.

use std::borrow::Cow;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters, digits and inner punctuation: `5:30pm`, `2026-12-10`, `what's`, `#work`.
    Word,
    /// One punctuation character peeled off the edge of a chunk: `,` `?` `(` ...
    Punct(char),
    /// A double quote (straight or curly).
    Quote,
}

#[derive(Clone, Debug)]
pub(crate) struct Token<'a> {
    /// Lowercased, with typographic apostrophes straightened (borrowed when
    /// already so: most words are).
    pub norm: Cow<'a, str>,
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    /// Inside a pair of double quotes: literal text no grammar rule may take.
    pub quoted: bool,
}

/// Characters peeled off the front of a whitespace-separated chunk. `#`, `!` and
/// `@` stay attached: they mean something to the word they prefix.
const LEADING: &[char] = &['-', '–', '—', '(', '[', '{', '<', '\'', '‘', '’', ',', ';', '*', '_', '~', '`'];
/// Characters peeled off the end of a chunk; `.` so that "dec." and "p.m." read
/// as "dec" and "p.m".
const TRAILING: &[char] =
    &['-', '–', '—', ')', ']', '}', '>', '\'', '‘', '’', ',', ';', ':', '!', '?', '.', '*', '_', '~', '`', '…'];
const QUOTES: &[char] = &['"', '“', '”', '„', '«', '»'];

/// A tokenised message.
#[derive(Debug)]
pub(crate) struct Sentence<'a> {
    pub text: &'a str,
    pub toks: Vec<Token<'a>>,
    /// A turn of a conversation: "it", "them" and "the last one" are references
    /// to what it is about, not words to ask about.
    pub convo: bool,
}

impl<'a> Sentence<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut toks = Vec::new();
        let mut chunk_start = None;
        for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            if c.is_whitespace() || c.is_control() {
                if let Some(s) = chunk_start.take() {
                    push_chunk(text, s, i, &mut toks);
                }
            } else if chunk_start.is_none() {
                chunk_start = Some(i);
            }
        }
        mark_quoted(&mut toks);
        Self { text, toks, convo: false }
    }

    /// [`Sentence::new`], for a turn of a conversation.
    pub fn conversing(text: &'a str) -> Self {
        Self { convo: true, ..Self::new(text) }
    }

    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// The normalised word at `i`, unless it is punctuation, quoted or out of range.
    pub fn w(&self, i: usize) -> Option<&str> {
        self.toks.get(i).filter(|t| t.kind == Kind::Word && !t.quoted).map(|t| t.norm.as_ref())
    }

    pub fn is(&self, i: usize, word: &str) -> bool {
        self.w(i) == Some(word)
    }

    pub fn is_any(&self, i: usize, words: &[&str]) -> bool {
        self.w(i).is_some_and(|w| words.contains(&w))
    }

    /// Whether the words starting at `i` are exactly `words`; returns the index after them.
    pub fn seq(&self, i: usize, words: &[&str]) -> Option<usize> {
        words.iter().enumerate().all(|(k, w)| self.is(i + k, w)).then_some(i + words.len())
    }

    pub fn is_punct(&self, i: usize, c: char) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == Kind::Punct(c))
    }

    /// Punctuation at `i` other than a quote (quotes delimit literal text and stay).
    pub fn is_mark(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| matches!(t.kind, Kind::Punct(_)))
    }

    /// Any punctuation or quote at `i`.
    pub fn is_any_punct(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind != Kind::Word)
    }

    /// The original text from token `from` to token `to` (exclusive), trimmed.
    pub fn slice(&self, from: usize, to: usize) -> &'a str {
        if from >= to || to > self.toks.len() {
            return "";
        }
        self.text[self.toks[from].start..self.toks[to - 1].end].trim()
    }
}

fn push_chunk<'a>(text: &'a str, mut s: usize, mut e: usize, out: &mut Vec<Token<'a>>) {
    let mut tail = Vec::new();
    while let Some(c) = text[s..e].chars().next().filter(|c| LEADING.contains(c) || QUOTES.contains(c)) {
        out.push(punct(text, s, s + c.len_utf8(), c));
        s += c.len_utf8();
    }
    while let Some(c) = text[s..e].chars().next_back().filter(|c| TRAILING.contains(c) || QUOTES.contains(c)) {
        tail.push(punct(text, e - c.len_utf8(), e, c));
        e -= c.len_utf8();
    }
    if s < e {
        let raw = &text[s..e];
        let norm = if raw.chars().any(|c| c.is_uppercase() || c == '’' || c == '‘') {
            Cow::Owned(raw.to_lowercase().replace(['’', '‘'], "'"))
        } else {
            Cow::Borrowed(raw)
        };
        out.push(Token { norm, start: s, end: e, kind: Kind::Word, quoted: false });
    }
    out.extend(tail.into_iter().rev());
}

fn punct(text: &str, s: usize, e: usize, c: char) -> Token<'_> {
    let kind = if QUOTES.contains(&c) { Kind::Quote } else { Kind::Punct(c) };
    Token { norm: Cow::Borrowed(&text[s..e]), start: s, end: e, kind, quoted: false }
}

/// Marks the words between pairs of quotes; an unpaired quote quotes nothing.
fn mark_quoted(toks: &mut [Token<'_>]) {
    let quotes: Vec<usize> = toks.iter().enumerate().filter(|(_, t)| t.kind == Kind::Quote).map(|(i, _)| i).collect();
    for pair in quotes.chunks_exact(2) {
        for t in &mut toks[pair[0] + 1..pair[1]] {
            t.quoted = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        Sentence::new(s).toks.iter().map(|t| t.norm.to_string()).collect()
    }

    #[test]
    fn peels_edge_punctuation_only() {
        assert_eq!(words("What's due, today?"), ["what's", "due", ",", "today", "?"]);
        assert_eq!(
            words("add stand-up at 9:30am (urgent)."),
            ["add", "stand-up", "at", "9:30am", "(", "urgent", ")", "."]
        );
        assert_eq!(words("#work #2 5 p.m."), ["#work", "#2", "5", "p.m", "."]);
    }

    #[test]
    fn quotes_protect_words() {
        let s = Sentence::new("rename task 1 to \"meet at 5\"");
        assert!(s.w(4).is_none());
        assert_eq!(s.toks[5].norm, "meet");
        assert!(s.toks[5].quoted);
        assert_eq!(s.slice(4, 9), "\"meet at 5\"");
    }

    #[test]
    fn keeps_original_text() {
        let s = Sentence::new("  Buy Milk   tomorrow ");
        assert_eq!(s.slice(0, 2), "Buy Milk");
        assert_eq!(s.len(), 3);
    }
}
