//! `/api/v1/filters`: the caller's saved filters, and the tasks each shows. Every
//! handler is scoped to the caller: another user's filter is "not found".

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use todo_core::domain::{FilterId, SavedFilter, TaskPage};
use todo_core::service::filters::{FilterTasksParams, NewSavedFilter, SavedFilterList, SavedFilterPatch};
use uuid::Uuid;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Path, Query};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/filters", get(list).post(create))
        .route("/api/v1/filters/{id}", get(read).patch(update).delete(remove))
        .route("/api/v1/filters/{id}/tasks", get(tasks))
}

fn filter_id(id: &str) -> ApiResult<FilterId> {
    Uuid::parse_str(id).map(FilterId).map_err(|_| ApiError::bad_request(format!("{id:?} is not a filter id (a UUID)")))
}

/// The caller's saved filters, by name.
#[utoipa::path(get, path = "/api/v1/filters", tag = "filters", security(("bearer" = [])),
    responses((status = 200, body = SavedFilterList), (status = 401, body = ErrorBody)))]
async fn list(State(state): State<AppState>, AuthUser(user): AuthUser) -> ApiResult<Json<SavedFilterList>> {
    Ok(Json(SavedFilterList { items: state.filters.list(user).await? }))
}

/// Saves a filter under a name.
#[utoipa::path(post, path = "/api/v1/filters", tag = "filters", request_body = NewSavedFilter, security(("bearer" = [])),
    responses((status = 201, body = SavedFilter),
        (status = 400, description = "`invalid_filter` (with `span`) or malformed JSON", body = ErrorBody),
        (status = 409, description = "the caller has a filter of that name", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Json(new): Json<NewSavedFilter>,
) -> ApiResult<(StatusCode, Json<SavedFilter>)> {
    Ok((StatusCode::CREATED, Json(state.filters.create(user, new).await?)))
}

/// One saved filter.
#[utoipa::path(get, path = "/api/v1/filters/{id}", tag = "filters", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "filter id")),
    responses((status = 200, body = SavedFilter), (status = 404, body = ErrorBody)))]
async fn read(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<SavedFilter>> {
    Ok(Json(state.filters.get(user, filter_id(&id)?).await?))
}

/// Renames a saved filter or changes its query.
#[utoipa::path(patch, path = "/api/v1/filters/{id}", tag = "filters", request_body = SavedFilterPatch, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "filter id")),
    responses((status = 200, body = SavedFilter), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Json(patch): Json<SavedFilterPatch>,
) -> ApiResult<Json<SavedFilter>> {
    Ok(Json(state.filters.update(user, filter_id(&id)?, patch).await?))
}

/// Deletes a saved filter.
#[utoipa::path(delete, path = "/api/v1/filters/{id}", tag = "filters", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "filter id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.filters.delete(user, filter_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tasks a saved filter shows now, sorted, a page at a time (as
/// `GET /api/v1/tasks?filter=<its query>`).
#[utoipa::path(get, path = "/api/v1/filters/{id}/tasks", tag = "filters", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "filter id"), FilterTasksParams),
    responses((status = 200, body = TaskPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn tasks(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Query(params): Query<FilterTasksParams>,
) -> ApiResult<Json<TaskPage>> {
    Ok(Json(state.filters.tasks(user, filter_id(&id)?, params).await?))
}
