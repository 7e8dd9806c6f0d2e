//! The reactive services end to end: recurrence, reminders and webhooks, audit, live sync.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_core::consumer::{self, RetryPolicy};
use todo_core::events::{EventFactory, Topic};
use todo_core::ports::StartFrom;
use todo_core::service::TaskService;
use todo_core::service::notification::{SIGNATURE_HEADER, verify_webhook};
use todo_core::service::recurring::RecurringTaskHandler;
use todo_tests::{AppOptions, Backend, TestApp, eventually, on_every_log, percentile};
use tokio_tungstenite::tungstenite;
use tokio_util::sync::CancellationToken;

on_every_log!(
    recurring_last_friday_three_times_and_redelivered,
    reminders_fire_once_on_time,
    reminders_survive_a_restart_mid_way,
    webhook_retries_until_delivered_once,
    audit_trail_complete_and_verifiable,
    live_updates_reach_only_their_user,
);

async fn pending(app: &TestApp, t: &str) -> Vec<Value> {
    app.get("/api/v1/tasks", t).await.body["items"].as_array().unwrap().clone()
}

async fn recurring_last_friday_three_times_and_redelivered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    let first = app
        .create_task(&t, json!({"title": "clean the fridge", "recurrence": "FREQ=MONTHLY;BYDAY=-1FR", "due_at": "2026-11-27T00:00:00Z", "all_day": true, "priority": "high", "tags": ["home"]}))
        .await;
    let mut current = first;
    let mut dues = vec![];
    for n in 1..=3 {
        app.post(&format!("/api/v1/tasks/{}/complete", current["id"].as_str().unwrap()), &t, json!({})).await;
        let done_id = current["id"].clone();
        current = eventually(10, &format!("successor {n}"), || async {
            let p = pending(&app, &t).await;
            (p.len() == 1 && p[0]["id"] != done_id).then(|| p[0].clone())
        })
        .await;
        assert_eq!(current["priority"], "high");
        assert_eq!(current["tags"], json!(["home"]));
        assert_eq!(current["all_day"], true);
        dues.push(current["due_at"].as_str().unwrap().to_owned());
    }
    assert_eq!(dues, ["2026-12-25T00:00:00Z", "2027-01-29T00:00:00Z", "2027-02-26T00:00:00Z"]);

    // Deliver every completion event again: no new occurrence appears.
    let ports = &app.ports;
    let handler = RecurringTaskHandler::new(TaskService::new(
        ports.tasks.clone(),
        ports.users.clone(),
        ports.clock.clone(),
        EventFactory::new("/todo/recurring-task"),
    ));
    let topic = ports.log.topic_names().name(Topic::TaskEvents);
    // A group of its own (Kafka groups are broker-wide), read from the start.
    let group = format!("replay-{}", uuid::Uuid::new_v4().simple());
    let mut sub = ports.log.subscribe(&group, &[topic], StartFrom::Earliest).await.unwrap();
    let token = CancellationToken::new();
    let mut completions = 0;
    loop {
        // Joining a Kafka group takes a while: wait long for the three completions,
        // then briefly for anything after them.
        let wait = Duration::from_millis(if completions < 3 { 30_000 } else { 500 });
        let Ok(r) = tokio::time::timeout(wait, sub.next()).await else { break };
        let r = r.unwrap();
        completions += usize::from(r.header("ce_type") == Some("todo.task.completed.v1"));
        consumer::process(&*ports.log, &handler, &group, &r, RetryPolicy::default(), &token).await.unwrap();
        sub.commit(&r).await.unwrap();
    }
    sub.close().await.unwrap();
    assert_eq!(completions, 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = app.get("/api/v1/tasks?status=all", &t).await.body["items"].as_array().unwrap().len();
    assert_eq!(all, 4, "one original and three successors, even after redelivery");
}

