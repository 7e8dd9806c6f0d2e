//! Wiring: configuration in, adapters built, services started, HTTP served.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use metrics_exporter_prometheus::PrometheusHandle;
use todo_core::consumer::LagBoard;
use todo_core::events::EventFactory;
use todo_core::ports::{
    AuditStore, Clock, ConversationStore, EventLog, LoginAttempts, ReminderStore, SavedFilterStore, SystemClock,
    TaskRepository, UserRepository,
};
use todo_core::service::audit::AuditService;
use todo_core::service::chat::{ChatService, Interpreter, RuleBasedInterpreter};
use todo_core::service::notification::NotificationService;
use todo_core::service::sync::SyncHub;
use todo_core::service::{AccountService, FilterService, TaskService};

use std::net::SocketAddr;

use todo_core::events::TopicNames;
use todo_kafka::{KafkaConfig, OutboxRelay, RelayConfig};
use todo_store::StoreOptions;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, redact_url};
use crate::http::auth::{JWT_SECRET_MIN_BYTES, JwtKeys};
use crate::http::limit::UserRateLimit;
use crate::http::web::WebConfig;
use crate::services::{HttpWebhookSender, ServiceSet, WebhookConfig};
use crate::state::AppState;

/// The CloudEvents `source` of events produced by the API.
pub const API_SOURCE: &str = "/todo/chat-api";

/// The adapters a process runs on.
#[derive(Clone)]
pub struct Ports {
    pub tasks: Arc<dyn TaskRepository>,
    pub users: Arc<dyn UserRepository>,
    pub login_attempts: Arc<dyn LoginAttempts>,
    pub audit: Arc<dyn AuditStore>,
    pub reminders: Arc<dyn ReminderStore>,
    pub conversations: Arc<dyn ConversationStore>,
    pub saved_filters: Arc<dyn SavedFilterStore>,
    /// The event log services consume (the SQL log, or Kafka).
    pub log: Arc<dyn EventLog>,
    pub clock: Arc<dyn Clock>,
}

impl Ports {
    /// Every port from one adapter that implements them all (the in-memory store, say).
    pub fn from_one<S>(store: Arc<S>) -> Self
    where
        S: TaskRepository
            + UserRepository
            + LoginAttempts
            + AuditStore
            + ReminderStore
            + ConversationStore
            + SavedFilterStore
            + EventLog
            + 'static,
    {
        Self {
            tasks: store.clone(),
            users: store.clone(),
            login_attempts: store.clone(),
            audit: store.clone(),
            reminders: store.clone(),
            conversations: store.clone(),
            saved_filters: store.clone(),
            log: store,
            clock: Arc::new(SystemClock),
        }
    }

