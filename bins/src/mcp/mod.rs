//! The MCP server (Model Context Protocol, with the official Rust SDK `rmcp`):
//! the tools an AI assistant uses to manage a user's tasks, over stdio (`todo
//! mcp`, [`stdio`]) and Streamable HTTP (`/mcp`, [`crate::http::mcp`]).
//!
//! Every tool runs a use case of [`AssistantService`], on the same services as
//! the REST API: a change is the same event on the same log. Inputs and outputs
//! are the REST API's types; their JSON Schemas come from those types
//! ([`schema`]). Annotations are truthful, and enforced: a tool that is not
//! read-only refuses a read-only token before it runs (and the service checks
//! again). Failures are tool results with `isError` and a sentence saying what
//! to change, never protocol errors: bad arguments, a task that is not the
//! caller's, a read-only token.

pub mod schema;
pub mod stdio;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::{Extension, ToolCallContext};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use todo_core::domain::{AuditPage, Principal, Task, TaskPage};
use todo_core::service::TokenService;
use todo_core::service::assistant::{
    AddReminderArgs, AddTaskArgs, AddTasksArgs, AssistantService, AuditTrailArgs, BatchResult, Deleted, FindTasksArgs,
    NotificationList, PageArgs, TaskIdArgs, TaskIdsArgs, TaskVersionArgs, UpdateTaskArgs, describe,
};

use crate::http::limit::UserRateLimit;

/// What the server tells a client about itself.
const INSTRUCTIONS: &str = "Manages the user's todo list (todo-events). Find tasks with find_tasks \
(a filter query such as `(today | overdue) & #work`, or a filter the user saved, by name; pages), \
read one with get_task, add with add_task (a sentence in `text`, or fields) or add_tasks (several), \
change with update_task, complete_task / complete_tasks, reopen_task, delete_task and add_reminder. \
Completing a recurring task makes its next occurrence appear shortly after. list_notifications \
shows reminders that fired; audit_trail shows every recorded change of one task. Times are RFC \
3339; ids are UUIDs from earlier results. A read-only token can use the read-only tools only.";

/// How the server learns who is calling.
#[derive(Clone)]
pub enum Caller {
    /// Streamable HTTP: every request was authenticated by the HTTP layer, which
    /// put its [`Principal`] into the request's extensions.
    PerRequest,
    /// stdio: one API token, checked again at every call, so revoking or
    /// expiring it takes effect at once; calls count against the user's rate limit.
    Token { token: Arc<str>, tokens: TokenService, rate_limit: Option<Arc<UserRateLimit>> },
}

/// The MCP server of one connection (cheap to clone).
#[derive(Clone)]
pub struct TodoMcp {
    assistant: AssistantService,
    caller: Caller,
    tool_router: ToolRouter<Self>,
}

