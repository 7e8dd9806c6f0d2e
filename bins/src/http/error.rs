//! `ApiError`: every error a client can see, as a status and a JSON body
//! `{"error": {"code", "message"}}`. The client gets a clear message; the log
//! gets the whole chain.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use todo_core::Error;
use utoipa::ToSchema;

/// The error body of every 4xx/5xx response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `bad_request`, `invalid_filter`, `validation_failed`,
    /// `unauthorized`, `forbidden`, `insufficient_scope`, `session_required`, `not_found`,
    /// `method_not_allowed`, `conflict`, `version_mismatch`,
    /// `payload_too_large`, `unsupported_media_type`, `request_timeout`, `rate_limited`, `unavailable`,
    /// `internal`.
    pub code: &'static str,
    pub message: String,
    /// The offending field, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `invalid_filter`: where in the query it goes wrong, `[start, end)` in
    /// characters (Unicode code points); an empty range marks where something was expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<u32>>, example = json!([12, 12]))]
    pub span: Option<[usize; 2]>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub span: Option<[usize; 2]>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, span: None, retry_after: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64, message: impl Into<String>) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        }
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: Some(field.into()), ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message) }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Validation(v) => v.into(),
            Error::InvalidFilter(f) => {
                ApiError { span: Some(f.span), ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_filter", f.message) }
            }
            Error::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            Error::VersionMismatch { current } => ApiError::new(
                StatusCode::CONFLICT,
                "version_mismatch",
                format!("the task changed: it is at version {current}; reload it and try again"),
            ),
            Error::Duplicate(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            Error::Unauthorized => ApiError::unauthorized("wrong e-mail or password"),
            Error::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            Error::RateLimited { retry_after_secs } => ApiError::rate_limited(
                retry_after_secs,
                format!("too many attempts; try again in {retry_after_secs} s"),
            ),
            Error::Overloaded { retry_after_secs } => {
                metrics::counter!("todo_http_overloaded_total").increment(1);
                ApiError {
                    retry_after: Some(retry_after_secs),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the server is busy; try again shortly",
                    )
                }
            }
            Error::Unavailable(m) => {
                tracing::warn!(error = %m, "dependency unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "a dependency is unavailable; try again shortly",
                )
            }
            Error::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            }
        }
    }
}

impl From<todo_core::domain::ValidationError> for ApiError {
    fn from(v: todo_core::domain::ValidationError) -> Self {
        ApiError::validation(v.field.to_string(), v.message)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde's message names the field and the problem (e.g. a title that
                // is too long, an unknown field, a wrong type).
                let msg = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_else(|| e.body_text());
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", msg)
            }
            JsonRejection::JsonSyntaxError(e) => {
                let msg = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_else(|| e.body_text());
                ApiError::bad_request(format!("malformed JSON: {msg}"))
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("request body is larger than {} bytes", crate::settings::BODY_LIMIT_BYTES),
    )
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let msg = match &r {
            QueryRejection::FailedToDeserializeQueryString(e) => {
                std::error::Error::source(e).map(ToString::to_string).unwrap_or_else(|| e.body_text())
            }
            other => other.body_text(),
        };
        ApiError::bad_request(format!("invalid query string: {msg}"))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(format!("invalid path parameter: {}", r.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail { code: self.code, message: self.message, field: self.field, span: self.span },
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