    /// Every port from a SQL store, with `log` as the event log services consume
    /// (the store's own log, or Kafka).
    pub fn from_store(store: &todo_store::Store, log: Arc<dyn EventLog>) -> Self {
        Self {
            tasks: store.tasks(),
            users: store.users(),
            login_attempts: store.login_attempts(),
            audit: store.audit(),
            reminders: store.reminders(),
            conversations: store.conversations(),
            saved_filters: store.saved_filters(),
            log,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The handlers' state over `ports`.
pub fn state(ports: &Ports, jwt: JwtKeys, metrics: Option<PrometheusHandle>, cors_origins: Vec<String>) -> AppState {
    state_with(ports, jwt, metrics, cors_origins, Arc::new(RuleBasedInterpreter))
}

/// [`state`] with a chosen chat interpreter.
pub fn state_with(
    ports: &Ports,
    jwt: JwtKeys,
    metrics: Option<PrometheusHandle>,
    cors_origins: Vec<String>,
    interpreter: Arc<dyn Interpreter>,
) -> AppState {
    let tasks =
        TaskService::new(ports.tasks.clone(), ports.users.clone(), ports.clock.clone(), EventFactory::new(API_SOURCE));
    AppState {
        chat: ChatService::new(tasks.clone(), ports.conversations.clone(), ports.clock.clone(), interpreter)
            .with_saved_filters(FilterService::new(tasks.clone(), ports.saved_filters.clone())),
        filters: FilterService::new(tasks.clone(), ports.saved_filters.clone()),
        tasks,
        accounts: AccountService::new(ports.users.clone(), ports.login_attempts.clone(), ports.clock.clone()),
        audit: AuditService::new(ports.audit.clone()),
        notifications: NotificationService::new(ports.reminders.clone()),
        hub: SyncHub::new(),
        lag: LagBoard::new(),
        jwt: Arc::new(jwt),
        rate_limit: None,
        readiness: Arc::new(vec![("event_log", ports.log.clone())]),
        metrics,
        cors_origins: Arc::new(cors_origins),
        web: Arc::new(WebConfig::default()),
    }
}

/// Whether the configuration names the embedded mode (SQLite in the data dir).
pub fn is_embedded(config: &Config) -> bool {
    config.database_url.as_deref().is_none_or(|u| u.starts_with("sqlite:"))
}

/// The signing secret: `JWT_SECRET`, or in embedded mode one generated once and
/// kept in `<data-dir>/jwt-secret` (mode 0600) so tokens survive restarts.
pub fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &config.jwt_secret {
        if s.len() < JWT_SECRET_MIN_BYTES {
            bail!("JWT_SECRET must be at least {JWT_SECRET_MIN_BYTES} bytes");
        }
        return Ok(s.as_bytes().to_vec());
    }
    if !is_embedded(config) {
        bail!("JWT_SECRET is required outside the embedded mode (at least {JWT_SECRET_MIN_BYTES} bytes)");
    }
    load_or_create_secret(&config.data_dir.join("jwt-secret"))
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let s = existing.trim();
        if s.len() >= JWT_SECRET_MIN_BYTES {
            return Ok(s.as_bytes().to_vec());
        }
        bail!("{} is shorter than {JWT_SECRET_MIN_BYTES} bytes; delete it to generate a new one", path.display());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let secret: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::thread_rng().r#gen();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    write_private(path, &secret).with_context(|| format!("write {}", path.display()))?;
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// What a process is: the all-in-one `todo serve`, or one of the five services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    All,
    ChatApi,
    Sync,
    Audit,
    Notification,
    RecurringTask,
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::All => "todo",
            Role::ChatApi => "chat-api",
            Role::Sync => "sync-service",
            Role::Audit => "audit-service",
            Role::Notification => "notification-service",
            Role::RecurringTask => "recurring-task-service",
        }
    }

    /// The port each service listens on by default (DESIGN §2).
    pub fn default_port(&self) -> u16 {
        match self {
            Role::All | Role::ChatApi => 8000,
            Role::Sync => 8001,
            Role::Audit => 8002,
            Role::Notification => 8003,
            Role::RecurringTask => 8004,
        }
    }

    /// The reactive services this process runs.
    pub fn services(&self) -> ServiceSet {
        match self {
            Role::All => ServiceSet::ALL,
            Role::ChatApi => ServiceSet::NONE,
            Role::Sync => ServiceSet { sync: true, ..ServiceSet::NONE },
            Role::Audit => ServiceSet { audit: true, ..ServiceSet::NONE },
            Role::Notification => ServiceSet { notification: true, ..ServiceSet::NONE },
            Role::RecurringTask => ServiceSet { recurring: true, ..ServiceSet::NONE },
        }
    }

    /// Whether this process writes events (so, with Kafka, runs an outbox relay;
    /// relays are exclusive, the others wait as standbys).
    pub fn writes_events(&self) -> bool {
        matches!(self, Role::All | Role::ChatApi | Role::Notification | Role::RecurringTask)
    }
}

/// What [`connect`] built besides the ports: what shutdown must close.
pub struct Infra {
    pub store: todo_store::Store,
    /// The database's own event table (the outbox).
    pub sql_log: Arc<dyn EventLog>,
    pub kafka: Option<Arc<todo_kafka::KafkaEventLog>>,
}

