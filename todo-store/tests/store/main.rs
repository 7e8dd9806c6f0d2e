//! Integration tests of todo-store: the todo-core contract suites and the
//! store's own guarantees, on SQLite (temporary files) and PostgreSQL (a fresh
//! database per test on the server of `DATABASE_URL`).

mod filters;
mod postgres;
mod sqlite;
mod support;
