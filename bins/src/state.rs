//! What every request handler can reach.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use todo_core::consumer::LagBoard;
use todo_core::ports::EventLog;
use todo_core::service::audit::AuditService;
use todo_core::service::chat::ChatService;
use todo_core::service::notification::NotificationService;
use todo_core::service::sync::SyncHub;
use todo_core::service::{AccountService, FilterService, TaskService};

use crate::http::auth::JwtKeys;
use crate::http::limit::UserRateLimit;
use crate::http::web::WebConfig;

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub tasks: TaskService,
    /// Saved filters.
    pub filters: FilterService,
    pub accounts: AccountService,
    pub chat: ChatService,
    pub audit: AuditService,
    pub notifications: NotificationService,
    /// Live-update fan-out to WebSocket clients.
    pub hub: SyncHub,
    /// The lag of the consumer groups this process runs (for `/ready`).
    pub lag: LagBoard,
    pub jwt: Arc<JwtKeys>,
    /// Per-user request rate limit of authenticated requests (`None`: unlimited).
    pub rate_limit: Option<Arc<UserRateLimit>>,
    /// Dependencies `/ready` pings, by name (`database`, `event_log`, ...).
    pub readiness: Arc<Vec<(&'static str, Arc<dyn EventLog>)>>,
    /// Renders `/metrics`; `None` when no recorder is installed (tests).
    pub metrics: Option<PrometheusHandle>,
    /// Origins allowed by CORS (none: same-origin only).
    pub cors_origins: Arc<Vec<String>>,
    /// Where the web page finds the sync, audit and notification services.
    pub web: Arc<WebConfig>,
}
