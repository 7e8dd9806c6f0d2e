//! The event catalog: `CloudEvent`, `EventType`, `Topic` and `EventFactory`,
//! wrapping [`todo_core::events`].

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use todo_core::domain::{EventId, Task, UserId};
use todo_core::events::{CloudEvent, DomainEvent, EventFactory, TaskChange};

pub use crate::catalog::{JsonText, PyEventType, PyTopic, TypeArg};
use crate::convert::{Instant, from_py, parse_id, to_py};
use crate::error::{Error, Result};

/// events too); `CloudEvent.new(...)` builds a valid event of the catalog with
/// a fresh id and the current time. Immutable; equal when all attributes are.
/// A CloudEvents 1.0 event in structured JSON mode, with the `userid` extension.
///
/// `CloudEvent(...)` takes every attribute as given (so tests can build bad
#[pyclass(name = "CloudEvent", module = "todo_events", frozen, eq, from_py_object)]
#[derive(Clone, Debug, PartialEq)]
pub struct PyCloudEvent {
    inner: CloudEvent,
}

impl From<CloudEvent> for PyCloudEvent {
    fn from(inner: CloudEvent) -> Self {
        Self { inner }
    }
}

impl From<PyCloudEvent> for CloudEvent {
    fn from(e: PyCloudEvent) -> Self {
        e.inner
    }
}

impl PyCloudEvent {
    /// The wrapped event.
    pub fn inner(&self) -> &CloudEvent {
        &self.inner
    }
}

/// The current time at the precision of a Python `datetime` (microseconds), so
/// an event's `time` survives a round trip through Python unchanged.
fn now_micros() -> DateTime<Utc> {
    todo_core::ports::truncate_micros(Utc::now())
}

/// Checks an event completely: the envelope (as a parsed record is checked), a
/// known type at major version 1, and a `data` payload of that type's shape.
pub fn validate(ev: &CloudEvent) -> Result<DomainEvent> {
    CloudEvent::from_json_bytes(&ev.to_json_bytes())?;
    Ok(ev.decode()?)
}

/// The typed payload of a decoded event, as JSON.
fn payload_json(decoded: &DomainEvent) -> serde_json::Value {
    let value = match decoded {
        DomainEvent::Task(_, d) => serde_json::to_value(d),
        DomainEvent::Reminder(_, d) => serde_json::to_value(d),
        DomainEvent::TaskChanged(d) => serde_json::to_value(d),
        DomainEvent::ReminderDue(d) => serde_json::to_value(d),
    };
    value.unwrap_or_else(|e| unreachable!("payloads always serialize: {e}"))
}

#[pymethods]
impl PyCloudEvent {
    /// An event with every attribute given. `id` defaults to a fresh UUID v7,
    /// `time` to now. Nothing beyond the types is checked: see `validate()`.
    #[new]
    #[pyo3(signature = (source, r#type, userid, data = None, *, subject = None, id = None, time = None,
        specversion = "1.0", datacontenttype = "application/json"))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        source: String,
        r#type: TypeArg,
        userid: &str,
        data: Option<&Bound<'_, PyAny>>,
        subject: Option<String>,
        id: Option<&str>,
        time: Option<Instant>,
        specversion: &str,
        datacontenttype: &str,
    ) -> PyResult<Self> {
        let data = match data {
            Some(d) => from_py(d, "data")?,
            None => serde_json::Value::Object(Default::default()),
        };
        Ok(CloudEvent {
            specversion: specversion.to_owned(),
            id: match id {
                Some(id) => parse_id::<EventId>(id, "id")?,
                None => EventId::new(),
            },
            source,
            ty: r#type.text().into_owned(),
            subject,
            time: time.map_or_else(now_micros, |t| t.0),
            datacontenttype: datacontenttype.to_owned(),
            userid: parse_id::<UserId>(userid, "userid")?,
            data,
        }
        .into())
    }

    /// A valid event of the catalog: fresh id, the current time. `type` must be
    /// a known type (an `EventType` or its text) and `data` must have its
    /// payload's shape; raises `EventError` otherwise.
    #[staticmethod]
    #[pyo3(signature = (source, r#type, subject, user_id, data))]
    fn new(
        source: &str,
        r#type: TypeArg,
        subject: Option<String>,
        user_id: &str,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let ty = r#type.checked()?;
        let user = parse_id::<UserId>(user_id, "user_id")?;
        let ev = CloudEvent::new(source, ty, subject, now_micros(), user, from_py(data, "data")?);
        validate(&ev)?;
        Ok(ev.into())
    }

    /// Parses one structured-mode JSON document (`bytes` or `str`) and checks the
    /// envelope: `specversion` 1.0, non-empty `source` and `type`, JSON data.
    /// Raises `EventError`. The type and payload are checked by `validate()`.
    #[staticmethod]
    fn from_json(json: JsonText) -> Result<Self> {
        Ok(CloudEvent::from_json_bytes(json.bytes())?.into())
    }

    /// The event as one structured-mode JSON document.
    fn to_json(&self) -> String {
        serde_json::to_string(&self.inner).unwrap_or_else(|e| unreachable!("a CloudEvent always serializes: {e}"))
    }

    /// The event as UTF-8 JSON bytes (a Kafka record's payload).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_json_bytes())
    }

    /// The event as a dict of its JSON attributes (times as RFC 3339 text).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner)
    }

    /// Checks the whole event: envelope, a known type at major version 1, and a
    /// `data` payload of that type's shape. Raises `EventError`.
    fn validate(&self) -> Result<()> {
        validate(&self.inner).map(drop)
    }

    /// The typed payload after `validate()`'s checks, as a dict in its JSON
    /// shape (normalised: times in UTC, defaults filled in). Raises `EventError`.
    fn decode<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let decoded = validate(&self.inner)?;
        to_py(py, &payload_json(&decoded))
    }

    /// `"1.0"`.
    #[getter]
    fn specversion(&self) -> &str {
        &self.inner.specversion
    }

    /// The event id (a UUID).
    #[getter]
    fn id(&self) -> String {
        self.inner.id.to_string()
    }

    /// The producing service, e.g. `"/todo/chat-api"`.
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }

    /// The `type` attribute as text, e.g. `"todo.task.created.v1"`.
    #[getter]
    fn r#type(&self) -> &str {
        &self.inner.ty
    }

    /// The `type` as an `EventType`; raises `EventError` when it is not in the catalog.
    #[getter]
    fn event_type(&self) -> Result<PyEventType> {
        Ok(self.inner.event_type()?.into())
    }

    /// The topic of this event's type; raises `EventError` for an unknown type.
    #[getter]
    fn topic(&self) -> Result<PyTopic> {
        Ok(self.inner.event_type()?.topic().into())
    }

    /// The task id, if any.
    #[getter]
    fn subject(&self) -> Option<&str> {
        self.inner.subject.as_deref()
    }

    /// When it happened (timezone-aware, UTC).
    #[getter]
    fn time(&self) -> DateTime<Utc> {
        self.inner.time
    }

    /// `"application/json"`.
    #[getter]
    fn datacontenttype(&self) -> &str {
        &self.inner.datacontenttype
    }

    /// The user the event belongs to (a UUID; also the Kafka record key).
    #[getter]
    fn userid(&self) -> String {
        self.inner.userid.to_string()
    }

    /// The `data` payload as given (a fresh dict on each access).
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.data)
    }

    fn __repr__(&self) -> String {
        format!(
            "CloudEvent(type='{}', id='{}', subject={}, userid='{}', time='{}')",
            self.inner.ty,
            self.inner.id,
            self.inner.subject.as_ref().map_or_else(|| "None".to_owned(), |s| format!("'{s}'")),
            self.inner.userid,
            self.inner.time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        )
    }

    /// Pickles as its JSON document.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let from_json = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(py, [slf.get().to_json()])?;
        Ok((from_json, args))
    }
}

