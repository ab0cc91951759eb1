//! How a silent-compare answer goes on the wire: the success body or the seed's three-field error
//! body, each tagged with its code for the request metrics.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::codes::SilentCode;
use super::response::SilentResponse;
use crate::metrics::Outcome;

/// The API's name in metrics and logs.
pub(crate) const API: &str = "silent";

/// The silent API's error body (the seed's three fields).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SilentError {
    /// The seed's error code (1200, 2003, 2004, 2005, 4000, 4004, 4007) or ours (1401, 1429, 1500, 1503).
    code: u32,
    /// The code's message, then what was wrong.
    message: String,
    request_id: String,
}

/// An error answer: `code`, `message` (with what was wrong), `request_id`.
pub(crate) fn error(c: SilentCode, detail: Option<&str>, request_id: &str) -> Response {
    let message = match detail {
        Some(d) => format!("{}: {d}", c.message),
        None => c.message.to_owned(),
    };
    let body = SilentError {
        code: c.code,
        message,
        request_id: request_id.to_owned(),
    };
    let mut resp = (c.status, Json(body)).into_response();
    resp.extensions_mut()
        .insert(Outcome::new(API, c.code.to_string()));
    resp
}

pub(crate) fn success(body: &SilentResponse) -> Response {
    let mut resp = (StatusCode::OK, Json(body)).into_response();
    resp.extensions_mut()
        .insert(Outcome::new(API, body.code.to_string()));
    resp
}
