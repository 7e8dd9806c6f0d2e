//! API tokens over HTTP: minted, listed and revoked by a signed-in session only;
//! a read-only token changes nothing through any endpoint of the API (every
//! operation of the OpenAPI document that is not a read is tried); tokens of one
//! user never reach another's tasks or tokens; a revoked token stops at once.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_tests::{Backend, TestApp, on_every_backend};

on_every_backend!(
    a_read_token_changes_nothing_anywhere,
    write_tokens_act_and_revocation_is_immediate,
    tokens_belong_to_their_user,
    only_sessions_manage_credentials,
);

/// Task-event types (`todo.task.*`) of the caller's audit trail, oldest first,
/// after a sentinel task the session creates now has been audited.
async fn task_events(app: &TestApp, session: &str) -> Vec<String> {
    let sentinel = app.create_task(session, json!({"title": "sentinel"})).await;
    let id = sentinel["id"].as_str().unwrap().to_owned();
    let mut types = app.audit_types_through(session, &id, "todo.task.created.v1").await;
    types.retain(|t| t.starts_with("todo.task.") && t != "todo.task.changed.v1");
    types.pop();
    types
}

/// Every operation of the API's OpenAPI document: (method, path template).
async fn operations(app: &TestApp) -> Vec<(Method, String)> {
    let doc = app.call(Method::GET, "/api/v1/openapi.json", None, None).await.body;
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("path item") {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            out.push((m, path.clone()));
        }
    }
    out
}

