//! The MCP endpoint `/mcp` (Streamable HTTP, stateless) spoken to as JSON-RPC:
//! bearer per request, hosts and origins, every tool's annotations enforced for
//! read-only tokens (the list comes from the server, so new tools are covered),
//! ownership through every tool, tool errors as `isError` results, and every
//! change on the log and in the audit trail. (scripts/clients-test drives both
//! transports with the official Python SDK.)

use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_tests::{Backend, TestApp, eventually, on_every_backend};

on_every_backend!(
    tools_are_listed_with_truthful_annotations,
    read_tokens_call_only_read_only_tools,
    tools_never_cross_users,
    changes_are_events_and_bad_arguments_are_tool_errors,
    http_doors_are_guarded,
);

/// One JSON-RPC request to `/mcp`; the HTTP status and the body.
async fn rpc_raw(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    params: Value,
    extra: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("mcp request");
    let status = res.status();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// `tools/call` of `name`: the call's result (`isError`, `structuredContent`, `content`).
async fn call(app: &TestApp, token: &str, name: &str, args: Value) -> Value {
    let (status, body) = rpc_raw(app, Some(token), "tools/call", json!({"name": name, "arguments": args}), &[]).await;
    assert_eq!(status, StatusCode::OK, "{name}: {body}");
    assert!(body.get("error").is_none(), "{name}: a tool failure is a result, not a protocol error: {body}");
    body["result"].clone()
}

fn is_error(r: &Value) -> bool {
    r["isError"].as_bool() == Some(true)
}

fn text(r: &Value) -> String {
    r["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}

async fn tools(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = rpc_raw(app, Some(token), "tools/list", json!({}), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["result"]["tools"].as_array().expect("tools").clone()
}

async fn tools_are_listed_with_truthful_annotations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = app.register("ada@example.com").await;
    let read = app.mint_token(&s, "reader", &["read"]).await;
    let listed = tools(&app, &read).await;
    let mut names: Vec<&str> = listed.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "add_reminder",
            "add_task",
            "add_tasks",
            "audit_trail",
            "complete_task",
            "complete_tasks",
            "delete_task",
            "find_tasks",
            "get_task",
            "list_notifications",
            "reopen_task",
            "update_task"
        ]
    );
    for t in &listed {
        let name = t["name"].as_str().unwrap();
        let a = &t["annotations"];
        let read_only = matches!(name, "find_tasks" | "get_task" | "list_notifications" | "audit_trail");
        assert_eq!(a["readOnlyHint"], json!(read_only), "{name}");
        let destructive = matches!(name, "update_task" | "delete_task" | "add_reminder");
        assert_eq!(a["destructiveHint"], json!(destructive), "{name}");
        assert_eq!(a["openWorldHint"], json!(false), "{name}");
        assert_eq!(t["inputSchema"]["type"], "object", "{name}");
        assert_eq!(t["inputSchema"]["additionalProperties"], json!(false), "{name}: unknown arguments are refused");
        assert_eq!(t["outputSchema"]["type"], "object", "{name}");
        assert!(t["description"].as_str().is_some_and(|d| d.len() > 20), "{name}");
    }
}

async fn read_tokens_call_only_read_only_tools(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = app.register("ada@example.com").await;
    let task = app.create_task(&s, json!({"title": "keep me", "due_at": "2026-12-01T09:00:00Z"})).await;
    let id = task["id"].as_str().unwrap();
    let read = app.mint_token(&s, "reader", &["read"]).await;
    // Arguments valid for every tool, so that only the scope can refuse.
    let args = |name: &str| match name {
        "add_task" => json!({"title": "new"}),
        "add_tasks" => json!({"tasks": [{"title": "new"}]}),
        "find_tasks" | "list_notifications" => json!({}),
        "complete_tasks" => json!({"ids": [id]}),
        "update_task" => json!({"id": id, "changes": {"title": "changed"}}),
        "add_reminder" => json!({"id": id, "minutes_before_due": 10}),
        "audit_trail" => json!({"task_id": id}),
        _ => json!({"id": id}),
    };
    let mut refused = 0;
    for t in tools(&app, &read).await {
        let name = t["name"].as_str().unwrap();
        let r = call(&app, &read, name, args(name)).await;
        if t["annotations"]["readOnlyHint"] == json!(true) {
            assert!(!is_error(&r), "{name} is read-only: {r}");
        } else {
            assert!(is_error(&r), "{name} with a read token: {r}");
            assert!(text(&r).contains("read-only"), "{name}: {r}");
            refused += 1;
        }
    }
    assert_eq!(refused, 8);
    assert_eq!(app.get(&format!("/api/v1/tasks/{id}"), &s).await.body, task, "nothing changed");
    let all = app.get("/api/v1/tasks?status=all", &s).await.body;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "nothing added");
}

