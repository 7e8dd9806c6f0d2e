//! Configuration: environment variables with documented defaults (12-factor),
//! each also accepted as a command-line flag. `todo --help` lists them all.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::role::Role;

/// todo-events: an event-driven todo list that understands sentences.
#[derive(Debug, Parser)]
#[command(name = "todo", version, about, long_about = None, after_help = todo_after_help())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

const AFTER_HELP: &str = "\
Run modes are chosen by configuration alone:
  neither DATABASE_URL nor KAFKA_BOOTSTRAP_SERVERS  embedded: SQLite file + event log in <data-dir>, one process
  DATABASE_URL=postgres://...                       PostgreSQL; its event table is the event log
  DATABASE_URL + KAFKA_BOOTSTRAP_SERVERS            PostgreSQL + Apache Kafka (outbox relayed to Kafka)
Logging: RUST_LOG (e.g. info,todo_services=debug), LOG_FORMAT=text|json.";

fn todo_after_help() -> String {
    format!("{AFTER_HELP}\n\n{}", crate::role::overview())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, web page and all five services in one process (the default).
    #[command(long_about = Role::All.spec().long_help())]
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Run only the outbox relay (database event table -> Kafka); needs DATABASE_URL
    /// and KAFKA_BOOTSTRAP_SERVERS. Relays are exclusive: extra ones wait as standbys.
    Relay,
    /// Serve the MCP tools over stdio (for desktop assistants that launch a
    /// process), as the user of an API token, on the configured database. The
    /// token is checked at every call: revoking it stops this process's access.
    Mcp {
        /// An API token (`todo_pat_...`, from POST /api/v1/auth/tokens or the web
        /// page). Prefer TODO_TOKEN: a flag shows in the process list.
        #[arg(long, env = "TODO_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Interpret one chat sentence and print {"intent": ..., "args": {...}} as JSON.
    Parse {
        /// The current instant, RFC 3339 (default: now).
        #[arg(long)]
        now: Option<String>,
        /// The user's IANA time zone.
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// The sentence.
        sentence: String,
    },
    /// Run chat turns as one conversation of a fresh user on an in-memory store
    /// (the services the server uses) and print {"replies": [...], "tasks": [...]}.
    Converse {
        /// The current instant, RFC 3339 (default: now); the clock stands still.
        #[arg(long)]
        now: Option<String>,
        /// The user's IANA time zone.
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// The turns, in order (after `--`).
        #[arg(last = true)]
        turns: Vec<String>,
    },
}

/// The command line of a service binary: settings only.
#[derive(Debug, Parser)]
#[command(version, about = "A todo-events service; settings from the environment or flags.", after_help = AFTER_HELP)]
pub struct ServiceCli {
    #[command(flatten)]
    pub config: Config,
}

/// Text or JSON log lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Every setting of the services.
#[derive(Clone, Args)]
pub struct Config {
    /// Address the HTTP server listens on [default: 127.0.0.1:8000; the service
    /// binaries: chat-api 8000, sync 8001, audit 8002, notification 8003, recurring 8004].
    #[arg(long, env = "TODO_BIND", global = true)]
    pub bind: Option<SocketAddr>,

    /// Directory of the embedded database, event log and generated secrets.
    #[arg(long, env = "TODO_DATA_DIR", default_value = "./todo-data", global = true)]
    pub data_dir: PathBuf,

    /// Database: postgres://user:pass@host/db, or sqlite://path (default: SQLite in the data dir).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Apache Kafka bootstrap servers (host:port,...). Unset: the database's event table is the event log.
    #[arg(long, env = "KAFKA_BOOTSTRAP_SERVERS", global = true)]
    pub kafka_bootstrap_servers: Option<String>,

    /// Prefix of every Kafka topic name (to share a cluster between environments).
    #[arg(long, env = "KAFKA_TOPIC_PREFIX", default_value = "", global = true)]
    pub kafka_topic_prefix: String,

    /// Partitions of each topic created at start.
    #[arg(long, env = "KAFKA_PARTITIONS", default_value_t = 6, global = true)]
    pub kafka_partitions: i32,

    /// Replication factor of each topic created at start (3 in a production cluster).
    #[arg(long, env = "KAFKA_REPLICATION_FACTOR", default_value_t = 1, global = true)]
    pub kafka_replication_factor: i32,

    /// `client.id` of the Kafka clients (shown in broker logs and quotas).
    #[arg(long, env = "KAFKA_CLIENT_ID", default_value = "todo-events", global = true)]
    pub kafka_client_id: String,

    /// Consumer session timeout, in milliseconds.
    #[arg(long, env = "KAFKA_SESSION_TIMEOUT_MS", default_value_t = 10_000, global = true)]
    pub kafka_session_timeout_ms: u64,

    /// Timeout of Kafka metadata and admin requests, in milliseconds.
    #[arg(long, env = "KAFKA_REQUEST_TIMEOUT_MS", default_value_t = 5_000, global = true)]
    pub kafka_request_timeout_ms: u64,

    /// How long shutdown waits for queued Kafka records to be acknowledged, in milliseconds.
    #[arg(long, env = "KAFKA_FLUSH_TIMEOUT_MS", default_value_t = 30_000, global = true)]
    pub kafka_flush_timeout_ms: u64,

    /// Extra librdkafka properties for every Kafka client, `key=value` pairs
    /// separated by `;` or newlines: TLS and SASL, e.g.
    /// `security.protocol=SASL_SSL;ssl.ca.location=/ca.crt;sasl.mechanism=SCRAM-SHA-512;sasl.username=todo;sasl.password=...`.
    #[arg(long, env = "KAFKA_PROPERTIES", hide_env_values = true, global = true)]
    pub kafka_properties: Option<String>,

    /// HS256 signing secret for access tokens, at least 32 bytes. Required with
    /// PostgreSQL; the embedded mode generates one in the data dir.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "JWT_TTL_SECS", default_value_t = 86_400, global = true)]
    pub jwt_ttl_secs: i64,

    /// Origins allowed to call the API from a browser (comma-separated; none by default).
    #[arg(long, env = "TODO_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Requests per second each signed-in user may make to the API, sustained
    /// (429 `rate_limited` with Retry-After above it). 0 turns the limit off.
    #[arg(long, env = "TODO_RATE_LIMIT", default_value_t = 20, global = true)]
    pub rate_limit: u32,

    /// Requests a signed-in user may make at once before TODO_RATE_LIMIT applies.
    #[arg(long, env = "TODO_RATE_LIMIT_BURST", default_value_t = 100, global = true)]
    pub rate_limit_burst: u32,

    /// Reverse proxies in front of this server whose `X-Forwarded-For` is trusted:
    /// the client address is the entry that many places from the right. 0 (the
    /// default): the header is ignored and the peer address is the client.
    #[arg(long, env = "TODO_TRUSTED_PROXIES", default_value_t = 0, global = true)]
    pub trusted_proxies: u8,

    /// Requests per minute each client address may make to /api/v1/auth/*
    /// (register, login), sustained; 429 with Retry-After above it. 0 turns it off.
    #[arg(long, env = "TODO_AUTH_RATE_LIMIT", default_value_t = 30, global = true)]
    pub auth_rate_limit: u32,

    /// Requests to /api/v1/auth/* a client address may make at once before
    /// TODO_AUTH_RATE_LIMIT applies.
    #[arg(long, env = "TODO_AUTH_RATE_LIMIT_BURST", default_value_t = 10, global = true)]
    pub auth_rate_limit_burst: u32,

    /// Sign-in attempts per (account, client address) within TODO_LOGIN_WINDOW_SECS;
    /// the next ones get 429 with Retry-After until the window ends.
    #[arg(long, env = "TODO_LOGIN_MAX_ATTEMPTS", default_value_t = 10, global = true)]
    pub login_max_attempts: u32,

    /// The sign-in throttling window, in seconds.
    #[arg(long, env = "TODO_LOGIN_WINDOW_SECS", default_value_t = 900, global = true)]
    pub login_window_secs: u32,

    /// Password hashes (argon2id, 19 MiB and one core each) computed at once
    /// [default: the number of CPU cores].
    #[arg(long, env = "TODO_HASH_CONCURRENCY", global = true)]
    pub hash_concurrency: Option<usize>,

    /// Sign-ins and registrations that may wait for a hashing slot; beyond them,
    /// 503 with Retry-After.
    #[arg(long, env = "TODO_HASH_QUEUE", default_value_t = 16, global = true)]
    pub hash_queue: usize,

    /// Seconds a client has to send a request's headers; slower connections are closed.
    #[arg(long, env = "TODO_HEADER_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub header_timeout_secs: u64,

    /// Seconds a request may take from its headers to the response (408 after).
    #[arg(long, env = "TODO_REQUEST_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub request_timeout_secs: u64,

    /// Open HTTP connections (WebSockets included); the next ones get 503 and are closed.
    #[arg(long, env = "TODO_MAX_CONNECTIONS", default_value_t = 1024, global = true)]
    pub max_connections: usize,

    /// Live-update WebSockets one user may hold open; the next is closed with code
    /// 1008 and reason "too many connections".
    #[arg(long, env = "TODO_WS_MAX_PER_USER", default_value_t = 20, global = true)]
    pub ws_max_per_user: usize,

    /// Largest WebSocket message (or frame) a client may send, in bytes.
    #[arg(long, env = "TODO_WS_MAX_MESSAGE_BYTES", default_value_t = 4096, global = true)]
    pub ws_max_message_bytes: usize,

    /// Audit-chain verifications per user per minute (429 with Retry-After above). 0 turns it off.
    #[arg(long, env = "TODO_AUDIT_VERIFY_PER_MINUTE", default_value_t = 6, global = true)]
    pub audit_verify_per_minute: u32,

    /// WebSocket URL of the live updates the web page subscribes to, e.g.
    /// ws://localhost:8001/ws (the sync service in the distributed mode).
    /// Unset: /ws on the page's own origin.
    #[arg(long, env = "TODO_WEB_SYNC_URL", global = true)]
    pub web_sync_url: Option<String>,

    /// Base URL of the audit API the web page calls, e.g. http://localhost:8002
    /// (the audit service in the distributed mode; it must list the page's origin
    /// in TODO_CORS_ORIGINS). Unset: the page's own origin.
    #[arg(long, env = "TODO_WEB_AUDIT_URL", global = true)]
    pub web_audit_url: Option<String>,

    /// Base URL of the notifications API the web page calls, e.g.
    /// http://localhost:8003 (the notification service in the distributed mode;
    /// it must list the page's origin in TODO_CORS_ORIGINS). Unset: the page's own origin.
    #[arg(long, env = "TODO_WEB_NOTIFICATIONS_URL", global = true)]
    pub web_notifications_url: Option<String>,

    /// URL that fired reminders are also POSTed to (signed; see NOTIFY_WEBHOOK_SECRET).
    #[arg(long, env = "NOTIFY_WEBHOOK_URL", global = true)]
    pub notify_webhook_url: Option<String>,

    /// HMAC-SHA256 key of the `X-Todo-Signature` header of webhook requests.
    #[arg(long, env = "NOTIFY_WEBHOOK_SECRET", hide_env_values = true, global = true)]
    pub notify_webhook_secret: Option<String>,

    /// OpenAI-compatible chat-completions endpoint (e.g. https://api.openai.com/v1,
    /// http://localhost:11434/v1 for Ollama). Unset: the rule-based interpreter only.
    #[arg(long, env = "LLM_BASE_URL", global = true)]
    pub llm_base_url: Option<String>,

    /// Model name sent to the LLM endpoint.
    #[arg(long, env = "LLM_MODEL", default_value = "gpt-4o-mini", global = true)]
    pub llm_model: String,

    /// Bearer key for the LLM endpoint.
    #[arg(long, env = "LLM_API_KEY", hide_env_values = true, global = true)]
    pub llm_api_key: Option<String>,

    /// LLM calls each user may cause per UTC day (counted in the database, so shared
    /// by every chat-api instance); then the rule-based interpreter answers. 0: never call the LLM.
    #[arg(long, env = "LLM_DAILY_BUDGET", default_value_t = 200, global = true)]
    pub llm_daily_budget: u32,

    /// Seconds to wait for the LLM before falling back to the rule-based interpreter.
    #[arg(long, env = "LLM_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub llm_timeout_secs: u64,

    /// Hosts (`name` or `name:port`) whose `Host` header the MCP endpoint `/mcp`
    /// accepts, comma-separated (DNS-rebinding protection): list the names clients
    /// use to reach this server. No wildcard.
    #[arg(
        long,
        env = "TODO_MCP_ALLOWED_HOSTS",
        value_delimiter = ',',
        default_value = "localhost,127.0.0.1,::1",
        global = true
    )]
    pub mcp_allowed_hosts: Vec<String>,

    /// Browser origins allowed to call `/mcp` (comma-separated, e.g.
    /// https://inspector.example.com or http://localhost:*). None by default: a
    /// request with an `Origin` header is refused; clients that send none pass.
    #[arg(long, env = "TODO_MCP_ALLOWED_ORIGINS", value_delimiter = ',', global = true)]
    pub mcp_allowed_origins: Vec<String>,

    /// Public base URL of this server (e.g. https://todo.example.com): the calendar
    /// feed's address is built on it. Unset: http:// and the request's Host header.
    #[arg(long, env = "TODO_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Whether a service applies the database migrations when it starts: `auto`,
    /// or `skip` when a migration job runs `todo migrate` before the services (the
    /// Helm chart, docker-compose.yml), so that an older version still starts on a
    /// newer schema during a rolling upgrade (docs/operations.md).
    #[arg(long, env = "TODO_MIGRATE", value_enum, default_value_t = MigrateOnStart::Auto, global = true)]
    pub migrate_on_start: MigrateOnStart,
}

