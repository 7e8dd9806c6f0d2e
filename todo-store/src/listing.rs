//! The listing SQL of a [`TaskQuery`], exactly: [`list_tasks`] compiles its
//! condition (fixed parameters and filter queries alike) to SQL with bound
//! parameters only (never a value in the SQL text), then adds the keyset cursor
//! and the order, for SQLite and PostgreSQL. Each atom of a resolved [`Cond`]
//! reads exactly as [`Cond::eval`] does; nullable columns are guarded so that
//! every atom is TRUE or FALSE, never NULL, and `NOT` keeps its meaning.
//!
//! Besides the condition, [`push_where`] adds what the condition implies in the
//! shape the indexes want: a single status (every task index leads with
//! `(user_id, status, ...)`) and a range of the due-date sort key (the second
//! column of `tasks_by_due` / `tasks_by_due_desc`). Both are implied, so they never
//! change the result; the property tests check that.

use chrono::DateTime;
use todo_core::domain::query::{SortField, SortKey};
use todo_core::domain::{SortSpec, TaskQuery};
use todo_core::filter::{Cond, SetColumn, TagPart, TagPattern, TimeBound, TimeColumn};

use crate::rows::TASK_COLUMNS;
use crate::sql::{Arg, Dialect, PG_MIN_MICROS, Stmt};