/// Creates `n` tasks whose reminders are spread evenly over `[base, base + spread)`;
/// returns task id → remind_at.
async fn spread_reminders(
    app: &TestApp,
    t: &str,
    n: i64,
    base: chrono::DateTime<chrono::Utc>,
    spread_ms: i64,
) -> HashMap<String, chrono::DateTime<chrono::Utc>> {
    let mut expected = HashMap::new();
    for i in 0..n {
        let at = base + chrono::Duration::milliseconds(i * spread_ms / n);
        let task = app
            .create_task(
                t,
                json!({"title": format!("r{i}"), "remind_at": at, "due_at": at + chrono::Duration::minutes(5)}),
            )
            .await;
        expected.insert(task["id"].as_str().unwrap().to_owned(), at);
    }
    expected
}

/// Every notification of the user, through all pages.
async fn all_notifications(app: &TestApp, t: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/notifications?limit=200&cursor={c}"),
            None => "/api/v1/notifications?limit=200".to_owned(),
        };
        let page = app.get(&path, t).await.body;
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// Waits for `expected.len()` notifications, checks each fired once and never
/// early, and returns their lateness in seconds.
async fn notifications_once(
    app: &TestApp,
    t: &str,
    expected: &HashMap<String, chrono::DateTime<chrono::Utc>>,
) -> Vec<f64> {
    let fired: Vec<Value> = eventually(60, "every reminder fired", || async {
        let items = all_notifications(app, t).await;
        (items.len() >= expected.len()).then_some(items)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = all_notifications(app, t).await.len();
    assert_eq!(again, expected.len(), "each reminder fires once; the completed one never");
    let mut tasks = std::collections::HashSet::new();
    let mut lateness = vec![];
    for n in &fired {
        let id = n["task_id"].as_str().unwrap();
        assert!(tasks.insert(id.to_owned()), "task {id} notified twice");
        let at = expected.get(id).unwrap_or_else(|| panic!("unexpected notification {n}"));
        let fired_at: chrono::DateTime<chrono::Utc> = n["fired_at"].as_str().unwrap().parse().unwrap();
        lateness.push((fired_at - *at).num_microseconds().unwrap() as f64 / 1e6);
    }
    assert!(lateness.iter().all(|l| *l >= 0.0), "never early");
    lateness
}

async fn reminders_fire_once_on_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    // 200 reminders spread over 10 s, starting once they are all created.
    let base = chrono::Utc::now() + chrono::Duration::seconds(8);
    let mut expected = spread_reminders(&app, &t, 200, base, 10_000).await;
    // One completed before its time and one moved: they must not fire at the old time.
    let early =
        app.create_task(&t, json!({"title": "done early", "remind_at": base + chrono::Duration::seconds(2)})).await;
    app.post(&format!("/api/v1/tasks/{}/complete", early["id"].as_str().unwrap()), &t, json!({})).await;
    let moved = app.create_task(&t, json!({"title": "moved", "remind_at": base + chrono::Duration::seconds(2)})).await;
    let later = base + chrono::Duration::seconds(11);
    app.call(
        Method::PATCH,
        &format!("/api/v1/tasks/{}", moved["id"].as_str().unwrap()),
        Some(&t),
        Some(json!({"remind_at": later})),
    )
    .await;
    expected.insert(moved["id"].as_str().unwrap().to_owned(), later);
    assert!(chrono::Utc::now() < base, "the reminders were created before the first was due");

    let mut lateness = notifications_once(&app, &t, &expected).await;
    let (p50, p99) = (percentile(&mut lateness, 50.0), percentile(&mut lateness, 99.0));
    let max = lateness.iter().cloned().fold(0.0, f64::max);
    eprintln!(
        "{backend:?}: {} reminders over 10 s: lateness p50 {p50:.3} s, p99 {p99:.3} s, max {max:.3} s",
        lateness.len()
    );
    assert!(p99 <= 1.0, "p99 lateness {p99} s");
}

async fn reminders_survive_a_restart_mid_way(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    let base = chrono::Utc::now() + chrono::Duration::seconds(4);
    let expected = spread_reminders(&app, &t, 100, base, 6_000).await;
    // Stop everything half-way through, then start again on the same database.
    tokio::time::sleep((base - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(3)).await;
    let app = app.restart().await;
    let mut lateness = notifications_once(&app, &t, &expected).await;
    eprintln!(
        "{backend:?}: 100 reminders with a restart mid-way: none lost, none doubled; lateness p50 {:.3} s, max {:.3} s",
        percentile(&mut lateness, 50.0),
        lateness.iter().cloned().fold(0.0, f64::max)
    );
}

/// A webhook receiver that fails the first `fail_first` requests of each event with 500.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<(String, String, String)>>>) {
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let attempts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (s, a) = (seen.clone(), attempts);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (seen, attempts) = (s.clone(), a.clone());
            async move {
                let id = headers["x-todo-event-id"].to_str().unwrap().to_owned();
                let sig = headers[SIGNATURE_HEADER].to_str().unwrap().to_owned();
                let n = {
                    let mut a = attempts.lock().unwrap();
                    let n = a.entry(id.clone()).or_default();
                    *n += 1;
                    *n
                };
                if n <= fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                seen.lock().unwrap().push((id, sig, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn webhook_retries_until_delivered_once(backend: Backend) {
    let (url, seen) = receiver(2).await;
    let secret = b"webhook-secret".to_vec();
    let app = TestApp::start(backend, AppOptions { webhook: Some((url, secret.clone())), ..Default::default() }).await;
    let t = app.register("ada@example.com").await;
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(500);
    for i in 0..3 {
        app.create_task(&t, json!({"title": format!("hook {i}"), "remind_at": at})).await;
    }
    // 500, 500 (1 s and 2 s backoff), then 200.
    eventually(20, "three webhook deliveries", || async { (seen.lock().unwrap().len() >= 3).then_some(()) }).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "each reminder delivered exactly once after the retries");
    for (id, sig, body) in &seen {
        assert!(verify_webhook(&secret, sig, body), "valid HMAC for {id}");
        let ev: Value = serde_json::from_str(body).unwrap();
        assert_eq!(ev["type"], "todo.reminder.due.v1");
        assert_eq!(&ev["id"], id);
    }
}

async fn audit_trail_complete_and_verifiable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice@example.com").await;
    let b = app.register("bob@example.com").await;
    let task = app.create_task(&a, json!({"title": "audited", "remind_at": "2099-01-01T00:00:00Z"})).await;
    let id = task["id"].as_str().unwrap();
    app.call(Method::PATCH, &format!("/api/v1/tasks/{id}"), Some(&a), Some(json!({"title": "audited twice"}))).await;
    app.post(&format!("/api/v1/tasks/{id}/complete"), &a, json!({})).await;
    app.call(Method::DELETE, &format!("/api/v1/tasks/{id}"), Some(&a), None).await;
    app.create_task(&b, json!({"title": "bob's"})).await;
    // created: task-events + reminders + task-updates; updated: 3 (title moves the reminder);
    // completed: 3 (cancel); deleted: 2 (no live reminder).
    let expected = 11;
    let entries: Vec<Value> = eventually(10, "every event audited", || async {
        let items = app.get("/api/v1/audit?limit=200", &a).await.body["items"].as_array().unwrap().clone();
        (items.len() >= expected).then_some(items)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.get("/api/v1/audit?limit=200", &a).await.body["items"].as_array().unwrap().len(), expected);
    let mut ids: Vec<&str> = entries.iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), expected, "each event once");
    assert!(entries.iter().all(|e| e["user_id"] == task["user_id"]), "only the caller's entries");
    let completed = app.get(&format!("/api/v1/audit?type=todo.task.completed.v1&task_id={id}"), &a).await;
    assert_eq!(completed.body["items"].as_array().unwrap().len(), 1);
    let verify = app.get("/api/v1/audit/verify", &a).await;
    assert_eq!(verify.body["ok"], true);
    assert_eq!(verify.body["entries_checked"], expected);
    // Tampering with a row by hand (around the append-only guard) is detected.
    let user: todo_core::domain::UserId = task["user_id"].as_str().unwrap().parse().unwrap();
    app.tamper_audit(user, 4, |ev| ev["data"]["title"] = json!("forged")).await;
    // Entry 4 lies inside the prefix verified above: a full verification finds it.
    let verify = app.get("/api/v1/audit/verify?full=true", &a).await;
    assert_eq!(verify.body["ok"], false);
    assert_eq!(verify.body["first_bad"]["seq"], 4, "{}", verify.body);
    assert_eq!(verify.body["entries_checked"], expected);
    // Bob sees only his own.
    let bobs = eventually(10, "bob's events audited", || async {
        let items = app.get("/api/v1/audit", &b).await.body["items"].as_array().unwrap().clone();
        (items.len() == 2).then_some(items)
    })
    .await;
    assert!(bobs.iter().all(|e| e["user_id"] != task["user_id"]));
    assert_eq!(app.get(&format!("/api/v1/audit?task_id={id}"), &b).await.body["items"], json!([]));
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(todo_tests::ws_request(app.addr, token)).await.expect("ws connect");
    ws
}

/// A client whose socket buffers almost nothing, so that not reading soon
/// pushes back on the server (a loopback socket would otherwise buffer megabytes).
async fn connect_tiny_buffer(app: &TestApp, token: &str) -> Ws {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&app.addr.into()).unwrap();
    socket.set_nonblocking(true).unwrap();
    let stream = tokio::net::TcpStream::from_std(socket.into()).unwrap();
    let (ws, _) = tokio_tungstenite::client_async(
        todo_tests::ws_request(app.addr, token),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .expect("ws connect");
    ws
}

/// Reads and drops whatever is already queued.
async fn drain(ws: &mut Ws) {
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), ws.next()).await {}
}

