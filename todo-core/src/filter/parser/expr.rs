//! Expressions: `|`/`or`, `&`/`and`/juxtaposition, `!`/`-`/`not`, parentheses.

use super::{Parser, R, char_index};
use crate::filter::ast::{Expr, ExprKind};

impl<'a> Parser<'a> {
    /// Whether an operand list ends here: the end, `)`, `,`, `|` or `or`.
    fn at_stop(&self) -> bool {
        let mut p = Parser { src: self.src, pos: self.pos, depth: 0, terms: 0 };
        p.skip_ws();
        match p.peek() {
            None | Some(')' | ',' | '|') => true,
            _ => matches!(p.word(), Some((w, _)) if w.eq_ignore_ascii_case("or")),
        }
    }

    /// Requires an operand after the operator `op` (ending at the position).
    fn need_operand(&mut self, op: &str) -> R<()> {
        if self.at_stop() {
            self.skip_ws();
            return Err(self.err(self.pos..self.pos, format!("expected a term after '{op}'")));
        }
        Ok(())
    }

    pub(super) fn or_expr(&mut self) -> R<Expr> {
        let first = self.and_expr()?;
        let start = first.span.start;
        let mut xs = vec![first];
        loop {
            self.skip_ws();
            let op = if self.eat("||") {
                "||"
            } else if self.eat("|") {
                "|"
            } else if self.eat_word("or") {
                "or"
            } else {
                break;
            };
            self.need_operand(op)?;
            xs.push(self.and_expr()?);
        }
        Ok(join(xs, start, ExprKind::Or))
    }

    fn and_expr(&mut self) -> R<Expr> {
        let first = self.unary()?;
        let start = first.span.start;
        let mut xs = vec![first];
        loop {
            if self.at_stop() {
                break;
            }
            self.skip_ws();
            let op = if self.eat("&&") {
                Some("&&")
            } else if self.eat("&") {
                Some("&")
            } else if self.eat_word("and") {
                Some("and")
            } else {
                None // juxtaposition
            };
            if let Some(op) = op {
                self.need_operand(op)?;
            }
            xs.push(self.unary()?);
        }
        Ok(join(xs, start, ExprKind::And))
    }

    fn unary(&mut self) -> R<Expr> {
        self.skip_ws();
        let start = self.pos;
        let not = |inner: Expr| Expr { span: start..inner.span.end, kind: ExprKind::Not(Box::new(inner)) };
        if self.rest().starts_with("!=") {
            return Err(self.err(start..start + 2, "unexpected '!=': it compares a field, as in priority != low"));
        }
        if self.eat("!") {
            self.deeper(start)?;
            self.need_operand("!")?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(not(inner));
        }
        if let Some((w, end)) = self.word()
            && w.eq_ignore_ascii_case("not")
        {
            self.pos = end;
            self.deeper(start)?;
            self.need_operand("not")?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(not(inner));
        }
        if self.rest().starts_with('-') {
            self.pos += 1;
            // `-name` is Taskwarrior's "without tag"; `-today`, `-p3`, `-#tag`, `-(...)` negate.
            let names_tag = self.peek().is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '*' | '\\' | '"'));
            if names_tag && self.word().is_none_or(|(w, _)| !starts_term(&w.to_lowercase())) {
                let tag = self.tag_name(start)?;
                return Ok(not(tag));
            }
            self.deeper(start)?;
            self.need_operand("-")?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(not(inner));
        }
        self.primary()
    }

    fn primary(&mut self) -> R<Expr> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.err(start..start, "expected a term"));
        };
        match c {
            '(' => {
                self.pos += 1;
                self.deeper(start)?;
                self.need_operand("(")?;
                let inner = self.or_expr()?;
                self.skip_ws();
                if !self.eat(")") {
                    return Err(match self.peek() {
                        Some(',') => {
                            self.err(self.pos..self.pos + 1, "',' separates lists and cannot stand inside parentheses")
                        }
                        _ => self.err(
                            self.pos..self.pos,
                            format!("unclosed '(' from {}: expected ')'", char_index(self.src, start)),
                        ),
                    });
                }
                self.depth -= 1;
                Ok(Expr { span: start..self.pos, kind: inner.kind })
            }
            '#' | '+' => {
                self.pos += 1;
                self.tag_name(start)
            }
            '/' => self.slash_search(),
            '"' => {
                Err(self
                    .err(start..start + 1, "quoted text alone is not a term; to search for it write search: \"...\""))
            }
            ')' => Err(self.err(start..start + 1, "expected a term before ')'")),
            '&' | '|' | ',' | ':' | '<' | '>' | '=' | '!' => {
                Err(self.err(start..start + c.len_utf8(), format!("expected a term before '{c}'")))
            }
            _ => self.word_term(),
        }
    }
}

/// Whether a word begins a term (so `-word` negates the term rather than naming a tag).
fn starts_term(w: &str) -> bool {
    matches!(
        w,
        "today"
            | "tomorrow"
            | "overdue"
            | "recurring"
            | "pending"
            | "completed"
            | "p1"
            | "p2"
            | "p3"
            | "no"
            | "has"
            | "next"
            | "search"
            | "priority"
            | "status"
            | "done"
            | "due"
            | "duedate"
            | "due_date"
            | "due_at"
            | "created"
            | "created_at"
            | "createdat"
            | "completed_at"
            | "completedat"
            | "done_at"
            | "doneat"
            | "tags"
            | "tag"
            | "labels"
            | "label"
            | "not"
    )
}

/// One operand, or the `kind` of several.
fn join(mut xs: Vec<Expr>, start: usize, kind: fn(Vec<Expr>) -> ExprKind) -> Expr {
    if xs.len() == 1 {
        return xs.pop().unwrap_or_else(|| unreachable!());
    }
    let end = xs.last().map_or(start, |x| x.span.end);
    Expr { span: start..end, kind: kind(xs) }
}
