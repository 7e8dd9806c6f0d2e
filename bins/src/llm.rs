//! The optional LLM interpreter: the same tools as the rule-based one (the five
//! task tools, `save_filter`, `help`, and in a conversation the follow-up tools:
//! several adds, skip, bulk complete/delete, confirm, cancel, undo), offered as
//! OpenAI-compatible function-calling tools to `POST {LLM_BASE_URL}/chat/completions`
//! (OpenAI, Ollama, llama.cpp server, vLLM). In a conversation the model gets
//! what the rule-based interpreter gets: the prior turns, and what "it", "them"
//! and "task 2" refer to, already resolved to task ids. Any failure — timeout,
//! HTTP error, no or malformed tool call, arguments that do not validate — falls
//! back to the rule-based interpreter, so the chat never depends on the model
//! being up.
//!
//! Every call is paid: each user has a daily budget of calls (`LLM_DAILY_BUDGET`),
//! counted in the database so every chat-api instance shares it; once it is spent
//! the rule-based interpreter answers until the next UTC day.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use todo_core::chat::{Clarification, Command};
use todo_core::domain::{Role, UserId};
use todo_core::ports::LlmBudget;
use todo_core::service::chat::{Interpreter, RuleBasedInterpreter, TurnContext};
use tracing::warn;

/// Talks to an OpenAI-compatible chat-completions endpoint.
pub struct LlmInterpreter {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
    timeout: Duration,
    fallback: RuleBasedInterpreter,
    /// Calls per user per UTC day, and where they are counted (`None`: unlimited).
    budget: Option<(Arc<dyn LlmBudget>, u32)>,
}

impl std::fmt::Debug for LlmInterpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmInterpreter").field("url", &self.url).field("model", &self.model).finish_non_exhaustive()
    }
}

impl LlmInterpreter {
    /// `base_url` like `https://api.openai.com/v1` (without `/chat/completions`).
    pub fn new(base_url: &str, model: String, api_key: Option<String>, timeout: Duration) -> Self {
        let client =
            reqwest::Client::builder().timeout(timeout).build().expect("a reqwest client with static settings");
        let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
        Self { client, url, model, api_key, timeout, fallback: RuleBasedInterpreter, budget: None }
    }

    /// This interpreter with a daily budget of `per_day` calls per user, counted in `budget`.
    pub fn with_budget(mut self, budget: Arc<dyn LlmBudget>, per_day: u32) -> Self {
        self.budget = Some((budget, per_day));
        self
    }

    /// Whether `user` may make one more call today (and if so, that call is counted).
    async fn within_budget(&self, user: UserId, now: DateTime<Utc>) -> bool {
        let Some((budget, per_day)) = &self.budget else { return true };
        match budget.take_call(user, now.date_naive(), *per_day).await {
            Ok(true) => true,
            Ok(false) => {
                metrics::counter!("todo_llm_requests_total", "outcome" => "budget_spent").increment(1);
                false
            }
            Err(e) => {
                // Unknown spending: do not spend.
                warn!(error = %e, "reading the LLM budget failed; using the rule-based interpreter");
                false
            }
        }
    }

    async fn ask(
        &self,
        message: &str,
        now: DateTime<Utc>,
        tz: Tz,
        turn: Option<&TurnContext>,
    ) -> Result<Command, String> {
        let mut messages = vec![json!({"role": "system", "content": system_prompt(now, tz)})];
        if let Some(turn) = turn {
            messages.push(json!({"role": "system", "content": context_prompt(turn, tz)}));
            // The messages before this one (the context ends with the last reply).
            for m in &turn.recent {
                let role = match m.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                messages.push(json!({"role": role, "content": m.content}));
            }
        }
        messages.push(json!({"role": "user", "content": message}));
        let body = json!({
            "model": self.model,
            "temperature": 0,
            "messages": messages,
            "tools": if turn.is_some() { conversation_tools() } else { tools() },
            "tool_choice": "auto",
        });
        let mut req = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        // Without the URL: it may carry a key.
        let res = req.send().await.map_err(|e| format!("request failed: {}", e.without_url()))?;
        if !res.status().is_success() {
            return Err(format!("endpoint answered {}", res.status()));
        }
        let reply: Value = res.json().await.map_err(|e| format!("unreadable answer: {}", e.without_url()))?;
        command_from(&reply)
    }
}