/// The database URL: `DATABASE_URL`, or SQLite in the data dir.
pub fn database_url(config: &Config) -> String {
    config.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", config.data_dir.join("todo.db").display()))
}

/// Connects the database (migrating it) and, when configured, Kafka (creating
/// the topics); returns the ports services run on.
pub async fn connect(config: &Config) -> anyhow::Result<(Ports, Infra)> {
    let topic_names = TopicNames::new(config.kafka_topic_prefix.clone());
    let url = database_url(config);
    let opts = StoreOptions { topic_names: topic_names.clone(), ..StoreOptions::default() };
    let store = todo_store::connect_with(&url, &opts)
        .await
        .with_context(|| format!("connect to the database {}", redact_url(&url)))?;
    store.migrate().await.context("migrate the database")?;
    let sql_log = store.event_log();
    let kafka = match &config.kafka_bootstrap_servers {
        Some(servers) => {
            let kc = KafkaConfig::new(servers.clone())
                .with_topic_prefix(config.kafka_topic_prefix.clone())
                .with_partitions(config.kafka_partitions);
            todo_kafka::ensure_topics(&kc).await.context("create the Kafka topics")?;
            Some(Arc::new(todo_kafka::KafkaEventLog::new(kc).context("connect to Kafka")?))
        }
        None => None,
    };
    let log: Arc<dyn EventLog> = match &kafka {
        Some(k) => k.clone(),
        None => sql_log.clone(),
    };
    let ports = Ports::from_store(&store, log);
    Ok((ports, Infra { store, sql_log, kafka }))
}

/// Where the web page finds the services (`TODO_WEB_*_URL`).
pub fn web_config(config: &Config) -> anyhow::Result<WebConfig> {
    WebConfig::parse(
        config.web_sync_url.as_deref(),
        config.web_audit_url.as_deref(),
        config.web_notifications_url.as_deref(),
    )
    .map_err(anyhow::Error::msg)
}

/// The webhook settings, when `NOTIFY_WEBHOOK_URL` is set.
fn webhook(config: &Config) -> anyhow::Result<Option<WebhookConfig>> {
    let Some(url) = config.notify_webhook_url.clone() else { return Ok(None) };
    let secret = config
        .notify_webhook_secret
        .clone()
        .context("NOTIFY_WEBHOOK_SECRET is required with NOTIFY_WEBHOOK_URL (receivers check the signature)")?;
    Ok(Some(WebhookConfig { url, secret: secret.into_bytes(), sender: Arc::new(HttpWebhookSender::default()) }))
}

