//! Face match: cosine of two embeddings, the configured threshold, and the false-accept rate at
//! the observed similarity from the active embedder's impostor distribution (the calibration's).

use super::verdict::{FaceMatch, FarAtScore};
use crate::calibrate::far::{FarMethod, FarModel};
use crate::calibrate::verification::score_from_far;
use faceproof_vision::Embedding;

pub(super) fn compare(
    a: &Embedding,
    b: &Embedding,
    threshold: f64,
    far_model: &FarModel,
) -> FaceMatch {
    let cosine = f64::from(a.cosine(b));
    let far = far_model.far_at(cosine);
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
