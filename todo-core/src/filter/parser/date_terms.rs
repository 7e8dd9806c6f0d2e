//! Date terms: `7 days`, a date alone, `due before friday`, `created: 2026-01-01`.

use super::{MAX_DAYS, Op, Parser, R};
use crate::filter::ast::{DateArg, DateCmp, DateField, Expr, Term};
use crate::filter::dates::{self, Context, When};

/// The instant date phrases are tried at while parsing: any instant would do,
/// since what a phrase spans does not depend on it; the value is computed again
/// at evaluation.
fn reference() -> Context {
    Context::new(
        chrono::DateTime::from_timestamp(1_781_870_400, 0).unwrap_or_default(), // 2026-06-19T12:00:00Z, a Friday
        chrono_tz::Tz::UTC,
    )
}

/// Earliest and latest dates a phrase may name (those a task may be due at).
const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 2199;

impl<'a> Parser<'a> {
    /// `7 days`, `next 7 days` (the position after `next`, or at the number).
    pub(super) fn days(&mut self, start: usize) -> R<Option<Expr>> {
        let back = self.pos;
        self.skip_ws();
        let n_at = self.pos;
        let Some((n, n_end)) = self.word().filter(|(w, _)| w.chars().all(|c| c.is_ascii_digit())) else {
            self.pos = back;
            return Ok(None);
        };
        self.pos = n_end;
        if !(self.eat_word("days") || self.eat_word("day")) {
            self.pos = back;
            return Ok(None);
        }
        let n: u32 = match n.parse() {
            Ok(n) if (1..=MAX_DAYS).contains(&n) => n,
            _ => return Err(self.err(n_at..n_end, format!("the number of days must be 1 to {MAX_DAYS}"))),
        };
        self.term(start, Term::Days(n)).map(Some)
    }

    /// A date alone: due that day.
    pub(super) fn date_term(&mut self, start: usize) -> R<Expr> {
        let (raw, end) = self.word().unwrap_or(("", self.pos));
        match dates::read(self.rest(), &reference()) {
            Some((When::Day(_), _)) => {
                let date = self.date_value("", true)?;
                self.term(start, Term::Date { field: DateField::Due, cmp: DateCmp::On, date })
            }
            Some((When::Instant(_), len)) => Err(self.err(
                start..start + len,
                format!(
                    "'{}' is a time, not a day: compare with it, as in due before: {}",
                    &self.src[start..start + len].trim_end(),
                    &self.src[start..start + len].trim_end()
                ),
            )),
            None => {
                let hint = if crate::domain::Tag::parse(raw).is_ok() {
                    format!(" (for the tag, write #{})", raw.to_lowercase())
                } else {
                    String::new()
                };
                Err(self.err(
                    start..end,
                    format!(
                        "unknown term '{raw}': expected a term such as today, overdue, p1, #tag, search: text or a date{hint}"
                    ),
                ))
            }
        }
    }

    /// After `due`, `created`, `completed`: `before:`, `after:`, `:` or an operator,
    /// then a date. `colon_on`: whether `field:` alone means "on".
    pub(super) fn date_comparison(&mut self, start: usize, field: DateField, name: &str, colon_on: bool) -> R<Expr> {
        let cmp = if self.eat_word("before") {
            self.skip_ws();
            self.eat(":");
            DateCmp::Before
        } else if self.eat_word("after") {
            self.skip_ws();
            self.eat(":");
            DateCmp::After
        } else {
            let at = {
                let mut p = Parser { src: self.src, pos: self.pos, depth: 0, terms: 0 };
                p.skip_ws();
                p.pos
            };
            match self.op() {
                Some(Op::Eq) if self.src[at..].starts_with(':') && !colon_on => {
                    return Err(self.err(at..at + 1, format!("expected 'before:' or 'after:' after '{name}'")));
                }
                Some(op) => op.date_cmp(),
                // `due friday`: due that day.
                None if colon_on && dates::read(&self.src[at..], &reference()).is_some() => DateCmp::On,
                None => {
                    return Err(self.err(
                        at..at,
                        format!("expected ':', 'before:', 'after:' or a comparison such as '<' after '{name}'"),
                    ));
                }
            }
        };
        let after = self.src[start..self.pos].trim().to_owned();
        let date = self.date_value(&after, false)?;
        self.term(start, Term::Date { field, cmp, date })
    }

    /// A date phrase (or a quoted one) at the position. `after`: what it follows, for
    /// the error message. `day_only`: a phrase naming an exact time is refused.
    fn date_value(&mut self, after: &str, day_only: bool) -> R<DateArg> {
        self.skip_ws();
        let start = self.pos;
        let (text, span) = if self.peek() == Some('"') {
            let text = self.quoted()?;
            (text, start..self.pos)
        } else {
            match dates::read(self.rest(), &reference()) {
                Some((_, len)) => {
                    let text = self.src[start..start + len].trim_end().to_owned();
                    self.pos = start + text.len();
                    (text, start..self.pos)
                }
                None => {
                    let what = if after.is_empty() { String::new() } else { format!(" after '{after}'") };
                    return Err(self.err(start..start, format!("expected a date{what}")));
                }
            }
        };
        let when = dates::read_all(&text, &reference())
            .ok_or_else(|| self.err(span.clone(), format!("'{text}' is not a date")))?;
        let year = match when {
            When::Day(d) => chrono::Datelike::year(&d),
            When::Instant(t) => chrono::Datelike::year(&t),
        };
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(self.err(span, format!("'{text}' is out of range: dates run from {FIRST_YEAR} to {LAST_YEAR}")));
        }
        let is_day = matches!(when, When::Day(_));
        if day_only && !is_day {
            return Err(self.err(span, format!("'{text}' is a time, not a day")));
        }
        Ok(DateArg { text, span, is_day })
    }
}