async fn next_event(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a message in time") {
            Some(Ok(tungstenite::Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}

async fn live_updates_reach_only_their_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice@example.com").await;
    let b = app.register("bob@example.com").await;
    let mut a1 = connect(&app, &a).await;
    let mut a2 = connect(&app, &a).await;
    let mut b1 = connect(&app, &b).await;
    let mut slow = connect_tiny_buffer(&app, &a).await; // never reads
    // Bad tokens are refused before the upgrade.
    assert!(tokio_tungstenite::connect_async(todo_tests::ws_request(app.addr, "forged")).await.is_err());
    // The sync consumer starts at the latest record once it has joined its group:
    // wait until a first event gets through.
    let joined = tokio::time::Instant::now() + Duration::from_secs(30);
    for n in 0.. {
        app.create_task(&a, json!({"title": format!("warm-up {n}")})).await;
        if tokio::time::timeout(Duration::from_millis(500), a1.next()).await.is_ok() {
            break;
        }
        assert!(tokio::time::Instant::now() < joined, "the sync consumer never joined");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    drain(&mut a1).await;
    drain(&mut a2).await;
    drain(&mut slow).await;
    let mut latencies = vec![];
    for i in 0..20 {
        let sent = Instant::now();
        let task = app.create_task(&a, json!({"title": format!("live {i}")})).await;
        for ws in [&mut a1, &mut a2] {
            let ev = next_event(ws).await;
            assert_eq!(ev["type"], "todo.task.changed.v1");
            assert_eq!(ev["data"]["task_id"], task["id"]);
            assert_eq!(ev["data"]["change_type"], "created");
        }
        latencies.push(sent.elapsed().as_secs_f64());
    }
    eprintln!(
        "{backend:?}: live update latency (API call to both clients): p50 {:.4} s, p99 {:.4} s",
        percentile(&mut latencies, 50.0),
        percentile(&mut latencies, 99.0)
    );
    assert!(tokio::time::timeout(Duration::from_millis(300), b1.next()).await.is_err(), "B receives nothing of A's");
    // Flood with large events: the non-reading client is dropped, the reading one keeps up.
    let flood = 1200;
    let reader = tokio::spawn(async move {
        for _ in 0..flood {
            next_event(&mut a1).await;
        }
        a1
    });
    let description = "x".repeat(8000);
    for i in 0..flood {
        app.create_task(&a, json!({"title": format!("flood {i}"), "description": description})).await;
    }
    reader.await.expect("the reading client got every event");
    let mut slow_closed = false;
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(5), slow.next()).await {
        match msg {
            Ok(tungstenite::Message::Close(Some(frame))) => {
                assert_eq!(u16::from(frame.code), 1013);
                slow_closed = true;
                break;
            }
            Ok(_) => continue,
            Err(_) => {
                slow_closed = true;
                break;
            }
        }
    }
    assert!(slow_closed, "the client that stopped reading was disconnected");
    a2.close(None).await.ok();
}
