//! The ADVANCE envelope: `code`, `message`, `data`, `extra`, `transactionId`, `pricingStrategy`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::metrics::Outcome;

/// Response codes: the seed's five, plus `IAM_FAILED` for refused credentials (the seed's
/// token API is referenced, not shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvanceCode {
    Success,
    ParameterError,
    LivenessIdNotExisted,
    ResultNotFound,
    Error,
    IamFailed,
    TooManyRequests,
}

impl AdvanceCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AdvanceCode::Success => "SUCCESS",
            AdvanceCode::ParameterError => "PARAMETER_ERROR",
            AdvanceCode::LivenessIdNotExisted => "LIVENESS_ID_NOT_EXISTED",
            AdvanceCode::ResultNotFound => "RESULT_NOT_FOUND",
            AdvanceCode::Error => "ERROR",
            AdvanceCode::IamFailed => "IAM_FAILED",
            AdvanceCode::TooManyRequests => "TOO_MANY_REQUESTS",
        }
    }

    /// The seed's message for each code.
    pub fn message(self) -> &'static str {
        match self {
            AdvanceCode::Success => "OK",
            AdvanceCode::ParameterError => "Parameter error, please check you input.",
            AdvanceCode::LivenessIdNotExisted => "Liveness id does not exist",
            AdvanceCode::ResultNotFound => {
                "The requested resource was not found or has been deleted"
            }
            AdvanceCode::Error => "Server error",
            AdvanceCode::IamFailed => "Access denied: invalid, expired or revoked credentials",
            AdvanceCode::TooManyRequests => "Too many requests, try again later",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            AdvanceCode::Success
            | AdvanceCode::LivenessIdNotExisted
            | AdvanceCode::ResultNotFound => StatusCode::OK,
            AdvanceCode::ParameterError => StatusCode::BAD_REQUEST,
            AdvanceCode::IamFailed => StatusCode::UNAUTHORIZED,
            AdvanceCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AdvanceCode::Error => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The ADVANCE envelope of every answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = crate::openapi::examples::advance)]
pub struct AdvanceReply {
    #[schema(value_type = String, example = "SUCCESS")]
    pub code: &'static str,
    pub message: String,
    #[schema(value_type = Object)]
    pub data: Value,
    #[schema(value_type = Object)]
    pub extra: Value,
    pub transaction_id: String,
    /// `PAY` for a delivered result, `FREE` for every error.
    #[schema(value_type = String)]
    pub pricing_strategy: &'static str,
}

impl AdvanceReply {
    pub fn success(data: Value, transaction_id: &str) -> Self {
        AdvanceReply {
            code: AdvanceCode::Success.as_str(),
            message: AdvanceCode::Success.message().to_owned(),
            data,
            extra: Value::Null,
            transaction_id: transaction_id.to_owned(),
            pricing_strategy: "PAY",
        }
    }

    /// An error; `extra` says what was wrong when there is more to say than the code.
    pub fn error(code: AdvanceCode, extra: Option<String>, transaction_id: &str) -> Self {
        AdvanceReply {
            code: code.as_str(),
            message: code.message().to_owned(),
            data: Value::Null,
            extra: extra.map_or(Value::Null, Value::String),
            transaction_id: transaction_id.to_owned(),
            pricing_strategy: "FREE",
        }
    }

    /// Token and session calls deliver no result: never billed.
    pub fn free(mut self) -> Self {
        self.pricing_strategy = "FREE";
        self
    }

    pub fn into_response_with(self, status: StatusCode) -> Response {
        let code = self.code;
        let mut resp = (status, Json(self)).into_response();
        resp.extensions_mut().insert(Outcome::new("advance", code));
        resp
    }
}
