//! The commands of the `todo` binary besides the MCP and conversation ones
//! (`todo serve`, `migrate`, `relay`, `parse`), and the `main` of the five
//! service binaries.

use anyhow::Context;
use todo_kafka::{OutboxRelay, RelayConfig};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ServiceCli, redact_url};
use crate::role::Role;
use crate::run_mode::RunMode;
use crate::shutdown::shutdown_signal;
use crate::wiring;

/// `todo serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    wiring::run(Role::All, config).await
}

/// `todo relay`: the outbox relay alone, until Ctrl-C or SIGTERM.
pub async fn relay(config: Config) -> anyhow::Result<()> {
    let mode = RunMode::from_config(&config)?;
    let (_, infra) = wiring::connect(&config, &mode).await?;
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
    let mode = RunMode::from_config(config)?;
    let url = mode.database_url();
    let store = todo_store::connect(url).await.with_context(|| format!("connect to {}", redact_url(url)))?;
    store.migrate().await.context("migrate")?;
    eprintln!("migrated {}", redact_url(url));
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

/// The `main` of a service binary: its configuration from the environment and
/// flags, its `--help` from its row of [`crate::role::ROLES`].
pub async fn service_main(role: Role) -> anyhow::Result<()> {
    use clap::{CommandFactory, FromArgMatches};
    let spec = role.spec();
    let command = ServiceCli::command().name(spec.name).about(spec.about).long_about(spec.long_help());
    let cli = ServiceCli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    let config = cli.config.normalized();
    crate::telemetry::init_tracing(config.log_format);
    wiring::run(role, config).await
}
