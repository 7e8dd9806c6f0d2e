//! The doors under abuse (docs/security.md): one test per limit. Sign-in
//! throttling per (account, address) with an atomic count, the per-address limit
//! of `/api/v1/auth/*`, the cap on password hashing, metric labels fed by input,
//! slow clients, the connection cap, the request timeout, the WebSocket limits,
//! audit verification, readiness without raw errors, webhooks without redirects.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_core::service::account::AccountLimits;
use todo_services::http::limit::{IpRateLimit, UserRateLimit};
use todo_services::http::serve::ServerLimits;
use todo_services::state::HttpLimits;
use todo_tests::{AppOptions, Backend, TestApp, on_every_backend, ws_request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite;

on_every_backend!(
    throttling_is_per_account_and_address,
    parallel_guesses_are_counted_atomically,
    llm_budget_falls_back_when_spent,
);

const PASSWORD: &str = "correct horse battery";

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> todo_tests::Answer {
    let req = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({"email": email, "password": password}));
    answer(req).await
}

async fn answer(req: reqwest::RequestBuilder) -> todo_tests::Answer {
    let res = req.send().await.expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    todo_tests::Answer { status, headers, body }
}

/// Behind one trusted proxy, so the test can speak from several addresses.
fn behind_a_proxy() -> AppOptions {
    AppOptions {
        api_only: true,
        limits: Some(HttpLimits { trusted_proxies: 1, ..HttpLimits::default() }),
        ..AppOptions::default()
    }
}

/// Ten wrong passwords from one address lock that address out of the account,
/// not the owner signing in from another one.
async fn throttling_is_per_account_and_address(backend: Backend) {
    let app = TestApp::start(backend, behind_a_proxy()).await;
    app.register("ada@example.com").await;
    for _ in 0..10 {
        let a = login_from(&app, "203.0.113.9", "ada@example.com", "wrong password").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{:?}", a.body);
    }
    let a = login_from(&app, "203.0.113.9", "ada@example.com", PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "the guessing address is throttled: {:?}", a.body);
    assert!(a.headers.contains_key("retry-after"));
    let a = login_from(&app, "198.51.100.7", "ada@example.com", PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "the owner from another address signs in: {:?}", a.body);
    // An account string of any length is answered without storing it.
    let long = format!("{}@example.com", "a".repeat(60_000));
    let a = login_from(&app, "198.51.100.8", &long, PASSWORD).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{:?}", a.body);
}

/// Thirty guesses at once: exactly ten get their password checked, the rest are
/// throttled (today's store let all of them through before any failure counted).
async fn parallel_guesses_are_counted_atomically(backend: Backend) {
    let app = Arc::new(TestApp::start(backend, AppOptions { api_only: true, ..AppOptions::default() }).await);
    app.register("ada@example.com").await;
    let guesses: Vec<_> = (0..30)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(
                async move { login_from(&app, "203.0.113.9", "ada@example.com", "wrong password").await.status },
            )
        })
        .collect();
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.expect("join"));
    }
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    let busy = statuses.iter().filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE).count();
    assert_eq!(checked + throttled + busy, 30, "{statuses:?}");
    assert!(checked <= 10, "{checked} guesses were checked: the count is not atomic");
    assert!(throttled >= 20, "{statuses:?}");
}

/// Every address has its own budget of `/api/v1/auth/*` requests, malformed ones included.
#[tokio::test]
async fn auth_requests_are_limited_per_address() {
    let limits =
        HttpLimits { trusted_proxies: 1, auth: IpRateLimit::per_minute(5, 5).map(Arc::new), ..HttpLimits::default() };
    let app =
        TestApp::start(Backend::Memory, AppOptions { api_only: true, limits: Some(limits), ..Default::default() })
            .await;
    for i in 0..5 {
        let a = login_from(&app, "203.0.113.1", &format!("u{i}@example.com"), "whatever").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{:?}", a.body);
    }
    let malformed =
        app.client.post(app.url("/api/v1/auth/register")).header("x-forwarded-for", "203.0.113.1").body("{");
    let a = answer(malformed).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", a.body);
    assert_eq!(a.body["error"]["code"], "rate_limited");
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let a = login_from(&app, "203.0.113.2", "u@example.com", "whatever").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "another address is not limited: {:?}", a.body);
    // Without a trusted proxy the header is ignored: a client cannot pick its address.
    let app = TestApp::start(
        Backend::Memory,
        AppOptions {
            api_only: true,
            limits: Some(HttpLimits { auth: IpRateLimit::per_minute(2, 2).map(Arc::new), ..HttpLimits::default() }),
            ..Default::default()
        },
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(login_from(&app, &format!("203.0.113.{i}"), "u@example.com", "whatever").await.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 2, "{statuses:?}");
}

