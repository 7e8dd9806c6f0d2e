//! The clients: the API over HTTP, live updates over WebSocket, the database.

use super::*;

/// REST calls in turn on the two chat-api instances; a call that cannot reach
/// one (killed, restarting) goes to the other.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub addrs: watch::Receiver<[SocketAddr; 2]>,
    pub turn: Arc<std::sync::atomic::AtomicUsize>,
    /// Calls that went to the other instance after the first failed.
    pub failovers: Arc<std::sync::atomic::AtomicUsize>,
}

impl Api {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let first = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.call_on(first, method, path, token, body).await
    }

    /// Starts with instance `first % 2`.
    pub async fn call_on(
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

pub struct User {
    pub id: String,
    pub token: String,
}

pub async fn register(api: &Api, n: usize) -> User {
    let email = format!("scale{n}-{}@example.com", uuid::Uuid::new_v4().simple());
    let body = json!({"email": email, "password": "correct horse battery staple"});
    let (status, v) = api.call(Method::POST, "/api/v1/auth/register", None, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    User { id: v["user"]["id"].as_str().unwrap().to_owned(), token: v["token"].as_str().unwrap().to_owned() }
}

/// What one WebSocket client received, and how often it reconnected.
#[derive(Default)]
pub struct Received {
    /// (event id, user id, cursor) in arrival order.
    pub messages: Vec<(String, String, String)>,
    pub reconnects: usize,
    /// Close codes other than the expected ones (going away, abnormal).
    pub refused: Vec<String>,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn ws_connect(addr: SocketAddr, token: &str, after: Option<&str>) -> Option<Ws> {
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
pub fn ws_client(
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
pub async fn task_updates_by_user(dep: &Deployment, want: usize) -> (HashMap<String, Vec<String>>, usize) {
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

pub async fn scalar(db: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(db).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get::<i64, _>(0)
}

/// Waits until `check` holds, at most `secs`.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
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
