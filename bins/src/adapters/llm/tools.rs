//! What the model is offered: the system prompt, what the conversation
//! remembers, and the function-calling tools with their JSON Schemas.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use todo_core::service::chat::TurnContext;

/// The tools, by name.
pub const TOOLS: [&str; 7] =
    ["add_task", "list_tasks", "complete_task", "delete_task", "update_task", "save_filter", "help"];

/// The tools a conversation adds, by name.
pub const CONVERSATION_TOOLS: [&str; 8] =
    ["add_tasks", "skip_occurrence", "complete_tasks", "delete_tasks", "confirm", "cancel", "undo", "choose"];

/// What the conversation remembers, for the model: what "it", "them" and "task
/// N" refer to (already resolved to ids), a question waiting for an answer, and
/// what "undo" would revert.
pub fn context_prompt(turn: &TurnContext, tz: Tz) -> String {
    let task = |t: &todo_core::domain::Task| {
        let due = match t.due_at {
            Some(d) if t.all_day => format!(", due {} (all day)", d.with_timezone(&tz).format("%Y-%m-%d")),
            Some(d) => format!(", due {}", d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            None => String::new(),
        };
        let remind =
            t.remind_at.map(|r| format!(", reminder {}", r.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        let rule = t.recurrence.as_ref().map(|r| format!(", repeats {r}"));
        format!(
            "{{\"id\": \"{}\"}} '{}' ({}{due}{}{}, priority {})",
            t.id,
            t.title,
            t.status,
            remind.unwrap_or_default(),
            rule.unwrap_or_default(),
            t.priority
        )
    };
    let mut s = String::from(
        "This message continues a conversation. Refer to tasks by id. A correction such as 'actually 6pm' \
         changes the task the conversation is about, keeping what it does not mention (a time alone keeps \
         the date, a date alone keeps the time of day). Bulk actions (complete_tasks, delete_tasks) are asked \
         about first; never call confirm unless the user answers yes to that question.\n",
    );
    match turn.focus_tasks.as_slice() {
        [] => s.push_str("The conversation is about no task yet: if the user says 'it', ask which task.\n"),
        [one] => s.push_str(&format!("'it' and 'that' refer to {}.\n", task(one))),
        many => {
            s.push_str("'them' refers to these tasks ('it' is unclear: ask which one):\n");
            for t in many {
                s.push_str(&format!("- {}\n", task(t)));
            }
        }
    }
    if !turn.listing.is_empty() {
        let ids: Vec<String> = turn.listing.iter().enumerate().map(|(i, id)| format!("{}. {id}", i + 1)).collect();
        s.push_str(&format!("The last listing shown, in order (task N): {}.\n", ids.join("; ")));
    }
    match &turn.pending {
        Some(p) => s.push_str(&format!("Waiting for the user's yes or no: {p}. Call confirm or cancel.\n")),
        None => s.push_str("No question is waiting for an answer: do not call confirm.\n"),
    }
    if let Some(q) = &turn.asked {
        s.push_str(&format!(
            "The user was asked which task they meant by {q:?}: an answer that only picks a task is choose.\n"
        ));
    }
    if let Some(u) = &turn.undo {
        s.push_str(&format!("'undo' would revert {u}.\n"));
    }
    s
}

pub fn system_prompt(now: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "You manage the user's to-do list by calling exactly one tool per message. \
         The current time is {now} (UTC); the user's time zone is {tz}. \
         Datetimes are RFC 3339 UTC with Z. A date without a time sets all_day true and due_at to local midnight. \
         Recurrence is an RFC 5545 RRULE without the RRULE: prefix (e.g. FREQ=WEEKLY;BYDAY=MO). \
         A task reference is {{\"index\": N}} (position in the last listing), {{\"id\": uuid}} or {{\"title\": text}}. \
         If the request is unclear or would delete several tasks, call no tool and ask a short question instead.",
        now = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

fn datetime() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn task_ref() -> Value {
    json!({
        "type": "object",
        "description": "Which task: exactly one of index, id, title.",
        "properties": {
            "index": {"type": "integer", "minimum": 1},
            "id": {"type": "string", "format": "uuid"},
            "title": {"type": "string"}
        }
    })
}

fn priority() -> Value {
    json!({"type": "string", "enum": ["low", "medium", "high"]})
}

fn tool(name: &str, description: &str, properties: Value, required: &[&str]) -> Value {
    json!({"type": "function", "function": {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required, "additionalProperties": false}
    }})
}

/// The function-calling schemas of the tools; their property names are those of
/// the todo-core argument types (a test holds them together).
pub fn tools() -> Value {
    let tags = json!({"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9_-]{1,32}$"}});
    json!([
        tool(
            "add_task",
            "Add a task.",
            json!({
                "title": {"type": "string", "minLength": 1, "maxLength": 200},
                "due_at": datetime(), "all_day": {"type": "boolean"}, "remind_at": datetime(),
                "priority": priority(), "tags": tags,
                "recurrence": {"type": "string", "description": "RFC 5545 RRULE"},
                "repeat_from": {"type": "string", "enum": ["due", "completion"]}
            }),
            &["title"]
        ),
        tool(
            "list_tasks",
            "List the user's tasks with optional filters.",
            json!({
                "status": {"type": "string", "enum": ["pending", "completed", "all"]},
                "priority": priority(), "tag": {"type": "string"},
                "due_after": datetime(), "due_before": datetime(), "overdue": {"type": "boolean"},
                "query": {"type": "string", "description": "words to search for"},
                "filter": {"type": "string", "description": "a filter query when the other arguments cannot say it, e.g. (overdue | today) & #work & !p3; it then says it all"},
                "list": {"type": "string", "description": "the name of a saved list the user asks for"}
            }),
            &[]
        ),
        tool(
            "save_filter",
            "Save the last listing under a name.",
            json!({"name": {"type": "string", "minLength": 1, "maxLength": 100}}),
            &["name"]
        ),
        tool("complete_task", "Mark a task as done.", json!({"ref": task_ref()}), &["ref"]),
        tool("delete_task", "Delete one task.", json!({"ref": task_ref()}), &["ref"]),
        tool(
            "update_task",
            "Change a task; null clears a field.",
            json!({
                "ref": task_ref(), "title": {"type": "string"}, "description": {"type": "string"},
                "due_at": {"type": ["string", "null"], "format": "date-time"}, "all_day": {"type": "boolean"},
                "remind_at": {"type": ["string", "null"], "format": "date-time"}, "priority": priority(),
                "status": {"type": "string", "enum": ["pending", "completed"]},
                "tags_add": tags, "tags_remove": tags,
                "recurrence": {"type": ["string", "null"]}
            }),
            &["ref"]
        ),
        tool("help", "Explain what the assistant can do.", json!({}), &[]),
    ])
}

/// [`tools`] and the tools of a conversation.
pub fn conversation_tools() -> Value {
    let mut all = tools();
    let list = all
        .as_array()
        .and_then(|t| t.iter().find(|t| t["function"]["name"] == "list_tasks"))
        .map_or_else(|| json!({}), |t| t["function"]["parameters"]["properties"].clone());
    let add = all
        .as_array()
        .and_then(|t| t.iter().find(|t| t["function"]["name"] == "add_task"))
        .map_or_else(|| json!({}), |t| t["function"]["parameters"].clone());
    let mut bulk = list;
    bulk["ref"] = json!({"type": "object", "description": "{\"context\": \"them\"} for the tasks the conversation is about", "properties": {"context": {"type": "string", "enum": ["them"]}}});
    let more = [
        tool(
            "add_tasks",
            "Add several tasks at once (one per item of a list).",
            json!({"tasks": {"type": "array", "items": add, "minItems": 1}}),
            &["tasks"],
        ),
        tool(
            "skip_occurrence",
            "Move a recurring task to its following occurrence.",
            json!({
                "ref": task_ref(),
                "rest_of": {"type": "string", "enum": ["day", "week", "month"], "description": "also skip the rest of the skipped occurrence's day, week or month"},
                "through": {"type": "string", "format": "date", "description": "also skip every occurrence on or before this local date"}
            }),
            &["ref"],
        ),
        tool("complete_tasks", "Ask to complete every task a listing with these filters shows.", bulk.clone(), &[]),
        tool("delete_tasks", "Ask to delete every task a listing with these filters shows.", bulk, &[]),
        tool("confirm", "The user said yes to the bulk action just asked about.", json!({}), &[]),
        tool("cancel", "The user said no to the question just asked.", json!({}), &[]),
        tool("undo", "Revert the conversation's last change.", json!({}), &[]),
        tool(
            "choose",
            "The user picked a task without saying what to do with it (the answer to 'which one?').",
            json!({"ref": task_ref()}),
            &["ref"],
        ),
    ];
    if let Some(a) = all.as_array_mut() {
        a.extend(more);
    }
    all
}
