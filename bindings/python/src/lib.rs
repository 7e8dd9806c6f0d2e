//! # todo-events-python
//!
//! The Python module `todo_events`, built with maturin: the event catalog of
//! [`todo_core::events`] (construct, serialize, parse and validate CloudEvents),
//! the chat interpreter ([`todo_core::chat::parse`]), the filter language
//! ([`todo_core::filter`]), the recurrence engine
//! ([`todo_core::domain::Recurrence`]) and a Kafka publisher and consumer on
//! [`todo_kafka`].
//!
//! Every Python class wraps the Rust value it is named after (`CloudEvent` holds a
//! [`todo_core::events::CloudEvent`], with `From` both ways), so the wire shapes
//! have one source of truth: the Rust types. Blocking calls (Kafka) run on a
//! Tokio runtime owned by the module and release the GIL while they wait.
//!
//! Build and test it with `scripts/python-test`; see `bindings/python/README.md`.
//!
//! ```python
//! import todo_events as te
//! cmd = te.parse_command("buy milk tomorrow at 5pm #groceries", now="2026-11-26T09:00:00Z")
//! assert cmd["intent"] == "add_task"
//! ```

mod catalog;
mod chat;
mod convert;
mod error;
mod events;
mod filter;
mod kafka;
mod recurrence;
mod runtime;

use pyo3::prelude::*;

/// Events, chat interpreter, recurrence engine and Kafka clients of todo-events,
/// in Rust.
#[pymodule(name = "_native")]
mod todo_events {
    #[pymodule_export]
    use crate::chat::parse_command;
    #[pymodule_export]
    use crate::error::{EventError, FilterError, KafkaError, TodoEventsError, ValidationError};
    #[pymodule_export]
    use crate::events::{PyCloudEvent, PyEventFactory, PyEventType, PyTopic};
    #[pymodule_export]
    use crate::filter::PyFilter;
    #[pymodule_export]
    use crate::kafka::{PyConsumer, PyPublisher, PyRecord, ensure_topics};
    #[pymodule_export]
    use crate::recurrence::{first_occurrence, next_occurrence, validate_rrule};

    /// The CloudEvents `specversion` this build writes and accepts.
    #[pymodule_export]
    const SPEC_VERSION: &str = todo_core::events::SPEC_VERSION;

    /// The version of the Rust crates this module was built from.
    #[pymodule_export]
    #[allow(non_upper_case_globals)]
    const __version__: &str = env!("CARGO_PKG_VERSION");
}
