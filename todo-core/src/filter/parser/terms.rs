//! Terms read from a word: keywords, `no ...`, `priority`, `status`, `done`.

use super::{Op, Parser, R};
use crate::domain::{Priority, StatusFilter};
use crate::filter::ast::{DateField, Expr, ExprKind, PrioritySet, Term};

impl<'a> Parser<'a> {
    pub(super) fn word_term(&mut self) -> R<Expr> {
        let start = self.pos;
        let Some((raw, end)) = self.word() else {
            let c = self.peek().unwrap_or(' ');
            return Err(self.err(start..start + c.len_utf8(), format!("unexpected '{c}'")));
        };
        let w = raw.to_lowercase();
        let simple = match w.as_str() {
            "today" => Some(Term::Today),
            "tomorrow" => Some(Term::Tomorrow),
            "overdue" => Some(Term::Overdue),
            "recurring" => Some(Term::Recurring),
            "pending" => Some(Term::Status(StatusFilter::Pending)),
            "p1" => Some(Term::Priority(PrioritySet::only(Priority::High))),
            "p2" => Some(Term::Priority(PrioritySet::only(Priority::Medium))),
            "p3" => Some(Term::Priority(PrioritySet::only(Priority::Low))),
            _ => None,
        };
        if let Some(t) = simple {
            self.pos = end;
            return self.term(start, t);
        }
        match w.as_str() {
            "and" | "or" => Err(self.err(start..end, format!("expected a term before '{w}'"))),
            _ if w.len() > 1 && w.starts_with('p') && w[1..].chars().all(|c| c.is_ascii_digit()) => {
                Err(self.err(start..end, "there are three priorities: p1 (high), p2 (medium) and p3 (low)"))
            }
            "no" => self.no_term(start, end),
            "has" => {
                self.pos = end;
                if self.eat_word("reminder") || self.eat_word("reminders") {
                    return self.term(start, Term::HasReminder);
                }
                self.skip_ws();
                Err(self.err(self.pos..self.pos, "expected 'reminder' after 'has'"))
            }
            "next" => {
                self.pos = end;
                if let Some(t) = self.days(start)? {
                    return Ok(t);
                }
                self.pos = start;
                self.date_term(start)
            }
            "search" => {
                self.pos = end;
                self.skip_ws();
                if !self.eat(":") {
                    return Err(self.err(self.pos..self.pos, "expected ':' after 'search'"));
                }
                self.search_text(start)
            }
            "priority" => {
                self.pos = end;
                self.priority(start)
            }
            "status" => {
                self.pos = end;
                self.status(start)
            }
            "done" => {
                self.pos = end;
                self.done(start)
            }
            "due" | "duedate" | "due_date" | "due_at" => {
                self.pos = end;
                self.date_comparison(start, DateField::Due, &w, true)
            }
            "created" | "created_at" | "createdat" => {
                self.pos = end;
                self.date_comparison(start, DateField::Created, &w, true)
            }
            "completed" => {
                self.pos = end;
                let mut probe = Parser { src: self.src, pos: self.pos, depth: 0, terms: 0 };
                let compares = probe.eat_word("before") || probe.eat_word("after") || probe.op().is_some();
                if compares {
                    return self.date_comparison(start, DateField::Completed, &w, false);
                }
                self.term(start, Term::Status(StatusFilter::Completed))
            }
            "completed_at" | "completedat" | "done_at" | "doneat" => {
                self.pos = end;
                self.date_comparison(start, DateField::Completed, &w, true)
            }
            "tags" | "tag" | "labels" | "label" => {
                self.pos = end;
                self.tags(start, &w)
            }
            _ if w.chars().all(|c| c.is_ascii_digit()) => {
                if let Some(t) = self.days(start)? {
                    return Ok(t);
                }
                self.date_term(start)
            }
            _ => self.date_term(start),
        }
    }

