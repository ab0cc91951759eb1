//! FPT's answer to a refused request: one [`Refused`] -> one HTTP status and one code pair of
//! `codes.rs`, in the seed's failure shape (every value "N/A"). The status says whose fault, the
//! body's code what happened; both come from the same match, never from parsing the code.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::codes::{
    BUSY, INTERNAL, INVALID_CHALLENGE, INVALID_IMAGE, INVALID_TELEMETRY, INVALID_VIDEO, NO_VIDEO,
    UNAUTHORIZED, UNAVAILABLE,
};
use super::reply::reply;
use super::response::FptResponse;
use crate::pool::RunError;
use crate::refused::{Input, Refused};

/// A refusal answered in FPT's shape (`?v2_format=1` honoured).
pub struct FptRefusal {
    pub refused: Refused,
    pub v2: bool,
}

/// The HTTP status and the FPT code pair of a refusal.
pub fn fpt_refusal(r: &Refused) -> (StatusCode, (&'static str, &'static str)) {
    use Refused::*;
    let bad = StatusCode::BAD_REQUEST;
    match r {
        Unauthorized { .. } | TokenSpent(_) => (StatusCode::UNAUTHORIZED, UNAUTHORIZED),
        Pool(RunError::Busy { .. } | RunError::WaitTooLong { .. }) | RateLimited(_) => {
            (StatusCode::TOO_MANY_REQUESTS, BUSY)
        }
        Pool(RunError::QueueTimeout { .. }) | UploadsInFlight => {
            (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE)
        }
        Pool(RunError::TaskFailed(_)) | Internal(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL)
        }
        TooLarge {
            input: Some(Input::IdPhoto),
            ..
        } => (StatusCode::PAYLOAD_TOO_LARGE, INVALID_IMAGE),
        TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, INVALID_VIDEO),
        Missing { .. } => (bad, NO_VIDEO),
        Telemetry(_) => (bad, INVALID_TELEMETRY),
        Challenge(_) => (bad, INVALID_CHALLENGE),
        Media {
            input: Input::IdPhoto,
            ..
        } => (bad, INVALID_IMAGE),
        // The rest is about the upload itself: FPT's one word for it.
        Media { .. }
        | Malformed(_)
        | Invalid(_)
        | LengthRequired
        | Signature(_)
        | UnknownSession
        | NoResult(_)
        | Envelope { .. }
        | Replayed { .. } => (bad, INVALID_VIDEO),
    }
}

impl IntoResponse for FptRefusal {
    fn into_response(self) -> Response {
        self.refused.log("fpt");
        let (status, code) = fpt_refusal(&self.refused);
        reply(status, &FptResponse::failure(code), self.v2)
    }
}
