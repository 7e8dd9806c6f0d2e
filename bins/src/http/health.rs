//! Liveness, readiness and Prometheus metrics.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use super::extract::Json;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/health", get(health)).route("/ready", get(ready)).route("/metrics", get(metrics))
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "{\"status\":\"ok\"}")))]
async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Every dependency (database, event log) answers; with the lag of each consumer
/// group the process runs (`consumers`: records behind and the age in seconds of
/// the oldest record not yet processed).
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "a dependency is down")))]
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let mut checks = serde_json::Map::new();
    let mut ok = true;
    for (name, check) in state.readiness.iter() {
        let result = tokio::time::timeout(std::time::Duration::from_secs(2), check.ping()).await;
        let status = match result {
            Ok(Ok(())) => "ok".to_owned(),
            Ok(Err(e)) => {
                // The cause goes to the log; anonymous callers learn only that it is down.
                tracing::warn!(dependency = name, error = %e, "readiness check failed");
                ok = false;
                "unavailable".to_owned()
            }
            Err(_) => {
                tracing::warn!(dependency = name, "readiness check timed out");
                ok = false;
                "timed out".to_owned()
            }
        };
        checks.insert((*name).to_owned(), status.into());
    }
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    // Lagging consumers do not make the process unready (it serves requests
    // fine; restarting it would only add to the lag), but operators see it here.
    let consumers = state.lag.snapshot();
    (
        status,
        Json(json!({ "status": if ok { "ready" } else { "unavailable" }, "checks": checks, "consumers": consumers })),
    )
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = state.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
