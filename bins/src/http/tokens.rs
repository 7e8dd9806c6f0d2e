//! `/api/v1/auth/tokens`: named API tokens with scopes, for AI assistants (MCP)
//! and scripts, so nobody pastes a password-derived session into them. Only a
//! signed-in session manages tokens; a token's secret is shown once, at minting.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, post};
use serde::Serialize;
use todo_core::domain::{TokenId, TokenView};
use todo_core::service::credentials::{MintedToken, NewToken};
use utoipa::ToSchema;

use super::auth::SessionUser;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Path};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/auth/tokens", post(mint).get(list)).route("/api/v1/auth/tokens/{id}", delete(revoke))
}

/// The caller's tokens, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

/// Mints an API token (`["read"]` or `["read", "write"]`). The answer holds the
/// secret; it is not stored and never shown again. At most 50 tokens a user.
#[utoipa::path(post, path = "/api/v1/auth/tokens", tag = "auth", request_body = NewToken, security(("bearer" = [])),
    responses((status = 201, body = MintedToken), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn mint(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    Json(new): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<MintedToken>)> {
    Ok((StatusCode::CREATED, Json(state.tokens.mint(user, new).await?)))
}

/// The caller's tokens (names, scopes, dates; never the secrets).
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TokenList), (status = 403, body = ErrorBody)))]
async fn list(State(state): State<AppState>, SessionUser(user): SessionUser) -> ApiResult<Json<TokenList>> {
    Ok(Json(TokenList { items: state.tokens.list(user).await? }))
}

/// Revokes one of the caller's tokens: it stops working at once, on every door.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "token id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: TokenId = id.parse().map_err(|_| ApiError::bad_request(format!("{id:?} is not a token id (a UUID)")))?;
    state.tokens.revoke(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
