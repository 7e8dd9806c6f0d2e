//! The HTTP API: routers, middleware, errors.

pub mod audit;
pub mod auth;
pub mod chat;
pub mod error;
pub mod extract;
pub mod filters;
pub mod health;
pub mod limit;
pub mod notifications;
pub mod openapi;
pub mod tasks;
pub mod web;
pub mod ws;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use self::error::ApiError;
use crate::app::Role;
use crate::state::AppState;

/// Largest accepted request body.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The whole API of the all-in-one process.
pub fn router(state: AppState) -> Router {
    router_for(Role::All, state)
}

/// The endpoints of one process: every one for `todo serve`, each service its own.
pub fn router_for(role: Role, state: AppState) -> Router {
    let has = |roles: &[Role]| role == Role::All || roles.contains(&role);
    let mut routes = Router::new().merge(health::routes());
    if has(&[Role::ChatApi]) {
        routes = routes
            .merge(auth::routes())
            .merge(tasks::routes())
            .merge(filters::routes())
            .merge(chat::routes())
            .merge(openapi::routes());
        // The page is served where the API is; in the distributed mode it reaches the
        // other services through the URLs of `state.web`.
        routes = routes.merge(web::routes(&state.web));
    }
    if has(&[Role::Audit]) {
        routes = routes.merge(audit::routes());
    }
    if has(&[Role::Notification]) {
        routes = routes.merge(notifications::routes());
    }
    if has(&[Role::Sync]) {
        routes = routes.merge(ws::routes());
    }
    with_middleware(routes, state)
}

/// The shared middleware stack: JSON errors for unknown routes and methods, body
/// limit, panics caught as 500s, CORS, request ids, tracing and HTTP metrics.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let cors = cors_layer(&state.cors_origins);
    routes
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this endpoint")
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(track_metrics))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error").into_response()
        }))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state)
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            axum::http::header::IF_MATCH,
        ])
        .expose_headers([axum::http::header::ETAG])
        .max_age(Duration::from_secs(3600))
}

/// `todo_http_requests_total` and `todo_http_request_duration_seconds` by route and status.
async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("todo_http_requests_total", &labels).increment(1);
    metrics::histogram!("todo_http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    res
}
