//! `todo mcp --token <api token>` (or `TODO_TOKEN`): the MCP tools over stdio,
//! for desktop assistants that launch a process. It opens the configured
//! database (the same `DATABASE_URL` / data dir as `todo serve`) and writes
//! through the same services, so its changes are events on the same log; the
//! reactive services (recurrence, reminders, audit, live updates) of the running
//! server or services act on them. It runs none of those itself.

use std::sync::Arc;

use anyhow::{Context, bail};
use rmcp::ServiceExt;
use todo_core::service::TokenService;

use super::{Caller, TodoMcp};
use crate::config::Config;
use crate::http::jwt::JwtKeys;
use crate::http::limit::UserRateLimit;
use crate::run_mode::RunMode;
use crate::state::AppState;
use crate::wiring;

/// Serves the tools on stdin/stdout until the client closes them.
pub async fn serve(config: Config, token: String) -> anyhow::Result<()> {
    let token = token.trim().to_owned();
    if !TokenService::is_api_token(&token) {
        bail!("todo mcp needs an API token (todo_pat_...): mint one with POST /api/v1/auth/tokens or on the web page");
    }
    let mode = RunMode::from_config(&config)?;
    let (ports, infra) = wiring::connect(&config, &mode).await?;
    // Sessions are never signed here: a throwaway key.
    let jwt = JwtKeys::new(todo_core::domain::credential::random_secret().as_bytes(), 0);
    let state = AppState::with_interpreter(&ports, jwt, None, vec![], wiring::interpreter(&config, &ports));
    let principal = state
        .tokens
        .authenticate(&token)
        .await
        .context("check the API token")?
        .context("the API token is unknown, revoked or expired")?;
    tracing::info!(user = %principal.user_id, scopes = principal.scopes.as_str(), "mcp over stdio");
    let caller = Caller::Token {
        token: Arc::from(token),
        tokens: state.tokens.clone(),
        rate_limit: UserRateLimit::new(config.rate_limit, config.rate_limit_burst).map(Arc::new),
    };
    let server = TodoMcp::for_token(state.assistant.clone(), caller);
    let running = server.serve(rmcp::transport::io::stdio_pipes()).await.context("start the MCP session")?;
    let reason = running.waiting().await.context("the MCP session")?;
    tracing::info!(?reason, "mcp session ended");
    if let Some(k) = &infra.kafka {
        let _ = k.flush().await;
    }
    infra.store.close().await;
    Ok(())
}