/// A failed call: what the assistant sees (`isError`).
fn refusal(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// Parses `args` as `A` (the domain's parsed types: a bad value never reaches a
/// store), runs `f` and makes its outcome a tool result.
async fn run<A, T, F>(args: JsonObject, f: F) -> CallToolResult
where
    A: DeserializeOwned,
    T: Serialize,
    F: AsyncFnOnce(A) -> todo_core::Result<T>,
{
    let parsed: A = match serde_json::from_value(serde_json::Value::Object(args)) {
        Ok(a) => a,
        Err(e) => return refusal(format!("invalid arguments: {e}")),
    };
    match f(parsed).await {
        Ok(v) => match serde_json::to_value(&v) {
            Ok(json) => CallToolResult::structured(json),
            Err(e) => {
                tracing::error!(error = %e, "a tool result did not serialize");
                refusal("internal error")
            }
        },
        Err(e) => {
            if matches!(e, todo_core::Error::Internal(_)) {
                tracing::error!(error = %e, "tool failed");
            }
            refusal(describe(&e))
        }
    }
}

/// A batch's result: an error when every item failed.
fn batch(r: CallToolResult) -> CallToolResult {
    let all_failed = r
        .structured_content
        .as_ref()
        .is_some_and(|v| v["succeeded"].as_u64() == Some(0) && v["failed"].as_u64().is_some_and(|n| n > 0));
    let mut r = r;
    if all_failed {
        r.is_error = Some(true);
    }
    r
}

#[tool_router]
impl TodoMcp {
    /// A server whose callers the HTTP layer authenticates, request by request.
    pub fn over_http(assistant: AssistantService) -> Self {
        Self { assistant, caller: Caller::PerRequest, tool_router: Self::tool_router() }
    }

    /// A server acting for the holder of one API token (stdio).
    pub fn for_token(assistant: AssistantService, caller: Caller) -> Self {
        Self { assistant, caller, tool_router: Self::tool_router() }
    }

    #[tool(
        description = "Add a task. Either `text`, a sentence read like a chat message (\"pay rent on the 1st of \
                       every month at 9am #home\", \"dentist friday 3pm\"), or `title` with any of the other \
                       fields (`due_at` RFC 3339, `all_day`, `remind_at`, `priority` low|medium|high, `tags`, \
                       `recurrence` as an RRULE such as FREQ=WEEKLY;BYDAY=MO). Returns the task.",
        input_schema = schema::of::<AddTaskArgs>(),
        output_schema = schema::of::<Task>(),
        annotations(
            title = "Add a task",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn add_task(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.add_task(&p, a).await).await
    }

    #[tool(
        description = "Add 1 to 50 tasks at once, each as add_task takes it. Each item is added or refused on its \
                       own; the result lists every item's outcome in order.",
        input_schema = schema::of::<AddTasksArgs>(),
        output_schema = schema::of::<BatchResult>(),
        annotations(
            title = "Add several tasks",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn add_tasks(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        batch(run(args, async |a| self.assistant.add_tasks(&p, a).await).await)
    }

    #[tool(
        description = "Find the user's tasks with a `filter` query (the web page's and the REST API's filter \
                       language), evaluated now in the user's time zone. Terms: today, tomorrow, overdue, `7 days`, \
                       a date (friday, dec 24, 2026-12-24), `no date`, recurring, `has reminder`, p1 p2 p3 (high, \
                       medium, low), #tag, `search: text`, `due before: friday`, `due after: dec 24`, \
                       `created after: -7 days`, `completed after: monday`, pending, completed, status:all. Combine \
                       with & (or a space), |, ! and parentheses: `(today | overdue) & #work & !p3`. Pending tasks \
                       only unless the query names a status. A comma makes several lists (`overdue, today`): the \
                       result's `lists` names them and `list` picks one (0 first). `saved_filter` instead runs a \
                       filter the user saved, by name. Sorted by `sort` (due_at, priority, created_at, title; '-' \
                       prefix descending); returns a page of tasks and `next_cursor` for the next page. A query that \
                       does not parse is an error saying what was expected and at which character.",
        input_schema = schema::of::<FindTasksArgs>(),
        output_schema = schema::of::<TaskPage>(),
        annotations(
            title = "Find tasks",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn find_tasks(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.find_tasks(&p, a).await).await
    }

    #[tool(
        description = "Read one of the user's tasks by its id (from find_tasks or add_task).",
        input_schema = schema::of::<TaskIdArgs>(),
        output_schema = schema::of::<Task>(),
        annotations(
            title = "Get a task",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_task(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.get_task(&p, a).await).await
    }

    #[tool(
        description = "Change any of a task's fields (`changes`: title, description, priority, tags, due_at, \
                       all_day, remind_at, recurrence, repeat_from; null clears due_at, remind_at or recurrence). \
                       Replaces the values it names. With `expected_version`, refuses if the task changed since.",
        input_schema = schema::of::<UpdateTaskArgs>(),
        output_schema = schema::of::<Task>(),
        annotations(
            title = "Update a task",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_task(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.update_task(&p, a).await).await
    }

    #[tool(
        description = "Mark a task done (a no-op if it is). A recurring task's next occurrence appears shortly \
                       after, as a new task. reopen_task undoes it.",
        input_schema = schema::of::<TaskVersionArgs>(),
        output_schema = schema::of::<Task>(),
        annotations(
            title = "Complete a task",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn complete_task(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.complete_task(&p, a).await).await
    }

    #[tool(
        description = "Mark 1 to 50 tasks done at once; each is completed or refused on its own, and the result \
                       lists every item's outcome in order.",
        input_schema = schema::of::<TaskIdsArgs>(),
        output_schema = schema::of::<BatchResult>(),
        annotations(
            title = "Complete several tasks",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn complete_tasks(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        batch(run(args, async |a| self.assistant.complete_tasks(&p, a).await).await)
    }

    #[tool(
        description = "Mark a completed task pending again (a no-op if it is pending).",
        input_schema = schema::of::<TaskVersionArgs>(),
        output_schema = schema::of::<Task>(),
        annotations(
            title = "Reopen a task",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn reopen_task(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.reopen_task(&p, a).await).await
    }

    #[tool(
        description = "Delete a task for good (its audit trail stays). With `expected_version`, refuses if the \
                       task changed since it was read.",
        input_schema = schema::of::<TaskVersionArgs>(),
        output_schema = schema::of::<Deleted>(),
        annotations(
            title = "Delete a task",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn delete_task(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.delete_task(&p, a).await).await
    }

    #[tool(
        description = "Set a task's reminder: at `remind_at` (RFC 3339), or `minutes_before_due`. Replaces the \
                       task's reminder if it has one. The user is notified when it fires.",
        input_schema = schema::of::<AddReminderArgs>(),
        output_schema = schema::of::<Task>(),
        annotations(
            title = "Set a reminder",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn add_reminder(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.add_reminder(&p, a).await).await
    }

    #[tool(
        description = "Reminders that fired for the user, newest first (a page; `next_cursor` for more).",
        input_schema = schema::of::<PageArgs>(),
        output_schema = schema::of::<NotificationList>(),
        annotations(
            title = "List notifications",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_notifications(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.list_notifications(&p, a).await).await
    }

    #[tool(
        description = "The audit trail of one task: every recorded event (created, updated, completed, deleted, \
                       reminders), newest first, with its hash-chain entry.",
        input_schema = schema::of::<AuditTrailArgs>(),
        output_schema = schema::of::<AuditPage>(),
        annotations(
            title = "Audit trail of a task",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn audit_trail(&self, Extension(p): Extension<Principal>, args: JsonObject) -> CallToolResult {
        run(args, async |a| self.assistant.audit_trail(&p, a).await).await
    }
}

impl TodoMcp {
    /// Who makes the call in `context`, or why nobody may.
    async fn principal(&self, context: &RequestContext<RoleServer>) -> Result<Principal, String> {
        match &self.caller {
            Caller::PerRequest => context
                .extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Principal>())
                .copied()
                .ok_or_else(|| "not authenticated".to_owned()),
            Caller::Token { token, tokens, rate_limit } => {
                let p = tokens
                    .authenticate(token)
                    .await
                    .map_err(|e| describe(&e))?
                    .ok_or_else(|| "the API token is unknown, revoked or expired: mint a new one".to_owned())?;
                if let Some(limit) = rate_limit {
                    limit.check(&p.user_id).map_err(|e| e.message)?;
                }
                Ok(p)
            }
        }
    }

    /// Whether tool `name` only reads (its `readOnlyHint`); unknown tools do not.
    fn is_read_only(&self, name: &str) -> bool {
        self.tool_router.get(name).and_then(|t| t.annotations.as_ref()).and_then(|a| a.read_only_hint) == Some(true)
    }

    /// The names and annotations of every tool (for tests and docs).
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.tool_router.list_all()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for TodoMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("todo-events", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    /// Authenticates the call, refuses a read-only token anything but a read-only
    /// tool, then runs the tool with the caller as its `Extension<Principal>`.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        mut context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let principal = match self.principal(&context).await {
            Ok(p) => p,
            Err(why) => return Ok(refusal(why).into()),
        };
        if !principal.can_write() && self.tool_router.has_route(&request.name) && !self.is_read_only(&request.name) {
            return Ok(refusal(format!(
                "{} changes tasks, and this token is read-only (scope \"read\"); use a token with scopes \
                 [\"read\", \"write\"]",
                request.name
            ))
            .into());
        }
        tracing::debug!(tool = %request.name, user = %principal.user_id, "mcp tool call");
        context.extensions.insert(principal);
        self.tool_router.call(ToolCallContext::new(self, request, context)).await
    }
}

#[cfg(test)]
mod tests {
    use todo_core::filter::Filter;
    use todo_core::memory::MemoryStore;

    use super::*;
    use crate::http::jwt::JwtKeys;
    use crate::state::AppState;
    use todo_core::ports::Ports;

    fn test_assistant() -> AssistantService {
        let ports = Ports::from_one(Arc::new(MemoryStore::new()));
        AppState::new(&ports, JwtKeys::new(&[7; 32], 60), None, vec![]).assistant.clone()
    }

    /// The queries `find_tasks`' description shows a model are in it, and parse.
    #[test]
    fn the_find_tasks_description_teaches_queries_that_parse() {
        let server = TodoMcp::over_http(test_assistant());
        let tool = server.tools().into_iter().find(|t| t.name == "find_tasks").expect("find_tasks");
        let description = tool.description.as_deref().unwrap_or_default();
        for q in [
            "7 days",
            "no date",
            "has reminder",
            "search: text",
            "due before: friday",
            "due after: dec 24",
            "created after: -7 days",
            "completed after: monday",
            "(today | overdue) & #work & !p3",
            "overdue, today",
        ] {
            assert!(description.contains(&format!("`{q}`")), "{q} is in the description");
            Filter::parse(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        }
        for term in ["today", "tomorrow", "overdue", "recurring", "p1", "#tag", "pending", "completed", "status:all"] {
            assert!(description.contains(term), "{term}");
            Filter::parse(term).unwrap_or_else(|e| panic!("{term}: {e:?}"));
        }
    }
}
