//! # todo-services
//!
//! The services of todo-events as a library. What each process serves and runs
//! is one table ([`role::ROLES`]); the axum HTTP API ([`http::router_for`]) and
//! the background work ([`services`]) read it. Configuration ([`config`]) is
//! parsed once into a [`run_mode::RunMode`] and [`settings`]; [`wiring`]
//! connects the adapters and starts a role; [`commands`] are the `todo`
//! subcommands. The binaries in `src/bin/` only call [`commands`].
//!
//! Layers, each using only those below it (checked by `tests/module_cycles.rs`):
//! `commands`, `mcp::stdio`, `converse` → `wiring` → `http` (router, then
//! handlers) and `services` → `state` → `http::{jwt, limit, error}`, `settings`,
//! `config`, `run_mode`, `secrets`, `shutdown`, `adapters`, `role`.

/// mimalloc for every binary of the workspace that links this crate: the request
/// path and the Kafka clients allocate much, and glibc's allocator spent a quarter
/// of the relay's time consolidating freed chunks (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod adapters;
pub mod commands;
pub mod config;
pub mod converse;
pub mod docs;
pub mod http;
pub mod ical;
pub mod mcp;
pub mod role;
pub mod run_mode;
pub mod secrets;
pub mod services;
pub mod settings;
pub mod shutdown;
pub mod state;
pub mod telemetry;
pub mod wiring;

pub use http::router;
pub use state::AppState;
