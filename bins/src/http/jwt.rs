//! Session tokens: HS256 JWTs (`sub`, `iat`, `exp`) signed with `JWT_SECRET`
//! ([`crate::secrets`] loads and checks it).

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use todo_core::domain::UserId;

use super::error::{ApiError, ApiResult};

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
        self.verify_until(token).map(|(user, _)| user)
    }

    /// The user a token names and when the token expires, if it is genuine and current.
    pub fn verify_until(&self, token: &str) -> ApiResult<(UserId, chrono::DateTime<Utc>)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::unauthorized("token expired; sign in again"),
                _ => ApiError::unauthorized("invalid token"),
            }
        })?;
        let user = data.claims.sub.parse().map_err(|_| ApiError::unauthorized("invalid token"))?;
        let expires = chrono::DateTime::from_timestamp(data.claims.exp, 0).unwrap_or_else(Utc::now);
        Ok((user, expires))
    }
}
