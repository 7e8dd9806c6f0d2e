//! The bad-input matrix: every malformed request gets the right 4xx and a JSON
//! body `{"error": {"code", "message"}}`, never a 500, and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_tests::{Answer, AppOptions, Backend, TestApp, on_every_backend};

on_every_backend!(
    malformed_json,
    wrong_types,
    empty_title,
    too_long_title,
    bad_tag,
    too_many_tags,
    bad_rrule,
    bad_time_zone,
    unknown_field,
    oversized_body,
    wrong_content_type,
    bad_jwt,
    expired_jwt,
    alg_none_jwt,
    missing_token,
    bad_query_parameters,
    bad_path_and_if_match,
    unknown_route_and_method,
    duplicate_email_and_wrong_password,
    login_throttling,
    time_rules,
);

fn assert_error(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "body: {:?}", a.body);
    assert_eq!(a.code(), code, "body: {:?}", a.body);
    assert!(a.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "a message: {:?}", a.body);
}

/// An app with one user, and a check that the user still has no tasks.
async fn app(backend: Backend) -> (TestApp, String) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    (app, t)
}

async fn assert_no_tasks(app: &TestApp, t: &str) {
    let page = app.get("/api/v1/tasks?status=all", t).await;
    assert_eq!(page.body["items"], json!([]), "a rejected request must change nothing");
}

fn assert_unauthorized(a: &Answer) {
    assert_error(a, StatusCode::UNAUTHORIZED, "unauthorized");
}

/// Each `(body, mentions)`: POSTing `body` as a task, in an app of its own, gets 422
/// `validation_failed` with a message that mentions `mentions`, and creates nothing.
async fn rejects_tasks(backend: Backend, cases: &[(Value, &str)]) {
    for (body, mentions) in cases {
        let (app, t) = app(backend).await;
        let a = app.post("/api/v1/tasks", &t, body.clone()).await;
        assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let msg = a.body["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(mentions), "message {msg:?} should mention {mentions:?}");
        assert_no_tasks(&app, &t).await;
    }
}

/// POSTs `body` to `path` without a token (registration, login).
async fn post_anonymous(app: &TestApp, path: &str, body: Value) -> Answer {
    app.call(Method::POST, path, None, Some(body)).await
}

async fn malformed_json(backend: Backend) {
    let (app, t) = app(backend).await;
    let a = app.raw(Method::POST, "/api/v1/tasks", Some(&t), "application/json", b"{\"title\": ".to_vec()).await;
    assert_error(&a, StatusCode::BAD_REQUEST, "bad_request");
    assert_no_tasks(&app, &t).await;
}

async fn wrong_types(backend: Backend) {
    rejects_tasks(backend, &[(json!({"title": 5}), "title")]).await;
}

async fn empty_title(backend: Backend) {
    rejects_tasks(backend, &[(json!({"title": "   "}), "title")]).await;
}

async fn too_long_title(backend: Backend) {
    rejects_tasks(backend, &[(json!({"title": "x".repeat(201)}), "200")]).await;
    // 200 characters (multi-byte ones too) are fine.
    let (app, t) = app(backend).await;
    app.create_task(&t, json!({"title": "é".repeat(200)})).await;
}

async fn bad_tag(backend: Backend) {
    rejects_tasks(
        backend,
        &[
            (json!({"title": "t", "tags": ["has space"]}), "tag"),
            (json!({"title": "t", "tags": ["x".repeat(33)]}), "tag"),
        ],
    )
    .await;
}

async fn too_many_tags(backend: Backend) {
    let tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    rejects_tasks(backend, &[(json!({"title": "t", "tags": tags}), "20")]).await;
}

async fn bad_rrule(backend: Backend) {
    rejects_tasks(
        backend,
        &[
            (json!({"title": "t", "recurrence": "FREQ=SOMETIMES"}), "RRULE"),
            (json!({"title": "t", "recurrence": "FREQ=DAILY;COUNT=3"}), "COUNT"),
        ],
    )
    .await;
}

async fn bad_time_zone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"email": "tz@example.com", "password": "correct horse battery", "timezone": "Mars/Olympus"});
    let a = post_anonymous(&app, "/api/v1/auth/register", body).await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // Nothing was created: the same e-mail registers fine afterwards.
    app.register("tz@example.com").await;
}

