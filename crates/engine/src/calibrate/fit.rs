//! Fitting the calibration from labelled data: the fusion models from per-sample features; the FAR
//! models (one per embedder, fitted from impostor and genuine similarities by
//! [`FarModel::fit`], `faceproof eval --pairs` on LFW) are handed in. `faceproof calibrate` feeds
//! it; the result is `crates/engine/calibration/default.json`.
//!
//! Small data, stated plainly: the shared set has a dozen live clips and a few dozen attacks, so
//! the fits use few features and L2 regularisation, and [`leave_one_out`] reports what a model
//! fitted without each sample says about it: the honest error rate, not the training one.

use crate::calibrate::CalibrationError;
use crate::calibrate::far::FarModel;
use crate::calibrate::logistic::{LogisticConfig, LogisticModel, fit_logistic};
use crate::check::evidence::names;
use crate::check::{Calibration, FusionModels};
use serde::Serialize;

/// Features of the liveness model: the two PAD models' scores, the geometry of the motion, eyelids,
/// skin pulse, and the crop's screen cues.
pub const LIVENESS_FEATURES: [&str; 9] = [
    names::PAD,
    names::PAD_MINIFAS,
    names::NONRIGID,
    names::PLANARITY,
    names::PARALLAX,
    names::BLINKS,
    names::PULSE_SNR,
    names::SCREEN_PEAK,
    names::GLARE,
];

/// Features of the deepfake model: landmark jitter and its inner/contour balance (a swap or a
/// re-enactment generates the inner face), and the skin pulse. Not blinks: on the shared set the
/// generated talking heads blink more than the live clips, a property of those demo clips that a
/// fit would learn and a real deepfake need not share.
pub const DEEPFAKE_FEATURES: [&str; 3] = [names::JITTER_RATIO, names::JITTER, names::PULSE_SNR];

/// What a training sample is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Live,
    Spoof,
    Deepfake,
}

impl Label {
    /// The manifest spelling (`live`, `spoof`, `deepfake`).
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Live => "live",
            Label::Spoof => "spoof",
            Label::Deepfake => "deepfake",
        }
    }
}

/// One sample's measured features (by name; `None` = not measured).
#[derive(Debug, Clone)]
pub struct Sample {
    pub id: String,
    pub label: Label,
    /// Attack species (`still`, `planar`, ...; the label for bona fide samples).
    pub species: String,
    pub features: Vec<(String, Option<f64>)>,
}

impl Sample {
    fn value(&self, name: &str) -> Option<f64> {
        self.features
            .iter()
            .find(|f| f.0 == name)
            .and_then(|f| f.1)
            .filter(|v| v.is_finite())
    }
}

/// A design matrix with missing values replaced by the column mean over `rows` (so a missing
/// feature standardises to 0 in the fitted model: no evidence either way).
fn matrix(samples: &[&Sample], features: &[&str]) -> Vec<Vec<f64>> {
    let means: Vec<f64> = features
        .iter()
        .map(|f| {
            let v: Vec<f64> = samples.iter().filter_map(|s| s.value(f)).collect();
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        })
        .collect();
    samples
        .iter()
        .map(|s| {
            features
                .iter()
                .zip(&means)
                .map(|(f, m)| s.value(f).unwrap_or(*m))
                .collect()
        })
        .collect()
}

/// The samples of either label.
fn of_labels(samples: &[Sample], positive: Label, negative: Label) -> Vec<&Sample> {
    samples
        .iter()
        .filter(|s| s.label == positive || s.label == negative)
        .collect()
}

/// Fits one model: `positive` samples against `negative` ones (others ignored).
pub fn fit_model(
    samples: &[Sample],
    features: &[&str],
    positive: Label,
    negative: Label,
    cfg: &LogisticConfig,
) -> Result<LogisticModel, CalibrationError> {
    let used = of_labels(samples, positive, negative);
    let rows = matrix(&used, features);
    let labels: Vec<bool> = used.iter().map(|s| s.label == positive).collect();
    fit_logistic(features, &rows, &labels, cfg)
}