async fn a_read_token_changes_nothing_anywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let session = app.register("ada@example.com").await;
    let task = app.create_task(&session, json!({"title": "keep me", "due_at": "2026-12-01T09:00:00Z"})).await;
    let id = task["id"].as_str().unwrap();
    let read = app.mint_token(&session, "reader", &["read"]).await;
    let other = app.post("/api/v1/auth/tokens", &session, json!({"name": "x", "scopes": ["read"]})).await;
    let other_id = other.body["id"].as_str().unwrap();
    let before = task_events(&app, &session).await;

    let mut tried = 0;
    for (method, template) in operations(&app).await {
        if method == Method::GET
            || template.starts_with("/api/v1/auth/register")
            || template.starts_with("/api/v1/auth/login")
        {
            continue;
        }
        let path = template.replace("{id}", if template.contains("tokens") { other_id } else { id });
        let body = json!({"title": "changed", "message": "delete keep me", "name": "t", "scopes": ["read", "write"]});
        let a = app.call(method.clone(), &path, Some(&read), Some(body)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{method} {path} with a read token: {:?}", a.body);
        assert!(matches!(a.code(), "insufficient_scope" | "session_required"), "{method} {path}: {:?}", a.body);
        tried += 1;
    }
    assert!(tried >= 11, "every changing operation was tried ({tried})");
    // Reads work.
    assert_eq!(app.get("/api/v1/tasks", &read).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/tasks/{id}"), &read).await.body, task);
    assert_eq!(app.get("/api/v1/audit", &read).await.status, StatusCode::OK);
    // Nothing changed: the task, the tokens, the log.
    assert_eq!(app.get(&format!("/api/v1/tasks/{id}"), &session).await.body, task);
    let tokens = app.get("/api/v1/auth/tokens", &session).await.body["items"].as_array().unwrap().len();
    assert_eq!(tokens, 2);
    let after = task_events(&app, &session).await;
    let mut expected = before.clone();
    expected.push("todo.task.created.v1".into());
    assert_eq!(after, expected, "no event from a read token (only the first sentinel's)");
}

async fn write_tokens_act_and_revocation_is_immediate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let session = app.register("ada@example.com").await;
    let write = app.mint_token(&session, "assistant", &["read", "write"]).await;
    assert!(write.starts_with("todo_pat_") && write.len() == 9 + 43, "{write}");
    let task = app.create_task(&write, json!({"title": "by token"})).await;
    let id = task["id"].as_str().unwrap();
    let done = app.post(&format!("/api/v1/tasks/{id}/complete"), &write, json!({})).await;
    assert_eq!(done.status, StatusCode::OK);
    let listed = app.get("/api/v1/auth/tokens", &session).await.body;
    let entry = &listed["items"][0];
    assert_eq!(entry["name"], "assistant");
    assert_eq!(entry["scopes"], json!(["read", "write"]));
    assert!(entry.get("token").is_none() && !listed.to_string().contains(&write[9..]), "secrets are never listed");
    assert!(entry["last_used_at"].is_string(), "use is recorded: {entry}");
    let token_id = entry["id"].as_str().unwrap();

    let revoked = app.call(Method::DELETE, &format!("/api/v1/auth/tokens/{token_id}"), Some(&session), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = app.get("/api/v1/tasks", &write).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "a revoked token stops at once: {:?}", after.body);
    let again = app.call(Method::DELETE, &format!("/api/v1/auth/tokens/{token_id}"), Some(&session), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    // Malformed, unknown and made-up tokens are all 401.
    for bad in ["todo_pat_", "todo_pat_short", &format!("todo_pat_{}", "A".repeat(43)), "not-a-jwt"] {
        assert_eq!(app.get("/api/v1/tasks", bad).await.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
    // Bad requests are 4xx with the JSON error body.
    let bad = [
        json!({"name": "", "scopes": ["read"]}),
        json!({"name": "x", "scopes": ["write"]}),
        json!({"name": "x", "scopes": []}),
        json!({"name": "x", "scopes": ["admin"]}),
        json!({"name": "x", "scopes": ["read"], "expires_at": "2000-01-01T00:00:00Z"}),
        json!({"name": "x", "scopes": ["read"], "extra": 1}),
    ];
    for body in bad {
        let a = app.post("/api/v1/auth/tokens", &session, body.clone()).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", a.body);
    }
    let a = app.call(Method::DELETE, "/api/v1/auth/tokens/not-a-uuid", Some(&session), None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

async fn tokens_belong_to_their_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice@example.com").await;
    let b = app.register("bob@example.com").await;
    let a_task = app.create_task(&a, json!({"title": "alice's secret"})).await;
    let a_id = a_task["id"].as_str().unwrap();
    let a_token = app.mint_token(&a, "alice's", &["read", "write"]).await;
    let b_token = app.mint_token(&b, "bob's", &["read", "write"]).await;
    let a_token_id = app.get("/api/v1/auth/tokens", &a).await.body["items"][0]["id"].as_str().unwrap().to_owned();

    // B's session never sees or revokes A's tokens.
    let bs = app.get("/api/v1/auth/tokens", &b).await.body;
    assert_eq!(bs["items"].as_array().unwrap().len(), 1);
    assert_eq!(bs["items"][0]["name"], "bob's");
    let del = app.call(Method::DELETE, &format!("/api/v1/auth/tokens/{a_token_id}"), Some(&b), None).await;
    assert_eq!(del.status, StatusCode::NOT_FOUND, "{:?}", del.body);
    assert_eq!(app.get("/api/v1/tasks", &a_token).await.status, StatusCode::OK, "A's token still works");

    // B's token never reaches A's tasks.
    assert_eq!(app.get(&format!("/api/v1/tasks/{a_id}"), &b_token).await.status, StatusCode::NOT_FOUND);
    for (m, suffix) in
        [(Method::PATCH, ""), (Method::DELETE, ""), (Method::POST, "/complete"), (Method::POST, "/reopen")]
    {
        let a = app
            .call(m.clone(), &format!("/api/v1/tasks/{a_id}{suffix}"), Some(&b_token), Some(json!({"title": "x"})))
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{m} {suffix}");
    }
    let listed = app.get("/api/v1/tasks?status=all", &b_token).await.body;
    assert_eq!(listed["items"], json!([]));
    assert_eq!(app.get(&format!("/api/v1/tasks/{a_id}"), &a_token).await.body, a_task, "A's task unchanged");
    let audit = app.get(&format!("/api/v1/audit?task_id={a_id}"), &b_token).await.body;
    assert_eq!(audit["items"], json!([]));
}

async fn only_sessions_manage_credentials(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let session = app.register("ada@example.com").await;
    let write = app.mint_token(&session, "assistant", &["read", "write"]).await;
    let calls: [(Method, &str, Option<Value>); 7] = [
        (Method::POST, "/api/v1/auth/tokens", Some(json!({"name": "more", "scopes": ["read"]}))),
        (Method::GET, "/api/v1/auth/tokens", None),
        (Method::DELETE, "/api/v1/auth/tokens/00000000-0000-0000-0000-000000000000", None),
        (Method::POST, "/api/v1/calendar", None),
        (Method::GET, "/api/v1/calendar", None),
        (Method::POST, "/api/v1/calendar/rotate", None),
        (Method::DELETE, "/api/v1/calendar", None),
    ];
    for (m, path, body) in calls {
        let a = app.call(m.clone(), path, Some(&write), body).await;
        assert_eq!((a.status, a.code()), (StatusCode::FORBIDDEN, "session_required"), "{m} {path}: {:?}", a.body);
    }
    assert_eq!(app.get("/api/v1/auth/tokens", &session).await.body["items"].as_array().unwrap().len(), 1);
}