async fn unknown_field(backend: Backend) {
    rejects_tasks(backend, &[(json!({"title": "t", "colour": "red"}), "colour")]).await;
}

async fn oversized_body(backend: Backend) {
    let (app, t) = app(backend).await;
    let body = serde_json::to_vec(&json!({"title": "t", "description": "x".repeat(70 * 1024)})).unwrap();
    let a = app.raw(Method::POST, "/api/v1/tasks", Some(&t), "application/json", body).await;
    assert_error(&a, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_no_tasks(&app, &t).await;
}

async fn wrong_content_type(backend: Backend) {
    let (app, t) = app(backend).await;
    let a = app.raw(Method::POST, "/api/v1/tasks", Some(&t), "text/plain", b"{\"title\":\"t\"}".to_vec()).await;
    assert_error(&a, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

async fn bad_jwt(backend: Backend) {
    let (app, _) = app(backend).await;
    for token in ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.sig"] {
        assert_unauthorized(&app.get("/api/v1/tasks", token).await);
    }
    // Signed with another secret.
    let forged = todo_services::http::jwt::JwtKeys::new(b"another-secret-another-secret-0123", 3600)
        .issue(todo_core::domain::UserId::new())
        .unwrap();
    assert_unauthorized(&app.get("/api/v1/tasks", &forged).await);
}

async fn expired_jwt(backend: Backend) {
    let (app, _) = app(backend).await;
    let expired = todo_services::http::jwt::JwtKeys::new(todo_tests::JWT_SECRET, -3600)
        .issue(todo_core::domain::UserId::new())
        .unwrap();
    let a = app.get("/api/v1/tasks", &expired).await;
    assert_unauthorized(&a);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("expired"));
}

async fn alg_none_jwt(backend: Backend) {
    use base64::Engine;
    let (app, t) = app(backend).await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // Take a genuine token's claims and re-issue them unsigned.
    let claims = t.split('.').nth(1).unwrap();
    let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    for token in [format!("{header}.{claims}."), format!("{header}.{claims}")] {
        assert_unauthorized(&app.get("/api/v1/tasks", &token).await);
    }
    let hs512 = b64.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
    assert_unauthorized(&app.get("/api/v1/tasks", &format!("{hs512}.{claims}.x")).await);
}

async fn missing_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.call(Method::GET, "/api/v1/tasks", None, None).await;
    assert_unauthorized(&a);
    let a = app.call(Method::POST, "/api/v1/tasks", None, Some(json!({"title": "t"}))).await;
    assert_unauthorized(&a);
}

async fn bad_query_parameters(backend: Backend) {
    let (app, t) = app(backend).await;
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("sort=colour", "sort"),
        ("status=maybe", "status"),
        ("priority=extreme", "priority"),
        ("due_before=tomorrow", "due_before"),
        ("overdue=perhaps", "overdue"),
        ("tag=has%20space", "tag"),
        ("cursor=not-a-cursor", "cursor"),
    ] {
        let a = app.get(&format!("/api/v1/tasks?{q}"), &t).await;
        assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(a.body["error"]["field"], field, "{q}");
    }
    assert_eq!(app.get("/api/v1/tasks?limit=200", &t).await.status, StatusCode::OK);
    assert_error(&app.get("/api/v1/tasks?colour=red", &t).await, StatusCode::BAD_REQUEST, "bad_request");
}

