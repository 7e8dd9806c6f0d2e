//! Helpers of the workspace integration tests: an app on a real socket over a
//! chosen backend, and an HTTP client that speaks its API.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_core::memory::MemoryStore;
use todo_core::ports::{EventLog, Ports};
use todo_kafka::{KafkaConfig, KafkaEventLog, OutboxRelay, RelayConfig};
use todo_services::adapters::webhook::HttpWebhookSender;
use todo_services::http::jwt::JwtKeys;
use todo_services::http::limit::UserRateLimit;
use todo_services::role::Role;
use todo_services::services::{self, WebhookConfig};
use todo_services::state::AppState;
use todo_store::StoreOptions;
use todo_store::testing::{PgDb, TempDir};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The test secret (32+ bytes).
pub const JWT_SECRET: &[u8] = b"integration-test-secret-0123456789abcdef";

/// Which adapters an app runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Memory,
    /// A SQLite file in a temp dir, its table the event log: the embedded mode.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `DATABASE_URL`, its table the event log.
    Postgres,
    /// PostgreSQL plus Apache Kafka at `KAFKA_BOOTSTRAP_SERVERS` (fresh topics): the
    /// outbox relayed to Kafka, every consumer on Kafka — the distributed mode.
    Kafka,
}

/// How to get a Kafka broker for these tests.
pub const HOW_TO_START_KAFKA: &str = "Kafka tests need KAFKA_BOOTSTRAP_SERVERS: start a throwaway broker with      `export $(scripts/kafka-local start)` and run the tests again; scripts/test does all of this";

/// Kafka tests hold this shared; a test that restarts the broker holds it
/// exclusively, so it never pulls the broker from under another test.
pub static KAFKA_BROKER: std::sync::LazyLock<Arc<tokio::sync::RwLock<()>>> =
    std::sync::LazyLock::new(|| Arc::new(tokio::sync::RwLock::new(())));

/// What outlives an app's restarts: its database, and its Kafka topics.
pub struct Env {
    db: DbGuard,
    kafka: Option<KafkaConfig>,
    _broker: Option<BrokerUse>,
}

/// How an environment holds the broker: alongside others, or alone.
#[allow(dead_code)]
enum BrokerUse {
    Shared(tokio::sync::OwnedRwLockReadGuard<()>),
    Exclusive(tokio::sync::OwnedRwLockWriteGuard<()>),
}

enum DbGuard {
    None,
    Dir(TempDir),
    Pg(PgDb),
}

/// Ports, and the outbox relay to run when the log is Kafka.
pub struct Connected {
    pub ports: Ports,
    pub relay: Option<OutboxRelay>,
    /// The store's own event table (the outbox).
    pub sql_log: Option<Arc<dyn EventLog>>,
    pub backing: Backing,
}

/// The concrete store behind the ports, for test hooks.
#[derive(Clone)]
pub enum Backing {
    Memory(Arc<MemoryStore>),
    Sql(todo_store::Store),
}

impl Env {
    pub async fn new(backend: Backend) -> Env {
        match backend {
            Backend::Memory => Env { db: DbGuard::None, kafka: None, _broker: None },
            Backend::Sqlite => Env { db: DbGuard::Dir(TempDir::new()), kafka: None, _broker: None },
            Backend::Postgres => Env { db: DbGuard::Pg(PgDb::create().await), kafka: None, _broker: None },
            Backend::Kafka => Self::with_kafka(BrokerUse::Shared(KAFKA_BROKER.clone().read_owned().await)).await,
        }
    }

    /// PostgreSQL + Kafka with the broker to itself: no other test uses the broker
    /// while this environment lives (for tests that restart it).
    pub async fn kafka_exclusive() -> Env {
        Self::with_kafka(BrokerUse::Exclusive(KAFKA_BROKER.clone().write_owned().await)).await
    }

