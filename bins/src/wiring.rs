//! Wiring: the run mode's adapters connected, the handlers' state built from the
//! configuration, the background work of a role started, HTTP served.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use todo_core::events::TopicNames;
use todo_core::ports::{EventLog, Ports};
use todo_core::service::AccountService;
use todo_core::service::account::AccountLimits;
use todo_core::service::chat::{Interpreter, RuleBasedInterpreter};
use todo_kafka::{KafkaEventLog, OutboxRelay, RelayConfig};
use todo_store::StoreOptions;

use crate::adapters::llm::LlmInterpreter;
use crate::adapters::webhook::HttpWebhookSender;
use crate::config::{Config, MigrateOnStart, redact_url};
use crate::http::jwt::JwtKeys;
use crate::http::limit::UserRateLimit;
use crate::http::serve::ServerLimits;
use crate::role::Role;
use crate::run_mode::RunMode;
use crate::secrets::{jwt_secret, prepare_sqlite_file};
use crate::services::WebhookConfig;
use crate::settings::{FeedSettings, McpSettings, WebConfig};
use crate::shutdown::Background;
use crate::state::{AppState, HttpLimits};

/// What [`connect`] built besides the ports: what shutdown must close.
pub struct Infra {
    pub store: todo_store::Store,
    /// The database's own event table (the outbox).
    pub sql_log: Arc<dyn EventLog>,
    pub kafka: Option<Arc<KafkaEventLog>>,
}

/// Connects the database of `mode` (migrating it unless `TODO_MIGRATE=skip`)
/// and, in the Kafka mode, Kafka (creating the topics); returns the ports
/// services run on.
pub async fn connect(config: &Config, mode: &RunMode) -> anyhow::Result<(Ports, Infra)> {
    let topic_names = TopicNames::new(config.kafka_topic_prefix.clone());
    let url = mode.database_url();
    let opts = StoreOptions { topic_names: topic_names.clone(), ..StoreOptions::default() };
    prepare_sqlite_file(url)?;
    let store = todo_store::connect_with(url, &opts)
        .await
        .with_context(|| format!("connect to the database {}", redact_url(url)))?;
    if config.migrate_on_start == MigrateOnStart::Auto {
        store.migrate().await.context("migrate the database")?;
    }
    let sql_log = store.event_log();
    let kafka = match mode.kafka() {
        Some(kc) => {
            todo_kafka::ensure_topics(kc).await.context("create the Kafka topics")?;
            Some(Arc::new(KafkaEventLog::new(kc.clone()).context("connect to Kafka")?))
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

/// The chat interpreter `config` names: the LLM adapter (falling back to the
/// rule-based one) when `LLM_BASE_URL` is set, else the rule-based one.
pub fn interpreter(config: &Config, ports: &Ports) -> Arc<dyn Interpreter> {
    match &config.llm_base_url {
        Some(url) => Arc::new(
            LlmInterpreter::new(
                url,
                config.llm_model.clone(),
                config.llm_api_key.clone(),
                Duration::from_secs(config.llm_timeout_secs),
            )
            .with_budget(ports.llm_budget.clone(), config.llm_daily_budget),
        ),
        None => Arc::new(RuleBasedInterpreter),
    }
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
        header_read_timeout: Duration::from_secs(config.header_timeout_secs),
        max_connections: config.max_connections,
    }
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

/// The handlers' state with every setting of `config`.
fn state(config: &Config, ports: &Ports, infra: &Infra, jwt: JwtKeys) -> anyhow::Result<AppState> {
    let metrics = crate::telemetry::init_metrics();
    let interpreter = interpreter(config, ports);
    let mut state = AppState::with_interpreter(ports, jwt, Some(metrics), config.cors_origins.clone(), interpreter);
    state.accounts = AccountService::with_limits(
        ports.users.clone(),
        ports.login_attempts.clone(),
        ports.clock.clone(),
        account_limits(config),
    );
    state.limits = Arc::new(HttpLimits::from_config(config));
    let mut readiness: Vec<(&'static str, Arc<dyn EventLog>)> = vec![("database", infra.sql_log.clone())];
    if let Some(k) = &infra.kafka {
        readiness.push(("kafka", k.clone()));
    }
    state.readiness = Arc::new(readiness);
    state.web = Arc::new(web_config(config)?);
    state.rate_limit = UserRateLimit::new(config.rate_limit, config.rate_limit_burst).map(Arc::new);
    state.mcp = Arc::new(
        McpSettings::parse(&config.mcp_allowed_hosts, &config.mcp_allowed_origins).map_err(anyhow::Error::msg)?,
    );
    state.feeds = Arc::new(FeedSettings::parse(config.public_url.as_deref()).map_err(anyhow::Error::msg)?);
    Ok(state)
}

/// Starts the background work of `role`'s row: its services, the outbox relay
/// (with Kafka, when the role writes events), and the housekeeping tick.
fn start(role: Role, config: &Config, ports: &Ports, state: &AppState, infra: &Infra) -> anyhow::Result<Background> {
    let spec = role.spec();
    let bg = Background::default();
    crate::services::start(ports, &state.hub, &state.lag, spec, webhook(config)?, &bg.tracker, &bg.shutdown);
    {
        // Bounded memory and tables: idle limiter keys forgotten, ended sign-in
        // throttling windows pruned, once a minute.
        let (limit, limits, accounts) = (state.rate_limit.clone(), state.limits.clone(), state.accounts.clone());
        let token = bg.shutdown.clone();
        bg.tracker.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
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
    if let (Some(kafka), true) = (&infra.kafka, spec.outbox_relay) {
        let relay = OutboxRelay::new(infra.sql_log.clone(), (**kafka).clone(), RelayConfig::default());
        let token = bg.shutdown.clone();
        bg.tracker.spawn(async move {
            if let Err(e) = relay.run(token).await {
                tracing::error!(error = %e, "outbox relay stopped");
            }
        });
    }
    Ok(bg)
}

/// Runs `role` until Ctrl-C or SIGTERM: connects, starts its background work,
/// serves its routes, then stops in order (HTTP, consumers finishing their
/// record, relay, Kafka flush).
pub async fn run(role: Role, config: Config) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    let mode = RunMode::from_config(&config)?;
    // Refused before anything is connected or created.
    let secret = jwt_secret(&config, &mode)?;
    let (ports, infra) = connect(&config, &mode).await?;
    let state = state(&config, &ports, &infra, JwtKeys::new(&secret, config.jwt_ttl_secs))?;
    let bg = start(role, &config, &ports, &state, &infra)?;

    let bind = config.bind.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], role.default_port())));
    let limits = server_limits(&config);
    let listener = crate::http::serve::listen(bind, &limits).with_context(|| format!("listen on {bind}"))?;
    let addr = listener.local_addr()?;
    let mode = mode.label();
    tracing::info!(role = role.name(), %addr, mode, "listening");
    eprintln!("{} ({mode}) listening on http://{addr}", role.name());
    let router = crate::http::router_for(role, state);
    let stopping = bg.clone();
    crate::http::serve::serve(listener, router, limits, async move { stopping.stopping().await })
        .await
        .context("serve HTTP")?;
    bg.stop(&infra.store, infra.kafka.as_deref()).await;
    Ok(())
}
