//! Search terms: `search: text`, `search: "text"`, `/text/`.

use super::{MAX_SEARCH_CHARS, Parser, R, char_index};
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
        self.pos += 1;
        let mut s = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '/' => {
                    self.pos += i + 1;
                    self.check_search(&s, start)?;
                    return self.term(start, Term::Search(s));
                }
                '\\' => match chars.next() {
                    Some((_, e)) => s.push(e),
                    None => break,
                },
                c => s.push(c),
            }
        }
        Err(self.err(
            self.src.len()..self.src.len(),
            format!("unclosed '/' from {}: expected '/'", char_index(self.src, start)),
        ))
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
