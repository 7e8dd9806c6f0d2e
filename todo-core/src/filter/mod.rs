//! The filter language: one line that says which tasks to show, used by every
//! door (REST `?filter=`, saved filters, chat, the web page, the Python bindings).
//!
//! ```
//! use todo_core::filter::{Context, Filter};
//!
//! let f = Filter::parse("(today | overdue) & #work & !p3").unwrap();
//! assert_eq!(f.to_string(), "(today | overdue) & #work & !p3");
//!
//! // Evaluated at an instant, in the user's time zone.
//! let ctx = Context::new("2026-11-26T09:00:00Z".parse().unwrap(), chrono_tz::Europe::Berlin);
//! let cond = f.cond(&ctx);
//! # let _ = cond;
//!
//! let err = Filter::parse("due before: ").unwrap_err();
//! assert_eq!(err.message, "expected a date after 'due before:' at 12");
//! assert_eq!(err.span, [12, 12]);
//! ```
//!
//! A query is parsed once into a typed tree with spans ([`ast`]); errors say what
//! was expected and where ([`FilterError`]). Evaluating it takes a [`Context`] (the
//! instant and the user's time zone), which turns every relative date into a
//! fixed bound: the result is a [`Cond`], which [`Cond::eval`] checks against a
//! task in memory and todo-store compiles to SQL with bound parameters. Both read
//! the same atoms, and property tests hold them equal.
//!
//! The grammar, every term, and the decided semantics are in `docs/filters.md`.

pub mod ast;
pub mod cond;
mod dates;
mod parser;
mod resolve;

use std::fmt;

use serde::Serialize;

use crate::domain::Task;

pub use ast::{DateArg, DateCmp, DateField, Expr, ExprKind, PrioritySet, Span, TagPart, TagPattern, Term};
pub use cond::{Cond, DueRange, SetColumn, StatusSet, TimeBound, TimeColumn, ceil_micros};
pub use dates::Context;
pub use parser::{MAX_CHARS, MAX_DAYS, MAX_DEPTH, MAX_LISTS, MAX_SEARCH_CHARS, MAX_TERMS};
pub use resolve::overdue;

/// A filter that does not parse: what was expected, and where.
///
/// `span` is `[start, end)` in characters (Unicode code points) of the query; an
/// empty span marks the point where something was expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    /// What is wrong, ending with "at N" (N = `span[0]`).
    pub message: String,
    /// `[start, end)` in characters of the query.
    pub span: [usize; 2],
}

impl FilterError {
    /// An error about the bytes `span` of `src`.
    pub(crate) fn at(src: &str, span: Span, message: impl fmt::Display) -> Self {
        let start = parser::char_index(src, span.start);
        let end = parser::char_index(src, span.end.max(span.start));
        Self { message: format!("{message} at {start}"), span: [start, end] }
    }
}

/// One comma-separated list of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterList {
    /// The list's expression.
    pub expr: Expr,
    /// Its text in the query.
    pub span: Span,
}

impl FilterList {
    /// The condition of this list at `ctx`: its expression, and `pending` unless
    /// the expression names a status.
    pub fn cond(&self, ctx: &Context) -> Cond {
        resolve::list_cond(&self.expr, ctx)
    }

    /// Whether the list names a status (`completed`, `status:all`, ...), so that the
    /// default `pending` does not apply.
    pub fn names_status(&self) -> bool {
        resolve::names_status(&self.expr)
    }
}

/// A parsed query: one or more lists (`today, overdue` shows two lists, one after
/// the other).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    source: String,
    lists: Vec<FilterList>,
}

impl Filter {
    /// Parses a query.
    pub fn parse(query: &str) -> Result<Self, FilterError> {
        let lists = parser::Parser::new(query).query()?;
        Ok(Self {
            source: query.to_owned(),
            lists: lists.into_iter().map(|(expr, span)| FilterList { expr, span }).collect(),
        })
    }

    /// The query as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The lists, in order (at least one).
    pub fn lists(&self) -> &[FilterList] {
        &self.lists
    }

    /// The text of list `i` as written, trimmed.
    pub fn list_source(&self, i: usize) -> Option<&str> {
        self.lists.get(i).and_then(|l| self.source.get(l.span.clone())).map(str::trim)
    }

    /// The condition of the whole query at `ctx`: a task any list shows.
    pub fn cond(&self, ctx: &Context) -> Cond {
        Cond::any(self.lists.iter().map(|l| l.cond(ctx)))
    }

    /// Whether `task` is shown by any list of the query at `ctx`.
    pub fn matches(&self, task: &Task, ctx: &Context) -> bool {
        self.lists.iter().any(|l| l.cond(ctx).eval(task))
    }
}

/// The canonical text: it parses back to the same filter.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.lists.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", l.expr)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Filter {
    type Err = FilterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The local day a date phrase names at `ctx` (`None` for an exact time or no date).
pub(crate) fn read_day(text: &str, ctx: &Context) -> Option<chrono::NaiveDate> {
    match dates::read_all(text, ctx)? {
        dates::When::Day(d) => Some(d),
        dates::When::Instant(_) => None,
    }
}

#[cfg(test)]
mod tests;
