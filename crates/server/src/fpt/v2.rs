//! `?v2_format=1`: a flat layout in the style of FPT's earlier version. The seed only says that v2
//! differs from v3, so this is our design (docs/api.md): the top-level code and message, then the
//! liveness and face-match values side by side, one `warning` joining both parts' warnings.
//! It is derived from the v3 response, so the two can never disagree.

use faceproof_engine::challenge::ChallengeResult;
use serde::Serialize;

use super::codes::NA;
use super::response::FptResponse;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FptV2Response {
    pub code: String,
    pub message: String,
    pub is_live: String,
    pub spoof_prob: String,
    pub need_to_review: String,
    pub is_deepfake: String,
    pub deepfake_prob: String,
    #[serde(rename = "isMatch")]
    pub is_match: String,
    pub similarity: String,
    pub warning: String,
    /// Extension, as in v3.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub challenge: Option<ChallengeResult>,
}

impl From<&FptResponse> for FptV2Response {
    fn from(v3: &FptResponse) -> Self {
        let warnings: Vec<&str> = [&v3.liveness.warning, &v3.face_match.warning]
            .into_iter()
            .map(String::as_str)
            .filter(|w| !w.is_empty() && *w != NA)
            .collect();
        let warning = if warnings.is_empty() {
            // Keep v3's distinction: "" when judged without warnings, "N/A" when not judged.
            v3.liveness.warning.clone()
        } else {
            warnings.join(" ")
        };
        FptV2Response {
            code: v3.code.clone(),
            message: v3.message.clone(),
            is_live: v3.liveness.is_live.clone(),
            spoof_prob: v3.liveness.spoof_prob.clone(),
            need_to_review: v3.liveness.need_to_review.clone(),
            is_deepfake: v3.liveness.is_deepfake.clone(),
            deepfake_prob: v3.liveness.deepfake_prob.clone(),
            is_match: v3.face_match.is_match.clone(),
            similarity: v3.face_match.similarity.clone(),
            warning,
            challenge: v3.challenge.clone(),
        }
    }
}