/// The command in a chat-completions answer: its first tool call, or its text as
/// a clarifying question.
pub fn command_from(reply: &Value) -> Result<Command, String> {
    let message = &reply["choices"][0]["message"];
    if let Some(call) = message["tool_calls"].as_array().and_then(|c| c.first()) {
        let name = call["function"]["name"].as_str().ok_or("tool call without a name")?;
        let args: Value = match &call["function"]["arguments"] {
            Value::String(s) if s.trim().is_empty() => json!({}),
            Value::String(s) => serde_json::from_str(s).map_err(|e| format!("arguments are not JSON: {e}"))?,
            v @ Value::Object(_) => v.clone(),
            _ => json!({}),
        };
        if !TOOLS.contains(&name) && !CONVERSATION_TOOLS.contains(&name) {
            return Err(format!("unknown tool {name:?}"));
        }
        return serde_json::from_value(json!({"intent": name, "args": args}))
            .map_err(|e| format!("invalid {name} arguments: {e}"));
    }
    match message["content"].as_str() {
        Some(text) if !text.trim().is_empty() => Ok(Command::Unknown(Clarification { reply: text.trim().to_owned() })),
        _ => Err("no tool call and no text".to_owned()),
    }
}

impl LlmInterpreter {
    /// The model's command, or `None` (counted and logged) when the model failed.
    async fn asked(&self, message: &str, now: DateTime<Utc>, tz: Tz, turn: Option<&TurnContext>) -> Option<Command> {
        let outcome = tokio::time::timeout(self.timeout, self.ask(message, now, tz, turn)).await;
        let error = match outcome {
            Ok(Ok(command)) => {
                metrics::counter!("todo_llm_requests_total", "outcome" => "ok").increment(1);
                return Some(command);
            }
            Ok(Err(e)) => e,
            Err(_) => format!("no answer within {:?}", self.timeout),
        };
        metrics::counter!("todo_llm_requests_total", "outcome" => "fallback").increment(1);
        warn!(error = %error, "LLM interpreter failed; using the rule-based one");
        None
    }
}

#[async_trait]
impl Interpreter for LlmInterpreter {
    async fn interpret(&self, message: &str, now: DateTime<Utc>, tz: Tz) -> Command {
        match self.asked(message, now, tz, None).await {
            Some(command) => command,
            None => self.fallback.interpret(message, now, tz).await,
        }
    }

    async fn interpret_for(&self, user: UserId, message: &str, now: DateTime<Utc>, tz: Tz) -> Command {
        if !self.within_budget(user, now).await {
            return self.fallback.interpret(message, now, tz).await;
        }
        self.interpret(message, now, tz).await
    }

    async fn interpret_turn(
        &self,
        user: UserId,
        message: &str,
        now: DateTime<Utc>,
        tz: Tz,
        turn: &TurnContext,
    ) -> Command {
        if self.within_budget(user, now).await
            && let Some(command) = self.asked(message, now, tz, Some(turn)).await
        {
            return command;
        }
        self.fallback.interpret_turn(user, message, now, tz, turn).await
    }
}

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