/// The page query of `q`: [`TaskQuery::matches`], the keyset cursor and the order of
/// [`todo_core::domain::SortSpec`], overfetching one row (see `TaskPage::from_overfetch`).
pub(crate) fn list_tasks(d: Dialect, q: &TaskQuery) -> Stmt {
    let mut s = Stmt::new(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = "), vec![]);
    let p = s.bind(Arg::Uuid(q.user_id.as_uuid()));
    s.push(&p);
    push_where(d, &mut s, &q.condition(), q.sort);
    let desc = q.sort.descending;
    let column = match q.sort.field {
        SortField::DueAt if desc => "due_sort_desc",
        SortField::DueAt => "due_sort_asc",
        SortField::Priority => "priority_rank",
        SortField::CreatedAt => "created_at",
        SortField::Title => "title_sort",
    };
    if let Some(c) = &q.cursor {
        match cursor_bound(d, q.sort.field, &c.key) {
            Bound::Value(key) => {
                let k = s.bind(key);
                let id = s.bind(Arg::Uuid(c.id.as_uuid()));
                let op = if desc { "<" } else { ">" };
                s.push(&format!(" AND ({column}, id) {op} ({k}, {id})"));
            }
            // Ascending, everything is after a key below all; descending, nothing is.
            Bound::BelowAll if desc => s.push(" AND FALSE"),
            Bound::AboveAll if !desc => s.push(" AND FALSE"),
            Bound::BelowAll | Bound::AboveAll => {}
        }
    }
    let dir = if desc { "DESC" } else { "ASC" };
    let limit = s.bind(Arg::Int(i64::from(q.limit) + 1));
    s.push(&format!(" ORDER BY {column} {dir}, id {dir} LIMIT {limit}"));
    s
}

/// Where a cursor key lies relative to the stored sort keys.
enum Bound {
    /// Compare against this value.
    Value(Arg),
    /// Below every key a task can have.
    BelowAll,
    /// Above every key a task can have.
    AboveAll,
}

/// A `created_at` cursor key (microseconds) against the stored column: an
/// integer in SQLite; a `timestamptz` in PostgreSQL, whose range is narrower than
/// `i64` microseconds, so a key outside it is above or below every task.
fn created_at_key(d: Dialect, micros: i64) -> Bound {
    match d {
        Dialect::Sqlite => Bound::Value(Arg::Int(micros)),
        Dialect::Postgres if micros < PG_MIN_MICROS => Bound::BelowAll,
        Dialect::Postgres => match DateTime::from_timestamp_micros(micros) {
            Some(t) => Bound::Value(Arg::Time(t)),
            None => Bound::AboveAll,
        },
    }
}

/// The cursor key as a bound of the sort column. [`SortKey`] orders every
/// `Int` before every `Text`, so a key of the other kind is below or above all.
fn cursor_bound(d: Dialect, field: SortField, key: &SortKey) -> Bound {
    match (field, key) {
        (SortField::Title, SortKey::Text(t)) => Bound::Value(Arg::Text(t.clone())),
        (SortField::Title, SortKey::Int(_)) => Bound::BelowAll,
        (_, SortKey::Text(_)) => Bound::AboveAll,
        (SortField::CreatedAt, SortKey::Int(k)) => created_at_key(d, *k),
        (SortField::DueAt | SortField::Priority, SortKey::Int(k)) => Bound::Value(Arg::Int(*k)),
    }
}

/// Appends ` AND ...` for `cond` (and what it implies for the indexes) to a
/// statement whose `WHERE` clause is open.
pub(crate) fn push_where(d: Dialect, s: &mut Stmt, cond: &Cond, sort: SortSpec) {
    let top: &[Cond] = match cond {
        Cond::And(xs) => xs,
        other => std::slice::from_ref(other),
    };
    let status = cond.statuses().single();
    if let Some(st) = status {
        let p = s.bind(Arg::Text(st.as_str().to_owned()));
        s.push(&format!(" AND status = {p}"));
    }
    if let Some(range) = cond.due_range() {
        let column = if sort.field == SortField::DueAt && sort.descending { "due_sort_desc" } else { "due_sort_asc" };
        if let Some(from) = range.from {
            let p = s.bind(Arg::Int(from.timestamp_micros()));
            s.push(&format!(" AND {column} >= {p}"));
        }
        if let Some(before) = range.before {
            let p = s.bind(Arg::Int(before.timestamp_micros()));
            s.push(&format!(" AND {column} < {p}"));
        }
    }
    for c in top {
        let said = status.is_some_and(|st| *c == Cond::Status(st));
        if *c != Cond::True && !said {
            s.push(" AND ");
            push(d, s, c);
        }
    }
}

/// Appends `cond` as one SQL boolean expression.
pub(crate) fn push(d: Dialect, s: &mut Stmt, cond: &Cond) {
    match cond {
        Cond::True => s.push("TRUE"),
        Cond::False => s.push("FALSE"),
        Cond::And(xs) | Cond::Or(xs) => {
            let op = if matches!(cond, Cond::And(_)) { " AND " } else { " OR " };
            s.push("(");
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    s.push(op);
                }
                push(d, s, x);
            }
            s.push(")");
        }
        Cond::Not(x) => {
            s.push("NOT (");
            push(d, s, x);
            s.push(")");
        }
        Cond::Status(st) => {
            let p = s.bind(Arg::Text(st.as_str().to_owned()));
            s.push(&format!("status = {p}"));
        }
        Cond::Priority(ps) => match ps.as_slice() {
            [] => s.push("FALSE"),
            [one] => {
                let p = s.bind(Arg::Text(one.as_str().to_owned()));
                s.push(&format!("priority = {p}"));
            }
            many => {
                let params: Vec<String> = many.iter().map(|p| s.bind(Arg::Text(p.as_str().to_owned()))).collect();
                s.push(&format!("priority IN ({})", params.join(", ")));
            }
        },
        Cond::Tag(pattern) => match pattern.exact() {
            Some(tag) => {
                let p = s.bind(Arg::Text(tag.to_owned()));
                s.push(&d.has_tag(&p));
            }
            None => {
                let (sql, pattern) = match d {
                    Dialect::Sqlite => {
                        ("EXISTS (SELECT 1 FROM json_each(tasks.tags) WHERE json_each.value GLOB {p})", glob(pattern))
                    }
                    Dialect::Postgres => {
                        ("EXISTS (SELECT 1 FROM unnest(tasks.tags) AS g(tag) WHERE g.tag ~ {p})", regex(pattern))
                    }
                };
                let p = s.bind(Arg::Text(pattern));
                s.push(&sql.replace("{p}", &p));
            }
        },
        Cond::NoTags => s.push(match d {
            Dialect::Sqlite => "json_array_length(tags) = 0",
            Dialect::Postgres => "cardinality(tags) = 0",
        }),
        Cond::Text(text) => {
            let p = s.bind(Arg::Text(text.clone()));
            s.push(&d.text_contains(&p));
        }
        Cond::Time(column, bound) => push_time(d, s, *column, *bound),
        Cond::IsSet(column) => s.push(match column {
            SetColumn::DueAt => "due_at IS NOT NULL",
            SetColumn::RemindAt => "remind_at IS NOT NULL",
            SetColumn::Recurrence => "recurrence IS NOT NULL",
        }),
        Cond::AllDay => s.push("all_day = TRUE"),
    }
}

