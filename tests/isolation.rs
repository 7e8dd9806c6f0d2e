//! Cross-user isolation: user B, holding user A's task id, gets 404 from every
//! task endpoint, and nothing of A's changes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_tests::{Backend, TestApp, on_every_backend};

on_every_backend!(
    other_users_task_is_not_found_on_get,
    other_users_task_is_not_found_on_patch,
    other_users_task_is_not_found_on_delete,
    other_users_task_is_not_found_on_complete,
    other_users_task_is_not_found_on_reopen,
    other_users_tasks_never_listed,
);

struct Two {
    app: TestApp,
    a: String,
    b: String,
    task: Value,
}

async fn setup(backend: Backend) -> Two {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice@example.com").await;
    let b = app.register("bob@example.com").await;
    let task = app
        .create_task(&a, json!({"title": "alice's secret", "tags": ["private"], "due_at": "2026-12-01T09:00:00Z"}))
        .await;
    Two { app, a, b, task }
}

impl Two {
    fn path(&self, suffix: &str) -> String {
        format!("/api/v1/tasks/{}{suffix}", self.task["id"].as_str().unwrap())
    }

    /// B's attempt is a 404 that names no owner, and A's task is unchanged.
    async fn b_gets_404(&self, method: Method, suffix: &str, body: Option<Value>) {
        let res = self.app.call(method.clone(), &self.path(suffix), Some(&self.b), body).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{method} {suffix}: {:?}", res.body);
        assert_eq!(res.code(), "not_found");
        let mine = self.app.get(&self.path(""), &self.a).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert_eq!(mine.body, self.task, "A's task must not change");
    }
}

async fn other_users_task_is_not_found_on_get(backend: Backend) {
    setup(backend).await.b_gets_404(Method::GET, "", None).await;
}

async fn other_users_task_is_not_found_on_patch(backend: Backend) {
    setup(backend).await.b_gets_404(Method::PATCH, "", Some(json!({"title": "pwned"}))).await;
}

async fn other_users_task_is_not_found_on_delete(backend: Backend) {
    setup(backend).await.b_gets_404(Method::DELETE, "", None).await;
}

async fn other_users_task_is_not_found_on_complete(backend: Backend) {
    setup(backend).await.b_gets_404(Method::POST, "/complete", Some(json!({}))).await;
}

async fn other_users_task_is_not_found_on_reopen(backend: Backend) {
    let two = setup(backend).await;
    // Make reopen meaningful: A's task is completed.
    let done = two.app.post(&two.path("/complete"), &two.a, json!({})).await;
    let two = Two { task: done.body, ..two };
    two.b_gets_404(Method::POST, "/reopen", Some(json!({}))).await;
}

async fn other_users_tasks_never_listed(backend: Backend) {
    let two = setup(backend).await;
    for q in ["", "?status=all", "?tag=private", "?q=secret", "?overdue=true", "?due_after=2000-01-01T00:00:00Z"] {
        let page = two.app.get(&format!("/api/v1/tasks{q}"), &two.b).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.body["items"], json!([]), "B lists nothing of A's with {q:?}");
    }
}
