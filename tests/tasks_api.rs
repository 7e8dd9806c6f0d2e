//! The task endpoints, end to end over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_tests::{Backend, TestApp, on_every_backend};

on_every_backend!(
    filter_and_sort,
    crud_with_versions,
    pagination_walks_every_task,
    text_search_and_tags,
    overdue_and_due_ranges
);

fn titles(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect()
}

async fn filter_and_sort(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    app.create_task(&t, json!({"title": "renew passport", "priority": "high", "due_at": "2026-12-01T09:00:00Z"})).await;
    app.create_task(&t, json!({"title": "water plants", "priority": "low", "due_at": "2026-12-05T09:00:00Z"})).await;
    app.create_task(&t, json!({"title": "book flights", "priority": "high", "due_at": "2026-12-03T09:00:00Z"})).await;
    let page = app.get("/api/v1/tasks?priority=high&sort=-due_at", &t).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(titles(&page.body), ["book flights", "renew passport"]);
    assert!(page.body["next_cursor"].is_null());
    let by_title = app.get("/api/v1/tasks?sort=title", &t).await;
    assert_eq!(titles(&by_title.body), ["book flights", "renew passport", "water plants"]);
    let by_priority = app.get("/api/v1/tasks?sort=-priority", &t).await;
    assert_eq!(titles(&by_priority.body)[2], "water plants");
}

async fn crud_with_versions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    let task = app.create_task(&t, json!({"title": "  buy milk  ", "tags": ["#Groceries"], "remind_at": "2026-12-01T08:00:00Z", "due_at": "2026-12-01T09:00:00Z"})).await;
    assert_eq!(task["title"], "buy milk", "titles are trimmed");
    assert_eq!(task["tags"], json!(["groceries"]), "tags are normalised");
    assert_eq!(task["status"], "pending");
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["version"], 1);
    let id = task["id"].as_str().unwrap();
    let path = format!("/api/v1/tasks/{id}");

    let got = app.get(&path, &t).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.headers["etag"], "\"1\"");
    assert_eq!(got.body, task);

    // A patch with the current version applies; the reminder moves with the due date.
    let mut req = app.client.patch(app.url(&path)).bearer_auth(&t).header("if-match", "\"1\"");
    req = req.json(&json!({"priority": "high", "due_at": "2026-12-02T09:00:00Z"}));
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["priority"], "high");
    assert_eq!(patched["remind_at"], "2026-12-02T08:00:00Z");

    // A stale version is refused and changes nothing.
    let res = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&t)
        .header("if-match", "1")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "version_mismatch");
    assert_eq!(app.get(&path, &t).await.body["title"], "buy milk");

    // null clears a nullable field.
    let cleared = app.call(Method::PATCH, &path, Some(&t), Some(json!({"remind_at": null}))).await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert!(cleared.body["remind_at"].is_null());

    let done = app.post(&format!("{path}/complete"), &t, json!({})).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(done.body["status"], "completed");
    assert!(done.body["completed_at"].is_string());
    let again = app.post(&format!("{path}/complete"), &t, json!({})).await;
    assert_eq!(again.body["version"], done.body["version"], "completing twice changes nothing");
    let reopened = app.post(&format!("{path}/reopen"), &t, json!({})).await;
    assert_eq!(reopened.body["status"], "pending");
    assert!(reopened.body["completed_at"].is_null());

    let del = app.call(Method::DELETE, &path, Some(&t), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &t).await.status, StatusCode::NOT_FOUND);
}

async fn pagination_walks_every_task(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    for i in 0..7 {
        app.create_task(&t, json!({"title": format!("task {i}")})).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tasks?limit=3&sort=created_at&cursor={c}"),
            None => "/api/v1/tasks?limit=3&sort=created_at".to_owned(),
        };
        let page = app.get(&path, &t).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        seen.extend(titles(&page.body));
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (0..7).map(|i| format!("task {i}")).collect::<Vec<_>>());
    // A cursor belongs to its sort.
    let wrong = app.get(&format!("/api/v1/tasks?sort=title&cursor={}", cursor.unwrap_or_default()), &t).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["error"]["field"], "cursor");
}

async fn text_search_and_tags(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    app.create_task(&t, json!({"title": "Dentist appointment", "tags": ["health"]})).await;
    app.create_task(&t, json!({"title": "call mom", "description": "ask about the DENTIST", "tags": ["family"]})).await;
    app.create_task(&t, json!({"title": "buy milk", "tags": ["groceries", "health"]})).await;
    assert_eq!(
        titles(&app.get("/api/v1/tasks?q=dentist&sort=title", &t).await.body),
        ["call mom", "Dentist appointment"]
    );
    assert_eq!(
        titles(&app.get("/api/v1/tasks?tag=health&sort=title", &t).await.body),
        ["buy milk", "Dentist appointment"]
    );
}

async fn overdue_and_due_ranges(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    app.create_task(&t, json!({"title": "long ago", "due_at": "2020-01-01T00:00:00Z"})).await;
    app.create_task(&t, json!({"title": "far ahead", "due_at": "2150-01-01T00:00:00Z"})).await;
    app.create_task(&t, json!({"title": "no date"})).await;
    let done = app.create_task(&t, json!({"title": "done long ago", "due_at": "2020-01-02T00:00:00Z"})).await;
    app.post(&format!("/api/v1/tasks/{}/complete", done["id"].as_str().unwrap()), &t, json!({})).await;
    assert_eq!(titles(&app.get("/api/v1/tasks?overdue=true", &t).await.body), ["long ago"]);
    let range =
        app.get("/api/v1/tasks?status=all&due_after=2020-01-01T00:00:00Z&due_before=2020-01-02T00:00:00Z", &t).await;
    assert_eq!(titles(&range.body), ["long ago"], "due_after is inclusive, due_before exclusive");
    // Tasks without a due date come last, in both directions.
    assert_eq!(titles(&app.get("/api/v1/tasks?sort=-due_at", &t).await.body), ["far ahead", "long ago", "no date"]);
    assert_eq!(titles(&app.get("/api/v1/tasks", &t).await.body), ["long ago", "far ahead", "no date"]);
}