/// `column < t` / `column >= t`, FALSE when the column is NULL.
fn push_time(d: Dialect, s: &mut Stmt, column: TimeColumn, bound: TimeBound) {
    let (name, nullable) = match column {
        TimeColumn::DueAt => ("due_at", true),
        TimeColumn::CreatedAt => ("created_at", false),
        TimeColumn::CompletedAt => ("completed_at", true),
    };
    let (op, t) = match bound {
        TimeBound::Before(t) => ("<", t),
        TimeBound::From(t) => (">=", t),
    };
    // PostgreSQL's timestamptz starts in 4714 BC: every stored time is after an
    // earlier bound (chrono's latest instant is within its range).
    if d == Dialect::Postgres && t.timestamp_micros() < PG_MIN_MICROS {
        match bound {
            TimeBound::Before(_) => s.push("FALSE"),
            TimeBound::From(_) if nullable => s.push(&format!("{name} IS NOT NULL")),
            TimeBound::From(_) => s.push("TRUE"),
        }
        return;
    }
    let p = s.bind(Arg::Time(t));
    if nullable {
        s.push(&format!("({name} IS NOT NULL AND {name} {op} {p})"));
    } else {
        s.push(&format!("{name} {op} {p}"));
    }
}

/// The SQLite `GLOB` pattern of a tag pattern (whole-string match).
fn glob(p: &TagPattern) -> String {
    let mut out = String::new();
    for part in &p.parts {
        match part {
            TagPart::Literal(l) => {
                for c in l.chars() {
                    match c {
                        '*' => out.push_str("[*]"),
                        '?' => out.push_str("[?]"),
                        '[' => out.push_str("[[]"),
                        c => out.push(c),
                    }
                }
            }
            TagPart::Any => out.push('*'),
            TagPart::Separator => out.push_str("[-_]"),
        }
    }
    out
}

/// The PostgreSQL regular expression of a tag pattern, anchored at both ends.
fn regex(p: &TagPattern) -> String {
    let mut out = String::from("^");
    for part in &p.parts {
        match part {
            TagPart::Literal(l) => {
                for c in l.chars() {
                    if !c.is_ascii_alphanumeric() {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            TagPart::Any => out.push_str(".*"),
            TagPart::Separator => out.push_str("[-_]"),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use todo_core::domain::{Cursor, TaskId, UserId};
    use todo_core::filter::{Context, Filter};

    use super::*;

    fn compile(d: Dialect, q: &str) -> Stmt {
        let ctx = Context::new("2026-11-26T09:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
        let cond = Filter::parse(q).unwrap().cond(&ctx);
        let mut s = Stmt::new("SELECT 1 FROM tasks WHERE user_id = $1", vec![Arg::Int(0)]);
        push_where(d, &mut s, &cond, SortSpec::default());
        s
    }

    #[test]
    fn values_are_bound_never_written() {
        let s = compile(Dialect::Postgres, "search: \"'; DROP TABLE tasks; --\" | #\"x y*\"");
        assert!(!s.sql.contains("DROP"), "{}", s.sql);
        assert!(s.args.contains(&Arg::Text("'; drop table tasks; --".into())), "{:?}", s.args);
        assert!(s.args.contains(&Arg::Text("^x[-_]y.*$".into())), "{:?}", s.args);
    }

    #[test]
    fn the_benchmark_filter_uses_the_due_index() {
        let s = compile(Dialect::Sqlite, "(today | overdue) & #work & !p3");
        assert!(s.sql.contains(" AND status = $2 AND due_sort_asc < $3 AND "), "{}", s.sql);
        assert_eq!(s.args[2], Arg::Int(1_795_737_600_000_000), "tomorrow's midnight");
    }

    #[test]
    fn tag_patterns() {
        let p = |q: &str| match Filter::parse(q).unwrap().lists()[0].expr.kind.clone() {
            todo_core::filter::ExprKind::Term(todo_core::filter::Term::Tag(p)) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(glob(&p("#\"home office\"")), "home[-_]office");
        assert_eq!(regex(&p("#wor*")), "^wor.*$");
        assert_eq!(regex(&p("#x-1*")), "^x\\-1.*$");
    }

    #[test]
    fn descending_cursor_reverses_the_comparison() {
        let now = "2026-11-26T09:00:00Z".parse().unwrap();
        let mut q = TaskQuery::new(UserId::new(), now);
        q.sort = SortSpec::parse("-priority").unwrap();
        q.cursor = Some(Cursor { sort: "-priority".into(), key: SortKey::Int(1), id: TaskId::new() });
        let s = list_tasks(Dialect::Postgres, &q);
        assert!(s.sql.contains("(priority_rank, id) < ($3, $4)"), "{}", s.sql);
        assert!(s.sql.ends_with("ORDER BY priority_rank DESC, id DESC LIMIT $5"), "{}", s.sql);
        assert_eq!(s.args.len(), 5);
    }
}
