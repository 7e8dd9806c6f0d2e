//! The names of the event catalog: `Topic` and `EventType`, and the arguments
//! that take either one or its text.

use std::borrow::Cow;

use pyo3::prelude::*;
use todo_core::events::{EventType, Topic};

use crate::error::{Error, Result};

/// A topic of the event catalog. `value` is its base name; deployments may put a
/// prefix before it (see `Publisher` and `Consumer`).
#[pyclass(name = "Topic", module = "todo_events", eq, frozen, hash, from_py_object)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PyTopic {
    /// `task-events`: created, updated, completed, deleted.
    #[pyo3(name = "TASK_EVENTS")]
    TaskEvents,
    /// `reminders`: reminder scheduled, cancelled.
    #[pyo3(name = "REMINDERS")]
    Reminders,
    /// `task-updates`: what live clients see (task changed, reminder due).
    #[pyo3(name = "TASK_UPDATES")]
    TaskUpdates,
}

impl From<Topic> for PyTopic {
    fn from(t: Topic) -> Self {
        match t {
            Topic::TaskEvents => PyTopic::TaskEvents,
            Topic::Reminders => PyTopic::Reminders,
            Topic::TaskUpdates => PyTopic::TaskUpdates,
        }
    }
}

impl From<PyTopic> for Topic {
    fn from(t: PyTopic) -> Self {
        match t {
            PyTopic::TaskEvents => Topic::TaskEvents,
            PyTopic::Reminders => Topic::Reminders,
            PyTopic::TaskUpdates => Topic::TaskUpdates,
        }
    }
}

#[pymethods]
impl PyTopic {
    /// The topic's base name, e.g. `"task-events"`.
    #[getter]
    fn value(&self) -> &'static str {
        Topic::from(*self).as_str()
    }

    /// The dead-letter topic's base name, e.g. `"task-events.dlq"`.
    #[getter]
    fn dlq(&self) -> String {
        todo_core::events::dlq_name(Topic::from(*self).as_str())
    }

    /// The topic named `name` (`"task-events"`, `"reminders"`, `"task-updates"`).
    #[staticmethod]
    fn from_name(name: &str) -> Result<Self> {
        Topic::from_name(name.trim()).map(Into::into).ok_or_else(|| {
            Error::invalid("topic", format!("{name:?} is not a topic; expected task-events, reminders or task-updates"))
        })
    }

    /// Every topic of the catalog.
    #[staticmethod]
    fn all() -> Vec<Self> {
        Topic::ALL.into_iter().map(Into::into).collect()
    }

    fn __str__(&self) -> &'static str {
        self.value()
    }
}

/// A CloudEvents `type` of the catalog, e.g. `EventType.TASK_CREATED`
/// (`"todo.task.created.v1"`).
#[pyclass(name = "EventType", module = "todo_events", eq, frozen, hash, from_py_object)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PyEventType {
    /// `todo.task.created.v1` on `task-events`.
    #[pyo3(name = "TASK_CREATED")]
    TaskCreated,
    /// `todo.task.updated.v1` on `task-events`.
    #[pyo3(name = "TASK_UPDATED")]
    TaskUpdated,
    /// `todo.task.completed.v1` on `task-events`.
    #[pyo3(name = "TASK_COMPLETED")]
    TaskCompleted,
    /// `todo.task.deleted.v1` on `task-events`.
    #[pyo3(name = "TASK_DELETED")]
    TaskDeleted,
    /// `todo.reminder.scheduled.v1` on `reminders`.
    #[pyo3(name = "REMINDER_SCHEDULED")]
    ReminderScheduled,
    /// `todo.reminder.cancelled.v1` on `reminders`.
    #[pyo3(name = "REMINDER_CANCELLED")]
    ReminderCancelled,
    /// `todo.task.changed.v1` on `task-updates`.
    #[pyo3(name = "TASK_CHANGED")]
    TaskChanged,
    /// `todo.reminder.due.v1` on `task-updates`.
    #[pyo3(name = "REMINDER_DUE")]
    ReminderDue,
}

impl From<EventType> for PyEventType {
    fn from(t: EventType) -> Self {
        match t {
            EventType::TaskCreated => PyEventType::TaskCreated,
            EventType::TaskUpdated => PyEventType::TaskUpdated,
            EventType::TaskCompleted => PyEventType::TaskCompleted,
            EventType::TaskDeleted => PyEventType::TaskDeleted,
            EventType::ReminderScheduled => PyEventType::ReminderScheduled,
            EventType::ReminderCancelled => PyEventType::ReminderCancelled,
            EventType::TaskChanged => PyEventType::TaskChanged,
            EventType::ReminderDue => PyEventType::ReminderDue,
        }
    }
}

impl From<PyEventType> for EventType {
    fn from(t: PyEventType) -> Self {
        match t {
            PyEventType::TaskCreated => EventType::TaskCreated,
            PyEventType::TaskUpdated => EventType::TaskUpdated,
            PyEventType::TaskCompleted => EventType::TaskCompleted,
            PyEventType::TaskDeleted => EventType::TaskDeleted,
            PyEventType::ReminderScheduled => EventType::ReminderScheduled,
            PyEventType::ReminderCancelled => EventType::ReminderCancelled,
            PyEventType::TaskChanged => EventType::TaskChanged,
            PyEventType::ReminderDue => EventType::ReminderDue,
        }
    }
}

#[pymethods]
impl PyEventType {
    /// The CloudEvents `type` attribute, e.g. `"todo.task.created.v1"`.
    #[getter]
    fn value(&self) -> &'static str {
        EventType::from(*self).as_str()
    }

    /// The topic events of this type travel on.
    #[getter]
    fn topic(&self) -> PyTopic {
        EventType::from(*self).topic().into()
    }

    /// Reads a `type` attribute. Raises `EventError` with kind
    /// `'unsupported_version'` for a known type at another major version
    /// (`todo.task.created.v2`) and `'unknown_type'` for anything else.
    #[staticmethod]
    fn parse(value: &str) -> Result<Self> {
        Ok(EventType::parse(value)?.into())
    }

    /// Every event type of the catalog.
    #[staticmethod]
    fn all() -> Vec<Self> {
        EventType::ALL.into_iter().map(Into::into).collect()
    }

    fn __str__(&self) -> &'static str {
        self.value()
    }
}

/// An event type given as an `EventType` or as its `type` text.
#[derive(FromPyObject)]
pub enum TypeArg {
    Known(PyEventType),
    Text(String),
}

impl TypeArg {
    pub(crate) fn text(&self) -> Cow<'static, str> {
        match self {
            TypeArg::Known(t) => Cow::Borrowed(t.value()),
            TypeArg::Text(s) => Cow::Owned(s.clone()),
        }
    }

    pub(crate) fn checked(&self) -> Result<EventType> {
        match self {
            TypeArg::Known(t) => Ok((*t).into()),
            TypeArg::Text(s) => Ok(EventType::parse(s)?),
        }
    }
}

/// JSON text given as `bytes`, `bytearray` or `str`.
#[derive(FromPyObject)]
pub enum JsonText {
    Text(String),
    Bytes(Vec<u8>),
}

impl JsonText {
    /// The bytes of the document.
    pub fn bytes(&self) -> &[u8] {
        match self {
            JsonText::Text(s) => s.as_bytes(),
            JsonText::Bytes(b) => b,
        }
    }
}
