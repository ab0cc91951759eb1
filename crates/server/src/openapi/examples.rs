//! The document's examples, produced by the adapters themselves from the engine's verdict shapes
//! (`fixtures`), so every example is an answer the service really gives.

use serde_json::{Value, json};

use crate::fixtures::{live, with_match};
use crate::fpt::response::FptResponse;
use crate::silent::response::{SilentResponse, Switches, from_verdict};

/// A live selfie matching its ID photo (the seed's 200 sample's shape).
pub fn fpt() -> FptResponse {
    FptResponse::from_verdict(&with_match(live(), 0.9997, 0.35), true)
}

/// A passed silent compare with `return_status`.
pub fn silent() -> Option<SilentResponse> {
    let sw = Switches {
        return_status: true,
        ..Switches::default()
    };
    from_verdict(&with_match(live(), 0.62, 0.35), sw, "5f0c2a7e9b1d4c38").ok()
}

/// A silent request: the envelope pair (format 2, docs/api-silent.md), shortened.
pub fn silent_request() -> Value {
    json!({
        "encrypted_video": "AgAAAZPq...base64(header || enc || seal(video))",
        "encrypted_image": "3q2+7w...base64(seal(photo))",
        "return_status": true
    })
}

/// ADVANCE `capture` answered.
pub fn advance() -> Value {
    json!({
        "code": "SUCCESS",
        "message": "OK",
        "data": {"livenessId": "5c8b0e3f2a7d4e19b6c0a1d2e3f40516", "signatureId": "9e1d7c4b2a0f4d8e"},
        "extra": null,
        "transactionId": "5f0c2a7e9b1d4c38",
        "pricingStrategy": "FREE"
    })
}