/// What a service does about migrations when it starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum MigrateOnStart {
    /// Apply the pending migrations (PostgreSQL serialises concurrent starts).
    #[default]
    Auto,
    /// Leave the schema alone: `todo migrate` runs elsewhere.
    Skip,
}

impl Config {
    /// Settings given as empty strings (e.g. `DATABASE_URL=`) count as unset.
    pub fn normalized(mut self) -> Self {
        let blank = |o: &mut Option<String>| {
            if o.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *o = None;
            }
        };
        blank(&mut self.database_url);
        blank(&mut self.kafka_bootstrap_servers);
        blank(&mut self.jwt_secret);
        blank(&mut self.notify_webhook_url);
        blank(&mut self.notify_webhook_secret);
        blank(&mut self.llm_base_url);
        blank(&mut self.llm_api_key);
        blank(&mut self.kafka_properties);
        blank(&mut self.public_url);
        self.mcp_allowed_hosts.retain(|h| !h.trim().is_empty());
        self.mcp_allowed_origins.retain(|o| !o.trim().is_empty());
        self
    }

    /// Settings that cannot work, refused at start with a clear message.
    pub fn validate(&self) -> Result<(), String> {
        for origin in &self.cors_origins {
            let origin = origin.trim();
            if origin == "*" {
                return Err("TODO_CORS_ORIGINS=* is not accepted: list the origins allowed to call the API with \
                            credentials, e.g. https://todo.example.com (a wildcard would let any site read \
                            signed-in users' data)"
                    .to_owned());
            }
            let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/')
                && axum::http::HeaderValue::from_str(origin).is_ok();
            if !valid {
                return Err(format!(
                    "TODO_CORS_ORIGINS: {origin:?} is not an origin (scheme://host[:port], no path or trailing slash)"
                ));
            }
        }
        let positive = [
            ("TODO_HEADER_TIMEOUT_SECS", self.header_timeout_secs),
            ("TODO_REQUEST_TIMEOUT_SECS", self.request_timeout_secs),
            ("TODO_MAX_CONNECTIONS", self.max_connections as u64),
            ("TODO_WS_MAX_PER_USER", self.ws_max_per_user as u64),
            ("TODO_WS_MAX_MESSAGE_BYTES", self.ws_max_message_bytes as u64),
            ("TODO_LOGIN_MAX_ATTEMPTS", u64::from(self.login_max_attempts)),
            ("TODO_LOGIN_WINDOW_SECS", u64::from(self.login_window_secs)),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        crate::settings::McpSettings::parse(&self.mcp_allowed_hosts, &self.mcp_allowed_origins)?;
        crate::settings::FeedSettings::parse(self.public_url.as_deref())?;
        if self.hash_concurrency == Some(0) {
            return Err("TODO_HASH_CONCURRENCY must be at least 1".to_owned());
        }
        Ok(())
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets and URLs with credentials stay out of logs.
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database_url.as_deref().map(redact_url))
            .field("kafka_bootstrap_servers", &self.kafka_bootstrap_servers)
            .field("kafka_topic_prefix", &self.kafka_topic_prefix)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<set>"))
            .field("notify_webhook_url", &self.notify_webhook_url.as_ref().map(|_| "<set>"))
            .field("kafka_properties", &self.kafka_properties.as_ref().map(|_| "<set>"))
            .field("llm_base_url", &self.llm_base_url)
            .field("web_sync_url", &self.web_sync_url)
            .field("log_format", &self.log_format)
            .field("migrate_on_start", &self.migrate_on_start)
            .finish_non_exhaustive()
    }
}