async fn tools_never_cross_users(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice@example.com").await;
    let b = app.register("bob@example.com").await;
    let a_tok = app.mint_token(&a, "alice's", &["read", "write"]).await;
    let b_tok = app.mint_token(&b, "bob's", &["read", "write"]).await;
    let made = call(&app, &a_tok, "add_task", json!({"text": "alice's secret tomorrow at 5pm"})).await;
    assert!(!is_error(&made), "{made}");
    let task = made["structuredContent"].clone();
    let id = task["id"].as_str().unwrap();

    let found = call(&app, &b_tok, "find_tasks", json!({"status": "all", "query": "secret"})).await;
    assert_eq!(found["structuredContent"]["items"], json!([]), "B finds nothing of A's");
    let trail = call(&app, &b_tok, "audit_trail", json!({"task_id": id})).await;
    assert_eq!(trail["structuredContent"]["items"], json!([]));
    for (name, args) in [
        ("get_task", json!({"id": id})),
        ("update_task", json!({"id": id, "changes": {"title": "pwned"}})),
        ("complete_task", json!({"id": id})),
        ("reopen_task", json!({"id": id})),
        ("delete_task", json!({"id": id})),
        ("add_reminder", json!({"id": id, "remind_at": "2026-12-01T08:00:00Z"})),
    ] {
        let r = call(&app, &b_tok, name, args).await;
        assert!(is_error(&r) && text(&r) == "task not found", "{name}: {r}");
    }
    let batch = call(&app, &b_tok, "complete_tasks", json!({"ids": [id]})).await;
    assert!(is_error(&batch), "every item failed: {batch}");
    assert_eq!(batch["structuredContent"]["results"][0]["error"], "task not found");
    let mine = call(&app, &a_tok, "get_task", json!({"id": id})).await;
    assert_eq!(mine["structuredContent"], task, "A's task unchanged");
}