/// Runs `role` until Ctrl-C or SIGTERM: connects, starts the services, serves HTTP,
/// then stops in order (HTTP, consumers finishing their record, relay, Kafka flush).
pub async fn run(role: Role, config: Config) -> anyhow::Result<()> {
    let metrics = crate::telemetry::init_metrics();
    let (ports, infra) = connect(&config).await?;
    let jwt = JwtKeys::new(&jwt_secret(&config)?, config.jwt_ttl_secs);
    let interpreter: Arc<dyn Interpreter> = match &config.llm_base_url {
        Some(url) => Arc::new(crate::llm::LlmInterpreter::new(
            url,
            config.llm_model.clone(),
            config.llm_api_key.clone(),
            std::time::Duration::from_secs(config.llm_timeout_secs),
        )),
        None => Arc::new(RuleBasedInterpreter),
    };
    let mut state = state_with(&ports, jwt, Some(metrics), config.cors_origins.clone(), interpreter);
    let mut readiness: Vec<(&'static str, Arc<dyn EventLog>)> = vec![("database", infra.sql_log.clone())];
    if let Some(k) = &infra.kafka {
        readiness.push(("kafka", k.clone()));
    }
    state.readiness = Arc::new(readiness);
    state.web = Arc::new(web_config(&config)?);
    state.rate_limit = UserRateLimit::new(config.rate_limit, config.rate_limit_burst).map(Arc::new);

    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    crate::services::start(&ports, &state.hub, &state.lag, role.services(), webhook(&config)?, &tracker, &shutdown);
    if let Some(limit) = state.rate_limit.clone() {
        let token = shutdown.clone();
        tracker.spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            while token.run_until_cancelled(tick.tick()).await.is_some() {
                limit.forget_idle();
            }
        });
    }
    if let (Some(kafka), true) = (&infra.kafka, role.writes_events()) {
        let relay = OutboxRelay::new(infra.sql_log.clone(), (**kafka).clone(), RelayConfig::default());
        let token = shutdown.clone();
        tracker.spawn(async move {
            if let Err(e) = relay.run(token).await {
                tracing::error!(error = %e, "outbox relay stopped");
            }
        });
    }

    let bind = config.bind.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], role.default_port())));
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("listen on {bind}"))?;
    let addr = listener.local_addr()?;
    let mode = match (&infra.kafka, infra.store.kind()) {
        (Some(_), _) => "PostgreSQL + Kafka",
        (None, todo_store::StoreKind::Postgres) => "PostgreSQL",
        (None, _) => "embedded",
    };
    tracing::info!(role = role.name(), %addr, mode, "listening");
    eprintln!("{} ({mode}) listening on http://{addr}", role.name());
    let router = crate::http::router_for(role, state);
    let token = shutdown.clone();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown_signal() => {}
                () = token.cancelled() => {}
            }
        })
        .await
        .context("serve HTTP")?;
    shutdown.cancel();
    tracker.close();
    if tokio::time::timeout(std::time::Duration::from_secs(15), tracker.wait()).await.is_err() {
        tracing::warn!("background tasks did not stop within 15 s");
    }
    if let Some(k) = &infra.kafka {
        let _ = k.flush().await;
    }
    infra.store.close().await;
    Ok(())
}

/// `todo serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    run(Role::All, config).await
}

/// `todo relay`: the outbox relay alone, until Ctrl-C or SIGTERM.
pub async fn relay(config: Config) -> anyhow::Result<()> {
    let (_, infra) = connect(&config).await?;
    let kafka = infra.kafka.clone().context("todo relay needs KAFKA_BOOTSTRAP_SERVERS")?;
    let relay = OutboxRelay::new(infra.sql_log.clone(), (*kafka).clone(), RelayConfig::default());
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        token.cancel();
    });
    eprintln!("outbox relay running");
    let stats = relay.run(shutdown).await.context("outbox relay")?;
    tracing::info!(?stats, "outbox relay stopped");
    kafka.flush().await.context("flush the Kafka producer")?;
    infra.store.close().await;
    Ok(())
}

/// `todo migrate`.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let url = database_url(config);
    let store = todo_store::connect(&url).await.with_context(|| format!("connect to {}", redact_url(&url)))?;
    store.migrate().await.context("migrate")?;
    eprintln!("migrated {}", redact_url(&url));
    Ok(())
}

/// `todo parse`: prints the interpretation of one sentence as JSON.
pub fn parse_command(now: Option<&str>, tz: &str, sentence: &str) -> anyhow::Result<()> {
    let now = match now {
        Some(n) => {
            chrono::DateTime::parse_from_rfc3339(n).context("--now must be RFC 3339")?.with_timezone(&chrono::Utc)
        }
        None => chrono::Utc::now(),
    };
    let tz: chrono_tz::Tz = tz.parse().map_err(|_| anyhow::anyhow!("--tz {tz:?} is not an IANA time zone"))?;
    let command = todo_core::chat::parse(sentence, now, tz);
    println!("{}", serde_json::to_string(&command)?);
    Ok(())
}

/// The `main` of a service binary: its configuration from the environment and flags.
pub async fn service_main(role: Role) -> anyhow::Result<()> {
    use clap::Parser;
    let cli = crate::config::ServiceCli::parse();
    let config = cli.config.normalized();
    crate::telemetry::init_tracing(config.log_format);
    run(role, config).await
}
