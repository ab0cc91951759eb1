//! How an FPT answer goes on the wire: the nested v3 body or, for `?v2_format=1`, the flat v2
//! one, tagged with its code for the request metrics. Success and refusals both answer here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::response::FptResponse;
use super::v2::FptV2Response;
use crate::metrics::Outcome;

/// The API's name in metrics and logs.
pub(crate) const API: &str = "fpt";

pub(crate) fn reply(status: StatusCode, body: &FptResponse, v2: bool) -> Response {
    let mut resp = if v2 {
        (status, Json(FptV2Response::from(body))).into_response()
    } else {
        (status, Json(body)).into_response()
    };
    resp.extensions_mut()
        .insert(Outcome::new(API, body.code.clone()));
    resp
}
