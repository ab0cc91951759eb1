//! Face match: cosine of two embeddings, the configured threshold, and the false-accept rate at
//! the observed similarity from the calibration's impostor distribution.

use super::fusion::Calibration;
use super::verdict::{FaceMatch, FarAtScore};
use crate::calibrate::far::FarMethod;
use crate::calibrate::verification::score_from_far;
use faceproof_vision::Embedding;

pub(super) fn compare(
    a: &Embedding,
    b: &Embedding,
    threshold: f64,
    calibration: &Calibration,
) -> FaceMatch {
    let cosine = f64::from(a.cosine(b));
    let far = calibration.far.far_at(cosine);
    FaceMatch {
        similarity: 100.0 * cosine.clamp(0.0, 1.0),
        cosine,
        is_match: cosine >= threshold,
        threshold,
        verification_score: score_from_far(far.far),
        far: FarAtScore {
            far: far.far,
            method: match far.method {
                FarMethod::Empirical => "empirical",
                FarMethod::ExponentialTail => "exponential_tail",
                FarMethod::CountBound => "count_bound",
            },
            upper_bound: far.upper_bound,
        },
    }
}