    async fn with_kafka(broker: BrokerUse) -> Env {
        if std::env::var("KAFKA_BOOTSTRAP_SERVERS").is_err() {
            panic!("KAFKA_BOOTSTRAP_SERVERS is not set. {HOW_TO_START_KAFKA}");
        }
        let prefix = format!("t{}.", uuid::Uuid::new_v4().simple());
        // Every KAFKA_* variable, as the services read them: KAFKA_PROPERTIES carries
        // TLS and SASL when scripts/test runs these tests over the encrypted listener.
        let config = KafkaConfig::from_env()
            .unwrap_or_else(|e| panic!("KAFKA_* settings: {e}"))
            .with_topic_prefix(prefix)
            .with_partitions(3)
            .with_session_timeout(std::time::Duration::from_secs(6));
        todo_kafka::ensure_topics(&config).await.unwrap_or_else(|e| panic!("create topics: {e}. {HOW_TO_START_KAFKA}"));
        Env { db: DbGuard::Pg(PgDb::create().await), kafka: Some(config), _broker: Some(broker) }
    }

    pub fn database_url(&self) -> Option<String> {
        match &self.db {
            DbGuard::None => None,
            DbGuard::Dir(d) => Some(d.sqlite_url()),
            DbGuard::Pg(p) => Some(p.url.clone()),
        }
    }

    pub fn kafka(&self) -> Option<&KafkaConfig> {
        self.kafka.as_ref()
    }

    /// Connects (as a process start would): a migrated store, and Kafka if any.
    pub async fn connect(&self) -> Connected {
        let Some(url) = self.database_url() else {
            let memory = Arc::new(MemoryStore::new());
            return Connected {
                ports: Ports::from_one(memory.clone()),
                relay: None,
                sql_log: None,
                backing: Backing::Memory(memory),
            };
        };
        let opts = StoreOptions {
            topic_names: self.kafka.as_ref().map(KafkaConfig::topic_names).unwrap_or_default(),
            ..StoreOptions::default()
        };
        let store = todo_store::connect_with(&url, &opts).await.unwrap_or_else(|e| panic!("connect {url}: {e}"));
        store.migrate().await.expect("migrate");
        let sql_log = store.event_log();
        let (log, relay): (Arc<dyn EventLog>, _) = match &self.kafka {
            Some(config) => {
                let kafka = KafkaEventLog::new(config.clone()).expect("a Kafka client");
                let relay = OutboxRelay::new(sql_log.clone(), kafka.clone(), RelayConfig::default());
                (Arc::new(kafka), Some(relay))
            }
            None => (sql_log.clone(), None),
        };
        let ports = store.ports().with_log(log);
        Connected { ports, relay, sql_log: Some(sql_log), backing: Backing::Sql(store) }
    }
}

/// A running app and a client for it. Dropping it stops its services.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub ports: Ports,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
    pub env: Arc<Env>,
    /// The store's own event table, when there is a store.
    pub sql_log: Option<Arc<dyn EventLog>>,
    pub backing: Backing,
    /// The app's router, for requests without a socket.
    pub router: axum::Router,
    opts: AppOptions,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Options of [`TestApp::start`].
#[derive(Clone, Default)]
pub struct AppOptions {
    /// POST fired reminders here, signed with this secret.
    pub webhook: Option<(String, Vec<u8>)>,
    /// Run no reactive services (the API alone).
    pub api_only: bool,
    /// The chat interpreter (default: rule-based).
    pub interpreter: Option<Arc<dyn todo_core::service::chat::Interpreter>>,
    /// Per-user request rate limit: (per second, burst); default none.
    pub rate_limit: Option<(u32, u32)>,
    /// Per-request limits (default: the library's, see `HttpLimits::default`).
    pub limits: Option<todo_services::state::HttpLimits>,
    /// The server's own limits (default: `ServerLimits::default`).
    pub server: Option<todo_services::http::serve::ServerLimits>,
    /// Sign-in throttling and hashing limits (default: `AccountLimits::default`).
    pub accounts: Option<todo_core::service::account::AccountLimits>,
}

