use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Topic;
use crate::domain::{EventId, UserId};

/// The CloudEvents version we write and accept.
pub const SPEC_VERSION: &str = "1.0";

/// A CloudEvents 1.0 event in structured JSON mode, with the `userid` extension.
/// `data` stays JSON here; [`CloudEvent::decode`] gives the typed payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CloudEvent {
    /// Always `1.0`.
    pub specversion: String,
    /// Unique per event: consumers deduplicate on it.
    #[schema(value_type = String, format = Uuid)]
    pub id: EventId,
    /// The producing service, e.g. `/todo/chat-api`.
    pub source: String,
    /// e.g. `todo.task.created.v1`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The task id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// `application/json` (the default) or another JSON media type.
    #[serde(default = "default_content_type")]
    pub datacontenttype: String,
    /// The user the event belongs to (extension attribute).
    #[schema(value_type = String, format = Uuid)]
    pub userid: UserId,
    /// The payload, as JSON; its schema depends on `type`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

fn default_content_type() -> String {
    "application/json".to_owned()
}

/// Why a record could not be read as one of our events.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not a structured-mode CloudEvent JSON document.
    #[error("not a CloudEvent: {0}")]
    Malformed(String),
    /// A `specversion` other than `1.0`.
    #[error("unsupported CloudEvents specversion {0:?}")]
    SpecVersion(String),
    /// One of our types at a major version other than 1.
    #[error("unsupported major version of {0:?} (this build reads v1)")]
    UnsupportedVersion(String),
    /// A type that is not in the catalog.
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// `data` does not fit the type's payload schema.
    #[error("invalid data for {ty}: {message}")]
    InvalidData {
        /// The event type.
        ty: String,
        /// What does not fit.
        message: String,
    },
}

/// Every event type of the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `todo.task.created.v1`
    TaskCreated,
    /// `todo.task.updated.v1`
    TaskUpdated,
    /// `todo.task.completed.v1`
    TaskCompleted,
    /// `todo.task.deleted.v1`
    TaskDeleted,
    /// `todo.reminder.scheduled.v1`
    ReminderScheduled,
    /// `todo.reminder.cancelled.v1`
    ReminderCancelled,
    /// `todo.task.changed.v1`
    TaskChanged,
    /// `todo.reminder.due.v1`
    ReminderDue,
}

impl EventType {
    /// Every type of the catalog.
    pub const ALL: [EventType; 8] = [
        EventType::TaskCreated,
        EventType::TaskUpdated,
        EventType::TaskCompleted,
        EventType::TaskDeleted,
        EventType::ReminderScheduled,
        EventType::ReminderCancelled,
        EventType::TaskChanged,
        EventType::ReminderDue,
    ];

    /// The `type` attribute, e.g. `todo.task.created.v1`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventType::TaskCreated => "todo.task.created.v1",
            EventType::TaskUpdated => "todo.task.updated.v1",
            EventType::TaskCompleted => "todo.task.completed.v1",
            EventType::TaskDeleted => "todo.task.deleted.v1",
            EventType::ReminderScheduled => "todo.reminder.scheduled.v1",
            EventType::ReminderCancelled => "todo.reminder.cancelled.v1",
            EventType::TaskChanged => "todo.task.changed.v1",
            EventType::ReminderDue => "todo.reminder.due.v1",
        }
    }

    /// The topic events of this type go to.
    pub fn topic(&self) -> Topic {
        match self {
            EventType::TaskCreated | EventType::TaskUpdated | EventType::TaskCompleted | EventType::TaskDeleted => {
                Topic::TaskEvents
            }
            EventType::ReminderScheduled | EventType::ReminderCancelled => Topic::Reminders,
            EventType::TaskChanged | EventType::ReminderDue => Topic::TaskUpdates,
        }
    }

    /// Reads a `type` attribute: a known type, a known type at another major
    /// version (`UnsupportedVersion`), or something else (`UnknownType`).
    pub fn parse(ty: &str) -> Result<EventType, EventError> {
        if let Some(t) = EventType::ALL.into_iter().find(|t| t.as_str() == ty) {
            return Ok(t);
        }
        if let Some((base, version)) = ty.rsplit_once(".v") {
            let known_base = EventType::ALL.iter().any(|t| t.as_str().strip_suffix(".v1") == Some(base));
            if known_base && version.parse::<u32>().is_ok() {
                return Err(EventError::UnsupportedVersion(ty.to_owned()));
            }
        }
        Err(EventError::UnknownType(ty.to_owned()))
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `t` is a JSON media type, as CloudEvents reads `datacontenttype`:
/// `application/json` or a `+json` subtype, any case, parameters allowed
/// (`application/json; charset=utf-8`, as some publishers, Dapr among them, send).
pub fn is_json_media_type(t: &str) -> bool {
    let essence = t.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let Some((kind, subtype)) = essence.split_once('/') else { return false };
    !kind.is_empty() && (essence == "application/json" || (subtype.ends_with("+json") && subtype.len() > 5))
}

impl CloudEvent {
    /// A new event with a fresh id.
    pub fn new(
        source: &str,
        ty: EventType,
        subject: Option<String>,
        time: DateTime<Utc>,
        userid: UserId,
        data: serde_json::Value,
    ) -> Self {
        Self {
            specversion: SPEC_VERSION.to_owned(),
            id: EventId::new(),
            source: source.to_owned(),
            ty: ty.as_str().to_owned(),
            subject,
            time,
            datacontenttype: default_content_type(),
            userid,
            data,
        }
    }

    /// Parses one structured-mode JSON document and checks the envelope.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, EventError> {
        let ev: CloudEvent = serde_json::from_slice(bytes).map_err(|e| EventError::Malformed(e.to_string()))?;
        if ev.specversion != SPEC_VERSION {
            return Err(EventError::SpecVersion(ev.specversion));
        }
        if ev.source.is_empty() || ev.ty.is_empty() {
            return Err(EventError::Malformed("source and type must not be empty".into()));
        }
        if !is_json_media_type(&ev.datacontenttype) {
            return Err(EventError::Malformed(format!(
                "datacontenttype {:?} is not JSON (application/json or */*+json)",
                ev.datacontenttype
            )));
        }
        Ok(ev)
    }

    /// The event as one structured-mode JSON document.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a CloudEvent always serializes")
    }

    /// The catalog type of its `type` attribute.
    pub fn event_type(&self) -> Result<EventType, EventError> {
        EventType::parse(&self.ty)
    }
}