/// Beyond the hashing slots and their short queue, sign-ins get 503 with
/// `Retry-After` at once; nobody gets a 500; the server signs people in after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_hashing_is_capped() {
    let accounts = AccountLimits { hash_concurrency: 1, hash_queue: 2, ..AccountLimits::default() };
    let app = Arc::new(
        TestApp::start(Backend::Sqlite, AppOptions { api_only: true, accounts: Some(accounts), ..Default::default() })
            .await,
    );
    app.register("ada@example.com").await;
    let tries: Vec<_> = (0..40)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { login_from(&app, "203.0.113.5", &format!("u{i}@example.com"), "nope").await })
        })
        .collect();
    let mut busy = 0;
    for t in tries {
        let a = t.await.expect("join");
        match a.status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(a.headers["retry-after"], "1");
                assert_eq!(a.body["error"]["code"], "unavailable");
                busy += 1;
            }
            other => panic!("{other}: {:?}", a.body),
        }
    }
    assert!(busy >= 30, "at most 1 hashing + 2 waiting at a time; only {busy} of 40 were turned away");
    let a = login_from(&app, "198.51.100.1", "ada@example.com", PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "signing in works after the flood: {:?}", a.body);
}

/// Made-up HTTP methods share one metric label: `/metrics` does not grow with them.
#[tokio::test]
async fn metric_labels_stay_bounded() {
    let handle = todo_services::telemetry::init_metrics();
    let app = TestApp::start(Backend::Memory, AppOptions { api_only: true, ..Default::default() }).await;
    for i in 0..300 {
        let method = Method::from_bytes(format!("RANDOM{i}").as_bytes()).unwrap();
        let res = app.client.request(method, app.url(&format!("/no/such/{i}"))).send().await.unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    let text = handle.render();
    assert!(!text.contains("RANDOM"), "a made-up method became a label");
    let methods: std::collections::BTreeSet<&str> =
        text.lines().filter_map(|l| l.split("method=\"").nth(1)).filter_map(|r| r.split('"').next()).collect();
    assert!(methods.contains("other") && methods.len() <= 10, "{methods:?}");
}

/// A connection that sends half its headers is closed at the header deadline;
/// so is one that sends nothing.
#[tokio::test]
async fn slow_clients_are_cut_off() {
    let server = ServerLimits { header_read_timeout: Duration::from_secs(1), ..ServerLimits::default() };
    let app =
        TestApp::start(Backend::Memory, AppOptions { api_only: true, server: Some(server), ..Default::default() })
            .await;
    for half in [&b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "[..], &b""[..]] {
        let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        s.write_all(half).await.unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 512];
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a connection with {} header bytes was still open after 5 s", half.len());
        let held = start.elapsed();
        println!("slowloris: connection with {} header bytes closed after {held:.2?} (limit 1 s)", half.len());
        assert!(held >= Duration::from_millis(800), "closed too early: {held:?}");
    }
    // A prompt client is served.
    assert_eq!(app.call(Method::GET, "/health", None, None).await.status, StatusCode::OK);
}

/// Over `max_connections`, a connection gets 503 and is closed; a place frees up
/// when one closes.
#[tokio::test]
async fn connections_are_capped() {
    let server = ServerLimits { max_connections: 2, header_read_timeout: Duration::from_secs(30) };
    let app =
        TestApp::start(Backend::Memory, AppOptions { api_only: true, server: Some(server), ..Default::default() })
            .await;
    let held1 = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let _held2 = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    third.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(5), third.read_to_string(&mut text)).await.unwrap().unwrap();
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.to_ascii_lowercase().contains("retry-after: 1"), "{text}");
    drop(held1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = reqwest::Client::new().get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "a place freed up");
}

