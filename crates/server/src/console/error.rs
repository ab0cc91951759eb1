//! The console API's error answer: a status and `{"code", "message"}`, labelled `console` in the
//! metrics. Store errors map by variant, never by message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use faceproof_store::StoreError;
use serde_json::json;

use crate::metrics::Outcome;

/// Metrics label of console answers.
pub const API: &str = "console";

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "log in first")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound { what, .. } => ApiError::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("no such {what}"),
            ),
            StoreError::Expired { what, .. } => ApiError::new(
                StatusCode::GONE,
                "EXPIRED",
                format!("{what} expired (retention)"),
            ),
            StoreError::Invalid { .. } => ApiError::bad_request(e.to_string()),
            StoreError::Conflict { .. } => {
                ApiError::new(StatusCode::CONFLICT, "CONFLICT", e.to_string())
            }
            StoreError::Forbidden { reason } => {
                ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", *reason)
            }
            _ => {
                tracing::error!(error = %e, "console store failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    "internal error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            [("cache-control", "no-store")],
            Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response();
        resp.extensions_mut().insert(Outcome::new(API, self.code));
        resp
    }
}

/// A JSON answer that is never cached (it carries tenant data).
pub fn ok(value: serde_json::Value) -> Response {
    let mut resp = ([("cache-control", "no-store")], Json(value)).into_response();
    resp.extensions_mut().insert(Outcome::new(API, "200"));
    resp
}
