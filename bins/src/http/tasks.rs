//! `/api/v1/tasks`: create, read, list, update, complete, reopen, delete.
//! Every handler is scoped to the caller: another user's task is "not found".

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use todo_core::domain::{Task, TaskId, TaskPage};
use todo_core::service::{ListParams, NewTask, TaskPatch};
use uuid::Uuid;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Path, Query};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tasks", get(list).post(create))
        .route("/api/v1/tasks/{id}", get(read).patch(update).delete(remove))
        .route("/api/v1/tasks/{id}/complete", post(complete))
        .route("/api/v1/tasks/{id}/reopen", post(reopen))
}

/// A task with its version as a strong `ETag`.
fn task_response(status: StatusCode, task: Task) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", task.version)).expect("a number is a valid header");
    (status, [(header::ETAG, etag)], Json(task)).into_response()
}

/// `If-Match: <version>` (bare or quoted as an ETag).
fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let s = v.to_str().map_err(|_| ApiError::bad_request("If-Match must be a task version"))?;
    let s = s.trim().trim_start_matches("W/").trim_matches('"');
    s.parse::<i64>().map(Some).map_err(|_| ApiError::bad_request("If-Match must be a task version, e.g. \"3\""))
}

fn task_id(id: &str) -> ApiResult<TaskId> {
    Uuid::parse_str(id).map(TaskId).map_err(|_| ApiError::bad_request(format!("{id:?} is not a task id (a UUID)")))
}

/// Lists the caller's tasks: a filter query (`filter`, docs/filters.md) and/or its
/// shorthand parameters, sorted, a page at a time (keyset cursors).
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = TaskPage), (status = 400, description = "`invalid_filter` (with `span`) or a malformed parameter", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<TaskPage>> {
    Ok(Json(state.tasks.list_with(user, params).await?))
}

/// Creates a task.
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", request_body = NewTask, security(("bearer" = [])),
    responses((status = 201, body = Task), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Json(new): Json<NewTask>,
) -> ApiResult<Response> {
    let task = state.tasks.create(user, new).await?;
    Ok(task_response(StatusCode::CREATED, task))
}

/// One task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody)))]
async fn read(State(state): State<AppState>, AuthUser(user): AuthUser, Path(id): Path<String>) -> ApiResult<Response> {
    let task = state.tasks.get(user, task_id(&id)?).await?;
    Ok(task_response(StatusCode::OK, task))
}

/// Changes any subset of a task's fields (`null` clears a nullable one).
/// With `If-Match: <version>`, 409 unless the task is still at that version.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", request_body = TaskPatch, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "task id"), ("If-Match" = Option<String>, Header, description = "expected version")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<TaskPatch>,
) -> ApiResult<Response> {
    let task = state.tasks.update(user, task_id(&id)?, patch, if_match(&headers)?).await?;
    Ok(task_response(StatusCode::OK, task))
}

/// Marks a task completed. A recurring task's next occurrence is created by the
/// recurring-task service when it sees the completion.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn complete(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let task = state.tasks.complete(user, task_id(&id)?, if_match(&headers)?).await?;
    Ok(task_response(StatusCode::OK, task))
}

/// Marks a completed task pending again.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reopen", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "task id")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reopen(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let task = state.tasks.reopen(user, task_id(&id)?, if_match(&headers)?).await?;
    Ok(task_response(StatusCode::OK, task))
}

/// Deletes a task.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "task id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    state.tasks.delete(user, task_id(&id)?, if_match(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