/// A request slower than the request timeout gets 408 with the JSON error body.
#[tokio::test]
async fn slow_requests_time_out() {
    let url = llm_stub(Arc::new(AtomicUsize::new(0)), Duration::from_secs(5)).await;
    let interpreter =
        Arc::new(todo_services::adapters::llm::LlmInterpreter::new(&url, "stub".into(), None, Duration::from_secs(10)));
    let limits = HttpLimits { request_timeout: Duration::from_secs(1), ..HttpLimits::default() };
    let opts =
        AppOptions { api_only: true, interpreter: Some(interpreter), limits: Some(limits), ..Default::default() };
    let app = TestApp::start(Backend::Memory, opts).await;
    let t = app.register("ada@example.com").await;
    let start = Instant::now();
    let a = app.post("/api/v1/chat", &t, json!({"message": "add buy milk"})).await;
    assert_eq!(a.status, StatusCode::REQUEST_TIMEOUT, "{:?}", a.body);
    assert_eq!(a.body["error"]["code"], "request_timeout");
    assert!(start.elapsed() < Duration::from_secs(4), "{:?}", start.elapsed());
}

/// An OpenAI-compatible stub that counts its calls and answers with an
/// `add_task` tool call after `delay`.
async fn llm_stub(calls: Arc<AtomicUsize>, delay: Duration) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move || {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                axum::Json(json!({"choices": [{"message": {"role": "assistant", "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": "add_task", "arguments": "{\"title\":\"from the model\"}"}
                }]}}]}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// With a budget of 2 LLM calls a day, the third chat turn is answered by the
/// rule-based interpreter without calling the model; another user has their own.
async fn llm_budget_falls_back_when_spent(backend: Backend) {
    let calls = Arc::new(AtomicUsize::new(0));
    let url = llm_stub(calls.clone(), Duration::ZERO).await;
    let env = Arc::new(todo_tests::Env::new(backend).await);
    let connected = env.connect().await;
    let interpreter = Arc::new(
        todo_services::adapters::llm::LlmInterpreter::new(&url, "stub".into(), None, Duration::from_secs(5))
            .with_budget(connected.ports.llm_budget.clone(), 2),
    );
    let app = TestApp::serve(
        connected,
        env,
        AppOptions { api_only: true, interpreter: Some(interpreter), ..Default::default() },
    )
    .await;
    let (ada, bob) = (app.register("ada@example.com").await, app.register("bob@example.com").await);
    let mut titles = Vec::new();
    for _ in 0..3 {
        let r = app.post("/api/v1/chat", &ada, json!({"message": "add buy milk"})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        titles.push(r.body["actions"][0]["result"]["title"].as_str().unwrap().to_owned());
    }
    assert_eq!(titles, ["from the model", "from the model", "buy milk"], "the third turn is rule-based");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the model was called twice");
    let r = app.post("/api/v1/chat", &bob, json!({"message": "add buy bread"})).await;
    assert_eq!(r.body["actions"][0]["result"]["title"], "from the model", "bob has his own budget");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

async fn ws_connect(app: &TestApp, token: &str) -> Result<todo_tests::Ws, tungstenite::Error> {
    tokio_tungstenite::connect_async(ws_request(app.addr, token)).await.map(|(ws, _)| ws)
}

/// The close frame a socket ends with, within `secs`.
async fn close_code(ws: &mut todo_tests::Ws, secs: u64) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(tungstenite::Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return None,
            Err(_) => panic!("the socket was still open after {secs} s"),
        }
    }
}

/// Tokens in the URL are refused; a user's sockets are capped (the next one is
/// closed with 4429); a client message over the size limit ends the connection;
/// upgrades draw from the user's rate limit.
#[tokio::test]
async fn websocket_limits() {
    let limits = HttpLimits { ws_max_per_user: 2, ws_max_message_bytes: 1024, ..HttpLimits::default() };
    let app = TestApp::start(Backend::Memory, AppOptions { limits: Some(limits), ..Default::default() }).await;
    let t = app.register("ada@example.com").await;
    let other = app.register("bob@example.com").await;

    let in_url = reqwest::get(app.url(&format!("/ws?token={t}"))).await.unwrap();
    assert_eq!(in_url.status(), StatusCode::BAD_REQUEST, "a token in the URL is refused");
    assert!(tokio_tungstenite::connect_async(format!("ws://{}/ws?token={t}", app.addr)).await.is_err());

    let mut first = ws_connect(&app, &t).await.expect("first");
    let _second = ws_connect(&app, &t).await.expect("second");
    let mut third = ws_connect(&app, &t).await.expect("the upgrade itself succeeds");
    assert_eq!(close_code(&mut third, 5).await, Some(todo_services::http::ws::CLOSE_TOO_MANY_SOCKETS));
    let _bobs = ws_connect(&app, &other).await.expect("another user has their own cap");

    first.send(tungstenite::Message::Text("x".repeat(4096).into())).await.unwrap();
    assert_ne!(close_code(&mut first, 5).await, Some(1000), "an oversized message ends the connection");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _again = ws_connect(&app, &t).await.expect("the closed socket's place is free again");

    let rate = HttpLimits { ws_max_per_user: 100, ..HttpLimits::default() };
    let app = TestApp::start(
        Backend::Memory,
        AppOptions { limits: Some(rate), rate_limit: Some((1, 3)), ..Default::default() },
    )
    .await;
    let t = app.register("ada@example.com").await;
    let mut refused = 0;
    for _ in 0..6 {
        if let Err(tungstenite::Error::Http(res)) = ws_connect(&app, &t).await {
            assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
            refused += 1;
        }
    }
    assert!(refused >= 2, "upgrades draw from the rate limit; {refused} refused");
}