/// A held-out prediction.
#[derive(Debug, Clone, Serialize)]
pub struct HeldOut {
    pub id: String,
    pub label: Label,
    /// Probability of the positive class from a model fitted without this sample.
    pub prob: f64,
}

/// Leave-one-out predictions of [`fit_model`] for every used sample.
pub fn leave_one_out(
    samples: &[Sample],
    features: &[&str],
    positive: Label,
    negative: Label,
    cfg: &LogisticConfig,
) -> Result<Vec<HeldOut>, CalibrationError> {
    let used = of_labels(samples, positive, negative);
    let mut out = Vec::with_capacity(used.len());
    for i in 0..used.len() {
        let train: Vec<Sample> = used
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, s)| (*s).clone())
            .collect();
        let model = fit_model(&train, features, positive, negative, cfg)?;
        // The held-out sample's gaps take the training means, as in the service.
        let row: Vec<f64> = model
            .features
            .iter()
            .map(|f| used[i].value(&f.name).unwrap_or(f.mean))
            .collect();
        out.push(HeldOut {
            id: used[i].id.clone(),
            label: used[i].label,
            prob: model.probability(&row)?,
        });
    }
    Ok(out)
}

/// Attack species a rule decides before the fusion: still images (`still_image`). They are left
/// out of the liveness fit, so it learns what separates the attacks it must decide (a photo or a
/// screen moved by hand) and not that a live face holding still looks like a photo.
pub const RULE_DECIDED_SPECIES: [&str; 1] = ["still"];

/// The samples the liveness model is fitted on.
pub fn liveness_samples(samples: &[Sample]) -> Vec<Sample> {
    samples
        .iter()
        .filter(|s| !RULE_DECIDED_SPECIES.contains(&s.species.as_str()))
        .cloned()
        .collect()
}

/// Fits the whole calibration.
pub fn fit_calibration(
    samples: &[Sample],
    far: std::collections::BTreeMap<String, FarModel>,
    provenance: String,
) -> Result<Calibration, CalibrationError> {
    let cfg = LogisticConfig::default();
    Ok(Calibration {
        fusion: FusionModels {
            liveness: fit_model(
                &liveness_samples(samples),
                &LIVENESS_FEATURES,
                Label::Spoof,
                Label::Live,
                &cfg,
            )?,
            deepfake: fit_model(
                samples,
                &DEEPFAKE_FEATURES,
                Label::Deepfake,
                Label::Live,
                &cfg,
            )?,
        },
        far,
        provenance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: usize, label: Label, pad: f64) -> Sample {
        Sample {
            id: id.to_string(),
            label,
            species: label.as_str().to_string(),
            features: vec![(names::PAD.to_string(), Some(pad))],
        }
    }

    #[test]
    fn a_separating_feature_gets_the_right_sign_and_missing_ones_stay_neutral() {
        let mut samples: Vec<Sample> = (0..20)
            .map(|i| sample(i, Label::Live, 0.1 + 0.01 * i as f64))
            .collect();
        samples.extend((0..20).map(|i| sample(100 + i, Label::Spoof, 0.6 + 0.01 * i as f64)));
        let m = fit_model(
            &samples,
            &LIVENESS_FEATURES,
            Label::Spoof,
            Label::Live,
            &LogisticConfig::default(),
        )
        .unwrap();
        assert!(m.weights[0] > 0.0, "higher PAD score must mean attack");
        // Never-measured features are constant (imputed) and get no weight.
        assert!(m.weights[1..].iter().all(|w| w.abs() < 1e-9));
        let held = leave_one_out(
            &samples,
            &LIVENESS_FEATURES,
            Label::Spoof,
            Label::Live,
            &LogisticConfig::default(),
        )
        .unwrap();
        let wrong = held
            .iter()
            .filter(|h| (h.prob >= 0.5) != (h.label == Label::Spoof))
            .count();
        assert_eq!(wrong, 0);
    }
}
