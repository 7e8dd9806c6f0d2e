//! `todo`: the all-in-one process (`todo serve`, the default), `todo migrate`,
//! `todo mcp` (the MCP tools over stdio), `todo parse` (the chat interpreter on
//! the command line) and `todo converse` (a conversation on the command line).

use clap::Parser;
use todo_services::config::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    cli.config = cli.config.normalized();
    todo_services::telemetry::init_tracing(cli.config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => todo_services::commands::serve(cli.config).await,
        Command::Migrate => todo_services::commands::migrate(&cli.config).await,
        Command::Relay => todo_services::commands::relay(cli.config).await,
        Command::Mcp { token } => todo_services::mcp::stdio::serve(cli.config, token).await,
        Command::Parse { now, tz, sentence } => todo_services::commands::parse_command(now.as_deref(), &tz, &sentence),
        Command::Converse { now, tz, turns } => todo_services::converse::run(now.as_deref(), &tz, &turns).await,
    }
}