    /// `no date`, `no due date`, `no time`, `no priority`, `no tags`, `no reminder`.
    fn no_term(&mut self, start: usize, end: usize) -> R<Expr> {
        self.pos = end;
        let t = if self.eat_word("date") || (self.eat_word("due") && self.eat_word("date")) {
            Term::NoDate
        } else if self.eat_word("time") {
            Term::NoTime
        } else if self.eat_word("priority") {
            // Every task has a priority; "none" is the default one.
            Term::Priority(PrioritySet::only(Priority::Medium))
        } else if ["tags", "tag", "labels", "label"].iter().any(|w| self.eat_word(w)) {
            Term::NoTags
        } else if self.eat_word("reminder") || self.eat_word("reminders") {
            let inner = self.term(start, Term::HasReminder)?;
            return Ok(Expr { span: inner.span.clone(), kind: ExprKind::Not(Box::new(inner)) });
        } else {
            self.skip_ws();
            return Err(self.err(self.pos..self.pos, "expected date, time, priority, tags or reminder after 'no'"));
        };
        self.term(start, t)
    }

    /// `priority: high`, `priority >= medium`, `priority in (high, low)`.
    fn priority(&mut self, start: usize) -> R<Expr> {
        if self.eat_word("in") {
            let ps = self.list(|p| p.priority_value())?;
            return self.term(start, Term::Priority(PrioritySet::from_fn(|q| ps.contains(&q))));
        }
        if let Some((w, _)) = self.peek_word()
            && w == "not"
        {
            let back = self.pos;
            self.eat_word("not");
            if self.eat_word("in") {
                let ps = self.list(|p| p.priority_value())?;
                return self.term(start, Term::Priority(PrioritySet::from_fn(|q| !ps.contains(&q))));
            }
            self.pos = back;
        }
        let Some(op) = self.op() else {
            self.skip_ws();
            return Err(self.err(self.pos..self.pos, "expected ':' or a comparison such as '>=' after 'priority'"));
        };
        let p = self.priority_value()?;
        let set = PrioritySet::from_fn(|q| match op {
            Op::Eq => q == p,
            Op::Ne => q != p,
            Op::Lt => q < p,
            Op::Le => q <= p,
            Op::Gt => q > p,
            Op::Ge => q >= p,
        });
        self.term(start, Term::Priority(set))
    }

    fn priority_value(&mut self) -> R<Priority> {
        self.skip_ws();
        let at = self.pos;
        let (w, end) = self.word().unwrap_or(("", at));
        let p = match w.to_lowercase().as_str() {
            "high" | "h" | "p1" | "urgent" | "important" => Priority::High,
            "medium" | "m" | "p2" | "normal" | "none" => Priority::Medium,
            "low" | "l" | "p3" => Priority::Low,
            _ => return Err(self.err(at..end, "expected a priority: high, medium or low (p1, p2, p3)")),
        };
        self.pos = end;
        Ok(p)
    }

    /// `status: pending|completed|done|all`.
    fn status(&mut self, start: usize) -> R<Expr> {
        self.skip_ws();
        if !(self.eat(":") || self.eat("=")) {
            return Err(self.err(self.pos..self.pos, "expected ':' after 'status'"));
        }
        self.skip_ws();
        let at = self.pos;
        let (w, end) = self.word().unwrap_or(("", at));
        let s = match w.to_lowercase().as_str() {
            "pending" | "open" | "todo" => StatusFilter::Pending,
            "completed" | "done" | "closed" => StatusFilter::Completed,
            "all" | "any" => StatusFilter::All,
            _ => return Err(self.err(at..end, "expected a status: pending, completed or all")),
        };
        self.pos = end;
        self.term(start, Term::Status(s))
    }

    /// `done = true|false` (Vikunja), or `done` alone (completed).
    fn done(&mut self, start: usize) -> R<Expr> {
        let back = self.pos;
        let Some(op) = self.op() else {
            self.pos = back;
            return self.term(start, Term::Status(StatusFilter::Completed));
        };
        self.skip_ws();
        let at = self.pos;
        let (w, end) = self.word().unwrap_or(("", at));
        let value = match w.to_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(self.err(at..end, "expected true or false")),
        };
        let done = match op {
            Op::Eq => value,
            Op::Ne => !value,
            _ => return Err(self.err(at..end, "done compares with = or != only")),
        };
        self.pos = end;
        let s = if done { StatusFilter::Completed } else { StatusFilter::Pending };
        self.term(start, Term::Status(s))
    }
}
