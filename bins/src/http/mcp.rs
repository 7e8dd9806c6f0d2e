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

use super::auth::authenticate;
use crate::mcp::TodoMcp;
use crate::settings::BODY_LIMIT_BYTES;
use crate::state::AppState;

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
