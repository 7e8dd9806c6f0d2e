//! Wiring: configuration in, adapters built, services started, HTTP served.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use metrics_exporter_prometheus::PrometheusHandle;
use todo_core::consumer::LagBoard;
use todo_core::events::EventFactory;
use todo_core::ports::{EventLog, Ports};
use todo_core::service::account::AccountLimits;
use todo_core::service::assistant::AssistantService;
use todo_core::service::audit::AuditService;
use todo_core::service::audit_verify::AuditVerifier;
use todo_core::service::chat::{ChatService, Interpreter, RuleBasedInterpreter};
use todo_core::service::notification::NotificationService;
use todo_core::service::sync::SyncHub;
use todo_core::service::{AccountService, CalendarService, FilterService, TaskService, TokenService};

use std::net::SocketAddr;

use todo_core::events::TopicNames;
use todo_kafka::{KafkaConfig, OutboxRelay, RelayConfig};
use todo_store::StoreOptions;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, MigrateOnStart, redact_url};
use crate::http::auth::{JWT_SECRET_MIN_BYTES, JwtKeys};
use crate::http::calendar::FeedSettings;
use crate::http::limit::UserRateLimit;
use crate::http::mcp::McpSettings;
use crate::http::serve::ServerLimits;
use crate::http::web::WebConfig;
use crate::services::{HttpWebhookSender, ServiceSet, WebhookConfig};
use crate::state::{AppState, HttpLimits};

/// The CloudEvents `source` of events produced by the API.
pub const API_SOURCE: &str = "/todo/chat-api";

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
    let filters = FilterService::new(tasks.clone(), ports.saved_filters.clone());
    let chat = ChatService::new(tasks.clone(), ports.conversations.clone(), ports.clock.clone(), interpreter)
        .with_saved_filters(filters.clone());
    let audit = AuditService::new(ports.audit.clone());
    let notifications = NotificationService::new(ports.reminders.clone());
    AppState {
        assistant: AssistantService::new(
            tasks.clone(),
            chat.clone(),
            audit.clone(),
            notifications.clone(),
            filters.clone(),
        ),
        tokens: TokenService::new(ports.api_tokens.clone(), ports.clock.clone()),
        calendar: CalendarService::new(ports.calendar_feeds.clone(), tasks.clone()),
        mcp: Arc::new(McpSettings::default()),
        feeds: Arc::new(FeedSettings::default()),
        chat,
        filters,
        tasks,
        accounts: AccountService::new(ports.users.clone(), ports.login_attempts.clone(), ports.clock.clone()),
        audit,
        verifier: AuditVerifier::new(ports.audit.clone(), ports.checkpoints.clone(), ports.clock.clone()),
        notifications,
        hub: SyncHub::new(),
        live_log: ports.log.clone(),
        lag: LagBoard::new(),
        jwt: Arc::new(jwt),
        rate_limit: None,
        readiness: Arc::new(vec![("event_log", ports.log.clone())]),
        metrics,
        cors_origins: Arc::new(cors_origins),
        web: Arc::new(WebConfig::default()),
        limits: Arc::new(HttpLimits::default()),
        ws_sockets: Default::default(),
    }
}

/// The chat interpreter `config` names: the LLM adapter (falling back to the
/// rule-based one) when `LLM_BASE_URL` is set, else the rule-based one.
pub fn interpreter(config: &Config, ports: &Ports) -> Arc<dyn Interpreter> {
    match &config.llm_base_url {
        Some(url) => Arc::new(
            crate::llm::LlmInterpreter::new(
                url,
                config.llm_model.clone(),
                config.llm_api_key.clone(),
                std::time::Duration::from_secs(config.llm_timeout_secs),
            )
            .with_budget(ports.llm_budget.clone(), config.llm_daily_budget),
        ),
        None => Arc::new(RuleBasedInterpreter),
    }
}

/// Secrets that are public knowledge (shipped defaults, examples): a server
/// started with one would accept tokens anyone can mint.
pub const KNOWN_SECRETS: &[&str] = &[
    "change-me-to-32-or-more-random-bytes!!",
    "change-me",
    "changeme",
    "secret",
    "your-secret-key",
    "your-256-bit-secret",
    "integration-test-secret-0123456789abcdef",
];

/// Why `secret` may not sign tokens, if it may not.
pub fn weak_secret(secret: &str) -> Option<String> {
    if secret.len() < JWT_SECRET_MIN_BYTES {
        return Some(format!("JWT_SECRET must be at least {JWT_SECRET_MIN_BYTES} bytes (it has {})", secret.len()));
    }
    let lowered = secret.trim().to_ascii_lowercase();
    if KNOWN_SECRETS.iter().any(|k| lowered == k.to_ascii_lowercase()) || lowered.contains("change-me") {
        return Some(
            "JWT_SECRET is a published default or example: anyone could sign tokens for any user. Generate \
             one, e.g. `openssl rand -hex 32`"
                .to_owned(),
        );
    }
    let distinct: std::collections::BTreeSet<char> = secret.chars().collect();
    if distinct.len() < 8 {
        return Some(
            "JWT_SECRET repeats too few characters to be secret; generate one, e.g. `openssl rand -hex 32`".into(),
        );
    }
    None
}

