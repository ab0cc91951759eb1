//! What is stored with a capture session and later answered by `detection-result`: scores and
//! codes only (images live in artefacts).

use faceproof_engine::check::{AttackType, Severity, Verdict};
use serde::{Deserialize, Serialize};

/// Liveness scores at or above this (0-100) are "normal behaviour" (the seed's 50).
pub const PASS_SCORE: f64 = 50.0;

/// The score answered when the engine decided "not live" for a reason its P(live) does not carry
/// (a failed challenge, a still image, a deepfake) while P(live) is at or above 50: the vendor's
/// only decision field is the score against 50, so the decision is put just below it.
pub const NOT_LIVE_SCORE: f64 = 49.99;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureSummary {
    /// 0-100: the engine's liveness score (P(live)) times 100; 0 when nothing could be judged.
    pub liveness_score: f64,
    /// The seed's 1 (presentation), 2 (injection), 3 (unsure); `None` when the score passes.
    pub attack_type: Option<u8>,
    pub far_image_time: Option<i64>,
    pub near_image_time: Option<i64>,
    /// The engine's reason codes (snake_case), errors first.
    pub reasons: Vec<String>,
    /// The first error's hint, answered as `extra`.
    pub hint: Option<String>,
    /// Artefact names: the detection image, far, near, audit zip.
    pub detection_artefact: String,
    pub has_clip: bool,
    /// Extension: the challenge's verification (the engine's `ChallengeResult`), when the capture
    /// carried one; answered as `data.challenge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<serde_json::Value>,
}

/// The attack table: engine attack kind -> the seed's `attackType`.
pub fn attack_code(kind: Option<AttackType>) -> u8 {
    match kind {
        Some(AttackType::Presentation) => 1,
        // A generated face reaches the camera path digitally: an injection.
        Some(AttackType::Injection) | Some(AttackType::Deepfake) => 2,
        Some(AttackType::Unsure) | None => 3,
    }
}

pub fn summarise(
    v: &Verdict,
    far_time: Option<i64>,
    near_time: Option<i64>,
    detection_artefact: &str,
    has_clip: bool,
) -> CaptureSummary {
    let score = v
        .liveness
        .as_ref()
        .map_or(0.0, |l| 100.0 * l.score.clamp(0.0, 1.0));
    // Rounded to 2 decimals: the vendor shows scores like 100.0 and 0.0.
    let score = (score * 100.0).round() / 100.0;
    let not_live = v.liveness.as_ref().is_some_and(|l| !l.is_live);
    let score = if not_live && score >= PASS_SCORE {
        NOT_LIVE_SCORE
    } else {
        score
    };
    // The seed: an attack type only below 50.
    let attack_type =
        (score < PASS_SCORE).then(|| attack_code(v.liveness.as_ref().and_then(|l| l.attack_type)));
    let first_error = v.codes.iter().find(|r| r.severity == Severity::Error);
    CaptureSummary {
        liveness_score: score,
        attack_type,
        far_image_time: far_time,
        near_image_time: near_time,
        reasons: v.codes.iter().map(|r| r.code.as_str().to_owned()).collect(),
        hint: first_error.map(|r| r.hint.to_owned()),
        detection_artefact: detection_artefact.to_owned(),
        has_clip,
        challenge: v
            .challenge
            .as_ref()
            .and_then(|c| serde_json::to_value(c).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{live, spoof, unusable};
    use faceproof_engine::check::ReasonCode;

    #[test]
    fn scores_and_attack_types() {
        let s = summarise(&live(), Some(1), Some(2), "detection", false);
        assert_eq!(s.liveness_score, 99.85);
        assert_eq!(s.attack_type, None);
        assert_eq!(s.hint, None);
        let s = summarise(&spoof(), None, None, "detection", false);
        assert_eq!(s.liveness_score, 9.0);
        assert_eq!(s.attack_type, Some(1));
        assert!(s.hint.is_some());
        let s = summarise(
            &unusable(ReasonCode::NoFace),
            None,
            None,
            "detection",
            false,
        );
        assert_eq!(s.liveness_score, 0.0);
        assert_eq!(s.attack_type, Some(3));
        assert_eq!(s.reasons, ["no_face"]);
        // Not live by the engine's decision although P(live) is high (a failed challenge):
        // answered below 50 with the engine's attack type.
        let mut failed = live();
        if let Some(l) = failed.liveness.as_mut() {
            l.is_live = false;
            l.attack_type = Some(AttackType::Presentation);
        }
        let s = summarise(&failed, None, None, "detection", true);
        assert_eq!(s.liveness_score, NOT_LIVE_SCORE);
        assert_eq!(s.attack_type, Some(1));
        assert_eq!(attack_code(Some(AttackType::Injection)), 2);
        assert_eq!(attack_code(Some(AttackType::Deepfake)), 2);
        assert_eq!(attack_code(Some(AttackType::Unsure)), 3);
    }
}
