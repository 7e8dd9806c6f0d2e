//! The fuzz suite: at least 100,000 generated requests through the real router
//! (every endpoint, with made-up methods, paths, queries, headers, tokens, and
//! JSON bodies mutated from valid ones, huge, deeply nested or not UTF-8), then
//! fuzzed WebSocket handshakes and frames over a real socket. No answer may be
//! 500 or above, nothing may panic, and afterwards the store passes its
//! consistency checks (SQLite integrity, every listed task its owner's and
//! readable, both users' audit chains verifying in full).
//!
//! Deterministic: the seed is printed; `TODO_FUZZ_SEED` and `TODO_FUZZ_REQUESTS`
//! replay or resize a run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use futures::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_tests::{AppOptions, Backend, Backing, TestApp, eventually};
use tokio_tungstenite::tungstenite;
use tower::ServiceExt;

const REQUESTS: usize = 100_000;
const CONCURRENCY: usize = 16;

/// What the generator knows about the app: tokens and ids that exist.
struct World {
    tokens: Vec<String>,
    /// A's tasks and B's tasks.
    ids: Vec<String>,
    conversation: String,
}

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    xs.choose(rng).expect("non-empty")
}

fn weird_string(rng: &mut StdRng) -> String {
    match rng.gen_range(0..10) {
        0 => String::new(),
        1 => "x".repeat(rng.gen_range(200..70_000)),
        2 => "\u{0}\u{1}\u{7f}\u{202e}\u{fffd}".to_owned(),
        3 => "🦀".repeat(rng.gen_range(1..3000)),
        4 => "' OR 1=1; DROP TABLE tasks; --".to_owned(),
        5 => "../../../../etc/passwd".to_owned(),
        6 => "%00%ff%c0%af".to_owned(),
        7 => "  ".to_owned(),
        8 => format!("{}", rng.r#gen::<i64>()),
        _ => (0..rng.gen_range(1..40)).map(|_| rng.gen_range(' '..='~')).collect(),
    }
}

fn weird_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.gen_range(0..12) {
        0 => Value::Null,
        1 => json!(rng.r#gen::<bool>()),
        2 => json!(rng.r#gen::<i64>()),
        3 => json!(rng.r#gen::<f64>() * 1e300),
        4 => json!(u64::MAX),
        5 if depth < 3 => Value::Array((0..rng.gen_range(0..30)).map(|_| weird_value(rng, depth + 1)).collect()),
        6 if depth < 3 => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.gen_range(0..6) {
                m.insert(weird_string(rng).chars().take(20).collect(), weird_value(rng, depth + 1));
            }
            Value::Object(m)
        }
        7 => json!("2026-13-45T25:61:61Z"),
        8 => json!("FREQ=SECONDLY;INTERVAL=0;COUNT=-1"),
        9 => json!(["a", "B", "#x", "toolongtag".repeat(10)]),
        _ => json!(weird_string(rng)),
    }
}

/// A valid body for `path`, then mutated.
fn body_for(rng: &mut StdRng, path: &str) -> Option<Vec<u8>> {
    let valid = if path.ends_with("/auth/register") || path.ends_with("/auth/login") {
        json!({"email": format!("fuzz{}@example.com", rng.gen_range(0..50)), "password": "correct horse battery", "timezone": "Europe/Berlin"})
    } else if path.ends_with("/chat") {
        json!({"message": *pick(rng, &["add buy milk tomorrow at 5pm #x", "show my tasks", "delete task 1", "mark task 2 as done", "move task 1 to friday", "help"])})
    } else if path.contains("/tasks") {
        json!({"title": "fuzzed task", "description": "d", "priority": "high", "tags": ["a"], "due_at": "2026-12-01T09:00:00Z",
               "all_day": false, "remind_at": "2026-12-01T08:00:00Z", "recurrence": "FREQ=WEEKLY;BYDAY=MO", "status": "completed"})
    } else {
        json!({})
    };
    let mut v = valid;
    match rng.gen_range(0..14) {
        0 => return None,
        1 => return Some(b"{\"title\": \"unterminated".to_vec()),
        2 => return Some(vec![0xff, 0xfe, 0x00, 0xc3, 0x28, b'{', b'}']),
        3 => {
            let depth = rng.gen_range(100..5000);
            return Some(format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes());
        }
        4 => return Some(vec![b' '; rng.gen_range(60_000..200_000)]),
        5 => return Some(format!("{{\"title\": \"{}\"}}", "y".repeat(rng.gen_range(10..100_000))).into_bytes()),
        6 => v = weird_value(rng, 0),
        7 | 8 => {
            if let Some(m) = v.as_object_mut() {
                let keys: Vec<String> = m.keys().cloned().collect();
                if let Some(k) = keys.choose(rng) {
                    m.insert(k.clone(), weird_value(rng, 1));
                }
            }
        }
        9 => {
            if let Some(m) = v.as_object_mut() {
                let keys: Vec<String> = m.keys().cloned().collect();
                if let Some(k) = keys.choose(rng) {
                    m.remove(k);
                }
                m.insert(weird_string(rng).chars().take(30).collect(), weird_value(rng, 1));
            }
        }
        _ => {
            // Valid, or with one field dropped: real work for the handlers.
            if rng.gen_bool(0.3)
                && let Some(m) = v.as_object_mut()
            {
                let keys: Vec<String> = m.keys().cloned().collect();
                if let Some(k) = keys.choose(rng) {
                    m.remove(k);
                }
            }
        }
    }
    Some(serde_json::to_vec(&v).expect("json"))
}

fn path(rng: &mut StdRng, w: &World) -> String {
    let id = match rng.gen_range(0..6) {
        0..=2 => pick(rng, &w.ids).clone(),
        3 => uuid::Uuid::new_v4().to_string(),
        4 => "not-a-uuid".to_owned(),
        _ => urlencode(&weird_string(rng).chars().take(300).collect::<String>()),
    };
    let conv = if rng.gen_bool(0.7) { w.conversation.clone() } else { uuid::Uuid::new_v4().to_string() };
    let base = match rng.gen_range(0..22) {
        0 => "/health".to_owned(),
        1 => "/ready".to_owned(),
        2 => "/metrics".to_owned(),
        3 => "/api/v1/auth/register".to_owned(),
        4 => "/api/v1/auth/login".to_owned(),
        5..=7 => "/api/v1/tasks".to_owned(),
        8 | 9 => format!("/api/v1/tasks/{id}"),
        10 => format!("/api/v1/tasks/{id}/complete"),
        11 => format!("/api/v1/tasks/{id}/reopen"),
        12 | 13 => "/api/v1/chat".to_owned(),
        14 => format!("/api/v1/conversations/{conv}/messages"),
        15 => "/api/v1/audit".to_owned(),
        16 => "/api/v1/audit/verify".to_owned(),
        17 => "/api/v1/notifications".to_owned(),
        18 => "/api/v1/openapi.json".to_owned(),
        19 => "/".to_owned(),
        20 => "/ws".to_owned(),
        _ => format!("/{}", urlencode(&weird_string(rng).chars().take(100).collect::<String>())),
    };
    if rng.gen_bool(0.4) { format!("{base}?{}", query(rng, w)) } else { base }
}

fn query(rng: &mut StdRng, w: &World) -> String {
    let keys = [
        "status",
        "priority",
        "tag",
        "q",
        "due_before",
        "due_after",
        "overdue",
        "sort",
        "limit",
        "cursor",
        "task_id",
        "type",
        "full",
        "token",
        "before",
        "zzz",
    ];
    (0..rng.gen_range(1..5))
        .map(|_| {
            let k = *pick(rng, &keys);
            let v = match rng.gen_range(0..8) {
                0 => pick(rng, &["pending", "completed", "all", "high", "-due_at", "title", "true", "50", "0", "201"])
                    .to_string(),
                1 => pick(rng, &w.ids).clone(),
                2 => "2026-11-26T09:00:00Z".to_owned(),
                3 => "-9223372036854775808".to_owned(),
                _ => weird_string(rng).chars().take(200).collect(),
            };
            format!("{}={}", urlencode(k), urlencode(&v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The methods `path` answers.
fn methods_of(path: &str) -> &'static [Method] {
    let p = path.split('?').next().unwrap_or(path);
    if p.ends_with("/complete") || p.ends_with("/reopen") || p.ends_with("/chat") || p.contains("/auth/") {
        &[Method::POST]
    } else if p == "/api/v1/tasks" {
        &[Method::GET, Method::POST]
    } else if p.starts_with("/api/v1/tasks/") {
        &[Method::GET, Method::PATCH, Method::DELETE]
    } else {
        &[Method::GET]
    }
}

fn request(rng: &mut StdRng, w: &World) -> axum::http::Request<Body> {
    let path = path(rng, w);
    let method = if rng.gen_bool(0.75) { pick(rng, methods_of(&path)).clone() } else { any_method(rng) };
    build(rng, w, method, path)
}

fn any_method(rng: &mut StdRng) -> Method {
    match rng.gen_range(0..20) {
        0..=7 => Method::GET,
        8..=12 => Method::POST,
        13 | 14 => Method::PATCH,
        15 => Method::DELETE,
        16 => Method::PUT,
        17 => Method::OPTIONS,
        18 => Method::HEAD,
        _ => Method::from_bytes(format!("FUZZ{}", rng.gen_range(0..1000)).as_bytes()).expect("a token"),
    }
}

fn build(rng: &mut StdRng, w: &World, method: Method, path: String) -> axum::http::Request<Body> {
    let mut b = axum::http::Request::builder().method(method).uri(&path);
    match rng.gen_range(0..10) {
        0..=5 => b = b.header("authorization", format!("Bearer {}", pick(rng, &w.tokens))),
        6 => {}
        7 => {
            b = b.header(
                "authorization",
                format!("Bearer {}", weird_string(rng).chars().take(5000).collect::<String>()),
            );
        }
        8 => b = b.header("authorization", "Basic YWRhOnBhc3M="),
        _ => {
            // A token whose signature or claims were tampered with.
            let t = pick(rng, &w.tokens);
            let mut bytes = t.clone().into_bytes();
            let i = rng.gen_range(0..bytes.len());
            bytes[i] = b'A' + (bytes[i] % 26);
            b = b.header("authorization", format!("Bearer {}", String::from_utf8_lossy(&bytes)));
        }
    }
    match rng.gen_range(0..8) {
        0..=4 => b = b.header("content-type", "application/json"),
        5 => {}
        6 => b = b.header("content-type", "text/plain; charset=utf-8"),
        _ => b = b.header("content-type", "application/json; charset=latin1; boundary=\u{7f}".replace('\u{7f}', "x")),
    }
    if rng.gen_bool(0.1) {
        b = b.header(
            "if-match",
            weird_string(rng).chars().filter(|c| c.is_ascii_graphic()).take(40).collect::<String>(),
        );
    }
    if rng.gen_bool(0.05) {
        b = b.header("x-forwarded-for", "1.2.3.4, garbage, ::1");
    }
    if rng.gen_bool(0.05) {
        b = b.header("origin", "https://evil.example");
    }
    let body = body_for(rng, &path).unwrap_or_default();
    b.body(Body::from(body)).unwrap_or_else(|_| axum::http::Request::new(Body::empty()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_requests_never_get_a_5xx_and_leave_the_store_consistent() {
    let total: usize = std::env::var("TODO_FUZZ_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(REQUESTS);
    let seed: u64 = std::env::var("TODO_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(rand::random);
    println!("fuzz: seed {seed} (replay with TODO_FUZZ_SEED={seed}), {total} requests");
    let app = TestApp::start(Backend::Sqlite, AppOptions::default()).await;
    let (a, b) = (app.register("ada@example.com").await, app.register("bob@example.com").await);
    let mut ids = Vec::new();
    for (t, n) in [(&a, 5), (&b, 3)] {
        for i in 0..n {
            ids.push(
                app.create_task(t, json!({"title": format!("seed {i}"), "recurrence": "FREQ=DAILY"})).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    let chat = app.post("/api/v1/chat", &a, json!({"message": "show my tasks"})).await;
    let expired = todo_services::http::jwt::JwtKeys::new(todo_tests::JWT_SECRET, -3600)
        .issue(todo_core::domain::UserId::new())
        .unwrap();
    let world = Arc::new(World {
        tokens: vec![a.clone(), a.clone(), b.clone(), expired, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".to_owned()],
        ids,
        conversation: chat.body["conversation_id"].as_str().unwrap().to_owned(),
    });

    let started = Instant::now();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut failures = Vec::new();
    let per_worker = total.div_ceil(CONCURRENCY);
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|n| {
            let (router, world) = (app.router.clone(), world.clone());
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let mut seen = std::collections::BTreeMap::<u16, usize>::new();
                let mut bad = Vec::new();
                for _ in 0..per_worker {
                    let req = request(&mut rng, &world);
                    let what = format!("{} {}", req.method(), req.uri());
                    let res = router.clone().oneshot(req).await.expect("infallible");
                    let status = res.status().as_u16();
                    *seen.entry(status).or_insert(0) += 1;
                    if status >= 500 && status != 503 {
                        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap_or_default();
                        bad.push(format!("{status} for {what}: {}", String::from_utf8_lossy(&body)));
                    } else if status == 503 {
                        // Only the hashing cap may answer 503 here.
                        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap_or_default();
                        if !String::from_utf8_lossy(&body).contains("busy") {
                            bad.push(format!("503 for {what}: {}", String::from_utf8_lossy(&body)));
                        }
                    }
                }
                (seen, bad)
            })
        })
        .collect();
    for w in workers {
        let (seen, bad) = w.await.expect("a fuzz worker panicked");
        for (s, n) in seen {
            *statuses.entry(s).or_insert(0) += n;
        }
        failures.extend(bad);
    }
    let sent: usize = statuses.values().sum();
    println!("fuzz: {sent} requests in {:.1?}; statuses {statuses:?}", started.elapsed());
    assert!(sent >= total, "{sent} requests");
    assert!(failures.is_empty(), "{} answers >= 500, e.g. {:?}", failures.len(), &failures[..failures.len().min(5)]);

    ws_fuzz(&app, &world, seed).await;
    consistent(&app, &a, &b).await;
}

/// Fuzzed handshakes and frames over a real socket: no 5xx, no hang, and the
/// server keeps serving.
async fn ws_fuzz(app: &TestApp, w: &World, seed: u64) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut rng = StdRng::seed_from_u64(seed.rotate_left(7));
    let mut upgraded = 0;
    for _ in 0..300 {
        let mut req = format!("ws://{}/ws{}", app.addr, if rng.gen_bool(0.2) { "?token=x" } else { "" })
            .into_client_request()
            .expect("a request");
        let protocol = match rng.gen_range(0..6) {
            0 => None,
            1 => Some(format!("bearer, {}", pick(&mut rng, &w.tokens))),
            2 => Some("bearer".to_owned()),
            3 => Some(format!(
                "bearer,{}",
                weird_string(&mut rng).chars().filter(|c| c.is_ascii_graphic()).take(3000).collect::<String>()
            )),
            4 => Some(format!("chat, bearer, {}", pick(&mut rng, &w.tokens))),
            _ => Some(format!("bearer, {}", pick(&mut rng, &w.tokens))),
        };
        if let Some(p) = protocol
            && let Ok(v) = p.parse()
        {
            req.headers_mut().insert("sec-websocket-protocol", v);
        }
        match tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(req)).await {
            Err(_) => panic!("a WebSocket handshake hung"),
            Ok(Err(tungstenite::Error::Http(res))) => {
                assert!(res.status().as_u16() < 500, "handshake answered {}", res.status());
            }
            Ok(Err(e)) => panic!("handshake failed oddly: {e}"),
            Ok(Ok((mut ws, _))) => {
                upgraded += 1;
                for _ in 0..rng.gen_range(0..5) {
                    let msg = match rng.gen_range(0..5) {
                        0 => tungstenite::Message::Text(
                            weird_string(&mut rng).chars().take(8000).collect::<String>().into(),
                        ),
                        1 => tungstenite::Message::Binary(vec![0u8; rng.gen_range(0..10_000)].into()),
                        2 => tungstenite::Message::Ping(vec![1, 2, 3].into()),
                        3 => tungstenite::Message::Pong(Default::default()),
                        _ => tungstenite::Message::Text("{\"subscribe\": \"everything\"}".into()),
                    };
                    if ws.send(msg).await.is_err() {
                        break;
                    }
                }
                let _ = tokio::time::timeout(Duration::from_millis(50), ws.next()).await;
                let _ = ws.close(None).await;
            }
        }
    }
    println!("fuzz: 300 WebSocket handshakes, {upgraded} upgraded");
    assert!(upgraded > 0, "some handshakes were valid");
    assert_eq!(app.call(Method::GET, "/health", None, None).await.status, StatusCode::OK);
}

/// The store's consistency checks after the fuzz.
async fn consistent(app: &TestApp, a: &str, b: &str) {
    let Backing::Sql(store) = &app.backing else { unreachable!("a SQLite app") };
    let pool = store.as_sqlite().expect("SQLite").pool();
    let integrity: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(pool).await.expect("integrity_check");
    assert_eq!(integrity, "ok");
    let fk: Vec<(String,)> =
        sqlx::query_as("PRAGMA foreign_key_check").fetch_all(pool).await.expect("foreign_key_check");
    assert!(fk.is_empty(), "foreign keys: {fk:?}");
    let mut total = 0;
    for (token, other) in [(a, b), (b, a)] {
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/tasks?status=all&limit=200&cursor={c}"),
                None => "/api/v1/tasks?status=all&limit=200".to_owned(),
            };
            let page = app.get(&path, token).await;
            assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
            let me = app.get("/api/v1/tasks?limit=1", token).await;
            assert_eq!(me.status, StatusCode::OK);
            for t in page.body["items"].as_array().unwrap() {
                total += 1;
                let id = t["id"].as_str().unwrap();
                let own = app.get(&format!("/api/v1/tasks/{id}"), token).await;
                assert_eq!(own.status, StatusCode::OK, "a listed task reads back");
                assert_eq!(own.body["version"], t["version"]);
                let theirs = app.get(&format!("/api/v1/tasks/{id}"), other).await;
                assert_eq!(theirs.status, StatusCode::NOT_FOUND, "another user never sees it");
                let title = t["title"].as_str().unwrap();
                assert!(!title.trim().is_empty() && title.chars().count() <= 200, "{title:?}");
            }
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
    }
    println!("fuzz: {total} tasks after the run, all consistent");
    // Every event reaches the audit trail and both chains verify in full.
    for token in [a, b] {
        let marker = app.create_task(token, json!({"title": "after the fuzz"})).await;
        let id = marker["id"].as_str().unwrap().to_owned();
        eventually(60, "the audit trail catches up", || async {
            let page = app.get(&format!("/api/v1/audit?task_id={id}"), token).await;
            (page.body["items"].as_array().is_some_and(|i| !i.is_empty())).then_some(())
        })
        .await;
        let v = app.get("/api/v1/audit/verify?full=true", token).await;
        assert_eq!(v.body["ok"], true, "{}", v.body);
    }
}