/// `scheme://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://todo:secret@127.0.0.1:5432/todo"), "postgres://todo:***@127.0.0.1:5432/todo");
        assert_eq!(redact_url("sqlite://./todo-data/todo.db"), "sqlite://./todo-data/todo.db");
    }

    #[test]
    fn empty_settings_are_unset() {
        use clap::Parser;
        let cli = Cli::try_parse_from(["todo", "--database-url", "", "--kafka-bootstrap-servers", " "]).unwrap();
        let c = cli.config.normalized();
        assert!(c.database_url.is_none() && c.kafka_bootstrap_servers.is_none());
    }

    #[test]
    fn cors_wildcard_and_malformed_origins_are_refused() {
        use clap::Parser;
        let parse = |origins: &str| Cli::try_parse_from(["todo", "--cors-origins", origins]).unwrap().config;
        let e = parse("*").validate().unwrap_err();
        assert!(e.contains("TODO_CORS_ORIGINS=*"), "{e}");
        assert!(parse("http://a.example,*").validate().is_err());
        assert!(parse("a.example").validate().is_err());
        assert!(parse("https://a.example/").validate().is_err());
        parse("https://a.example,http://localhost:8000").validate().expect("valid origins");
    }

    #[test]
    fn secrets_and_webhook_urls_stay_out_of_debug() {
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "todo",
            "--jwt-secret",
            "s3cret-s3cret-s3cret-s3cret-s3cret",
            "--notify-webhook-url",
            "https://hooks.example/T000/B000/XXXX",
            "--kafka-properties",
            "sasl.password=hunter2",
        ])
        .unwrap();
        let shown = format!("{:?}", cli.config);
        for secret in ["s3cret", "XXXX", "hunter2"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn migrations_on_start_can_be_skipped() {
        use clap::Parser;
        assert_eq!(Cli::try_parse_from(["todo"]).unwrap().config.migrate_on_start, MigrateOnStart::Auto);
        let cli = Cli::try_parse_from(["todo", "--migrate-on-start", "skip", "migrate"]).unwrap();
        assert_eq!(cli.config.migrate_on_start, MigrateOnStart::Skip);
        assert!(matches!(cli.command, Some(Command::Migrate)), "`todo migrate` still migrates");
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
