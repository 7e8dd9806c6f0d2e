//! # todo-services
//!
//! The services of todo-events as a library: the axum HTTP API
//! ([`http::router`]), configuration ([`config`]), telemetry and wiring
//! ([`app`]). The binaries in `src/bin/` only read configuration, call into this
//! crate and serve.

/// mimalloc for every binary of the workspace that links this crate: the request
/// path and the Kafka clients allocate much, and glibc's allocator spent a quarter
/// of the relay's time consolidating freed chunks (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod config;
pub mod converse;
pub mod docs;
pub mod http;
pub mod ical;
pub mod llm;
pub mod mcp;
pub mod services;
pub mod state;
pub mod telemetry;

pub use http::router;
pub use state::AppState;
