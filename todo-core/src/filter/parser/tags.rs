//! Tag terms: `#name`, `#"two words"`, `#wild*`, `tags in (a, b)`.

use super::{MAX_TAG_PATTERN_CHARS, Op, Parser, R, SPECIAL};
use crate::filter::ast::{Expr, ExprKind, TagPart, TagPattern, Term};

impl<'a> Parser<'a> {
    /// `tags in (a, b)`, `tags not in (a, b)`, `tags = a`, `tags != a`.
    pub(super) fn tags(&mut self, start: usize, name: &str) -> R<Expr> {
        let negated = if self.eat_word("in") {
            false
        } else if matches!(self.peek_word(), Some((w, _)) if w == "not") {
            self.eat_word("not");
            if !self.eat_word("in") {
                self.skip_ws();
                return Err(self.err(self.pos..self.pos, "expected 'in' after 'not'"));
            }
            true
        } else {
            match self.op() {
                Some(Op::Eq) => false,
                Some(Op::Ne) => true,
                _ => {
                    self.skip_ws();
                    return Err(
                        self.err(self.pos..self.pos, format!("expected 'in', 'not in', '=' or '!=' after '{name}'"))
                    );
                }
            }
        };
        let tags = self.list(|p| {
            p.skip_ws();
            let at = p.pos;
            p.eat("#");
            p.tag_name(at)
        })?;
        if tags.is_empty() {
            return Err(self.err(start..self.pos, "expected at least one tag in the list"));
        }
        let span = start..self.pos;
        let any = if tags.len() == 1 {
            tags.into_iter().next().unwrap_or_else(|| unreachable!())
        } else {
            Expr { span: span.clone(), kind: ExprKind::Or(tags) }
        };
        Ok(if negated { Expr { span, kind: ExprKind::Not(Box::new(any)) } } else { any })
    }

    /// A tag name after `#`, `+` or `-` (the position is just after it; `start` is
    /// the prefix): bare, with `\` escapes, or quoted.
    pub(super) fn tag_name(&mut self, start: usize) -> R<Expr> {
        let name_at = self.pos;
        let raw = if self.peek() == Some('"') {
            self.quoted()?
        } else {
            let mut s = String::new();
            let mut chars = self.rest().char_indices();
            let mut len = self.rest().len();
            while let Some((i, c)) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some((_, e)) => s.push(e),
                        None => {
                            len = i + 1;
                            break;
                        }
                    }
                } else if c.is_whitespace() || SPECIAL.contains(&c) {
                    len = i;
                    break;
                } else {
                    s.push(c);
                }
            }
            self.pos += len;
            s
        };
        let prefix = self.src[start..name_at].chars().last().unwrap_or('#');
        let name = raw.to_lowercase();
        if name.trim().is_empty() {
            return Err(self.err(name_at..name_at, format!("expected a tag name after '{prefix}'")));
        }
        let span = name_at..self.pos;
        let mut parts: Vec<TagPart> = Vec::new();
        for c in name.trim().chars() {
            let part = match c {
                '*' => TagPart::Any,
                c if c.is_whitespace() => TagPart::Separator,
                c if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' => {
                    if let Some(TagPart::Literal(s)) = parts.last_mut() {
                        s.push(c);
                        continue;
                    }
                    TagPart::Literal(c.to_string())
                }
                c => {
                    return Err(self.err(
                        span,
                        format!("a tag name holds a-z, 0-9, '_', '-', spaces and '*' only; '{c}' is not allowed"),
                    ));
                }
            };
            // `**` is `*`, and a run of spaces is one separator.
            if parts.last() != Some(&part) {
                parts.push(part);
            }
        }
        let pattern = TagPattern { parts };
        match pattern.exact() {
            Some(t) if t.chars().count() > crate::domain::task::TAG_MAX_CHARS => {
                return Err(
                    self.err(span, format!("a tag has at most {} characters", crate::domain::task::TAG_MAX_CHARS))
                );
            }
            None if name.chars().count() > MAX_TAG_PATTERN_CHARS => {
                return Err(self.err(span, format!("a tag pattern has at most {MAX_TAG_PATTERN_CHARS} characters")));
            }
            _ => {}
        }
        self.term(start, Term::Tag(pattern))
    }
}
