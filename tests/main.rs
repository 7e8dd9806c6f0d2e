//! Workspace integration tests: the HTTP API on every backend (memory, SQLite,
//! PostgreSQL), the event flow, and the services.

mod bad_input;
mod chat;
mod filters_api;
mod isolation;
mod kafka;
mod services;
mod tasks_api;
mod web;
