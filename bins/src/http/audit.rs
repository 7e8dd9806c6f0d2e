//! `/api/v1/audit`: the caller's audit trail and its verification.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use todo_core::domain::page::parse_cursor;
use todo_core::domain::{AuditPage, AuditQuery, PageLimit, TaskId, ValidationError, VerifyReport};
use utoipa::IntoParams;

use super::auth::AuthUser;
use super::error::{ApiResult, ErrorBody};
use super::extract::{Json, Query};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(list)).route("/api/v1/audit/verify", get(verify))
}

/// `GET /api/v1/audit` parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries about this task.
    pub task_id: Option<String>,
    /// Only this CloudEvents type, e.g. `todo.task.completed.v1`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// 1..=200, default 50.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl AuditParams {
    fn into_query(self, user: todo_core::domain::UserId) -> Result<AuditQuery, ValidationError> {
        let task_id = self
            .task_id
            .map(|t| {
                t.parse::<TaskId>().map_err(|_| ValidationError::new("task_id", format!("{t:?} is not a task id")))
            })
            .transpose()?;
        let before_seq = self.cursor.as_deref().map(parse_cursor::<i64>).transpose()?;
        Ok(AuditQuery {
            user_id: user,
            task_id,
            event_type: self.event_type,
            limit: PageLimit::from_param(self.limit.as_deref())?.get(),
            before_seq,
        })
    }
}

/// The caller's audit entries, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams), security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 422, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    Ok(Json(state.audit.list(&p.into_query(user)?).await?))
}

/// `GET /api/v1/audit/verify` parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VerifyParams {
    /// `true`: recompute the whole chain from its first entry, not only the entries
    /// after the last verification's checkpoint.
    pub full: Option<bool>,
}

/// Verifies the caller's hash chain: the entries since the last verification
/// (whose last entry must still carry the hash it had then), or with `full=true`
/// the whole chain. At most `TODO_AUDIT_VERIFY_PER_MINUTE` calls per user and minute.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", params(VerifyParams), security(("bearer" = [])),
    responses((status = 200, body = VerifyReport), (status = 429, body = ErrorBody)))]
async fn verify(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(p): Query<VerifyParams>,
) -> ApiResult<Json<VerifyReport>> {
    if let Some(limit) = &state.limits.audit_verify {
        limit.check(&user)?;
    }
    Ok(Json(state.verifier.verify(user, p.full.unwrap_or(false)).await?))
}
