//! `/api/v1/notifications`: the caller's delivered reminders.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use todo_core::domain::{EventId, Notification, ValidationError};
use utoipa::{IntoParams, ToSchema};

use super::audit::parse_limit;
use super::auth::AuthUser;
use super::error::{ApiResult, ErrorBody};
use super::extract::{Json, Query};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/notifications", get(list))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// 1..=200, default 50.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of notifications, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next_cursor: Option<String>,
}

/// Reminders that fired for the caller, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationParams), security(("bearer" = [])),
    responses((status = 200, body = NotificationPage), (status = 422, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(p): Query<NotificationParams>,
) -> ApiResult<Json<NotificationPage>> {
    let limit = parse_limit(p.limit.as_deref())?;
    let before = p
        .cursor
        .map(|c| {
            c.parse::<EventId>().map_err(|_| ValidationError::new("cursor", "cursor is not valid for this listing"))
        })
        .transpose()?;
    let mut items = state.notifications.list(user, limit + 1, before).await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more { items.last().map(|n| n.id.to_string()) } else { None };
    Ok(Json(NotificationPage { items, next_cursor }))
}