/// A socket closes with 4401 when its token expires.
#[tokio::test]
async fn websockets_close_when_the_token_expires() {
    let app = TestApp::start(Backend::Memory, AppOptions::default()).await;
    app.register("ada@example.com").await;
    let email = todo_core::domain::Email::parse("ada@example.com").unwrap();
    let user = app.ports.users.by_email(&email).await.unwrap().unwrap();
    let short = todo_services::http::jwt::JwtKeys::new(todo_tests::JWT_SECRET, 2).issue(user.id).unwrap();
    let mut ws = ws_connect(&app, &short).await.expect("connect");
    let start = Instant::now();
    assert_eq!(close_code(&mut ws, 10).await, Some(todo_services::http::ws::CLOSE_TOKEN_EXPIRED));
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
}

/// Verifications are limited per user (429 with Retry-After).
#[tokio::test]
async fn audit_verification_is_limited_per_user() {
    let limits = HttpLimits { audit_verify: UserRateLimit::per_minute(2, 2).map(Arc::new), ..HttpLimits::default() };
    let app = TestApp::start(Backend::Sqlite, AppOptions { limits: Some(limits), ..Default::default() }).await;
    let (ada, bob) = (app.register("ada@example.com").await, app.register("bob@example.com").await);
    for _ in 0..2 {
        assert_eq!(app.get("/api/v1/audit/verify", &ada).await.status, StatusCode::OK);
    }
    let a = app.get("/api/v1/audit/verify?full=true", &ada).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", a.body);
    assert!(a.headers.contains_key("retry-after"));
    assert_eq!(app.get("/api/v1/audit/verify", &bob).await.status, StatusCode::OK, "bob has his own");
}

/// `/ready` names a dependency that is down without its raw error.
#[tokio::test]
async fn readiness_does_not_leak_errors() {
    let app = TestApp::start(Backend::Sqlite, AppOptions { api_only: true, ..Default::default() }).await;
    let todo_tests::Backing::Sql(store) = &app.backing else { unreachable!() };
    store.close().await;
    let a = app.call(Method::GET, "/ready", None, None).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.body["checks"]["event_log"], "unavailable", "{}", a.body);
    let text = a.body.to_string();
    assert!(!text.contains("pool") && !text.contains("database"), "{text}");
}

/// The webhook sender follows no redirect (the signed body would be re-POSTed
/// wherever the receiver points) and never puts the URL in its errors.
#[tokio::test]
async fn webhooks_follow_no_redirects_and_keep_urls_secret() {
    use todo_core::ports::WebhookSender;
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new()
        .route(
            "/hooks/T000SECRET/B000SECRET",
            axum::routing::post(|| async { axum::response::Redirect::temporary("/elsewhere") }),
        )
        .route(
            "/elsewhere",
            axum::routing::post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { "ok" }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sender = todo_services::adapters::webhook::HttpWebhookSender::default();
    let err = sender.send(&format!("http://{addr}/hooks/T000SECRET/B000SECRET"), &[], "{}").await.unwrap_err();
    assert!(err.contains("307") && err.contains("redirect"), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the redirect was not followed");
    // A receiver that is down: the error names the cause, not the URL.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let err = sender.send(&format!("http://{closed}/hooks/T000SECRET/B000SECRET"), &[], "{}").await.unwrap_err();
    assert!(!err.contains("SECRET") && !err.contains(&closed.port().to_string()), "{err}");
}
