//! The MCP endpoint `/mcp` (Streamable HTTP, stateless) spoken to as JSON-RPC:
//! bearer per request, hosts and origins, every tool's annotations enforced for
//! read-only tokens (the list comes from the server, so new tools are covered),
//! ownership through every tool, tool errors as `isError` results, every
//! change on the log and in the audit trail, and `find_tasks` answering a filter
//! query exactly as `GET /api/v1/tasks?filter=` does (in the user's time zone). (scripts/clients-test drives both
//! transports with the official Python SDK.)

use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_tests::{Backend, TestApp, eventually, on_every_backend};

on_every_backend!(
    tools_are_listed_with_truthful_annotations,
    read_tokens_call_only_read_only_tools,
    tools_never_cross_users,
    changes_are_events_and_bad_arguments_are_tool_errors,
    find_tasks_speaks_the_filter_language_of_rest,
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

    // B's filters, whatever they say, only ever see B's tasks.
    let bs = call(&app, &b_tok, "add_task", json!({"text": "bob's secret tomorrow at 5pm"})).await;
    let bs_id = bs["structuredContent"]["id"].clone();
    for q in [
        "status:all & search: secret",
        "status:all",
        "tomorrow",
        "!#nothing",
        "status:all | no date",
        "due after: 1970-01-02 | no date",
        "search: alice",
    ] {
        let found = call(&app, &b_tok, "find_tasks", json!({"filter": q})).await;
        assert!(!is_error(&found), "{q}: {found}");
        let ids: Vec<&Value> =
            found["structuredContent"]["items"].as_array().unwrap().iter().map(|t| &t["id"]).collect();
        assert!(ids.iter().all(|i| **i == bs_id), "B's {q:?} finds nothing of A's: {found}");
    }
    // A's saved filter is not B's to open.
    app.post("/api/v1/filters", &a, json!({"name": "secrets", "query": "search: secret"})).await;
    let theirs = call(&app, &b_tok, "find_tasks", json!({"saved_filter": "secrets"})).await;
    assert!(is_error(&theirs) && text(&theirs).contains("has no saved filters"), "{theirs}");
    let mine = call(&app, &a_tok, "find_tasks", json!({"saved_filter": "Secrets"})).await;
    assert_eq!(mine["structuredContent"]["items"][0]["id"], json!(id), "{mine}");
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
        let r = call(&app, &w, "find_tasks", json!({"filter": "search: water the plants"})).await;
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
        (
            "find_tasks",
            json!({"filter": "#work & due before:"}),
            "invalid filter: expected a date after 'due before:' at 19",
        ),
        ("find_tasks", json!({"filter": "today", "list": 1}), "list must be 0 to 0"),
        ("find_tasks", json!({"status": "all"}), "unknown field"),
        ("update_task", json!({"id": id, "changes": {"priority": "urgent!"}}), "invalid arguments"),
        ("add_tasks", json!({"tasks": []}), "1 to 50"),
        ("add_reminder", json!({"id": id}), "remind_at"),
    ] {
        let r = call(&app, &w, name, args.clone()).await;
        assert!(is_error(&r), "{name} {args}: {r}");
        assert!(text(&r).contains(says), "{name} {args}: {r}");
    }
    let all = call(&app, &w, "find_tasks", json!({"filter": "status:all"})).await;
    assert_eq!(all["structuredContent"]["items"].as_array().unwrap().len(), 2, "nothing added by bad calls");
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
}

/// `/api/v1/tasks?filter=<q>&<extra>`, URL-encoded.
fn tasks_path(q: &str, extra: &str) -> String {
    let url = reqwest::Url::parse_with_params("http://x/api/v1/tasks", &[("filter", q)]).expect("a url");
    format!("{}?{}&{extra}", url.path(), url.query().unwrap_or_default())
}