/// An HTTP answer: status, headers and JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// The API and every reactive service on `backend`, like the embedded mode.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::start(backend, AppOptions::default()).await
    }

    pub async fn start(backend: Backend, opts: AppOptions) -> TestApp {
        Self::on_env(Arc::new(Env::new(backend).await), opts).await
    }

    /// Stops this app and starts a new one on the same database and topics, as a
    /// process restart would (the memory backend keeps its ports).
    pub async fn restart(self) -> TestApp {
        let (env, opts) = (self.env.clone(), self.opts.clone());
        let backing = self.backing.clone();
        let old_ports = self.stop().await;
        match env.database_url() {
            None => Self::serve(Connected { ports: old_ports, relay: None, sql_log: None, backing }, env, opts).await,
            Some(_) => Self::on_env(env, opts).await,
        }
    }

    /// Connects to `env` and serves.
    pub async fn on_env(env: Arc<Env>, opts: AppOptions) -> TestApp {
        let connected = env.connect().await;
        Self::serve(connected, env, opts).await
    }

    /// Serves an app on `connected`: the API, the services, and the relay if any.
    pub async fn serve(connected: Connected, env: Arc<Env>, opts: AppOptions) -> TestApp {
        let Connected { ports, relay, sql_log, backing } = connected;
        let interpreter =
            opts.interpreter.clone().unwrap_or_else(|| Arc::new(todo_core::service::chat::RuleBasedInterpreter));
        let mut state = AppState::with_interpreter(&ports, JwtKeys::new(JWT_SECRET, 3600), None, vec![], interpreter);
        state.rate_limit = opts.rate_limit.and_then(|(rate, burst)| UserRateLimit::new(rate, burst)).map(Arc::new);
        if let Some(limits) = opts.limits.clone() {
            state.limits = Arc::new(limits);
        }
        if let Some(limits) = opts.accounts {
            state.accounts = todo_core::service::AccountService::with_limits(
                ports.users.clone(),
                ports.login_attempts.clone(),
                ports.clock.clone(),
                limits,
            );
        }
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let webhook = opts.webhook.clone().map(|(url, secret)| WebhookConfig {
            url,
            secret,
            sender: Arc::new(HttpWebhookSender::default()),
        });
        let role = if opts.api_only { Role::ChatApi } else { Role::All };
        services::start(&ports, &state.hub, &state.lag, role.spec(), webhook, &tracker, &shutdown);
        if let Some(relay) = relay {
            let token = shutdown.clone();
            tracker.spawn(async move { relay.run(token).await.expect("the outbox relay runs") });
        }
        let router = todo_services::router(state);
        let served = router.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let token = shutdown.clone();
        let server = opts.server.unwrap_or_default();
        tracker.spawn(async move {
            todo_services::http::serve::serve(listener, served, server, token.cancelled_owned()).await.expect("serve");
        });
        TestApp { addr, client: reqwest::Client::new(), ports, shutdown, tracker, env, sql_log, backing, router, opts }
    }

    /// Changes a stored audit entry by hand, around the append-only guard (as an
    /// attacker with database access would).
    pub async fn tamper_audit(&self, user: todo_core::domain::UserId, seq: i64, f: impl FnOnce(&mut Value)) {
        match &self.backing {
            Backing::Memory(m) => m.tamper_audit(user, seq, |e| f(&mut e.event)),
            Backing::Sql(store) => {
                let entry = self.ports.audit.chain(user, seq - 1, 1).await.expect("read the entry").remove(0);
                let mut event = entry.event;
                f(&mut event);
                let text = todo_core::domain::audit::canonical_json(&event);
                store.tamper_audit_event(user, seq, &text).await.expect("tamper");
            }
        }
    }

    /// Stops the services and the server and waits until they have.
    pub async fn stop(self) -> Ports {
        self.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        self.ports.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends a request; `body` as JSON when given.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        answer(req.send().await.expect("request")).await
    }

    /// Sends raw bytes with a content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path)).header("content-type", content_type).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        answer(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Registers `email` and returns its token.
    pub async fn register(&self, email: &str) -> String {
        let a = self
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"email": email, "password": "correct horse battery"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "register {email}: {:?}", a.body);
        a.body["token"].as_str().expect("token").to_owned()
    }

    /// Creates a task from `body` and returns it.
    pub async fn create_task(&self, token: &str, body: Value) -> Value {
        let a = self.post("/api/v1/tasks", token, body).await;
        assert_eq!(a.status, StatusCode::CREATED, "create task: {:?}", a.body);
        a.body
    }
}

