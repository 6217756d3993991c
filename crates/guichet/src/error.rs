//! JSON errors with stable codes: `{"error": "<code>", "message": "<text>"}`. Messages say what
//! was wrong with the request, never how the server is built (internal causes are logged only).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Human text (safe to show).
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }
    /// 400 with this code.
    pub fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 404 `not_found`-like.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 500: the cause is logged (`tracing`, level error), the client learns nothing more.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "the guichet could not complete the request")
    }
    /// 415.
    pub fn media_type(expected: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("the body must be {expected}"),
        )
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ApiError::internal(&e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::internal(&e)
    }
}

/// A JSON response with `Cache-Control: no-store` (tokens, nonces, personal data).
pub fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut r = (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], value.to_string())
        .into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &serde_json::json!({"error": self.code, "message": self.message}))
    }
}

/// The stable code for a status that a layer or extractor produced without a JSON body.
pub fn code_for_status(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the body is larger than allowed"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "the body's content type is not accepted here")
        }
        StatusCode::NOT_FOUND => ("not_found", "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed here"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; retry later"),
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => ("bad_request", "the request is malformed"),
        s if s.is_server_error() => ("internal_error", "the guichet could not complete the request"),
        _ => ("error", "the request failed"),
    }
}
