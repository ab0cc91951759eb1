//! The silent API's answer to a refused request: one [`Refused`] -> one of the seed's codes
//! (`codes.rs`) with its HTTP status, and the detail of what was wrong in `message`.

use axum::response::{IntoResponse, Response};

use super::codes::{
    BUSY, INTERNAL, INVALID_ARGUMENT, LENGTH_REQUIRED, PAYLOAD_TOO_LARGE, SilentCode, UNAUTHORIZED,
    UNAVAILABLE, media_code,
};
use super::envelope::EnvelopeError;
use super::reply::error;
use crate::pool::RunError;
use crate::refused::Refused;

/// A refusal answered in the silent API's error shape, with the request's id.
pub struct SilentRefusal {
    pub refused: Refused,
    pub request_id: String,
}

/// The seed's code of a refusal, and whether its detail may be shown (never for our faults).
pub fn silent_refusal(r: &Refused) -> (SilentCode, bool) {
    use Refused::*;
    match r {
        Unauthorized { detail } => (UNAUTHORIZED, detail.is_some()),
        TokenSpent(_) => (UNAUTHORIZED, true),
        Internal(_) => (INTERNAL, false),
        Pool(RunError::Busy { .. } | RunError::WaitTooLong { .. }) | RateLimited(_) => (BUSY, true),
        Pool(RunError::QueueTimeout { .. }) => (UNAVAILABLE, true),
        Pool(RunError::TaskFailed(_)) => (INTERNAL, false),
        UploadsInFlight => (UNAVAILABLE, true),
        LengthRequired => (LENGTH_REQUIRED, true),
        TooLarge { .. }
        | Envelope {
            error: EnvelopeError::TooLarge { .. },
            ..
        } => (PAYLOAD_TOO_LARGE, true),
        Media { error, .. } => (media_code(error), true),
        Malformed(_)
        | Missing { .. }
        | Invalid(_)
        | Telemetry(_)
        | Challenge(_)
        | Signature(_)
        | UnknownSession
        | NoResult(_)
        | Envelope { .. }
        | Replayed { .. } => (INVALID_ARGUMENT, true),
    }
}

impl IntoResponse for SilentRefusal {
    fn into_response(self) -> Response {
        self.refused.log("silent");
        let (code, detailed) = silent_refusal(&self.refused);
        let detail = detailed.then(|| self.refused.to_string());
        error(code, detail.as_deref(), &self.request_id)
    }
}
