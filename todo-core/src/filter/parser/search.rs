//! Search terms: `search: text`, `search: "text"`, `/text/`.

use super::{MAX_SEARCH_CHARS, Parser, R};
use crate::filter::ast::{Expr, Term};

impl<'a> Parser<'a> {
    /// After `search:`: a quoted text, or the text up to `&`, `|`, `)`, `,` or the end.
    pub(super) fn search_text(&mut self, start: usize) -> R<Expr> {
        self.skip_ws();
        let at = self.pos;
        let text = if self.peek() == Some('"') {
            self.quoted()?
        } else {
            let rest = self.rest();
            let len = rest.find(['&', '|', ')', ',']).unwrap_or(rest.len());
            let text = rest[..len].trim_end().to_owned();
            self.pos += text.len();
            text
        };
        self.check_search(&text, at)?;
        self.term(start, Term::Search(text))
    }

    /// `/text/`, with `\/` for a slash.
    pub(super) fn slash_search(&mut self) -> R<Expr> {
        let start = self.pos;
        let s = self.delimited('/')?;
        self.check_search(&s, start)?;
        self.term(start, Term::Search(s))
    }

    fn check_search(&self, text: &str, at: usize) -> R<()> {
        if text.trim().is_empty() {
            return Err(self.err(at..self.pos, "expected a text to search for"));
        }
        let n = text.chars().count();
        if n > MAX_SEARCH_CHARS {
            return Err(self.err(at..self.pos, format!("a search text has at most {MAX_SEARCH_CHARS} characters")));
        }
        Ok(())
    }
}
