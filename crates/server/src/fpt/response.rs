//! The FPT Liveness v3 response: every value a string, "N/A" where nothing was produced.

use faceproof_engine::challenge::ChallengeResult;
use faceproof_engine::check::{Reason, ReasonCode, Severity, Stage, Verdict};
use serde::Serialize;

use super::codes::{FptCode, NA, OK_LIVENESS, OK_MATCH, OK_REQUEST, fpt_code};

/// FPT.AI Liveness v3 answer: every value a string, "N/A" where nothing was produced.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(example = crate::openapi::examples::fpt)]
pub struct FptResponse {
    pub code: String,
    pub message: String,
    pub liveness: LivenessPart,
    pub face_match: FaceMatchPart,
    /// Extension: the server-issued challenge's verification, only when the request sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub challenge: Option<ChallengeResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LivenessPart {
    pub code: String,
    pub message: String,
    pub is_live: String,
    pub spoof_prob: String,
    pub need_to_review: String,
    pub is_deepfake: String,
    pub deepfake_prob: String,
    pub warning: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FaceMatchPart {
    pub code: String,
    pub message: String,
    #[serde(rename = "isMatch")]
    pub is_match: String,
    pub similarity: String,
    pub warning: String,
}

fn s(v: &str) -> String {
    v.to_owned()
}

fn flag(b: bool) -> String {
    if b { s("true") } else { s("false") }
}

/// Probabilities as the seed's samples print them (`"0.0015"`).
fn prob(p: f64) -> String {
    format!("{p:.4}")
}

impl LivenessPart {
    fn not_applicable(code: &str, message: &str) -> Self {
        LivenessPart {
            code: s(code),
            message: s(message),
            is_live: s(NA),
            spoof_prob: s(NA),
            need_to_review: s(NA),
            is_deepfake: s(NA),
            deepfake_prob: s(NA),
            warning: s(NA),
        }
    }
}

impl FaceMatchPart {
    fn not_applicable(code: &str, message: &str) -> Self {
        FaceMatchPart {
            code: s(code),
            message: s(message),
            is_match: s(NA),
            similarity: s(NA),
            warning: s(NA),
        }
    }
}

impl FptResponse {
    /// A request that produced no verdict (refused input, auth, overload, internal): the code
    /// repeated in both parts, every value "N/A" (the seed's 409 sample).
    pub fn failure((code, message): (&str, &str)) -> Self {
        FptResponse {
            code: s(code),
            message: s(message),
            liveness: LivenessPart::not_applicable(code, message),
            face_match: FaceMatchPart::not_applicable(code, message),
            challenge: None,
        }
    }

    /// Translates a verdict. `with_document`: an ID photo (`cmnd`) was sent.
    pub fn from_verdict(v: &Verdict, with_document: bool) -> Self {
        let warnings = |stage_is_match: bool| -> Vec<&'static str> {
            v.codes
                .iter()
                .filter(|r| r.severity == Severity::Warning)
                .filter(|r| (r.code.stage() == Stage::Match) == stage_is_match)
                .filter_map(|r| match fpt_code(r.code) {
                    FptCode::Warning(w) => Some(w),
                    FptCode::Error(..) => None,
                })
                .collect()
        };
        let errors: Vec<(ReasonCode, (&str, &str))> = v
            .codes
            .iter()
            .filter(|r| r.severity == Severity::Error)
            .filter_map(|r: &Reason| error_pair(r.code).map(|cm| (r.code, cm)))
            .collect();
        let first_where = |pred: &dyn Fn(ReasonCode) -> bool| {
            errors.iter().find(|(c, _)| pred(*c)).map(|(_, cm)| *cm)
        };

        // Liveness part: capture errors first, then liveness errors, as the engine orders them.
        let liveness_error = first_where(&|c| c.stage() != Stage::Match);
        let still =
            liveness_error.is_some() && liveness_error == error_pair(ReasonCode::StillImage);
        let (lcode, lmsg) = liveness_error.unwrap_or(match &v.liveness {
            // Not live without a named reason would contradict itself: name it a spoof.
            Some(l) if !l.is_live => error_pair(ReasonCode::Spoof).unwrap_or(OK_LIVENESS),
            _ => OK_LIVENESS,
        });
        let live = liveness_error.is_none() && v.liveness.as_ref().is_some_and(|l| l.is_live);
        // The seed's 413 sample shows no spoof probability for a still image: none was computed.
        let spoof_prob = match (&v.liveness, still) {
            (Some(l), false) => prob(l.spoof_prob),
            _ => s(NA),
        };
        let need_to_review = flag(v.liveness.as_ref().is_some_and(|l| l.need_to_review));
        let (is_deepfake, deepfake_prob) = match &v.deepfake {
            Some(d) => (flag(d.is_deepfake), prob(d.prob)),
            None => (s(NA), s(NA)),
        };
        let liveness = LivenessPart {
            code: s(lcode),
            message: s(lmsg),
            is_live: flag(live),
            spoof_prob,
            need_to_review,
            is_deepfake,
            deepfake_prob,
            warning: warnings(false).join(" "),
        };

        // Face-match part.
        let match_warning = {
            let w = warnings(true);
            if w.is_empty() { s(NA) } else { w.join(" ") }
        };
        let match_error = first_where(&|c| c.stage() == Stage::Match);
        let face_match = match (&v.face_match, match_error) {
            _ if !with_document => FaceMatchPart::not_applicable(NA, NA),
            (Some(m), err) => {
                let (c, msg) = err.unwrap_or(if m.is_match {
                    OK_MATCH
                } else {
                    error_pair(ReasonCode::FaceMismatch).unwrap_or(OK_MATCH)
                });
                FaceMatchPart {
                    code: s(c),
                    message: s(msg),
                    is_match: flag(m.is_match),
                    similarity: format!("{:.2}", m.similarity),
                    warning: match_warning,
                }
            }
            (None, Some((c, msg))) => FaceMatchPart {
                warning: match_warning,
                ..FaceMatchPart::not_applicable(c, msg)
            },
            // No match because the video itself was unusable: nothing to say about the document.
            (None, None) => FaceMatchPart::not_applicable(NA, NA),
        };

        // Top level: the first error in decision order (capture, liveness, match).
        let (code, message) = if lcode != OK_LIVENESS.0 {
            (lcode, lmsg)
        } else if face_match.code != OK_MATCH.0 && face_match.code != NA {
            (face_match.code.as_str(), face_match.message.as_str())
        } else {
            OK_REQUEST
        };
        FptResponse {
            code: s(code),
            message: s(message),
            liveness,
            face_match,
            challenge: v.challenge.clone(),
        }
    }

    /// True when the verdict passed every stage (for metrics).
    pub fn is_success(&self) -> bool {
        self.code == OK_REQUEST.0
    }
}

fn error_pair(r: ReasonCode) -> Option<(&'static str, &'static str)> {
    match fpt_code(r) {
        FptCode::Error(c, m) => Some((c, m)),
        FptCode::Warning(_) => None,
    }
}
