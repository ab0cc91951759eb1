//! The silent API's success body: optional fields appear only under the seed's conditions.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use faceproof_engine::challenge::ChallengeResult;
use faceproof_engine::check::{ReasonCode, Severity, Stage, Verdict};
use serde::Serialize;

use super::codes::{DETECTION_FAILED, FACE_OCCLUSION, LIVENESS_FAILED, SilentCode};

/// The request's switches that shape the answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Switches {
    pub check_quality: bool,
    pub return_image: bool,
    pub return_face_image: bool,
    pub return_status: bool,
}

/// The silent compare success body (code 1000); optional fields only under the seed's conditions.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(example = crate::openapi::examples::silent)]
pub struct SilentResponse {
    pub code: u32,
    pub passed: bool,
    pub liveness_score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub liveness_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64_face_image: Option<String>,
    pub request_id: String,
    /// Extension: the server-issued challenge's verification, only when the request sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub challenge: Option<ChallengeResult>,
}

/// The seed's success code.
pub const OK: u32 = 1000;

/// `liveness_status` values.
pub const STATUS_OK: &str = "ok";
pub const STATUS_HACK: &str = "hack";
pub const STATUS_SHORT_TIME: &str = "short_time";

/// The answer for a video shorter than the engine's minimum (also when the media layer refused
/// it as too short): a normal, failed check.
pub fn short_time(sw: Switches, request_id: &str) -> SilentResponse {
    SilentResponse {
        code: OK,
        passed: false,
        liveness_score: 0.0,
        liveness_status: sw.return_status.then_some(STATUS_SHORT_TIME),
        verification_score: None,
        image_timestamp: None,
        base64_image: None,
        base64_face_image: None,
        request_id: request_id.to_owned(),
        challenge: None,
    }
}

/// Translates a verdict: a body, or one of the seed's error codes.
///
/// - no face in the video or the photo -> 4000; occlusion -> 4004 only with `check_quality`
///   (the seed: quality checking evaluates occlusion only);
/// - a capture the engine could not judge (liveness absent: face too small, several faces, face
///   lost, ...) -> 4007;
/// - too short -> `passed: false`, `short_time`; spoof, still image, deepfake -> `passed: false`,
///   `hack`; otherwise `passed` is the liveness decision, and the face-match score is returned
///   with a pass (the caller compares it with the seed's 0.7, as the vendor documents).
pub fn from_verdict(
    v: &Verdict,
    sw: Switches,
    request_id: &str,
) -> Result<SilentResponse, SilentCode> {
    let error = |code: ReasonCode| {
        v.codes
            .iter()
            .any(|r| r.code == code && r.severity == Severity::Error)
    };
    if error(ReasonCode::VideoTooShort) {
        return Ok(short_time(sw, request_id));
    }
    if error(ReasonCode::NoFace) || error(ReasonCode::NoFaceInDocument) {
        return Err(DETECTION_FAILED);
    }
    if sw.check_quality && v.has(ReasonCode::FaceOccluded) {
        return Err(FACE_OCCLUSION);
    }
    let Some(liveness) = &v.liveness else {
        return Err(LIVENESS_FAILED);
    };
    // `passed` covers the 1:N search too (duplicate identity set to error, blocklist).
    let liveness_error =
        v.first_error(Stage::Liveness).is_some() || v.first_error(Stage::Identity).is_some();
    let passed = liveness.is_live && !liveness_error;
    let best = v.best_frame.as_ref().filter(|_| passed);
    Ok(SilentResponse {
        code: OK,
        passed,
        liveness_score: liveness.score,
        liveness_status: sw
            .return_status
            .then_some(if passed { STATUS_OK } else { STATUS_HACK }),
        verification_score: v
            .face_match
            .as_ref()
            .filter(|_| passed)
            .map(|m| m.verification_score),
        image_timestamp: best.filter(|_| sw.return_image).map(|b| b.timestamp),
        base64_image: best
            .filter(|b| sw.return_image && !b.jpeg.is_empty())
            .map(|b| STANDARD.encode(&b.jpeg)),
        base64_face_image: best
            .filter(|b| sw.return_face_image && !b.face_jpeg.is_empty())
            .map(|b| STANDARD.encode(&b.face_jpeg)),
        request_id: request_id.to_owned(),
        challenge: v.challenge.clone(),
    })
}