async fn changes_are_events_and_bad_arguments_are_tool_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = app.register("ada@example.com").await;
    let w = app.mint_token(&s, "assistant", &["read", "write"]).await;
    let r = call(&app, &w, "add_task", json!({"text": "water the plants every monday at 9am"})).await;
    assert!(!is_error(&r), "{r}");
    let id = r["structuredContent"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r["structuredContent"]["recurrence"], "FREQ=WEEKLY;BYDAY=MO");
    let done = call(&app, &w, "complete_task", json!({"id": id})).await;
    assert_eq!(done["structuredContent"]["status"], "completed");
    // The next occurrence comes from the recurring-task service.
    let next = eventually(20, "the next occurrence", || async {
        let r = call(&app, &w, "find_tasks", json!({"query": "water the plants"})).await;
        r["structuredContent"]["items"].as_array().and_then(|i| i.first().cloned())
    })
    .await;
    assert_ne!(next["id"], json!(id));
    assert_eq!(next["series_id"], json!(id));
    // Each step is on the log, as the audit trail (a consumer of the log) shows.
    let types = app.audit_types_through(&s, next["id"].as_str().unwrap(), "todo.task.created.v1").await;
    let task_types: Vec<&str> = types.iter().map(String::as_str).filter(|t| !t.contains("changed")).collect();
    assert_eq!(task_types, ["todo.task.created.v1", "todo.task.completed.v1", "todo.task.created.v1"], "{types:?}");
    let trail = call(&app, &w, "audit_trail", json!({"task_id": id})).await;
    let trail_types: Vec<&str> = trail["structuredContent"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert!(
        trail_types.contains(&"todo.task.completed.v1") && trail_types.contains(&"todo.task.created.v1"),
        "{trail}"
    );

    // Bad arguments are tool errors and reach no store.
    for (name, args, says) in [
        ("add_task", json!({"title": ""}), "title"),
        ("add_task", json!({"title": "x", "tags": ["Not A Tag!"]}), "tag"),
        ("add_task", json!({"title": "x", "recurrence": "FREQ=SECONDLY"}), "hourly"),
        ("add_task", json!({"title": "x", "nonsense": 1}), "unknown field"),
        ("add_task", json!({"text": "add x", "title": "x"}), "not both"),
        ("add_task", json!({}), "title"),
        ("get_task", json!({"id": "not-a-uuid"}), "invalid arguments"),
        ("find_tasks", json!({"limit": 0}), "limit"),
        ("find_tasks", json!({"sort": "nope"}), "sort"),
        ("update_task", json!({"id": id, "changes": {"priority": "urgent!"}}), "invalid arguments"),
        ("add_tasks", json!({"tasks": []}), "1 to 50"),
        ("add_reminder", json!({"id": id}), "remind_at"),
    ] {
        let r = call(&app, &w, name, args.clone()).await;
        assert!(is_error(&r), "{name} {args}: {r}");
        assert!(text(&r).contains(says), "{name} {args}: {r}");
    }
    let all = call(&app, &w, "find_tasks", json!({"status": "all"})).await;
    assert_eq!(all["structuredContent"]["items"].as_array().unwrap().len(), 2, "nothing added by bad calls");
}

async fn http_doors_are_guarded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = app.register("ada@example.com").await;
    let w = app.mint_token(&s, "assistant", &["read", "write"]).await;
    let (status, _) = rpc_raw(&app, None, "tools/list", json!({}), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let res = app.client.post(app.url("/mcp")).json(&json!({})).send().await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"todo-events\"");
    let (status, _) = rpc_raw(&app, Some("todo_pat_nope"), "tools/list", json!({}), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = rpc_raw(&app, Some(&w), "tools/list", json!({}), &[("host", "evil.example")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "DNS rebinding: a foreign Host is refused");
    let (status, _) = rpc_raw(&app, Some(&w), "tools/list", json!({}), &[("origin", "https://evil.example")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a browser on another site is refused");
    // A session token works too (the web page could use it).
    let (status, body) = rpc_raw(&app, Some(&s), "tools/list", json!({}), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Revoked tokens stop at once.
    let id = app.get("/api/v1/auth/tokens", &s).await.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.call(reqwest::Method::DELETE, &format!("/api/v1/auth/tokens/{id}"), Some(&s), None).await;
    let (status, _) = rpc_raw(&app, Some(&w), "tools/list", json!({}), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// `/mcp` draws from the same per-user request budget as the REST API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_requests_share_the_users_rate_limit() {
    let opts = todo_tests::AppOptions { rate_limit: Some((1, 3)), ..Default::default() };
    let app = TestApp::start(Backend::Memory, opts).await;
    let s = app.register("ada@example.com").await;
    let w = app.mint_token(&s, "assistant", &["read", "write"]).await;
    // Registering and minting used the session's budget (minting: 1 request); the
    // token's user is the same user.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(rpc_raw(&app, Some(&w), "tools/list", json!({}), &[]).await.0);
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let rest = app.get("/api/v1/tasks", &w).await;
    assert_eq!(rest.status, StatusCode::TOO_MANY_REQUESTS, "REST shares the bucket: {:?}", rest.body);
}
