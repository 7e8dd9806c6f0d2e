//! The recursive-descent parser: query text to [`Expr`]s, one per comma-separated
//! list. Tokens are read on demand at the current position, because a date phrase
//! or a search text is read as raw text, not as tokens. Every loop consumes input
//! and the nesting depth is bounded, so any input is parsed in linear time without
//! exhausting the stack.

mod date_terms;
mod expr;
mod scan;
mod search;
mod tags;
mod terms;

use super::FilterError;
use super::ast::{DateCmp, Expr, Span};

/// Longest query, in characters.
pub const MAX_CHARS: usize = 1_000;
/// Deepest nesting of parentheses and negations.
pub const MAX_DEPTH: usize = 32;
/// Most terms in one query.
pub const MAX_TERMS: usize = 100;
/// Most comma-separated lists in one query.
pub const MAX_LISTS: usize = 10;
/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = crate::domain::query::QUERY_MAX_CHARS;
/// Largest `N` in `N days`.
pub const MAX_DAYS: u32 = 3_650;
/// Longest tag pattern (with wildcards), in characters.
const MAX_TAG_PATTERN_CHARS: usize = 64;

/// Characters that never belong to a bare word.
const SPECIAL: &[char] = &['&', '|', '!', '(', ')', ',', ':', '<', '>', '=', '"', '#', '/'];

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn date_cmp(self) -> DateCmp {
        match self {
            Op::Eq => DateCmp::On,
            Op::Ne => DateCmp::NotOn,
            Op::Lt => DateCmp::Before,
            Op::Le => DateCmp::OnOrBefore,
            Op::Gt => DateCmp::After,
            Op::Ge => DateCmp::OnOrAfter,
        }
    }
}

pub(crate) struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    terms: usize,
}

type R<T> = Result<T, FilterError>;

impl<'a> Parser<'a> {
    pub fn new(src: &'a str) -> Self {
        Self { src, pos: 0, depth: 0, terms: 0 }
    }

    fn err(&self, span: Span, message: impl std::fmt::Display) -> FilterError {
        FilterError::at(self.src, span, message)
    }

    /// The lists of the query.
    pub fn query(mut self) -> R<Vec<(Expr, Span)>> {
        let chars = self.src.chars().count();
        if chars > MAX_CHARS {
            return Err(self.err(0..0, format!("the filter is {chars} characters long; the limit is {MAX_CHARS}")));
        }
        // No database stores a NUL in text; other control characters are blanks
        // or literal text.
        if let Some(at) = self.src.find('\0') {
            return Err(self.err(at..at + 1, "the filter contains a NUL character"));
        }
        self.skip_ws();
        if self.at_end() {
            return Err(self.err(self.pos..self.pos, "the filter is empty: expected a term such as today, #tag or p1"));
        }
        let mut lists = Vec::new();
        loop {
            self.skip_ws();
            let start = self.pos;
            if self.at_end() || self.peek() == Some(',') {
                let what = if lists.is_empty() { "before ','" } else { "after ','" };
                return Err(self.err(self.pos..self.pos, format!("expected a filter {what}")));
            }
            let e = self.or_expr()?;
            lists.push((e, start..self.pos));
            self.skip_ws();
            if self.eat(",") {
                if lists.len() == MAX_LISTS {
                    return Err(self.err(
                        self.pos - 1..self.pos,
                        format!("a filter has at most {MAX_LISTS} lists (separated by ','"),
                    ));
                }
                continue;
            }
            if self.at_end() {
                return Ok(lists);
            }
            let p = self.pos;
            let c = self.peek().unwrap_or(' ');
            return Err(if c == ')' {
                self.err(p..p + 1, "unmatched ')'")
            } else {
                self.err(p..p + c.len_utf8(), format!("unexpected '{c}'"))
            });
        }
    }
}

/// The character index of byte offset `byte` in `src`.
pub(crate) fn char_index(src: &str, byte: usize) -> usize {
    src.get(..byte.min(src.len())).map_or_else(|| src.chars().count(), |s| s.chars().count())
}