/// `find_tasks {filter}` is `GET /api/v1/tasks?filter=`: the same tasks and lists
/// for every query, the same pages, the same parser errors (with the position),
/// evaluated in the user's time zone (UTC+14 here: its days are never UTC's).
async fn find_tasks_speaks_the_filter_language_of_rest(backend: Backend) {
    use chrono::{Duration, FixedOffset, Utc};

    let app = TestApp::spawn(backend).await;
    let body =
        json!({"email": "kiri@example.com", "password": "correct horse battery", "timezone": "Pacific/Kiritimati"});
    let s = app.call(reqwest::Method::POST, "/api/v1/auth/register", None, Some(body)).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let w = app.mint_token(&s, "assistant", &["read", "write"]).await;
    let now = Utc::now();
    // One task every 3 hours from 33 hours ago to 33 hours ahead, and one undated.
    let mut made = Vec::new();
    for (i, h) in (-11..=11).map(|k| k * 3).enumerate() {
        let tag = if i % 2 == 0 { "work" } else { "home" };
        let priority = ["low", "medium", "high"][i % 3];
        let due = (now + Duration::hours(h)).to_rfc3339();
        let t = json!({"title": format!("t{h:+}"), "due_at": due, "tags": [tag], "priority": priority});
        made.push(app.create_task(&s, t).await);
    }
    app.create_task(&s, json!({"title": "undated", "tags": ["work"]})).await;
    let done = made[3]["id"].as_str().unwrap();
    assert!(!is_error(&call(&app, &w, "complete_task", json!({"id": done})).await));

    for q in [
        "today",
        "today & #work",
        "overdue | p1",
        "(today | overdue) & !#home",
        "status:all & search: t+",
        "completed",
        "no date",
        "7 days & priority >= medium",
        "due before: tomorrow & due after: yesterday",
        "overdue, today",
    ] {
        let rest = app.get(&tasks_path(q, "sort=due_at&limit=200"), &s).await;
        assert_eq!(rest.status, StatusCode::OK, "{q}: {:?}", rest.body);
        let mcp = call(&app, &w, "find_tasks", json!({"filter": q, "sort": "due_at", "limit": 200})).await;
        assert!(!is_error(&mcp), "{q}: {mcp}");
        let page = &mcp["structuredContent"];
        assert_eq!(ids(page), ids(&rest.body), "{q}");
        assert_eq!(page["lists"], rest.body["lists"], "{q}");
    }
    let second = call(&app, &w, "find_tasks", json!({"filter": "overdue, today", "list": 1, "limit": 200})).await;
    let rest = app.get(&tasks_path("overdue, today", "list=1&limit=200"), &s).await;
    assert_eq!(ids(&second["structuredContent"]), ids(&rest.body));

    // "today" is the user's local day (UTC+14, no DST), not the server's.
    let kiri = FixedOffset::east_opt(14 * 3600).unwrap();
    let today_in = |tz: FixedOffset, at: chrono::DateTime<Utc>| -> Vec<String> {
        let day = at.with_timezone(&tz).date_naive();
        made.iter()
            .filter(|t| t["id"] != json!(done))
            .filter(|t| {
                let due: chrono::DateTime<Utc> = t["due_at"].as_str().unwrap().parse().unwrap();
                due.with_timezone(&tz).date_naive() == day
            })
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let utc = FixedOffset::east_opt(0).unwrap();
    let found = loop {
        let before = Utc::now();
        let r = call(&app, &w, "find_tasks", json!({"filter": "today", "sort": "due_at"})).await;
        // Asked across local midnight: ask again.
        if today_in(kiri, before) == today_in(kiri, Utc::now()) {
            assert_ne!(today_in(kiri, before), today_in(utc, before), "the test's premise");
            assert_eq!(ids(&r["structuredContent"]), today_in(kiri, before));
            break r;
        }
    };
    assert!(!ids(&found["structuredContent"]).is_empty());

    // Pages: every task once, in order, through the cursors.
    let mut seen = Vec::new();
    let mut args = json!({"filter": "status:all", "sort": "title", "limit": 5});
    loop {
        let r = call(&app, &w, "find_tasks", args.clone()).await;
        let page = &r["structuredContent"];
        let got = ids(page);
        assert!(got.len() <= 5);
        seen.extend(got);
        match page["next_cursor"].as_str() {
            Some(c) => args["cursor"] = json!(c),
            None => break,
        }
    }
    let all = app.get(&tasks_path("status:all", "sort=title&limit=200"), &s).await;
    assert_eq!(seen, ids(&all.body));
    assert_eq!(seen.len(), made.len() + 1);

    // A query that does not parse: the parser's message and position, as REST's 400 has them.
    for q in ["#work & due before:", "wrok", "(today | p1", "today &", "priority > purple"] {
        let rest = app.get(&tasks_path(q, ""), &s).await;
        assert_eq!(rest.status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(rest.body["error"]["code"], "invalid_filter");
        let r = call(&app, &w, "find_tasks", json!({"filter": q})).await;
        assert!(is_error(&r), "{q}: {r}");
        let said = text(&r);
        let message = rest.body["error"]["message"].as_str().unwrap();
        let span = &rest.body["error"]["span"];
        assert!(said.starts_with(&format!("invalid filter: {message}")), "{q}: {said} vs {message}");
        assert!(said.contains(&format!("characters {} to {}", span[0], span[1])), "{q}: {said} vs {span}");
    }
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
