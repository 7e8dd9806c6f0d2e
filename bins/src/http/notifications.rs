//! `/api/v1/notifications`: the caller's delivered reminders.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use todo_core::domain::{NotificationPage, PageLimit};
use utoipa::IntoParams;

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

/// Reminders that fired for the caller, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationParams), security(("bearer" = [])),
    responses((status = 200, body = NotificationPage), (status = 422, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(p): Query<NotificationParams>,
) -> ApiResult<Json<NotificationPage>> {
    let limit = PageLimit::from_param(p.limit.as_deref())?;
    Ok(Json(state.notifications.page(user, limit, p.cursor.as_deref()).await?))
}
