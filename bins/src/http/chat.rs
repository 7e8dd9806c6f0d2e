//! `POST /api/v1/chat` and `GET /api/v1/conversations/{id}/messages`.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::Deserialize;
use todo_core::domain::{ConversationId, MessagePage, PageLimit};
use todo_core::service::chat::{ChatRequest, ChatResponse};
use utoipa::IntoParams;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Path, Query};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/chat", post(chat)).route("/api/v1/conversations/{id}/messages", get(messages))
}

/// Says something to the assistant: it runs the tool calls the sentence asks
/// for and answers in a sentence or two.
#[utoipa::path(post, path = "/api/v1/chat", tag = "chat", request_body = ChatRequest, security(("bearer" = [])),
    responses((status = 200, body = ChatResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn chat(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Json(req): Json<ChatRequest>,
) -> ApiResult<Json<ChatResponse>> {
    Ok(Json(state.chat.send(user, req).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessageParams {
    /// 1..=200, default 50.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The messages of one of the caller's conversations, oldest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "chat", params(("id" = Uuid, Path), MessageParams),
    security(("bearer" = [])), responses((status = 200, body = MessagePage), (status = 404, body = ErrorBody)))]
async fn messages(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Query(p): Query<MessageParams>,
) -> ApiResult<Json<MessagePage>> {
    let id: ConversationId =
        id.parse().map_err(|_| ApiError::bad_request(format!("{id:?} is not a conversation id (a UUID)")))?;
    let limit = PageLimit::from_param(p.limit.as_deref())?;
    Ok(Json(state.chat.messages_page(user, id, limit, p.cursor.as_deref()).await?))
}
