//! Scale-out: two instances of every service on PostgreSQL + Kafka (6 partitions
//! per topic), each killed with SIGKILL at a random moment and restarted while
//! several users make 2,000 changes through two chat-api instances in turn. The
//! services are black boxes: processes, HTTP, WebSocket, Kafka and SQL.
//!
//! Checked afterwards: every effect exactly once (one successor per completed
//! occurrence, one notification per due reminder, one audit entry per event, every
//! chain verifies); every WebSocket client of a user got every change of that
//! user once and in order, reconnecting through the other sync instance with its
//! last cursor, and nothing of another user. Printed: how long the work of a
//! killed instance waited for the group to rebalance, and audit throughput with
//! one and two instances (docs/benchmarks.md, "Scale-out").
//!
//! Needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS; scripts/test runs it as its own
//! step: `cargo test -p todo-services --test scale_out -- --ignored --test-threads 1`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::Rng;
use rand::seq::SliceRandom;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, Row};
use todo_core::events::{CloudEvent, Topic, TopicNames};
use todo_core::ports::{EventLog, StartFrom};
use todo_kafka::{KafkaConfig, KafkaEventLog};
use todo_store::testing::PgDb;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const USERS: usize = 8;
const CHANGES: usize = 2000;
const PARTITIONS: i32 = 6;
/// Consumer session timeout of the services: how long a killed member's partitions wait.
const SESSION_TIMEOUT_MS: u64 = 6000;

fn servers() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        .expect("KAFKA_BOOTSTRAP_SERVERS is not set: start a broker with `export $(scripts/kafka-local start)`")
}

/// Where processes log (kept after a failure for a look).
fn log_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("todo-scale-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("log dir");
    dir
}

/// The settings every process of one deployment shares.
#[derive(Clone)]
struct Deployment {
    db: String,
    kafka: String,
    prefix: String,
    jwt: String,
    logs: PathBuf,
}

impl Deployment {
    fn new(db: &str, logs: &Path) -> Self {
        let jwt: String = {
            let bytes: [u8; 32] = rand::thread_rng().r#gen();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        Self {
            db: db.to_owned(),
            kafka: servers(),
            prefix: format!("s{}.", uuid::Uuid::new_v4().simple()),
            jwt,
            logs: logs.to_owned(),
        }
    }

    fn command(&self, bin: &str) -> Command {
        let mut c = Command::new(bin);
        c.env("DATABASE_URL", &self.db)
            .env("KAFKA_BOOTSTRAP_SERVERS", &self.kafka)
            .env("KAFKA_TOPIC_PREFIX", &self.prefix)
            .env("KAFKA_PARTITIONS", PARTITIONS.to_string())
            .env("KAFKA_SESSION_TIMEOUT_MS", SESSION_TIMEOUT_MS.to_string())
            .env("JWT_SECRET", &self.jwt)
            .env("TODO_BIND", "127.0.0.1:0")
            .env("TODO_MIGRATE", "skip")
            .env("TODO_RATE_LIMIT", "0")
            .env("RUST_LOG", "warn")
            .env("LOG_FORMAT", "text")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    }

    fn names(&self) -> TopicNames {
        TopicNames::new(self.prefix.clone())
    }

    fn kafka_log(&self) -> KafkaEventLog {
        KafkaEventLog::new(KafkaConfig::new(self.kafka.clone()).with_topic_prefix(self.prefix.clone()))
            .expect("kafka client")
    }
}

/// One running service process.
struct Instance {
    child: Child,
    addr: SocketAddr,
}

/// Starts `bin` and waits until it listens and is ready.
async fn start(dep: &Deployment, bin: &'static str, label: &str) -> Instance {
    let mut child = dep.command(bin).spawn().unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dep.logs.join(format!("{label}.log")))
        .expect("log file");
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
            if let Some(addr) = line.split("listening on http://").nth(1)
                && let Ok(addr) = addr.trim().parse::<SocketAddr>()
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(addr);
            }
        }
    });
    let addr = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(90)))
        .await
        .unwrap()
        .unwrap_or_else(|_| panic!("{label} did not start listening (log in {})", dep.logs.display()));
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("http://{addr}/ready")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "{label} not ready within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Instance { child, addr }
}

/// Two instances of each service; `addrs` is what clients see (updated on restart).
struct Stack {
    dep: Deployment,
    services: HashMap<&'static str, [Option<Instance>; 2]>,
    addrs: HashMap<&'static str, watch::Sender<[SocketAddr; 2]>>,
}

