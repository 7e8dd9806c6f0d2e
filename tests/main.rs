//! Workspace integration tests: the HTTP API on every backend (memory, SQLite,
//! PostgreSQL), the event flow, and the services.

mod abuse;
mod backlog;
mod bad_input;
mod calendar;
mod chat;
mod conversation;
mod filters_api;
mod fuzz;
mod isolation;
mod kafka;
mod mcp;
mod services;
mod tasks_api;
mod tls;
mod tokens;
mod web;
