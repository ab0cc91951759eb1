//! Fusion: named features -> calibrated probabilities, with each feature's share visible.
//!
//! The models are fitted by `faceproof calibrate` (see `docs/engine.md`) and shipped as
//! `crates/engine/calibration/default.json`, compiled into the binary; an operator can load their
//! own file. A feature that could not be measured enters at its training mean (standardised 0):
//! it adds nothing to the logit either way, which is what "no evidence" should do.

use super::evidence::Feature;
use super::verdict::SignalValue;
use crate::calibrate::far::FarModel;
use crate::calibrate::logistic::LogisticModel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The calibration compiled into the binary.
const DEFAULT_CALIBRATION: &str = include_str!("../../calibration/default.json");

/// Fitted fusion models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FusionModels {
    /// P(attack) over the liveness features (presentation and injection attacks as positives).
    pub liveness: LogisticModel,
    /// P(deepfake) over the deepfake features (generated faces as positives, live as negatives).
    pub deepfake: LogisticModel,
}

/// Everything fitted on data: fusion models and the face-match FAR models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub fusion: FusionModels,
    /// Per face embedder (key: its name, `"sface"`, `"mobilefacenet"`): impostor (and genuine)
    /// cosine similarities, for FAR estimates and the default match threshold. Embeddings of two
    /// embedders are not comparable: each has its own model.
    pub far: BTreeMap<String, FarModel>,
    /// How and on what the models were fitted (shown by `faceproof calibrate` and in the docs).
    pub provenance: String,
}

impl Default for Calibration {
    fn default() -> Self {
        // A unit test parses this file: a broken calibration never reaches a release.
        serde_json::from_str(DEFAULT_CALIBRATION).expect("the embedded calibration parses")
    }
}

impl Calibration {
    /// Reads a calibration file written by `faceproof calibrate`.
    pub fn from_json(text: &str) -> Result<Calibration, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The FAR model of an embedder (by [`faceproof_vision::EmbedderKind::name`]).
    pub fn far_model(&self, embedder: &str) -> Option<&FarModel> {
        self.far.get(embedder)
    }
}

/// A fused probability and the signals behind it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fused {
    pub prob: f64,
    pub signals: Vec<SignalValue>,
}

/// Applies `model` to `features` (matched by name; features the model does not know are still
/// listed, with no contribution).
pub(super) fn fuse(model: &LogisticModel, features: &[Feature]) -> Fused {
    let value_of = |name: &str| {
        features
            .iter()
            .find(|f| f.0 == name)
            .and_then(|f| f.1)
            .filter(|v| v.is_finite())
    };
    let row: Vec<f64> = model
        .features
        .iter()
        .map(|f| value_of(&f.name).unwrap_or(f.mean))
        .collect();
    let explanation = model
        .explain(&row)
        .expect("the row has the model's features, all finite");
    let signals = features
        .iter()
        .map(|&(name, value)| {
            let contribution = match value.filter(|v| v.is_finite()) {
                Some(_) => explanation
                    .contributions
                    .iter()
                    .find(|c| c.name == name)
                    .map_or(0.0, |c| c.contribution),
                None => 0.0,
            };
            SignalValue {
                name,
                value,
                contribution,
                attack_prob: None,
            }
        })
        .collect();
    Fused {
        prob: explanation.probability,
        signals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_calibration_parses_and_fuses() {
        let c = Calibration::default();
        let features: Vec<Feature> = c
            .fusion
            .liveness
            .features
            .iter()
            .map(|_| ("unknown", None))
            .collect();
        let f = fuse(&c.fusion.liveness, &features);
        assert!((0.0..=1.0).contains(&f.prob));
        assert!(f.signals.iter().all(|s| s.contribution == 0.0));
    }

    #[test]
    fn embedded_calibration_has_a_far_model_per_embedder() {
        let c = Calibration::default();
        for kind in [
            faceproof_vision::EmbedderKind::Sface,
            faceproof_vision::EmbedderKind::Mobilefacenet,
        ] {
            let m = c.far_model(kind.name()).expect("a FAR model per embedder");
            // A 0.1 % threshold lies above a 1 % one (the models are not empty or degenerate).
            assert!(
                m.threshold_for_far(1e-3) > m.threshold_for_far(1e-2),
                "{kind:?}"
            );
        }
    }
}