fn system_prompt(now: DateTime<Utc>, tz: Tz) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn properties(tool: &str) -> BTreeSet<String> {
        let tools = conversation_tools();
        let t = tools.as_array().unwrap().iter().find(|t| t["function"]["name"] == tool).unwrap();
        t["function"]["parameters"]["properties"].as_object().unwrap().keys().cloned().collect()
    }

    /// Every argument the rule-based interpreter can produce is offered to the model
    /// under the same name, and the model's arguments deserialize into the same types.
    #[test]
    fn tool_schemas_match_the_argument_types() {
        let now: DateTime<Utc> = "2026-11-26T09:00:00Z".parse().unwrap();
        let samples = [
            "remind me to pay rent on the 1st of every month at 9am #home urgent",
            "add stretch every! 3 days",
            "what's due this week tagged work high priority",
            "search for dentist overdue",
            "mark task 2 as done",
            "delete task 4",
            "move task 2 to friday at 4pm",
            "tag task 5 with home",
            "show (overdue or today) #work",
            "show my work today list",
            "save this as 'work today'",
            "help",
        ];
        for s in samples {
            let cmd = todo_core::chat::parse(s, now, Tz::UTC);
            let v = serde_json::to_value(&cmd).unwrap();
            let name = v["intent"].as_str().unwrap();
            let schema = properties(name);
            for key in v["args"].as_object().unwrap().keys() {
                assert!(schema.contains(key), "{name}: argument {key} missing from the tool schema");
            }
            let reply = json!({"choices": [{"message": {"tool_calls": [{"function": {"name": name, "arguments": v["args"].to_string()}}]}}]});
            assert_eq!(command_from(&reply).unwrap(), cmd, "{s}");
        }
    }

    /// The same for the conversation's tools, from the conversation grammar.
    #[test]
    fn conversation_tool_schemas_match_the_argument_types() {
        use todo_core::chat::Conversing;
        let now: DateTime<Utc> = "2026-11-26T09:00:00Z".parse().unwrap();
        let asked = Conversing { pending: true, about_one: false };
        for (s, conv) in [
            ("add milk, eggs and bread to my shopping list for tomorrow", Conversing::default()),
            ("skip this week", Conversing::default()),
            ("skip tomorrow", Conversing::default()),
            ("skip the team meeting", Conversing::default()),
            ("complete all my #work tasks", Conversing::default()),
            ("delete all completed tasks due this week", Conversing::default()),
            ("complete all (overdue or today) #work tasks", Conversing::default()),
            ("delete them all", Conversing::default()),
            ("undo", Conversing::default()),
            ("the second one", Conversing::default()),
            ("yes", asked),
            ("no", asked),
        ] {
            let cmd = todo_core::chat::parse_in(s, now, Tz::UTC, conv);
            let v = serde_json::to_value(&cmd).unwrap();
            let name = v["intent"].as_str().unwrap();
            assert!(CONVERSATION_TOOLS.contains(&name), "{s}: {name}");
            let schema = properties(name);
            for key in v["args"].as_object().unwrap().keys() {
                assert!(schema.contains(key), "{name}: argument {key} missing from the tool schema");
            }
            let reply = json!({"choices": [{"message": {"tool_calls": [{"function": {"name": name, "arguments": v["args"].to_string()}}]}}]});
            assert_eq!(command_from(&reply).unwrap(), cmd, "{s}");
        }
    }

    #[test]
    fn the_model_gets_what_the_conversation_remembers() {
        let task: todo_core::domain::Task = serde_json::from_value(json!({
            "id": "0192f0c1-7a2b-7c3d-8e4f-5a6b7c8d9e0f", "user_id": "0192f0c1-7a2b-7c3d-8e4f-5a6b7c8d9e0e",
            "title": "call mom", "status": "pending", "priority": "medium", "due_at": "2026-11-27T17:00:00Z",
            "remind_at": null, "recurrence": null, "series_id": null, "created_at": "2026-11-26T09:00:00Z",
            "updated_at": "2026-11-26T09:00:00Z", "completed_at": null, "version": 1
        }))
        .unwrap();
        let turn = TurnContext {
            focus: vec![task.id],
            focus_tasks: vec![task],
            undo: Some("adding 'call mom'".into()),
            ..TurnContext::default()
        };
        let p = context_prompt(&turn, Tz::UTC);
        assert!(
            p.contains("'it' and 'that' refer to {\"id\": \"0192f0c1-7a2b-7c3d-8e4f-5a6b7c8d9e0f\"} 'call mom'"),
            "{p}"
        );
        assert!(p.contains("due 2026-11-27T17:00:00Z"), "{p}");
        assert!(p.contains("do not call confirm"), "{p}");
        assert!(p.contains("'undo' would revert adding 'call mom'"), "{p}");
    }

    #[test]
    fn text_answers_are_questions_and_bad_calls_fail() {
        let ask = json!({"choices": [{"message": {"content": "Which task?"}}]});
        assert_eq!(command_from(&ask).unwrap().reply(), Some("Which task?"));
        let bad = json!({"choices": [{"message": {"tool_calls": [{"function": {"name": "add_task", "arguments": "{\"title\": \"\"}"}}]}}]});
        assert!(command_from(&bad).is_err());
        let unknown =
            json!({"choices": [{"message": {"tool_calls": [{"function": {"name": "rm_rf", "arguments": "{}"}}]}}]});
        assert!(command_from(&unknown).is_err());
        assert!(command_from(&json!({})).is_err());
    }
}
