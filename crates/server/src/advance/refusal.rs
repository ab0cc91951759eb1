//! ADVANCE's answer to a refused request: one [`Refused`] -> one `AdvanceCode` (its HTTP status,
//! or 413 for an oversized body) with what was wrong in `extra`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::reply::{AdvanceCode, AdvanceReply};
use crate::pool::RunError;
use crate::refused::Refused;

/// A refusal answered in ADVANCE's shape, with the request's `transactionId`.
pub struct AdvanceRefusal {
    pub refused: Refused,
    pub transaction_id: String,
}

impl AdvanceRefusal {
    pub fn new(refused: Refused, transaction_id: &str) -> Self {
        AdvanceRefusal {
            refused,
            transaction_id: transaction_id.to_owned(),
        }
    }
}

/// The code of a refusal, and whether `extra` may say what was wrong (never for our faults).
pub fn advance_refusal(r: &Refused) -> (AdvanceCode, bool) {
    use Refused::*;
    match r {
        Unauthorized { detail } => (AdvanceCode::IamFailed, detail.is_some()),
        TokenSpent(_) => (AdvanceCode::IamFailed, true),
        Internal(_) | Pool(RunError::TaskFailed(_)) => (AdvanceCode::Error, false),
        Pool(_) => (AdvanceCode::TooManyRequests, false),
        UploadsInFlight | RateLimited(_) => (AdvanceCode::TooManyRequests, true),
        // Another tenant's id reads exactly like an unknown one.
        UnknownSession => (AdvanceCode::LivenessIdNotExisted, false),
        NoResult(_) => (AdvanceCode::ResultNotFound, true),
        LengthRequired
        | TooLarge { .. }
        | Malformed(_)
        | Missing { .. }
        | Invalid(_)
        | Telemetry(_)
        | Challenge(_)
        | Signature(_)
        | Media { .. }
        | Envelope { .. }
        | Replayed { .. } => (AdvanceCode::ParameterError, true),
    }
}

impl IntoResponse for AdvanceRefusal {
    fn into_response(self) -> Response {
        self.refused.log("advance");
        let (code, detailed) = advance_refusal(&self.refused);
        let status = match self.refused {
            Refused::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => code.status(),
        };
        let extra = detailed.then(|| self.refused.to_string());
        AdvanceReply::error(code, extra, &self.transaction_id).into_response_with(status)
    }
}
