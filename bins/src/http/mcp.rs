//! `/mcp`: the MCP tools over Streamable HTTP ([`crate::mcp`]). Every request
//! carries `Authorization: Bearer` (an API token or a session) and draws from
//! the user's request rate limit, as a REST request does. The transport is
//! stateless (no `Mcp-Session-Id`; each POST stands alone and is answered with
//! JSON), so any instance of the API answers any request. `Host` must be one of
//! `TODO_MCP_ALLOWED_HOSTS` and a browser's `Origin` one of
//! `TODO_MCP_ALLOWED_ORIGINS` (DNS-rebinding and cross-site protection).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::BODY_LIMIT_BYTES;
use super::auth::authenticate;
use crate::mcp::TodoMcp;
use crate::state::AppState;

/// Who may reach `/mcp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpSettings {
    /// `Host` values accepted (`name` or `name:port`).
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted; none: any request with an `Origin` is refused.
    pub allowed_origins: Vec<String>,
}

impl Default for McpSettings {
    /// Loopback only, no browser origins (the SDK's own default for hosts).
    fn default() -> Self {
        Self { allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()], allowed_origins: vec![] }
    }
}

impl McpSettings {
    /// Checks `TODO_MCP_ALLOWED_HOSTS` and `TODO_MCP_ALLOWED_ORIGINS`.
    pub fn parse(hosts: &[String], origins: &[String]) -> Result<Self, String> {
        let hosts: Vec<String> = hosts.iter().map(|h| h.trim().to_owned()).filter(|h| !h.is_empty()).collect();
        if hosts.is_empty() {
            return Err(
                "TODO_MCP_ALLOWED_HOSTS must list at least one host (the names clients use to reach /mcp)".into()
            );
        }
        for h in &hosts {
            if h.contains('*') || h.contains('/') || h.contains(char::is_whitespace) {
                return Err(format!(
                    "TODO_MCP_ALLOWED_HOSTS: {h:?} is not a host name or host:port (no wildcards, schemes or paths)"
                ));
            }
        }
        let origins: Vec<String> = origins.iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
        for o in &origins {
            let valid = o == "null" || o.starts_with("http://") || o.starts_with("https://");
            if !valid || o == "*" || o.ends_with('/') {
                return Err(format!(
                    "TODO_MCP_ALLOWED_ORIGINS: {o:?} is not an origin (scheme://host[:port], or :* for any port)"
                ));
            }
        }
        Ok(Self { allowed_hosts: hosts, allowed_origins: origins })
    }
}

pub fn routes(state: &AppState) -> Router<AppState> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(state.mcp.allowed_hosts.clone())
        .with_allowed_origins(state.mcp.allowed_origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(BODY_LIMIT_BYTES);
    let server = TodoMcp::over_http(state.assistant.clone());
    let service =
        StreamableHttpService::new(move || Ok(server.clone()), Arc::new(NeverSessionManager::default()), config);
    Router::new().nest_service("/mcp", service).layer(middleware::from_fn_with_state(state.clone(), require_bearer))
}

/// Authenticates the request (401 with `WWW-Authenticate: Bearer` otherwise)
/// and hands its principal to the MCP server through the request's extensions.
async fn require_bearer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match authenticate(&state, req.headers()).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(e) => {
            let unauthorized = e.status == axum::http::StatusCode::UNAUTHORIZED;
            let mut res = e.into_response();
            if unauthorized {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"todo-events\""));
            }
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins_are_explicit() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(McpSettings::parse(&s(&["todo.example.com", "localhost:8000"]), &[]).is_ok());
        assert!(McpSettings::parse(&s(&[]), &[]).is_err());
        assert!(McpSettings::parse(&s(&["*"]), &[]).is_err());
        assert!(McpSettings::parse(&s(&["https://x"]), &[]).is_err());
        assert!(McpSettings::parse(&s(&["x"]), &s(&["https://app.example.com", "http://localhost:*"])).is_ok());
        assert!(McpSettings::parse(&s(&["x"]), &s(&["*"])).is_err());
        assert!(McpSettings::parse(&s(&["x"]), &s(&["app.example.com"])).is_err());
    }
}
