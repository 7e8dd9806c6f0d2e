//! Authentication: HS256 session JWTs (`sub`, `iat`, `exp`) and API tokens
//! (`todo_pat_...`, with scopes), the `Caller`/`AuthUser`/`SessionUser`
//! extractors, and the register/login endpoints.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Router, http::header};
use serde::Serialize;
use todo_core::domain::{Principal, UserId, UserView};
use todo_core::service::{Credentials, Registration, TokenService};
use utoipa::ToSchema;

use super::client_ip::ClientIp;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::Json;
use crate::state::AppState;

/// The bearer token of `Authorization: Bearer <token>`.
fn bearer(headers: &axum::http::HeaderMap) -> ApiResult<&str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("Authorization must be 'Bearer <token>'"))
}

/// Who `headers` authenticate: a session JWT (every scope) or an API token (its
/// scopes; revoked or expired tokens are refused), after that user's request
/// rate limit. Every door (REST, `/mcp`) authenticates through here.
pub async fn authenticate(state: &AppState, headers: &axum::http::HeaderMap) -> ApiResult<Principal> {
    let token = bearer(headers)?;
    let principal = if TokenService::is_api_token(token) {
        state
            .tokens
            .authenticate(token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid API token: it is unknown, revoked or expired"))?
    } else {
        Principal::session(state.jwt.verify(token)?)
    };
    if let Some(limit) = &state.rate_limit {
        limit.check(&principal.user_id)?;
    }
    Ok(principal)
}

/// 403 `insufficient_scope` for a read-only token's unsafe request.
pub fn insufficient_scope() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "this API token is read-only (scope \"read\"): it cannot change anything; use a token with scopes \
         [\"read\", \"write\"]",
    )
}

/// The authenticated caller and what they may do. A read-only API token gets
/// no further than this for any request but `GET`, `HEAD` and `OPTIONS`
/// (403 `insufficient_scope`), whatever the endpoint: so a read token never
/// changes anything, on endpoints present and future.
#[derive(Clone, Copy, Debug)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = authenticate(state, &parts.headers).await?;
        if !principal.can_write() && !parts.method.is_safe() {
            return Err(insufficient_scope());
        }
        Ok(Caller(principal))
    }
}

/// The authenticated caller's user (see [`Caller`] for what a read-only token may do).
#[derive(Clone, Copy, Debug)]
pub struct AuthUser(pub UserId);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Caller(p) = Caller::from_request_parts(parts, state).await?;
        Ok(AuthUser(p.user_id))
    }
}

/// A caller signed in with a session (the password), not an API token: only
/// sessions manage credentials (API tokens, calendar feeds), so a leaked API
/// token can neither mint more tokens nor open a calendar feed.
#[derive(Clone, Copy, Debug)]
pub struct SessionUser(pub UserId);

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = authenticate(state, &parts.headers).await?;
        if principal.token.is_some() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "session_required",
                "API tokens cannot manage API tokens or calendar feeds: sign in with your password",
            ));
        }
        Ok(SessionUser(principal.user_id))
    }
}

/// A session: the token and who it is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    pub user: UserView,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/auth/register", post(register)).route("/api/v1/auth/login", post(login))
}

/// The client of an `/api/v1/auth/*` request, after its address's rate limit
/// (`TODO_AUTH_RATE_LIMIT`): checked before the body is even read.
#[derive(Clone, Copy, Debug)]
pub struct AuthClient(pub std::net::IpAddr);

impl FromRequestParts<AppState> for AuthClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        if let Some(limit) = &state.limits.auth {
            limit.check(&ip)?;
        }
        Ok(AuthClient(ip))
    }
}

/// Creates an account and signs it in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = Registration,
    responses((status = 201, body = TokenResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    _client: AuthClient,
    Json(r): Json<Registration>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    let user = state.accounts.register(r).await?;
    let token = state.jwt.issue(user.id)?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token, user: UserView::from(&user) })))
}

/// Signs in. Wrong e-mail and wrong password get the same answer; after 10
/// attempts in 15 minutes from one address, that address is refused for the
/// account until the window ends (429 with `Retry-After`); other addresses are not.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    AuthClient(ip): AuthClient,
    Json(c): Json<Credentials>,
) -> ApiResult<Json<TokenResponse>> {
    let user = state.accounts.login(c, &ip.to_string()).await?;
    let token = state.jwt.issue(user.id)?;
    Ok(Json(TokenResponse { token, user: UserView::from(&user) }))
}