/// Builds the events of the catalog for task changes, as the services do.
#[pyclass(name = "EventFactory", module = "todo_events", frozen, skip_from_py_object)]
#[derive(Clone, Debug)]
pub struct PyEventFactory {
    inner: EventFactory,
}

impl From<EventFactory> for PyEventFactory {
    fn from(inner: EventFactory) -> Self {
        Self { inner }
    }
}

impl From<PyEventFactory> for EventFactory {
    fn from(f: PyEventFactory) -> Self {
        f.inner
    }
}

/// A task dict in its JSON shape (as `GET /api/v1/tasks/{id}` returns it).
fn task_arg(ob: &Bound<'_, PyAny>, field: &'static str) -> PyResult<Task> {
    let json = from_py(ob, field)?;
    serde_json::from_value(json).map_err(|e| Error::invalid(field, format!("{field} is not a task: {e}")).into())
}

#[pymethods]
impl PyEventFactory {
    /// A factory for the producing service `source`, e.g. `"/todo/chat-api"`.
    #[new]
    fn py_new(source: String) -> Self {
        EventFactory::new(source).into()
    }

    /// The CloudEvents `source` of the events it builds.
    #[getter]
    fn source(&self) -> &str {
        self.inner.source()
    }

    /// Every event one change of a task produces, in order: `task-events`, then
    /// `reminders` (when the reminder changes), then `task-updates`.
    ///
    /// `change` is `"created"`, `"updated"`, `"completed"`, `"reopened"` or
    /// `"deleted"`; `after` the task after it (for deletions: as it was) and
    /// `before` the task before it, both dicts in the task's JSON shape;
    /// `fields` the names of the changed fields (`"updated"` only).
    /// Each event's record key is its `userid`, its topic `event.topic`.
    #[pyo3(signature = (change, after, *, before = None, now = None, fields = None))]
    fn for_change(
        &self,
        change: &str,
        after: &Bound<'_, PyAny>,
        before: Option<&Bound<'_, PyAny>>,
        now: Option<Instant>,
        fields: Option<Vec<String>>,
    ) -> PyResult<Vec<PyCloudEvent>> {
        let change = match change.trim().to_ascii_lowercase().as_str() {
            "created" => TaskChange::Created,
            "updated" => TaskChange::Updated(fields.unwrap_or_default()),
            "completed" => TaskChange::Completed,
            "reopened" => TaskChange::Reopened,
            "deleted" => TaskChange::Deleted,
            other => {
                return Err(Error::invalid(
                    "change",
                    format!("change must be one of: created, updated, completed, reopened, deleted; got {other:?}"),
                )
                .into());
            }
        };
        let after = task_arg(after, "after")?;
        let before = before.map(|b| task_arg(b, "before")).transpose()?;
        let now = now.map_or_else(now_micros, |n| n.0);
        let events = self.inner.for_change(&change, before.as_ref(), &after, now);
        Ok(events.into_iter().map(|o| o.event.into()).collect())
    }

    fn __repr__(&self) -> String {
        format!("EventFactory(source={:?})", self.inner.source())
    }
}
