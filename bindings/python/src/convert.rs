//! Conversions of arguments and results that several areas share: instants
//! (timezone-aware `datetime` or RFC 3339 text), time zones (IANA name or
//! `zoneinfo.ZoneInfo`), UUIDs, and JSON values (Python dicts, lists, str, ...).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyString};

use crate::error::{Error, Result};

/// An instant given as a timezone-aware `datetime` or as RFC 3339 text
/// (`2026-11-26T09:00:00Z`, `2026-11-26T10:00:00+01:00`).
///
/// Naive datetimes are refused: whether they mean UTC or local time is a guess.
#[derive(Clone, Copy, Debug)]
pub struct Instant(pub DateTime<Utc>);

impl Instant {
    /// Reads `ob` as the argument `field` (named in the error).
    pub fn extract(ob: &Bound<'_, PyAny>, field: &'static str) -> PyResult<DateTime<Utc>> {
        if let Ok(s) = ob.cast::<PyString>() {
            let s = s.to_cow()?;
            return Ok(parse_rfc3339(&s, field)?);
        }
        let dt = ob.cast::<PyDateTime>().map_err(|_| {
            Error::invalid(field, format!("{field} must be a datetime or an RFC 3339 string; got {}", type_name(ob)))
        })?;
        let py = ob.py();
        if dt.getattr(intern!(py, "tzinfo"))?.is_none() || dt.call_method0(intern!(py, "utcoffset"))?.is_none() {
            return Err(Error::invalid(
                field,
                format!("{field} must be timezone-aware (e.g. datetime.now(timezone.utc)); got a naive datetime"),
            )
            .into());
        }
        let utc = dt.call_method1(intern!(py, "astimezone"), (Utc.into_pyobject(py)?,))?;
        utc.extract::<DateTime<Utc>>()
    }
}

/// Parses RFC 3339 text into UTC.
pub fn parse_rfc3339(s: &str, field: &'static str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| Error::invalid(field, format!("{field} {s:?} is not an RFC 3339 datetime: {e}")))
}

/// The Python type name of `ob`, for error messages.
fn type_name(ob: &Bound<'_, PyAny>) -> String {
    ob.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".to_owned())
}

impl<'a, 'py> FromPyObject<'a, 'py> for Instant {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Instant::extract(&ob, "datetime").map(Instant)
    }
}

/// A time zone given as an IANA name (`"Europe/Berlin"`) or a `zoneinfo.ZoneInfo`.
#[derive(Clone, Copy, Debug)]
pub struct TimeZone(pub Tz);

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone(Tz::UTC)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for TimeZone {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let name = if let Ok(s) = ob.cast::<PyString>() {
            s.to_cow()?.into_owned()
        } else if let Ok(key) = ob.getattr(intern!(ob.py(), "key")) {
            key.extract::<String>()?
        } else {
            return Err(
                Error::invalid("tz", format!("tz must be an IANA name or a ZoneInfo; got {}", type_name(&ob))).into()
            );
        };
        name.trim()
            .parse::<Tz>()
            .map(TimeZone)
            .map_err(|_| Error::invalid("tz", format!("tz {name:?} is not an IANA time zone")).into())
    }
}

/// A `serde_json::Value` as the equivalent Python object (dict, list, str, int,
/// float, bool, None).
pub fn to_py<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    Ok(pythonize::pythonize(py, value)?)
}

/// A Python object (dict, list, str, int, float, bool, None) as JSON.
pub fn from_py(ob: &Bound<'_, PyAny>, field: &'static str) -> PyResult<serde_json::Value> {
    pythonize::depythonize(ob).map_err(|e| Error::invalid(field, format!("{field} is not JSON data: {e}")).into())
}

/// A UUID argument (user id, event id) as the typed id `T`.
pub fn parse_id<T: std::str::FromStr>(s: &str, field: &'static str) -> Result<T> {
    s.trim().parse().map_err(|_| Error::invalid(field, format!("{field} {s:?} is not a UUID")))
}