const SERVICES: [(&str, &str); 5] = [
    ("chat-api", env!("CARGO_BIN_EXE_chat-api")),
    ("sync", env!("CARGO_BIN_EXE_sync-service")),
    ("audit", env!("CARGO_BIN_EXE_audit-service")),
    ("notification", env!("CARGO_BIN_EXE_notification-service")),
    ("recurring", env!("CARGO_BIN_EXE_recurring-task-service")),
];

fn bin_of(service: &str) -> &'static str {
    SERVICES.iter().find(|(s, _)| *s == service).expect("a service").1
}

impl Stack {
    async fn start(dep: Deployment, which: &[&'static str]) -> Self {
        let mut stack = Stack { dep, services: HashMap::new(), addrs: HashMap::new() };
        for &service in which {
            let (first, second) = (format!("{service}-0"), format!("{service}-1"));
            let (a, b) =
                tokio::join!(start(&stack.dep, bin_of(service), &first), start(&stack.dep, bin_of(service), &second));
            stack.addrs.insert(service, watch::channel([a.addr, b.addr]).0);
            stack.services.insert(service, [Some(a), Some(b)]);
        }
        stack
    }

    fn addrs(&self, service: &str) -> watch::Receiver<[SocketAddr; 2]> {
        self.addrs[service].subscribe()
    }

    /// SIGKILL: no shutdown, no final commit, no leaving the consumer group.
    fn kill(&mut self, service: &'static str, i: usize) {
        let mut inst = self.services.get_mut(service).unwrap()[i].take().expect("running");
        inst.child.kill().expect("kill -9");
        inst.child.wait().ok();
    }

    async fn restart(&mut self, service: &'static str, i: usize) {
        let label = format!("{service}-{i}");
        let inst = start(&self.dep, bin_of(service), &label).await;
        self.addrs[service].send_modify(|a| a[i] = inst.addr);
        self.services.get_mut(service).unwrap()[i] = Some(inst);
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for slots in self.services.values_mut() {
            for inst in slots.iter_mut().flatten() {
                let _ = inst.child.kill();
                let _ = inst.child.wait();
            }
        }
    }
}

/// `todo migrate` once, before any service starts (they run with TODO_MIGRATE=skip).
fn migrate(dep: &Deployment) {
    let status = dep
        .command(env!("CARGO_BIN_EXE_todo"))
        .arg("migrate")
        .stderr(Stdio::null())
        .status()
        .expect("run todo migrate");
    assert!(status.success(), "todo migrate failed");
}

/// REST calls in turn on the two chat-api instances; a call that cannot reach
/// one (killed, restarting) goes to the other.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    addrs: watch::Receiver<[SocketAddr; 2]>,
    turn: Arc<std::sync::atomic::AtomicUsize>,
    /// Calls that went to the other instance after the first failed.
    failovers: Arc<std::sync::atomic::AtomicUsize>,
}

impl Api {
    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> (StatusCode, Value) {
        let first = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.call_on(first, method, path, token, body).await
    }

    /// Starts with instance `first % 2`.
    async fn call_on(
        &self,
        first: usize,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let deadline = Instant::now() + Duration::from_secs(60);
        for attempt in 0.. {
            let addr = self.addrs.borrow()[(first + attempt) % 2];
            let mut req = self.http.request(method.clone(), format!("http://{addr}{path}"));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.timeout(Duration::from_secs(20)).send().await {
                Ok(res) if res.status() != StatusCode::SERVICE_UNAVAILABLE => {
                    let status = res.status();
                    let v = res.json().await.unwrap_or(Value::Null);
                    return (status, v);
                }
                _ => {
                    self.failovers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    assert!(Instant::now() < deadline, "{method} {path}: no chat-api instance answered for 60 s");
                    tokio::time::sleep(Duration::from_millis(if attempt % 2 == 0 { 20 } else { 200 })).await;
                }
            }
        }
        unreachable!()
    }
}

struct User {
    id: String,
    token: String,
}

