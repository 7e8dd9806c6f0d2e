//! Generated documents: the OpenAPI description of the HTTP API and the AsyncAPI
//! description of the event catalog, both derived from the todo-core types.
//! `docs/api/openapi.json` and `docs/events/asyncapi.json` are these, committed;
//! a test fails when they drift (regenerate: `UPDATE_DOCS=1 cargo test -p todo-services docs`).

use serde_json::{Map, Value, json};
use todo_core::events::{
    ChangeType, CloudEvent, EventType, ReminderData, ReminderDueData, TaskEventData, TaskEventKind, TaskUpdateData,
    Topic,
};
use utoipa::OpenApi;

use crate::http::openapi::ApiDoc;

/// The OpenAPI 3.1 document, pretty-printed.
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes")
}

#[derive(OpenApi)]
#[openapi(components(schemas(
    CloudEvent,
    TaskEventData,
    TaskEventKind,
    ReminderData,
    TaskUpdateData,
    ChangeType,
    ReminderDueData,
    todo_core::domain::Task
)))]
struct EventSchemas;

/// The payload schema and summary of each event type.
fn payload(ty: EventType) -> (&'static str, &'static str) {
    match ty {
        EventType::TaskCreated => (
            "TaskEventData",
            "A task was created, or a deleted one restored with its id (an undo in chat: `todo.task.changed.v1` \
             says `restored`).",
        ),
        EventType::TaskUpdated => ("TaskEventData", "A task changed (`changes` lists the fields) or was reopened."),
        EventType::TaskCompleted => ("TaskEventData", "A task was completed."),
        EventType::TaskDeleted => ("TaskEventData", "A task was deleted (`task_data` as it was)."),
        EventType::ReminderScheduled => ("ReminderData", "A reminder was scheduled or moved."),
        EventType::ReminderCancelled => {
            ("ReminderData", "A reminder was cancelled (task completed, deleted or changed).")
        }
        EventType::TaskChanged => (
            "TaskUpdateData",
            "What live clients see of a task change: `change_type` created, updated, completed, reopened, deleted \
             or restored (a deleted task back with its id; show `task_data` as for created).",
        ),
        EventType::ReminderDue => ("ReminderDueData", "A reminder fired."),
    }
}

/// The AsyncAPI 3.0 document of the event catalog, pretty-printed.
pub fn asyncapi_json() -> String {
    let schemas = serde_json::to_value(EventSchemas::openapi().components.expect("components").schemas)
        .expect("schemas serialize");
    let mut messages = Map::new();
    let mut channels = Map::new();
    let mut operations = Map::new();
    for topic in Topic::ALL {
        let mut channel_messages = Map::new();
        for ty in EventType::ALL.into_iter().filter(|t| t.topic() == topic) {
            let name = ty.as_str().replace('.', "_");
            let (data, summary) = payload(ty);
            messages.insert(
                name.clone(),
                json!({
                    "name": ty.as_str(),
                    "title": ty.as_str(),
                    "summary": summary,
                    "contentType": "application/cloudevents+json",
                    "headers": {
                        "type": "object",
                        "description": "Kafka record headers; the record key is the user id.",
                        "properties": {
                            "ce_type": {"type": "string", "const": ty.as_str()},
                            "ce_id": {"type": "string", "format": "uuid"},
                            "content-type": {
                                "type": "string",
                                "const": "application/cloudevents+json",
                                "description": "CloudEvents Kafka protocol binding: structured content mode"
                            }
                        }
                    },
                    "payload": {
                        "allOf": [
                            {"$ref": "#/components/schemas/CloudEvent"},
                            {"type": "object", "properties": {
                                "type": {"const": ty.as_str()},
                                "data": {"$ref": format!("#/components/schemas/{data}")}
                            }}
                        ]
                    }
                }),
            );
            channel_messages.insert(name.clone(), json!({"$ref": format!("#/components/messages/{name}")}));
        }
        let t = topic.as_str();
        channels.insert(
            t.to_owned(),
            json!({
                "address": t,
                "description": format!("Kafka topic `{t}` (or the `{t}` topic of the embedded SQL event log). Records that cannot be handled go to `{t}.dlq`."),
                "messages": Value::Object(channel_messages.clone()),
            }),
        );
        let refs: Vec<Value> =
            channel_messages.keys().map(|m| json!({"$ref": format!("#/channels/{t}/messages/{m}")})).collect();
        operations.insert(
            format!("receive-{t}"),
            json!({"action": "receive", "channel": {"$ref": format!("#/channels/{t}")}, "messages": refs}),
        );
    }
    let doc = json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "todo-events event catalog",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 (structured JSON mode) with the `userid` extension. `data` keeps the field names of the Phase V schemas."
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    });
    serde_json::to_string_pretty(&doc).expect("the AsyncAPI document serializes")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    fn check(rel: &str, generated: String) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
        let generated = generated + "\n";
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{rel} is out of date; regenerate with: UPDATE_DOCS=1 cargo test -p todo-services docs"
        );
    }

    #[test]
    fn docs_openapi_is_up_to_date() {
        check("docs/api/openapi.json", super::openapi_json());
    }

    #[test]
    fn docs_asyncapi_is_up_to_date() {
        check("docs/events/asyncapi.json", super::asyncapi_json());
    }
}