async fn bad_path_and_if_match(backend: Backend) {
    let (app, t) = app(backend).await;
    assert_error(&app.get("/api/v1/tasks/not-a-uuid", &t).await, StatusCode::BAD_REQUEST, "bad_request");
    assert_error(
        &app.get(&format!("/api/v1/tasks/{}", uuid::Uuid::now_v7()), &t).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let task = app.create_task(&t, json!({"title": "t"})).await;
    let path = app.url(&format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()));
    let res = app
        .client
        .patch(path)
        .bearer_auth(&t)
        .header("if-match", "banana")
        .json(&json!({"title": "u"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn unknown_route_and_method(backend: Backend) {
    let (app, t) = app(backend).await;
    assert_error(&app.get("/api/v1/nothing-here", &t).await, StatusCode::NOT_FOUND, "not_found");
    let a = app.call(Method::PUT, "/api/v1/tasks", Some(&t), Some(json!({}))).await;
    assert_error(&a, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

async fn duplicate_email_and_wrong_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    let again = json!({"email": "ADA@example.com", "password": "another password"});
    assert_error(&post_anonymous(&app, "/api/v1/auth/register", again).await, StatusCode::CONFLICT, "conflict");
    let wrong_password = |email: &str| json!({"email": email, "password": "wrong password"});
    let wrong_pw = post_anonymous(&app, "/api/v1/auth/login", wrong_password("ada@example.com")).await;
    let no_user = post_anonymous(&app, "/api/v1/auth/login", wrong_password("bob@example.com")).await;
    assert_unauthorized(&wrong_pw);
    assert_unauthorized(&no_user);
    assert_eq!(wrong_pw.body, no_user.body, "the answer must not tell which part was wrong");
    let short = json!({"email": "carol@example.com", "password": "short"});
    assert_error(
        &post_anonymous(&app, "/api/v1/auth/register", short).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let bad_email = json!({"email": "not-an-email", "password": "long enough password"});
    assert_error(
        &post_anonymous(&app, "/api/v1/auth/register", bad_email).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
}

async fn login_throttling(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.register("ada@example.com").await;
    let wrong = json!({"email": "ada@example.com", "password": "wrong password"});
    for _ in 0..10 {
        let a = post_anonymous(&app, "/api/v1/auth/login", wrong.clone()).await;
        assert_unauthorized(&a);
    }
    let right = json!({"email": "ada@example.com", "password": "correct horse battery"});
    let a = post_anonymous(&app, "/api/v1/auth/login", right).await;
    assert_error(&a, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900, "Retry-After within the 15-minute window: {retry}");
}

/// Each signed-in user has a request budget (here 1/s, bursts of 5): above it,
/// 429 with `Retry-After`, nothing changes, and other users are not affected.
#[tokio::test]
async fn request_rate_limit() {
    let opts = AppOptions { rate_limit: Some((1, 5)), api_only: true, ..AppOptions::default() };
    let app = TestApp::start(Backend::Memory, opts).await;
    let (ada, bob) = (app.register("ada@example.com").await, app.register("bob@example.com").await);
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/tasks", &ada).await.status, StatusCode::OK);
    }
    let a = app.post("/api/v1/tasks", &ada, json!({"title": "one too many"})).await;
    assert_error(&a, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(a.headers["retry-after"], "1");
    assert_eq!(app.get("/api/v1/tasks", &bob).await.status, StatusCode::OK, "bob has his own budget");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let a = app.get("/api/v1/tasks", &ada).await;
    assert_eq!(a.status, StatusCode::OK, "the budget refills");
    assert_eq!(a.body["items"], json!([]), "the limited request created nothing");
}

async fn time_rules(backend: Backend) {
    rejects_tasks(
        backend,
        &[
            (json!({"title": "t", "all_day": true}), "due_at"),
            (json!({"title": "t", "due_at": "next tuesday"}), ""),
            (json!({"title": "t", "due_at": "2300-01-01T00:00:00Z"}), "due_at"),
            (json!({"title": "t", "description": "x".repeat(10_001)}), "10000"),
        ],
    )
    .await;
}