/// The account limits `config` sets.
pub fn account_limits(config: &Config) -> AccountLimits {
    let defaults = AccountLimits::default();
    AccountLimits {
        max_attempts: config.login_max_attempts,
        window: chrono::Duration::seconds(i64::from(config.login_window_secs)),
        hash_concurrency: config.hash_concurrency.unwrap_or(defaults.hash_concurrency),
        hash_queue: config.hash_queue,
    }
}

/// The server limits `config` sets.
pub fn server_limits(config: &Config) -> ServerLimits {
    ServerLimits {
        header_read_timeout: std::time::Duration::from_secs(config.header_timeout_secs),
        max_connections: config.max_connections,
    }
}

/// The Kafka client configuration: every `KAFKA_*` setting, TLS and SASL
/// (`KAFKA_PROPERTIES`) included.
pub fn kafka_config(config: &Config, servers: &str) -> anyhow::Result<KafkaConfig> {
    use std::time::Duration;
    let mut kc = KafkaConfig::new(servers.to_owned())
        .with_topic_prefix(config.kafka_topic_prefix.clone())
        .with_partitions(config.kafka_partitions)
        .with_session_timeout(Duration::from_millis(config.kafka_session_timeout_ms));
    kc.replication_factor = config.kafka_replication_factor;
    kc.client_id = config.kafka_client_id.clone();
    kc.request_timeout = Duration::from_millis(config.kafka_request_timeout_ms);
    kc.flush_timeout = Duration::from_millis(config.kafka_flush_timeout_ms);
    if let Some(props) = &config.kafka_properties {
        // Parsed by todo-kafka's own reader, so both agree on the format.
        let parsed = KafkaConfig::from_lookup(|name| (name == todo_kafka::env::PROPERTIES).then(|| props.clone()))
            .context("KAFKA_PROPERTIES")?;
        kc.properties = parsed.properties;
    }
    Ok(kc)
}

/// Whether the configuration names the embedded mode (SQLite in the data dir).
pub fn is_embedded(config: &Config) -> bool {
    config.database_url.as_deref().is_none_or(|u| u.starts_with("sqlite:"))
}

/// The signing secret: `JWT_SECRET`, or in embedded mode one generated once and
/// kept in `<data-dir>/jwt-secret` (mode 0600) so tokens survive restarts.
pub fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &config.jwt_secret {
        if let Some(why) = weak_secret(s) {
            bail!("{why}");
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
        create_private_dir(dir)?;
    }
    let secret: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::thread_rng().r#gen();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    write_private(path, &secret).with_context(|| format!("write {}", path.display()))?;
    Ok(secret.into_bytes())
}

/// Creates `dir` (and its parents) if missing; a directory this process creates is
/// private to its user (0700): it holds the database and the signing secret.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("create {}", dir.display()))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))
}

