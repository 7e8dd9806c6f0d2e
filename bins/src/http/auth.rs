//! Authentication: HS256 JWTs (`sub`, `iat`, `exp`), the `AuthUser` extractor,
//! and the register/login endpoints.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Router, http::header};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use todo_core::domain::{UserId, UserView};
use todo_core::service::{Credentials, Registration};
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::Json;
use crate::state::AppState;

/// Shortest accepted `JWT_SECRET`, in bytes (HS256 wants at least 256 bits).
pub const JWT_SECRET_MIN_BYTES: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks tokens.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys").field("ttl_secs", &self.ttl_secs).finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_secs: i64) -> Self {
        // Only HS256: a token claiming `alg: none` or any other algorithm is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }

    pub fn issue(&self, user: UserId) -> ApiResult<String> {
        let now = Utc::now().timestamp();
        let claims = Claims { sub: user.to_string(), iat: now, exp: now + self.ttl_secs };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::from(todo_core::Error::internal(e)))
    }

    /// The user a token names, if it is genuine and current.
    pub fn verify(&self, token: &str) -> ApiResult<UserId> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::unauthorized("token expired; sign in again"),
                _ => ApiError::unauthorized("invalid token"),
            }
        })?;
        data.claims.sub.parse().map_err(|_| ApiError::unauthorized("invalid token"))
    }
}

/// The authenticated caller, from `Authorization: Bearer <JWT>`.
#[derive(Clone, Copy, Debug)]
pub struct AuthUser(pub UserId);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or_else(|| ApiError::unauthorized("Authorization must be 'Bearer <token>'"))?;
        let user = state.jwt.verify(token.trim())?;
        if let Some(limit) = &state.rate_limit {
            limit.check(user)?;
        }
        Ok(AuthUser(user))
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

/// Creates an account and signs it in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = Registration,
    responses((status = 201, body = TokenResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    Json(r): Json<Registration>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    let user = state.accounts.register(r).await?;
    let token = state.jwt.issue(user.id)?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token, user: UserView::from(&user) })))
}

/// Signs in. Wrong e-mail and wrong password get the same answer; 10 failures in
/// 15 minutes lock the account for the rest of the window (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(State(state): State<AppState>, Json(c): Json<Credentials>) -> ApiResult<Json<TokenResponse>> {
    let user = state.accounts.login(c).await?;
    let token = state.jwt.issue(user.id)?;
    Ok(Json(TokenResponse { token, user: UserView::from(&user) }))
}
