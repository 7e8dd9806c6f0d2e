//! The filter language: `Filter.parse(query)` and `Filter.matches(task, now=, tz=)`,
//! wrapping [`todo_core::filter`] (the same parser and in-memory evaluator the
//! server and the memory store use; the SQL stores are held equal to it by tests).

use chrono::Utc;
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDict, PyMapping};
use serde_json::{Map, Value, json};
use todo_core::domain::Task;
use todo_core::filter::{Context, Filter};

use crate::convert::{Instant, TimeZone, from_py};
use crate::error::Error;

/// The task fields that hold times (a `datetime` there is taken too).
const TIME_FIELDS: &[&str] = &["due_at", "remind_at", "created_at", "updated_at", "completed_at"];

/// A parsed filter query (docs/filters.md), e.g. `(today | overdue) & #work & !p3`.
#[pyclass(name = "Filter", module = "todo_events", frozen, eq, skip_from_py_object)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyFilter(pub Filter);

#[pymethods]
impl PyFilter {
    /// Parses `query`; raises `FilterError` (with `.span`, the `(start, end)`
    /// characters where it goes wrong) when it does not parse.
    #[staticmethod]
    fn parse(query: &str) -> PyResult<Self> {
        Filter::parse(query).map(PyFilter).map_err(crate::error::filter_error)
    }

    /// The query as written.
    #[getter]
    fn source(&self) -> &str {
        self.0.source()
    }

    /// The text of each comma-separated list, in order.
    #[getter]
    fn lists(&self) -> Vec<String> {
        (0..self.0.lists().len()).map(|i| self.0.list_source(i).unwrap_or_default().to_owned()).collect()
    }

    /// Whether `task` (a dict in the API's task shape; fields left out take their
    /// defaults, `title` is required) is shown by the filter (by any of its lists)
    /// at `now` (default: now) for a user in time zone `tz` (default UTC).
    #[pyo3(signature = (task, now = None, tz = TimeZone::default()), text_signature = "($self, task, now=None, tz='UTC')")]
    fn matches(&self, task: &Bound<'_, PyAny>, now: Option<Instant>, tz: TimeZone) -> PyResult<bool> {
        let now = now.map_or_else(Utc::now, |n| n.0);
        let task = task_from(task, now)?;
        Ok(self.0.matches(&task, &Context::new(now, tz.0)))
    }

    /// The canonical text: it parses back to the same filter.
    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Filter.parse({:?})", self.0.to_string())
    }
}

/// A task from a mapping in the API's shape, with defaults for what is left out.
fn task_from(ob: &Bound<'_, PyAny>, now: chrono::DateTime<Utc>) -> PyResult<Task> {
    let not_a_dict = || PyErr::from(Error::invalid("task", "task must be a dict of task fields"));
    let mapping = ob.cast::<PyMapping>().map_err(|_| not_a_dict())?;
    let dict = PyDict::new(ob.py());
    for item in mapping.items()?.iter() {
        let (key, value): (String, Bound<'_, PyAny>) = item.extract()?;
        let value = if TIME_FIELDS.contains(&key.as_str()) && value.cast::<PyDateTime>().is_ok() {
            Instant::extract(&value, "task")?.to_rfc3339().into_pyobject(ob.py())?.into_any()
        } else {
            value
        };
        dict.set_item(key, value)?;
    }
    let given = match from_py(dict.as_any(), "task")? {
        Value::Object(m) => m,
        _ => return Err(not_a_dict()),
    };
    let nil = "00000000-0000-0000-0000-000000000000";
    let defaults = json!({
        "id": nil, "user_id": nil, "description": "", "status": "pending", "priority": "medium",
        "tags": [], "due_at": null, "all_day": false, "remind_at": null, "recurrence": null,
        "repeat_from": "due", "series_id": null, "created_at": now, "updated_at": now,
        "completed_at": null, "version": 1,
    });
    let mut full: Map<String, Value> = defaults.as_object().cloned().unwrap_or_default();
    full.extend(given);
    serde_json::from_value(Value::Object(full)).map_err(|e| Error::invalid("task", format!("task: {e}")).into())
}