/// Creates the SQLite file of `url` empty with mode 0600 (in a 0700 directory)
/// before the store opens it, so the database never exists readable by others;
/// SQLite gives its `-wal` and `-shm` files the same mode.
fn prepare_sqlite_file(url: &str) -> anyhow::Result<()> {
    let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else { return Ok(()) };
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    let path = Path::new(path);
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("create {}", path.display())),
        }
    }
    Ok(())
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
    prepare_sqlite_file(&url)?;
    let store = todo_store::connect_with(&url, &opts)
        .await
        .with_context(|| format!("connect to the database {}", redact_url(&url)))?;
    if config.migrate_on_start == MigrateOnStart::Auto {
        store.migrate().await.context("migrate the database")?;
    }
    let sql_log = store.event_log();
    let kafka = match &config.kafka_bootstrap_servers {
        Some(servers) => {
            let kc = kafka_config(config, servers)?;
            todo_kafka::ensure_topics(&kc).await.context("create the Kafka topics")?;
            Some(Arc::new(todo_kafka::KafkaEventLog::new(kc).context("connect to Kafka")?))
        }
        None => None,
    };
    let log: Arc<dyn EventLog> = match &kafka {
        Some(k) => k.clone(),
        None => sql_log.clone(),
    };
    let ports = store.ports().with_log(log);
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
    config.validate().map_err(anyhow::Error::msg)?;
    // Refused before anything is connected or created.
    let secret = jwt_secret(&config)?;
    let metrics = crate::telemetry::init_metrics();
    let (ports, infra) = connect(&config).await?;
    let jwt = JwtKeys::new(&secret, config.jwt_ttl_secs);
    let mut state = state_with(&ports, jwt, Some(metrics), config.cors_origins.clone(), interpreter(&config, &ports));
    state.accounts = AccountService::with_limits(
        ports.users.clone(),
        ports.login_attempts.clone(),
        ports.clock.clone(),
        account_limits(&config),
    );
    state.limits = Arc::new(HttpLimits::from_config(&config));
    let mut readiness: Vec<(&'static str, Arc<dyn EventLog>)> = vec![("database", infra.sql_log.clone())];
    if let Some(k) = &infra.kafka {
        readiness.push(("kafka", k.clone()));
    }
    state.readiness = Arc::new(readiness);
    state.web = Arc::new(web_config(&config)?);
    state.rate_limit = UserRateLimit::new(config.rate_limit, config.rate_limit_burst).map(Arc::new);
    state.mcp = Arc::new(
        McpSettings::parse(&config.mcp_allowed_hosts, &config.mcp_allowed_origins).map_err(anyhow::Error::msg)?,
    );
    state.feeds = Arc::new(FeedSettings::parse(config.public_url.as_deref()).map_err(anyhow::Error::msg)?);

    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    crate::services::start(&ports, &state.hub, &state.lag, role.services(), webhook(&config)?, &tracker, &shutdown);
    {
        // Bounded memory and tables: idle limiter keys forgotten, ended sign-in
        // throttling windows pruned, once a minute.
        let (limit, limits, accounts) = (state.rate_limit.clone(), state.limits.clone(), state.accounts.clone());
        let token = shutdown.clone();
        tracker.spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            while token.run_until_cancelled(tick.tick()).await.is_some() {
                if let Some(limit) = &limit {
                    limit.forget_idle();
                }
                limits.forget_idle();
                if let Err(e) = accounts.prune_attempts().await {
                    tracing::warn!(error = %e, "pruning sign-in attempts failed");
                }
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
    crate::http::serve::serve(listener, router, server_limits(&config), async move {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Config {
        use clap::Parser;
        let mut argv = vec!["todo"];
        argv.extend_from_slice(args);
        crate::config::Cli::try_parse_from(argv).unwrap().config.normalized()
    }

    #[test]
    fn published_short_and_repetitive_secrets_are_refused() {
        assert!(weak_secret("change-me-to-32-or-more-random-bytes!!").is_some_and(|w| w.contains("published")));
        assert!(weak_secret("CHANGE-ME-to-32-or-more-random-bytes!!").is_some());
        assert!(weak_secret("short").is_some_and(|w| w.contains("32 bytes")));
        assert!(weak_secret(&"ab".repeat(20)).is_some_and(|w| w.contains("too few")));
        assert_eq!(weak_secret("3f9a1c07b2e84d6e9a5f0c1b7d2e4a68c3b9f01e5d7a2c4b"), None);
        let c = config(&["--jwt-secret", "change-me-to-32-or-more-random-bytes!!"]);
        assert!(jwt_secret(&c).unwrap_err().to_string().contains("published"));
    }

    /// Every KAFKA_* setting reaches the clients the services build, TLS and SASL included.
    #[test]
    fn the_whole_kafka_configuration_is_wired() {
        let c = config(&[
            "--kafka-topic-prefix",
            "prod.",
            "--kafka-partitions",
            "12",
            "--kafka-replication-factor",
            "3",
            "--kafka-client-id",
            "chat-api-1",
            "--kafka-session-timeout-ms",
            "7000",
            "--kafka-request-timeout-ms",
            "2500",
            "--kafka-flush-timeout-ms",
            "9000",
            "--kafka-properties",
            "security.protocol=SASL_SSL;ssl.ca.location=/ca.crt;sasl.mechanism=SCRAM-SHA-512;sasl.password=hunter2",
        ]);
        let kc = kafka_config(&c, "b1:9093").unwrap();
        assert_eq!(kc.bootstrap_servers, "b1:9093");
        assert_eq!((kc.topic_prefix.as_str(), kc.partitions, kc.replication_factor), ("prod.", 12, 3));
        assert_eq!(kc.client_id, "chat-api-1");
        assert_eq!(kc.session_timeout, std::time::Duration::from_millis(7000));
        assert_eq!(kc.request_timeout, std::time::Duration::from_millis(2500));
        assert_eq!(kc.flush_timeout, std::time::Duration::from_millis(9000));
        assert_eq!(kc.properties.get("security.protocol").map(String::as_str), Some("SASL_SSL"));
        assert_eq!(kc.properties.get("sasl.password").map(String::as_str), Some("hunter2"));
        assert!(kafka_config(&config(&["--kafka-properties", "not a pair"]), "b:1").is_err());
    }
}
