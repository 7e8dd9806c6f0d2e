//! What every request handler can reach.

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use todo_core::consumer::LagBoard;
use todo_core::events::EventFactory;
use todo_core::ports::{EventLog, Ports};
use todo_core::service::assistant::AssistantService;
use todo_core::service::audit::AuditService;
use todo_core::service::audit_verify::AuditVerifier;
use todo_core::service::chat::{ChatService, Interpreter, RuleBasedInterpreter};
use todo_core::service::notification::NotificationService;
use todo_core::service::sync::SyncHub;
use todo_core::service::{AccountService, CalendarService, FilterService, TaskService, TokenService};

use crate::http::jwt::JwtKeys;
use crate::http::limit::{IpRateLimit, SocketCounts, UserRateLimit};
use crate::role::API_SOURCE;
use crate::settings::{FeedSettings, McpSettings, WebConfig};

/// Shared by all handlers: one reference count to clone. Every request clones
/// the state (axum's `State`), and cloning the services field by field was two
/// dozen reference counts up and down per request (`perf` on the list path).
/// Reads go through `Deref`; the setters of [`crate::wiring`] through `DerefMut`,
/// which copies the services only if the state is already shared (never, in
/// practice: they run before the server starts).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Services {
        Arc::make_mut(&mut self.0)
    }
}

/// What the handlers reach through [`AppState`].
#[derive(Clone)]
pub struct Services {
    pub tasks: TaskService,
    /// Saved filters.
    pub filters: FilterService,
    pub accounts: AccountService,
    pub chat: ChatService,
    pub audit: AuditService,
    /// Incremental verification of audit chains (checkpoints).
    pub verifier: AuditVerifier,
    pub notifications: NotificationService,
    /// Live-update fan-out to WebSocket clients.
    pub hub: SyncHub,
    /// The event log the services consume (replays resumed live updates).
    pub live_log: Arc<dyn EventLog>,
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
    /// The per-request limits (docs/security.md).
    pub limits: Arc<HttpLimits>,
    /// Open WebSockets per user.
    pub ws_sockets: SocketCounts,
    /// API tokens for assistants and scripts.
    pub tokens: TokenService,
    /// Calendar feed secrets and contents.
    pub calendar: CalendarService,
    /// The MCP tools' use cases.
    pub assistant: AssistantService,
    /// Who may reach `/mcp` (`TODO_MCP_ALLOWED_HOSTS`, `TODO_MCP_ALLOWED_ORIGINS`).
    pub mcp: Arc<McpSettings>,
    /// Where calendar feeds are served (`TODO_PUBLIC_URL`).
    pub feeds: Arc<FeedSettings>,
}

impl AppState {
    /// The handlers' state over `ports`, with the rule-based chat interpreter and
    /// the library's default settings (the binaries set theirs in [`crate::wiring`]).
    pub fn new(ports: &Ports, jwt: JwtKeys, metrics: Option<PrometheusHandle>, cors_origins: Vec<String>) -> Self {
        Self::with_interpreter(ports, jwt, metrics, cors_origins, Arc::new(RuleBasedInterpreter))
    }

    /// [`AppState::new`] with a chosen chat interpreter.
    pub fn with_interpreter(
        ports: &Ports,
        jwt: JwtKeys,
        metrics: Option<PrometheusHandle>,
        cors_origins: Vec<String>,
        interpreter: Arc<dyn Interpreter>,
    ) -> Self {
        let tasks = TaskService::new(
            ports.tasks.clone(),
            ports.users.clone(),
            ports.clock.clone(),
            EventFactory::new(API_SOURCE),
        );
        let filters = FilterService::new(tasks.clone(), ports.saved_filters.clone());
        let chat = ChatService::new(tasks.clone(), ports.conversations.clone(), ports.clock.clone(), interpreter)
            .with_saved_filters(filters.clone());
        let audit = AuditService::new(ports.audit.clone());
        let notifications = NotificationService::new(ports.reminders.clone());
        Self(Arc::new(Services {
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
        }))
    }
}

/// The limits applied per request (the server's own are in
/// [`crate::http::serve::ServerLimits`]). `Default` is the library's: the
/// binaries build theirs from [`crate::config::Config`], whose defaults are in
/// docs/security.md.
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// Reverse proxies whose `X-Forwarded-For` is trusted (`TODO_TRUSTED_PROXIES`; 0).
    pub trusted_proxies: u8,
    /// Longest time from a request's headers to its response (`TODO_REQUEST_TIMEOUT_SECS`; 30 s).
    pub request_timeout: Duration,
    /// Requests per client address to `/api/v1/auth/*` (`TODO_AUTH_RATE_LIMIT`; none by default here).
    pub auth: Option<Arc<IpRateLimit>>,
    /// Audit verifications per user (`TODO_AUDIT_VERIFY_PER_MINUTE`; none by default here).
    pub audit_verify: Option<Arc<UserRateLimit>>,
    /// WebSockets per user (`TODO_WS_MAX_PER_USER`; 20).
    pub ws_max_per_user: usize,
    /// Largest client WebSocket message in bytes (`TODO_WS_MAX_MESSAGE_BYTES`; 4096).
    pub ws_max_message_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            trusted_proxies: 0,
            request_timeout: Duration::from_secs(30),
            auth: None,
            audit_verify: None,
            ws_max_per_user: 20,
            ws_max_message_bytes: 4096,
        }
    }
}

impl HttpLimits {
    /// The limits `config` sets.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            trusted_proxies: config.trusted_proxies,
            request_timeout: Duration::from_secs(config.request_timeout_secs),
            auth: IpRateLimit::per_minute(config.auth_rate_limit, config.auth_rate_limit_burst).map(Arc::new),
            audit_verify: UserRateLimit::per_minute(config.audit_verify_per_minute, config.audit_verify_per_minute)
                .map(Arc::new),
            ws_max_per_user: config.ws_max_per_user,
            ws_max_message_bytes: config.ws_max_message_bytes,
        }
    }

    /// Forgets idle keys of every limiter (run now and then to bound memory).
    pub fn forget_idle(&self) {
        if let Some(l) = &self.auth {
            l.forget_idle();
        }
        if let Some(l) = &self.audit_verify {
            l.forget_idle();
        }
    }
}