async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{status}: body is not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    Answer { status, headers, body }
}

/// Declares, for each `async fn name(backend: Backend)` of the calling module, one
/// test per backend: `name::memory`, ...
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        $(
            $crate::tests_on_backends!($name: memory => Memory, sqlite => Sqlite, postgres => Postgres);
        )*
    };
}

/// The module `name` of tests, one test fn a listed backend, each calling
/// `super::name(Backend::..)`: the body of [`on_every_backend!`] and [`on_every_log!`].
#[doc(hidden)]
#[macro_export]
macro_rules! tests_on_backends {
    ($name:ident: $($test:ident => $backend:ident),+ $(,)?) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$name($crate::Backend::$backend).await
                }
            )+
        }
    };
}

/// A WebSocket client.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket handshake for `/ws` of `addr` with `token` as the
/// `Sec-WebSocket-Protocol: bearer, <token>` subprotocol.
pub fn ws_request(addr: SocketAddr, token: &str) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/ws").into_client_request().expect("a ws request");
    req.headers_mut().insert("sec-websocket-protocol", format!("bearer, {token}").parse().expect("a header value"));
    req
}

/// Polls `check` every 20 ms until it returns `Some`, or panics after `secs` seconds naming `what`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The `p`-th percentile (0..=100) of `xs` (nearest rank).
pub fn percentile(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    if xs.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * xs.len() as f64).ceil().max(1.0) as usize;
    xs[rank.min(xs.len()) - 1]
}

/// Like [`on_every_backend!`], plus the distributed mode (PostgreSQL + Kafka):
/// for tests where the event log matters.
#[macro_export]
macro_rules! on_every_log {
    ($($name:ident),* $(,)?) => {
        $(
            $crate::tests_on_backends!(
                $name: memory => Memory, sqlite => Sqlite, postgres => Postgres, kafka => Kafka
            );
        )*
    };
}

/// Logs to stderr when `RUST_LOG` is set (debugging aid).
pub fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).try_init();
    }
}

impl TestApp {
    /// Mints an API token for the holder of `session` with `scopes` and returns its secret.
    pub async fn mint_token(&self, session: &str, name: &str, scopes: &[&str]) -> String {
        let a = self.post("/api/v1/auth/tokens", session, json!({"name": name, "scopes": scopes})).await;
        assert_eq!(a.status, StatusCode::CREATED, "mint {name}: {:?}", a.body);
        a.body["token"].as_str().expect("token").to_owned()
    }

    /// The CloudEvents types of the caller's audit trail, oldest first, once it
    /// holds an entry about `task_id` of type `last_type` (the audit service is
    /// asynchronous; every event of the caller before that one is in by then,
    /// since a user's events are recorded in log order).
    pub async fn audit_types_through(&self, token: &str, task_id: &str, last_type: &str) -> Vec<String> {
        let path = format!("/api/v1/audit?limit=200&task_id={task_id}&type={last_type}");
        eventually(20, &format!("{last_type} of {task_id} audited"), || async {
            let a = self.get(&path, token).await;
            (a.body["items"].as_array().is_some_and(|i| !i.is_empty())).then_some(())
        })
        .await;
        let all = self.get("/api/v1/audit?limit=200", token).await;
        let mut types: Vec<String> = all.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["event_type"].as_str().unwrap_or_default().to_owned())
            .collect();
        types.reverse();
        types
    }
}
