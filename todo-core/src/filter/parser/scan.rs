//! Reading characters and words at the current position: the parser's scanner,
//! and the counting that keeps every query linear.

use super::{MAX_DEPTH, MAX_TERMS, Op, Parser, R, SPECIAL, char_index};
use crate::filter::ast::{Expr, ExprKind, Span, Term};

impl<'a> Parser<'a> {
    pub(super) fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(super) fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Consumes `s` if the input continues with it.
    pub(super) fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// The bare word at the position (not consumed) and where it ends.
    pub(super) fn word(&self) -> Option<(&'a str, usize)> {
        let rest = self.rest();
        let len = rest.find(|c: char| c.is_whitespace() || SPECIAL.contains(&c)).unwrap_or(rest.len());
        (len > 0).then(|| (&rest[..len], self.pos + len))
    }

    /// The next word after blanks, lowercased (not consumed), with its span.
    pub(super) fn peek_word(&self) -> Option<(String, Span)> {
        let mut p = Parser { src: self.src, pos: self.pos, depth: 0, terms: 0 };
        p.skip_ws();
        p.word().map(|(w, end)| (w.to_lowercase(), p.pos..end))
    }

    /// Consumes the next word if it is `w` (case-insensitively).
    pub(super) fn eat_word(&mut self, w: &str) -> bool {
        match self.peek_word() {
            Some((got, span)) if got == w => {
                self.pos = span.end;
                true
            }
            _ => false,
        }
    }

    /// Consumes a comparison operator (after blanks), `:` counting as `=`.
    pub(super) fn op(&mut self) -> Option<Op> {
        self.skip_ws();
        for (s, op) in [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("!=", Op::Ne),
            ("==", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("=", Op::Eq),
        ] {
            if self.eat(s) {
                return Some(op);
            }
        }
        self.eat(":").then_some(Op::Eq)
    }

    fn count_term(&mut self, span: &Span) -> R<()> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.err(span.clone(), format!("the filter has more than {MAX_TERMS} terms")));
        }
        Ok(())
    }

    pub(super) fn deeper(&mut self, at: usize) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(at..at + 1, format!("the filter nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    pub(super) fn term(&mut self, start: usize, term: Term) -> R<Expr> {
        let span = start..self.pos;
        self.count_term(&span)?;
        Ok(Expr { span, kind: ExprKind::Term(term) })
    }

    /// `(x, y, ...)` or a single `x`, each read by `item`.
    pub(super) fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
        self.skip_ws();
        if !self.eat("(") {
            return Ok(vec![item(self)?]);
        }
        let open = self.pos - 1;
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(")") && out.is_empty() {
                return Ok(out);
            }
            out.push(item(self)?);
            self.skip_ws();
            if self.eat(")") {
                return Ok(out);
            }
            if !self.eat(",") {
                return Err(self.err(
                    self.pos..self.pos,
                    format!("unclosed list from {}: expected ',' or ')'", char_index(self.src, open)),
                ));
            }
        }
    }

    /// `"..."` with `\"` and `\\` escapes; the position is at the opening quote.
    pub(super) fn quoted(&mut self) -> R<String> {
        self.delimited('"')
    }

    /// Text up to the closing `delim`, with `\` escaping the next character; the
    /// position is at the opening delimiter, and ends after the closing one.
    pub(super) fn delimited(&mut self, delim: char) -> R<String> {
        let open = self.pos;
        self.pos += delim.len_utf8();
        let mut s = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e)) => s.push(e),
                    None => break,
                },
                c if c == delim => {
                    self.pos += i + c.len_utf8();
                    return Ok(s);
                }
                c => s.push(c),
            }
        }
        Err(self.err(
            self.src.len()..self.src.len(),
            format!("unclosed '{delim}' from {}: expected '{delim}'", char_index(self.src, open)),
        ))
    }
}