async fn register(api: &Api, n: usize) -> User {
    let email = format!("scale{n}-{}@example.com", uuid::Uuid::new_v4().simple());
    let body = json!({"email": email, "password": "correct horse battery staple"});
    let (status, v) = api.call(Method::POST, "/api/v1/auth/register", None, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    User { id: v["user"]["id"].as_str().unwrap().to_owned(), token: v["token"].as_str().unwrap().to_owned() }
}

/// What one WebSocket client received, and how often it reconnected.
#[derive(Default)]
struct Received {
    /// (event id, user id, cursor) in arrival order.
    messages: Vec<(String, String, String)>,
    reconnects: usize,
    /// Close codes other than the expected ones (going away, abnormal).
    refused: Vec<String>,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(addr: SocketAddr, token: &str, after: Option<&str>) -> Option<Ws> {
    let url = match after {
        Some(c) => format!("ws://{addr}/ws?after={c}"),
        None => format!("ws://{addr}/ws"),
    };
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", format!("bearer, {token}").parse().unwrap());
    match tokio::time::timeout(Duration::from_secs(5), tokio_tungstenite::connect_async(req)).await {
        Ok(Ok((ws, _))) => Some(ws),
        _ => None,
    }
}

/// A client of `user` that starts on sync instance `first`, and on every
/// disconnection resumes with its last cursor on the other instance.
fn ws_client(
    sync: watch::Receiver<[SocketAddr; 2]>,
    token: String,
    first: usize,
    stop: watch::Receiver<bool>,
) -> (Arc<Mutex<Received>>, tokio::task::JoinHandle<()>) {
    let got = Arc::new(Mutex::new(Received::default()));
    let out = got.clone();
    let task = tokio::spawn(async move {
        let mut instance = first;
        let mut cursor: Option<String> = None;
        let mut stop = stop;
        loop {
            let addr = sync.borrow()[instance % 2];
            let Some(mut ws) = ws_connect(addr, &token, cursor.as_deref()).await else {
                instance += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            loop {
                let msg = tokio::select! {
                    m = ws.next() => m,
                    _ = stop.changed() => return,
                };
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        let v: Value = serde_json::from_str(&t).expect("a JSON message");
                        let c = v["cursor"].as_str().expect("every message has a cursor").to_owned();
                        let mut g = got.lock().unwrap();
                        g.messages.push((
                            v["id"].as_str().unwrap().to_owned(),
                            v["userid"].as_str().unwrap().to_owned(),
                            c.clone(),
                        ));
                        cursor = Some(c);
                    }
                    Some(Ok(Message::Close(Some(frame)))) => {
                        let code = u16::from(frame.code);
                        if !matches!(frame.code, CloseCode::Away | CloseCode::Error | CloseCode::Again) {
                            got.lock().unwrap().refused.push(format!("{code} {}", frame.reason));
                        }
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                }
            }
            got.lock().unwrap().reconnects += 1;
            instance += 1;
        }
    });
    (out, task)
}

/// A user's `task-updates` events in log order, each once (a record the relay
/// published twice counts at its first place).
async fn task_updates_by_user(dep: &Deployment, want: usize) -> (HashMap<String, Vec<String>>, usize) {
    let log = dep.kafka_log();
    let topic = dep.names().name(Topic::TaskUpdates);
    let group = format!("check-{}", uuid::Uuid::new_v4().simple());
    let mut sub = log.subscribe(&group, &[topic], StartFrom::Earliest).await.expect("subscribe");
    let mut seen = HashSet::new();
    let mut records = 0;
    let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < want && Instant::now() < deadline {
        if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(2), sub.next()).await {
            records += 1;
            let ev = CloudEvent::from_json_bytes(&r.payload).expect("our event");
            if seen.insert(ev.id) {
                by_user.entry(ev.userid.to_string()).or_default().push(ev.id.to_string());
            }
        }
    }
    let _ = sub.close().await;
    assert_eq!(seen.len(), want, "every task-updates event of the outbox is on Kafka");
    (by_user, records - want)
}

async fn scalar(db: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(db).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get::<i64, _>(0)
}

/// Waits until `check` holds, at most `secs`.
async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match check().await {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("{what} within {secs} s: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the scale-out step of scripts/test (needs PostgreSQL and Kafka; about 2 minutes)"]
async fn two_of_every_service_killed_at_random_keep_every_effect_exactly_once() {
    let t0 = Instant::now();
    let pg = PgDb::create().await;
    let logs = log_dir();
    let dep = Deployment::new(&pg.url, &logs);
    migrate(&dep);
    let mut stack = Stack::start(dep.clone(), &["chat-api", "sync", "audit", "notification", "recurring"]).await;
    eprintln!("scale-out: 10 instances ready after {:.1} s (logs in {})", t0.elapsed().as_secs_f64(), logs.display());

    let api = Api {
        http: reqwest::Client::new(),
        addrs: stack.addrs("chat-api"),
        turn: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        failovers: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
    };
    let mut users = Vec::new();
    for n in 0..USERS {
        users.push(register(&api, n).await);
    }

    // Two WebSocket clients per user, one on each sync instance.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut clients = Vec::new();
    for (n, u) in users.iter().enumerate() {
        for first in 0..2 {
            let (got, task) = ws_client(stack.addrs("sync"), u.token.clone(), first, stop_rx.clone());
            clients.push((n, first, got, task));
        }
    }

    // Live updates across instances: each user's first change goes through one
    // chat-api instance, and both of the user's clients (one per sync instance)
    // must see it. Repeated until they do (a sync instance that just started
    // may not have its partitions yet).
    let t_warm = Instant::now();
    for (n, u) in users.iter().enumerate() {
        for round in 0.. {
            let body = json!({"title": format!("warm-up {round}")});
            let (status, task) =
                api.call_on(n + round, Method::POST, "/api/v1/tasks", Some(&u.token), Some(&body)).await;
            assert_eq!(status, StatusCode::CREATED, "{task}");
            let seen =
                || clients.iter().filter(|c| c.0 == n).all(|(_, _, got, _)| !got.lock().unwrap().messages.is_empty());
            let deadline = Instant::now() + Duration::from_secs(3);
            while !seen() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if seen() {
                break;
            }
            assert!(round < 10, "user {n}'s clients saw none of 10 changes");
        }
    }
    eprintln!(
        "scale-out: every client on either sync instance sees changes made through either chat-api instance ({:.1} s)",
        t_warm.elapsed().as_secs_f64()
    );

    // The load: CHANGES changes, USERS users at once, while one instance of each
    // service is killed at a random moment and restarted.
    let load_start = chrono::Utc::now();
    let stats = Arc::new(Mutex::new(LoadStats::default()));
    let mut writers = Vec::new();
    for u in &users {
        let (api, token, stats) = (api.clone(), u.token.clone(), stats.clone());
        writers.push(tokio::spawn(async move { load(api, token, CHANGES / USERS, stats).await }));
    }
    // Five random moments in the first 20 s of the load, one per service.
    let mut kills = Vec::new();
    let mut order: Vec<&'static str> = vec!["chat-api", "sync", "audit", "notification", "recurring"];
    order.shuffle(&mut rand::thread_rng());
    let mut moments: Vec<u64> = (0..order.len()).map(|_| rand::thread_rng().gen_range(1000..20_000)).collect();
    moments.sort_unstable();
    let started = Instant::now();
    for (service, at_ms) in order.into_iter().zip(moments) {
        let wait = Duration::from_millis(at_ms).saturating_sub(started.elapsed());
        tokio::time::sleep(wait).await;
        let i = rand::thread_rng().gen_range(0..2);
        let at = chrono::Utc::now();
        stack.kill(service, i);
        tokio::time::sleep(Duration::from_millis(rand::thread_rng().gen_range(300..1500))).await;
        let restarting = Instant::now();
        stack.restart(service, i).await;
        eprintln!(
            "scale-out: killed {service}-{i}, restarted and ready in {:.1} s",
            restarting.elapsed().as_secs_f64()
        );
        kills.push((service, at));
    }
    for w in writers {
        w.await.unwrap();
    }
    let load_secs = (chrono::Utc::now() - load_start).num_milliseconds() as f64 / 1000.0;
    let s = stats.lock().unwrap().clone();
    assert!(s.changes >= CHANGES, "{s:?}");
    eprintln!(
        "scale-out: {} changes in {load_secs:.1} s ({:.0}/s) through 2 chat-api instances; {} calls failed over to the \
         other instance ({} of them had gone through); reminders due until {}",
        s.changes,
        s.changes as f64 / load_secs,
        api.failovers.load(std::sync::atomic::Ordering::Relaxed),
        s.retried,
        s.last_reminder.map(|t| t.to_rfc3339()).unwrap_or_default()
    );

    let mut db = PgConnection::connect(&pg.url).await.unwrap();
    // Every reminder is due by now plus a margin.
    if let Some(last) = s.last_reminder {
        let wait = (last - chrono::Utc::now()).num_milliseconds() + 3000;
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    }

    // One successor per completed occurrence.
    eventually(60, "every completed occurrence has its successor", || {
        let url = pg.url.clone();
        async move {
            let mut db = PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
            let waiting = scalar(
                &mut db,
                "SELECT count(*) FROM (SELECT series_id FROM tasks WHERE recurrence IS NOT NULL GROUP BY series_id \
                 HAVING count(*) FILTER (WHERE status = 'pending') = 0) w",
            )
            .await;
            if waiting == 0 { Ok(()) } else { Err(format!("{waiting} series without a pending occurrence")) }
        }
    })
    .await;
    let series: Vec<(i64, i64)> = sqlx::query(
        "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'pending') \
         FROM tasks WHERE recurrence IS NOT NULL GROUP BY series_id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let completed: i64 = series.iter().map(|(c, _)| c).sum();
    assert!(completed >= (s.recurring_completed as i64), "{completed} completed occurrences");
    for (c, p) in &series {
        assert_eq!(*p, 1, "a series with {c} completed occurrences has {p} pending ones");
        assert!(*c <= 1, "each occurrence was completed once, so a series has at most one completed: {c}");
    }
    eprintln!("scale-out: {completed} completed occurrences, each with exactly one successor");

    // One notification per due reminder, none for those not due.
    eventually(30, "every due reminder fired once", || {
        let url = pg.url.clone();
        async move {
            let mut db = PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
            let unfired = scalar(
                &mut db,
                "SELECT count(*) FROM tasks t WHERE t.remind_at < now() - interval '2 seconds' AND t.status = 'pending' \
                 AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.task_id = t.id)",
            )
            .await;
            if unfired == 0 { Ok(()) } else { Err(format!("{unfired} due reminders not fired")) }
        }
    })
    .await;
    let twice = scalar(
        &mut db,
        "SELECT count(*) FROM (SELECT task_id FROM notifications GROUP BY task_id HAVING count(*) > 1) d",
    )
    .await;
    assert_eq!(twice, 0, "a reminder fired twice");
    let notifications = scalar(&mut db, "SELECT count(*) FROM notifications").await;
    assert!(notifications as usize >= s.reminders, "{notifications} notifications for {} reminders", s.reminders);
    eprintln!("scale-out: {notifications} reminders fired, each once");

    // One audit entry per event (everything the outbox holds, on all three topics).
    let events = scalar(&mut db, "SELECT count(*) FROM event_log").await;
    eventually(90, "the audit trail records every event", || {
        let url = pg.url.clone();
        async move {
            let mut db = PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
            let audited = scalar(&mut db, "SELECT count(*) FROM audit_log").await;
            let events = scalar(&mut db, "SELECT count(*) FROM event_log").await;
            if audited == events { Ok(()) } else { Err(format!("{audited} audit entries, {events} events")) }
        }
    })
    .await;
    let events_now = scalar(&mut db, "SELECT count(*) FROM event_log").await;
    assert_eq!(
        scalar(&mut db, "SELECT count(DISTINCT event_id) FROM audit_log").await,
        events_now,
        "no event audited twice"
    );
    assert_eq!(
        scalar(
            &mut db,
            "SELECT count(*) FROM event_log e LEFT JOIN audit_log a ON a.event_id::text = e.event_id WHERE a.event_id IS NULL"
        )
        .await,
        0,
        "every event audited"
    );
    eprintln!("scale-out: {events_now} events (from {events} when the load ended), each audited once");

    // Every chain verifies, through either audit instance; nothing of another user.
    let http = reqwest::Client::new();
    let audit = *stack.addrs("audit").borrow();
    let notify = *stack.addrs("notification").borrow();
    for (n, u) in users.iter().enumerate() {
        let v: Value = http
            .get(format!("http://{}/api/v1/audit/verify", audit[n % 2]))
            .bearer_auth(&u.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["ok"], true, "user {n}: {v}");
        let own = scalar(&mut db, &format!("SELECT count(*) FROM audit_log WHERE user_id = '{}'", u.id)).await;
        assert_eq!(v["entries_checked"], own, "user {n}");
        let page: Value = http
            .get(format!("http://{}/api/v1/notifications?limit=200", notify[n % 2]))
            .bearer_auth(&u.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().expect("a page of notifications") {
            assert_eq!(item["user_id"], u.id.as_str(), "user {n} sees only their notifications");
        }
    }

    // The same, for every chain at once, in SQL (docs/operations.md, "Back up and restore").
    let bad = scalar(&mut db, AUDIT_CHAINS_SQL).await;
    assert_eq!(bad, 0, "audit entries whose chain does not hold");

    // Every client got every change of its user once and in order, nothing else.
    let updates = scalar(&mut db, "SELECT count(*) FROM event_log WHERE topic LIKE '%task-updates'").await;
    let (expected, repeated) = task_updates_by_user(&dep, updates as usize).await;
    eventually(60, "every client received its user's changes", || {
        let ready = clients.iter().all(|(n, _, got, _)| {
            let want = expected.get(&users[*n].id).map_or(0, Vec::len);
            let g = got.lock().unwrap();
            let first = g.messages.first().map(|m| m.0.clone());
            let from = expected[&users[*n].id].iter().position(|id| Some(id) == first.as_ref()).unwrap_or(0);
            g.messages.len() >= want - from
        });
        async move { if ready { Ok(()) } else { Err("clients still behind".to_owned()) } }
    })
    .await;
    let _ = stop_tx.send(true);
    let mut reconnects = 0;
    let mut messages = 0;
    for (n, first, got, task) in clients {
        task.await.unwrap();
        let g = got.lock().unwrap();
        let user = &users[n];
        assert!(g.refused.is_empty(), "user {n} client {first}: refused: {:?}", g.refused);
        assert!(g.messages.iter().all(|m| m.1 == user.id), "user {n} client {first} got another user's event");
        let want = &expected[&user.id];
        let ids: Vec<&String> = g.messages.iter().map(|m| &m.0).collect();
        let from = want.iter().position(|id| id == ids[0]).expect("the first message is one of the user's events");
        assert!(from < 11, "user {n} client {first} started at its {from}th event: a warm-up, before the load");
        let want: Vec<&String> = want[from..].iter().collect();
        if ids != want {
            let dup = ids.len() - ids.iter().collect::<HashSet<_>>().len();
            let missing = want.iter().filter(|w| !ids.contains(w)).count();
            panic!(
                "user {n} client {first}: {} messages, {} expected; {dup} repeated, {missing} missing; first difference at {:?}",
                ids.len(),
                want.len(),
                ids.iter().zip(&want).position(|(a, b)| a != b)
            );
        }
        reconnects += g.reconnects;
        messages += ids.len();
    }
    assert!(reconnects >= USERS, "the clients of the killed sync instance reconnected ({reconnects})");
    eprintln!(
        "scale-out: {} WebSocket clients got {messages} messages, every change of their user once and in order; \
         {reconnects} reconnections with a cursor; {repeated} task-updates records on Kafka were repeats (relay restarts)",
        2 * USERS
    );

    // How long a killed instance's work waited: the longest audit delay of events
    // that occurred in the 10 s after the audit instance was killed.
    let (_, killed_at) = kills.iter().find(|(s, _)| *s == "audit").unwrap();
    let stall: f64 = sqlx::query(
        "SELECT COALESCE(EXTRACT(EPOCH FROM max(recorded_at - occurred_at)), 0)::float8 FROM audit_log \
         WHERE occurred_at BETWEEN $1 AND $1 + interval '10 seconds'",
    )
    .bind(*killed_at)
    .fetch_one(&mut db)
    .await
    .unwrap()
    .get(0);
    let normal: f64 = sqlx::query(
        "SELECT COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM recorded_at - occurred_at)::float8), 0)::float8 \
         FROM audit_log WHERE occurred_at < $1",
    )
    .bind(*killed_at)
    .fetch_one(&mut db)
    .await
    .unwrap()
    .get(0);
    eprintln!(
        "scale-out: rebalancing after kill -9 of an audit instance: events waited up to {stall:.1} s to be audited \
         (median delay before the kill {:.0} ms; session timeout {} s)",
        normal * 1000.0,
        SESSION_TIMEOUT_MS / 1000
    );
    eprintln!("scale-out: done in {:.0} s", t0.elapsed().as_secs_f64());
    drop(stack);
    let _ = std::fs::remove_dir_all(&logs);
}

/// Audit entries that break their user's chain: a gap in `seq`, a `prev_hash`
/// that is not the previous entry's `hash`, or a `hash` that is not
/// `sha256(prev_hash || event)`. Kept identical to docs/operations.md.
const AUDIT_CHAINS_SQL: &str = "\
SELECT count(*) FROM (
  SELECT seq, prev_hash, hash, event,
         row_number() OVER w AS n,
         lag(hash, 1, repeat('0', 64)) OVER w AS expected_prev
  FROM audit_log WINDOW w AS (PARTITION BY user_id ORDER BY seq)
) a
WHERE seq <> n OR prev_hash <> expected_prev
   OR hash <> encode(sha256(decode(prev_hash, 'hex') || convert_to(event, 'UTF8')), 'hex')";

#[derive(Clone, Debug, Default)]
struct LoadStats {
    changes: usize,
    retried: usize,
    reminders: usize,
    recurring_completed: usize,
    last_reminder: Option<chrono::DateTime<chrono::Utc>>,
}

/// `n` changes of one user: tasks created (plain, recurring, with a reminder due
/// within seconds), renamed, completed (recurring ones once), deleted.
async fn load(api: Api, token: String, n: usize, stats: Arc<Mutex<LoadStats>>) {
    let mut plain: Vec<String> = Vec::new();
    let mut recurring: Vec<String> = Vec::new();
    let mut done = 0;
    let mut i = 0usize;
    while done < n {
        i += 1;
        let (method, path, body) = match i % 8 {
            0 | 1 => (Method::POST, "/api/v1/tasks".to_owned(), Some(json!({"title": format!("task {i}")}))),
            2 => {
                let due = chrono::Utc::now() + chrono::Duration::days(1);
                let body = json!({"title": format!("daily {i}"), "due_at": due, "recurrence": "FREQ=DAILY"});
                (Method::POST, "/api/v1/tasks".to_owned(), Some(body))
            }
            3 => {
                let remind =
                    chrono::Utc::now() + chrono::Duration::milliseconds(rand::thread_rng().gen_range(1500..8000));
                let due = remind + chrono::Duration::hours(1);
                let body = json!({"title": format!("call {i}"), "due_at": due, "remind_at": remind});
                let mut s = stats.lock().unwrap();
                s.reminders += 1;
                s.last_reminder = Some(s.last_reminder.map_or(remind, |l| l.max(remind)));
                (Method::POST, "/api/v1/tasks".to_owned(), Some(body))
            }
            4 | 5 if !plain.is_empty() => {
                let id = &plain[rand::thread_rng().gen_range(0..plain.len())];
                (Method::PATCH, format!("/api/v1/tasks/{id}"), Some(json!({"title": format!("renamed {i}")})))
            }
            6 if !recurring.is_empty() => {
                let id = recurring.remove(0);
                stats.lock().unwrap().recurring_completed += 1;
                (Method::POST, format!("/api/v1/tasks/{id}/complete"), None)
            }
            7 if plain.len() > 3 => {
                let id = plain.remove(rand::thread_rng().gen_range(0..plain.len()));
                if i % 16 == 7 {
                    (Method::DELETE, format!("/api/v1/tasks/{id}"), None)
                } else {
                    (Method::POST, format!("/api/v1/tasks/{id}/complete"), None)
                }
            }
            _ => (Method::POST, "/api/v1/tasks".to_owned(), Some(json!({"title": format!("task {i}")}))),
        };
        let (status, v) = api.call(method.clone(), &path, Some(&token), body.as_ref()).await;
        match status {
            StatusCode::CREATED => {
                let id = v["id"].as_str().unwrap().to_owned();
                if v["recurrence"].is_string() {
                    recurring.push(id);
                } else if v["remind_at"].is_null() {
                    plain.push(id);
                }
            }
            s if s.is_success() => {}
            // A retried request whose first attempt went through before its instance died.
            StatusCode::NOT_FOUND | StatusCode::CONFLICT => {
                stats.lock().unwrap().retried += 1;
                continue;
            }
            s => panic!("{method} {path}: {s} {v}"),
        }
        done += 1;
        stats.lock().unwrap().changes += 1;
        let pause = rand::thread_rng().gen_range(40..140);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// Audit throughput with one and with two instances: the same backlog of 10,000 events
/// (written straight into the outbox, relayed to Kafka by `todo relay`) consumed
/// by a fresh audit group of one, then of two `audit-service` processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the scale-out step of scripts/test (needs PostgreSQL and Kafka; about 1 minute)"]
async fn audit_throughput_with_one_and_two_instances() {
    let logs = log_dir();
    let mut results = BTreeMap::new();
    for instances in [1usize, 2] {
        let pg = PgDb::create().await;
        let dep = Deployment::new(&pg.url, &logs);
        migrate(&dep);
        let changes = backlog(&dep, 5000).await;
        let mut db = PgConnection::connect(&pg.url).await.unwrap();
        let events = scalar(&mut db, "SELECT count(*) FROM event_log").await;
        assert!(events as usize >= 2 * changes);
        // The outbox to Kafka first, so that only the audit service is measured.
        let mut relay = dep.command(env!("CARGO_BIN_EXE_todo")).arg("relay").stderr(Stdio::null()).spawn().unwrap();
        wait_on_kafka(&dep, events as usize).await;
        relay.kill().ok();
        relay.wait().ok();

        let started = Instant::now();
        let mut procs = Vec::new();
        for i in 0..instances {
            procs.push(start(&dep, env!("CARGO_BIN_EXE_audit-service"), &format!("audit-bench-{instances}-{i}")).await);
        }
        eventually(120, "the audit backlog is consumed", || {
            let url = pg.url.clone();
            async move {
                let mut db = PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
                let n = scalar(&mut db, "SELECT count(*) FROM audit_log").await;
                if n == events { Ok(()) } else { Err(format!("{n}/{events}")) }
            }
        })
        .await;
        let wall = started.elapsed().as_secs_f64();
        let busy: f64 =
            sqlx::query("SELECT EXTRACT(EPOCH FROM max(recorded_at) - min(recorded_at))::float8 FROM audit_log")
                .fetch_one(&mut db)
                .await
                .unwrap()
                .get(0);
        for mut p in procs {
            p.child.kill().ok();
            p.child.wait().ok();
        }
        let rate = events as f64 / busy.max(0.001);
        eprintln!(
            "scale-out: audit with {instances} instance(s): {events} events in {busy:.2} s from the first entry to the last \
             ({rate:.0} events/s), {wall:.1} s from start to the last entry"
        );
        results.insert(instances, rate);
    }
    eprintln!("scale-out: audit throughput, 2 instances / 1 instance = {:.2}", results[&2] / results[&1]);
    let _ = std::fs::remove_dir_all(&logs);
}

/// `changes` changes of 10 users committed to the outbox in-process (no services).
async fn backlog(dep: &Deployment, changes: usize) -> usize {
    use todo_core::domain::{Email, TaskTitle, Timezone, User, UserId};
    use todo_core::events::EventFactory;
    use todo_core::ports::SystemClock;
    use todo_core::service::{NewTask, TaskPatch, TaskService};
    let store =
        todo_store::connect_with(&dep.db, &todo_store::StoreOptions { topic_names: dep.names(), ..Default::default() })
            .await
            .expect("connect");
    let tasks =
        TaskService::new(store.tasks(), store.users(), Arc::new(SystemClock), EventFactory::new("/todo/chat-api"));
    let mut writers = Vec::new();
    for u in 0..10 {
        let user = User {
            id: UserId::new(),
            email: Email::parse(&format!("bench{u}@example.com")).unwrap(),
            password_hash: String::new(),
            timezone: Timezone::default(),
            created_at: chrono::Utc::now(),
        };
        store.users().create(&user).await.unwrap();
        let tasks = tasks.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..changes / 10 {
                let title = TaskTitle::parse(&format!("change {n}")).unwrap();
                if n < 5 {
                    ids.push(tasks.create(user.id, NewTask::titled(title)).await.unwrap().id);
                } else {
                    let patch = TaskPatch { title: Some(title), ..Default::default() };
                    tasks.update(user.id, ids[n % 5], patch, None).await.unwrap();
                }
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    store.close().await;
    changes / 10 * 10
}

/// Waits until Kafka holds `want` distinct events of the deployment's topics.
async fn wait_on_kafka(dep: &Deployment, want: usize) {
    let log = dep.kafka_log();
    let topics: Vec<String> = Topic::ALL.iter().map(|t| dep.names().name(*t)).collect();
    let group = format!("count-{}", uuid::Uuid::new_v4().simple());
    let mut sub = log.subscribe(&group, &topics, StartFrom::Earliest).await.unwrap();
    let mut seen = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while seen.len() < want {
        assert!(Instant::now() < deadline, "the relay published {} of {want} events", seen.len());
        if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(2), sub.next()).await {
            seen.insert(CloudEvent::from_json_bytes(&r.payload).unwrap().id);
        }
    }
    let _ = sub.close().await;
}
