//! Wiring: configuration in, adapters built, services started, HTTP served.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use metrics_exporter_prometheus::PrometheusHandle;
use todo_core::events::EventFactory;
use todo_core::ports::{
    AuditStore, Clock, ConversationStore, EventLog, LoginAttempts, ReminderStore, SystemClock, TaskRepository,
    UserRepository,
};
use todo_core::service::audit::AuditService;
use todo_core::service::notification::NotificationService;
use todo_core::service::sync::SyncHub;
use todo_core::service::{AccountService, TaskService};

use crate::config::Config;
use crate::http::auth::{JWT_SECRET_MIN_BYTES, JwtKeys};
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
            log: store,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The handlers' state over `ports`.
pub fn state(ports: &Ports, jwt: JwtKeys, metrics: Option<PrometheusHandle>, cors_origins: Vec<String>) -> AppState {
    AppState {
        tasks: TaskService::new(
            ports.tasks.clone(),
            ports.users.clone(),
            ports.clock.clone(),
            EventFactory::new(API_SOURCE),
        ),
        accounts: AccountService::new(ports.users.clone(), ports.login_attempts.clone(), ports.clock.clone()),
        audit: AuditService::new(ports.audit.clone()),
        notifications: NotificationService::new(ports.reminders.clone()),
        hub: SyncHub::new(),
        jwt: Arc::new(jwt),
        readiness: Arc::new(vec![("event_log", ports.log.clone())]),
        metrics,
        cors_origins: Arc::new(cors_origins),
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

/// `todo serve`.
pub async fn serve(_config: Config) -> anyhow::Result<()> {
    todo!("wire todo-store")
}

/// `todo migrate`.
pub async fn migrate(_config: &Config) -> anyhow::Result<()> {
    todo!("wire todo-store")
}

/// `todo parse`.
pub fn parse_command(_now: Option<&str>, _tz: &str, _sentence: &str) -> anyhow::Result<()> {
    todo!("wire the chat interpreter")
}
