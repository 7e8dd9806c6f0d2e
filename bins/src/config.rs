//! Configuration: environment variables with documented defaults (12-factor),
//! each also accepted as a command-line flag. `todo --help` lists them all.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// todo-events: an event-driven todo list that understands sentences.
#[derive(Debug, Parser)]
#[command(name = "todo", version, about, long_about = None, after_help = AFTER_HELP)]
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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, web page and all five services in one process (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Run only the outbox relay (database event table -> Kafka); needs DATABASE_URL
    /// and KAFKA_BOOTSTRAP_SERVERS. Relays are exclusive: extra ones wait as standbys.
    Relay,
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

    /// Seconds to wait for the LLM before falling back to the rule-based interpreter.
    #[arg(long, env = "LLM_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub llm_timeout_secs: u64,

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
        self
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
            .field("notify_webhook_url", &self.notify_webhook_url)
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
