//! The calendar feed: `GET /api/v1/calendar/{secret}.ics`, an iCalendar feed of
//! the user's dated tasks that calendar apps subscribe to. Calendar apps cannot
//! send headers, so the feed is opened by an unguessable secret in its URL
//! (256 random bits, stored as its SHA-256 and looked up by it; redacted from
//! request logs). A signed-in session creates, rotates and revokes it:
//!
//! ```text
//! GET    /api/v1/calendar         {active, created_at}: the feed's state (never its address)
//! POST   /api/v1/calendar         create  -> 201 {url, webcal_url, created_at}
//! POST   /api/v1/calendar/rotate  a new address; the old one answers 404 at once
//! DELETE /api/v1/calendar         revoke  -> 204; the address answers 404
//! ```
//!
//! The feed answers with a strong `ETag` (a hash of its bytes) and `304 Not
//! Modified` to a matching `If-None-Match`. `?components=vevent,vtodo` chooses
//! what it holds (default `vevent`); `?completed=true` keeps completed tasks.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use todo_core::service::credentials::FeedStatus;
use utoipa::{IntoParams, ToSchema};

use super::auth::SessionUser;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Path, Query};
use crate::ical::{self, FeedOptions};
use crate::settings::FeedSettings;
use crate::state::AppState;

/// The feed URL of `secret`, on the public URL of `settings` or the request's host.
fn feed_url(settings: &FeedSettings, headers: &HeaderMap, secret: &str) -> ApiResult<String> {
    let base = match &settings.public_url {
        Some(u) => u.as_str().trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
                .ok_or_else(|| ApiError::bad_request("a Host header is needed to make the feed's address"))?;
            format!("http://{host}")
        }
    };
    Ok(format!("{base}/api/v1/calendar/{secret}.ics"))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/calendar", get(status).post(create).delete(revoke))
        .route("/api/v1/calendar/rotate", post(rotate))
        .route("/api/v1/calendar/{file}", get(feed))
}

/// A feed address, shown when it is made (creation, rotation) and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedAddress {
    /// Subscribe to this URL in a calendar app.
    pub url: String,
    /// The same as `webcal://` (opens the calendar app on many systems).
    pub webcal_url: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn address(state: &AppState, headers: &HeaderMap, secret: &str, s: FeedStatus) -> ApiResult<FeedAddress> {
    let url = feed_url(&state.feeds, headers, secret)?;
    let webcal_url = url.replacen("https://", "webcal://", 1).replacen("http://", "webcal://", 1);
    Ok(FeedAddress { url, webcal_url, created_at: s.created_at })
}

/// Whether the caller has a feed (its address is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedState {
    /// Whether the caller has a feed.
    pub active: bool,
    /// When its current address was made (creation or the last rotation).
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Whether the caller has a feed, and since when its address exists.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", security(("bearer" = [])),
    responses((status = 200, body = FeedState), (status = 403, body = ErrorBody)))]
async fn status(State(state): State<AppState>, SessionUser(user): SessionUser) -> ApiResult<Json<FeedState>> {
    let s = state.calendar.status(user).await?;
    Ok(Json(FeedState { active: s.is_some(), created_at: s.map(|s| s.created_at) }))
}

/// Creates the caller's feed; the answer holds its address (shown once).
#[utoipa::path(post, path = "/api/v1/calendar", tag = "calendar", security(("bearer" = [])),
    responses((status = 201, body = FeedAddress), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<FeedAddress>)> {
    let (secret, s) = state.calendar.create(user).await?;
    Ok((StatusCode::CREATED, Json(address(&state, &headers, &secret, s)?)))
}

/// Gives the caller's feed a new address; the old one answers 404 from now on.
#[utoipa::path(post, path = "/api/v1/calendar/rotate", tag = "calendar", security(("bearer" = [])),
    responses((status = 200, body = FeedAddress), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn rotate(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    headers: HeaderMap,
) -> ApiResult<Json<FeedAddress>> {
    let (secret, s) = state.calendar.rotate(user).await?;
    Ok(Json(address(&state, &headers, &secret, s)?))
}

/// Deletes the caller's feed: its address answers 404 from now on.
#[utoipa::path(delete, path = "/api/v1/calendar", tag = "calendar", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke(State(state): State<AppState>, SessionUser(user): SessionUser) -> ApiResult<StatusCode> {
    state.calendar.revoke(user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/calendar/{secret}.ics` parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Comma-separated `vevent` (events, what calendar apps show; the default)
    /// and/or `vtodo` (to-dos, for apps that read tasks from a calendar).
    pub components: Option<String>,
    /// `true`: completed tasks stay in the feed (marked ✓). Default `false`.
    pub completed: Option<bool>,
}

impl FeedParams {
    fn options(&self) -> ApiResult<FeedOptions> {
        let Some(list) = &self.components else { return Ok(FeedOptions::default()) };
        let mut opts = FeedOptions { events: false, todos: false };
        for c in list.split(',').map(str::trim) {
            match c.to_ascii_lowercase().as_str() {
                "vevent" => opts.events = true,
                "vtodo" => opts.todos = true,
                other => {
                    return Err(ApiError::bad_request(format!("components lists vevent and/or vtodo; got {other:?}")));
                }
            }
        }
        Ok(opts)
    }
}

/// The feed (public: the secret in the path is the credential). Unknown,
/// rotated and revoked secrets all answer 404.
#[utoipa::path(get, path = "/api/v1/calendar/{secret}.ics", tag = "calendar",
    params(("secret" = String, Path, description = "the feed's secret"), FeedParams),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 304),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(params): Query<FeedParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found("no such calendar feed");
    let secret = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let user = state.calendar.resolve(secret).await?.ok_or_else(not_found)?;
    if let Some(limit) = &state.rate_limit {
        limit.check(&user)?;
    }
    let opts = params.options()?;
    let tasks = state.calendar.tasks(user, params.completed.unwrap_or(false)).await?;
    let tz = state.calendar.timezone(user).await?;
    let body = ical::render(&tasks, tz.tz(), state.tasks.clock().now(), opts);
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(body.as_bytes()))[..32]);
    let etag_value = HeaderValue::from_str(&etag).expect("hex is a valid header value");
    let cache = HeaderValue::from_static("private, no-cache");
    if if_none_match(&headers, &etag) {
        return Ok(
            (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)]).into_response()
        );
    }
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("inline; filename=\"todo-events.ics\"")),
        ],
        body,
    )
        .into_response())
}

/// Whether `If-None-Match` names `etag` (or `*`). Weak comparison, as RFC 9110
/// asks for `If-None-Match`.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"a\", W/\"b\""));
        assert!(if_none_match(&h, "\"b\""));
        assert!(if_none_match(&h, "\"a\""));
        assert!(!if_none_match(&h, "\"c\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(if_none_match(&h, "\"c\""));
        assert!(!if_none_match(&HeaderMap::new(), "\"a\""));
    }

    #[test]
    fn feed_urls_are_built_on_the_public_url() {
        let s = FeedSettings::parse(Some("https://todo.example.com/base/")).unwrap();
        assert_eq!(
            feed_url(&s, &HeaderMap::new(), "abc").unwrap(),
            "https://todo.example.com/base/api/v1/calendar/abc.ics"
        );
    }
}
