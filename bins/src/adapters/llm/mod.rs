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

mod tools;

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

use self::tools::system_prompt;
pub use self::tools::{CONVERSATION_TOOLS, TOOLS, context_prompt, conversation_tools, tools};

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
