//! The Python exceptions of `todo_events` and how this crate's errors become them.
//!
//! ```text
//! TodoEventsError              base of everything raised by todo_events
//! ├── ValidationError          input that does not parse (.field)
//! │   └── FilterError          a filter query that does not parse (.span)
//! ├── EventError               not one of our CloudEvents (.kind)
//! └── KafkaError               talking to Kafka failed (.transient)
//! ```

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::{IntoPyObjectExt, create_exception};

create_exception!(todo_events, TodoEventsError, PyException, "Base class of every error raised by todo_events.");
create_exception!(
    todo_events,
    ValidationError,
    TodoEventsError,
    "A value that does not parse or breaks a rule (a bad RRULE, time zone or datetime). \
     `.field` names the argument or field."
);
create_exception!(
    todo_events,
    FilterError,
    ValidationError,
    "A filter query that does not parse. `.span` is the `(start, end)` range of \
     characters where it goes wrong (empty where something was expected); `.field` is 'filter'."
);
create_exception!(
    todo_events,
    EventError,
    TodoEventsError,
    "A record that is not one of our CloudEvents. `.kind` says why: 'malformed', \
     'specversion', 'unsupported_version', 'unknown_type' or 'invalid_data'."
);
create_exception!(
    todo_events,
    KafkaError,
    TodoEventsError,
    "Talking to Kafka failed. `.transient` is True when retrying later may succeed \
     (broker unreachable, timeout)."
);

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in the bindings; each variant maps onto one Python exception.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: raised as `ValidationError`.
    #[error(transparent)]
    Validation(#[from] todo_core::domain::ValidationError),
    /// Not one of our events: raised as `EventError`.
    #[error(transparent)]
    Event(#[from] todo_core::events::EventError),
    /// A Kafka client error: raised as `KafkaError`.
    #[error(transparent)]
    Kafka(#[from] todo_kafka::KafkaError),
    /// An error of a core port (the Kafka adapter answers through them): raised
    /// as `KafkaError` when it comes from the event log, else `TodoEventsError`.
    #[error(transparent)]
    Core(#[from] todo_core::Error),
    /// A method was called on a closed consumer or publisher.
    #[error("{0} is closed")]
    Closed(&'static str),
}

impl Error {
    /// A `ValidationError` about `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Validation(todo_core::domain::ValidationError::new(field, message))
    }
}

/// The `EventError.kind` of a core event error.
fn event_kind(e: &todo_core::events::EventError) -> &'static str {
    use todo_core::events::EventError as E;
    match e {
        E::Malformed(_) => "malformed",
        E::SpecVersion(_) => "specversion",
        E::UnsupportedVersion(_) => "unsupported_version",
        E::UnknownType(_) => "unknown_type",
        E::InvalidData { .. } => "invalid_data",
    }
}

/// The `FilterError` of a filter that does not parse.
pub fn filter_error(e: todo_core::filter::FilterError) -> PyErr {
    let err = with_attr(FilterError::new_err(e.message.clone()), "field", "filter");
    with_attr(err, "span", (e.span[0], e.span[1]))
}

/// Sets `name = value` on the exception instance, so handlers can branch on it.
fn with_attr<'a, T>(err: PyErr, name: &str, value: T) -> PyErr
where
    T: for<'py> IntoPyObject<'py> + 'a,
{
    Python::attach(|py| {
        let set = value.into_py_any(py).and_then(|v| err.value(py).setattr(name, v));
        // Only fails when out of memory; the exception is still worth raising.
        drop(set);
    });
    err
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        let message = e.to_string();
        match e {
            Error::Validation(v) => with_attr(ValidationError::new_err(message), "field", v.field.into_owned()),
            Error::Event(ev) => with_attr(EventError::new_err(message), "kind", event_kind(&ev)),
            Error::Kafka(k) => with_attr(KafkaError::new_err(message), "transient", k.is_transient()),
            Error::Core(todo_core::Error::Validation(v)) => Error::Validation(v).into(),
            Error::Core(todo_core::Error::InvalidFilter(f)) => filter_error(f),
            Error::Core(c @ (todo_core::Error::Unavailable(_) | todo_core::Error::Internal(_))) => {
                with_attr(KafkaError::new_err(message), "transient", c.is_transient())
            }
            Error::Core(_) => TodoEventsError::new_err(message),
            Error::Closed(_) => TodoEventsError::new_err(message),
        }
    }
}
