//! The HTTP API: routers, middleware, errors.

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod chat;
pub mod client_ip;
pub mod error;
pub mod extract;
pub mod filters;
pub mod health;
pub mod jwt;
pub mod limit;
pub mod mcp;
pub mod notifications;
pub mod openapi;
pub mod redact;
pub mod serve;
pub mod tasks;
pub mod tokens;
pub mod web;
pub mod ws;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use self::error::ApiError;
use crate::role::{Role, RouteGroup};
use crate::settings::BODY_LIMIT_BYTES;
use crate::state::AppState;

/// The whole API of the all-in-one process.
pub fn router(state: AppState) -> Router {
    router_for(Role::All, state)
}

/// The endpoints of one process: the route groups of its row of [`crate::role::ROLES`].
pub fn router_for(role: Role, state: AppState) -> Router {
    let mut routes = Router::new();
    for group in role.spec().routes {
        routes = routes.merge(match group {
            RouteGroup::Health => health::routes(),
            RouteGroup::Api => Router::new()
                .merge(auth::routes())
                .merge(tasks::routes())
                .merge(filters::routes())
                .merge(chat::routes())
                .merge(openapi::routes())
                .merge(tokens::routes())
                .merge(calendar::routes()),
            RouteGroup::Mcp => mcp::routes(&state),
            // In the distributed mode the page reaches the other services through
            // the URLs of `state.web`.
            RouteGroup::WebPage => web::routes(&state.web),
            RouteGroup::Audit => audit::routes(),
            RouteGroup::Notifications => notifications::routes(),
            RouteGroup::LiveUpdates => ws::routes(),
        });
    }
    with_middleware(routes, state)
}

/// The shared middleware stack: JSON errors for unknown routes and methods, body
/// limit, request timeout, panics caught as 500s, CORS, request ids, tracing and
/// HTTP metrics.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let cors = cors_layer(&state.cors_origins);
    routes
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this endpoint")
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), request_timeout))
        .layer(middleware::from_fn(track_metrics))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error").into_response()
        }))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(redact::RedactedSpan))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state)
}

/// Answers 408 `request_timeout` when a request takes longer than
/// `TODO_REQUEST_TIMEOUT_SECS` (the work is dropped; a change either committed
/// or did not, atomically).
async fn request_timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            metrics::counter!("todo_http_request_timeouts_total").increment(1);
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!("the request took longer than {} s", limit.as_secs()),
            )
            .into_response()
        }
    }
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    // `*` is refused at start (Config::validate); tower-http panics on it in a list.
    let origins: Vec<HeaderValue> =
        origins.iter().filter(|o| o.trim() != "*").filter_map(|o| HeaderValue::from_str(o.trim()).ok()).collect();
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
    let method = method_label(req.method()).to_owned();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("todo_http_requests_total", &labels).increment(1);
    metrics::histogram!("todo_http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    res
}

/// The metric label of `method`: the standard methods by name, anything else
/// `other`, so made-up methods cannot create unbounded series.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for m in ["RANDOM", "FOO123", "get"] {
            assert_eq!(method_label(&Method::from_bytes(m.as_bytes()).unwrap()), "other", "{m}");
        }
    }

    #[test]
    fn a_wildcard_origin_does_not_panic() {
        let _ = cors_layer(&["*".to_owned(), "https://a.example".to_owned()]);
    }
}
