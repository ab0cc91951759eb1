//! Fitting the calibration from labelled data: the fusion models from per-sample features; the FAR
//! models (one per embedder, fitted from impostor and genuine similarities by
//! [`FarModel::fit`], `faceproof eval --pairs` on LFW) are handed in. `faceproof calibrate` feeds
//! it; the result is `crates/engine/calibration/default.json`.
//!
//! Small data, stated plainly: the shared set has a few dozen live clips and attacks, so the fits
//! use few features and L2 regularisation whose strength is chosen by cross-validation over
//! sources ([`choose_l2`]), and [`leave_one_source_out`] reports what a model fitted without a
//! sample's whole source says about it. A source is the clip, person or generator output a sample
//! was made from: the synthetic attacks made from a live clip, the real replay of a person and
//! that person's live clip share one. Leaving out one sample would keep the held-out clip's other
//! attacks and its live original in training: an in-sample number that looks held out.

use crate::calibrate::CalibrationError;
use crate::calibrate::far::FarModel;
use crate::calibrate::logistic::{LogisticConfig, LogisticModel, fit_logistic};
use crate::check::evidence::names;
use crate::check::{Calibration, FusionModels};
use serde::Serialize;

/// Features of the liveness model: the geometry of the motion, eyelids, skin pulse, and the crop's
/// screen cues. `planarity` is measured but left out: among the live clips of the evaluation set it
/// moves with resolution and frame rate (Spearman -0.39 and -0.31; the synthetic attacks are all
/// 15 fps and at most 960 px, so it separates them partly for that reason), and it pushed a real
/// low-resolution selfie to spoof; `parallax` carries the same geometry without that dependence
/// (0.13, 0.03). The PAD nets are not fused. MiniFASNet decides by its own veto
/// (`LivenessConfig::minifas_real_below`): fused linearly, its high P(real) on a clean print of a
/// digital photo (the synthetic prints) pulled prints towards live (held out by source: prints
/// accepted 0 / 15 without it, 2 / 15 with it), while a real print or screen reads low and meets the
/// veto. The DTN (`pad_model_median`) changed no held-out decision beside MiniFASNet and cost ~100
/// ms of CPU a frame, a third of a request: the video check no longer runs it. See docs/engine.md.
pub const LIVENESS_FEATURES: [&str; 6] = [
    names::NONRIGID,
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
    /// Attack species (`still`, `print`, ...; the label for bona fide samples).
    pub species: String,
    /// The clip, person or generator output the sample was made from: the unit held out.
    pub group: String,
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
    pub species: String,
    pub group: String,
    /// Probability of the positive class from a model fitted without this sample's source.
    pub prob: f64,
    /// The L2 strength that model was fitted with (chosen without the source).
    pub l2: f64,
}

/// The L2 strengths [`choose_l2`] tries (in units of one observation's log-likelihood).
pub const L2_GRID: [f64; 6] = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0];

/// The sources of the used samples, in first-seen order.
fn groups(used: &[&Sample]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in used {
        if !out.contains(&s.group) {
            out.push(s.group.clone());
        }
    }
    out
}

/// Held-out probabilities at a fixed `cfg`: each source predicted by a model fitted on the
/// others. A training fold without both labels (every positive in one source) is skipped.
fn grouped_predictions(
    used: &[&Sample],
    features: &[&str],
    positive: Label,
    negative: Label,
    cfg: &LogisticConfig,
) -> Result<Vec<(usize, f64)>, CalibrationError> {
    let mut out = Vec::with_capacity(used.len());
    for g in groups(used) {
        let train: Vec<Sample> = used
            .iter()
            .filter(|s| s.group != g)
            .map(|s| (*s).clone())
            .collect();
        if !train.iter().any(|s| s.label == positive) || !train.iter().any(|s| s.label == negative)
        {
            continue;
        }
        let model = fit_model(&train, features, positive, negative, cfg)?;
        for (i, s) in used.iter().enumerate().filter(|(_, s)| s.group == g) {
            out.push((i, predict(&model, s)?));
        }
    }
    Ok(out)
}

/// The model's probability for one sample; its gaps take the training means, as in the service.
fn predict(model: &LogisticModel, s: &Sample) -> Result<f64, CalibrationError> {
    let row: Vec<f64> = model
        .features
        .iter()
        .map(|f| s.value(&f.name).unwrap_or(f.mean))
        .collect();
    model.probability(&row)
}

/// The L2 strength of [`L2_GRID`] chosen by leave-one-source-out log loss on `samples` (each class
/// weighted equally, so the many live clips do not drown the few attacks of a kind), with the
/// one-standard-error rule: the strongest L2 whose loss is within one standard error of the
/// lowest. With a few dozen sources the losses of neighbouring strengths differ by less than
/// their noise, and the smoother model is the one that moves less when a clip's encoding changes
/// (a clip's pulse SNR moves by up to 4 dB between its upload and a re-encode).
pub fn choose_l2(
    samples: &[Sample],
    features: &[&str],
    positive: Label,
    negative: Label,
    base: &LogisticConfig,
) -> Result<f64, CalibrationError> {
    let used = of_labels(samples, positive, negative);
    let n_pos = used.iter().filter(|s| s.label == positive).count().max(1) as f64;
    let n_neg = used.iter().filter(|s| s.label == negative).count().max(1) as f64;
    // (l2, total loss, its standard error from the per-source losses)
    let mut scored: Vec<(f64, f64, f64)> = Vec::new();
    for l2 in L2_GRID {
        let cfg = LogisticConfig { l2, ..base.clone() };
        let preds = grouped_predictions(&used, features, positive, negative, &cfg)?;
        if preds.is_empty() {
            continue;
        }
        let mut per_source: Vec<(String, f64)> = Vec::new();
        for &(i, p) in &preds {
            let p = p.clamp(1e-6, 1.0 - 1e-6);
            let loss = if used[i].label == positive {
                -p.ln() / n_pos
            } else {
                -(1.0 - p).ln() / n_neg
            };
            match per_source.iter_mut().find(|(g, _)| *g == used[i].group) {
                Some(e) => e.1 += loss,
                None => per_source.push((used[i].group.clone(), loss)),
            }
        }
        let n = per_source.len() as f64;
        let total: f64 = per_source.iter().map(|e| e.1).sum();
        let mean = total / n;
        let var = per_source.iter().map(|e| (e.1 - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        // The total is a sum of n per-source losses: its standard error is sqrt(n * var).
        scored.push((l2, total, (n * var).sqrt()));
    }
    let Some(&(_, best, se)) = scored.iter().min_by(|a, b| a.1.total_cmp(&b.1)) else {
        return Ok(base.l2);
    };
    Ok(scored
        .iter()
        .filter(|e| e.1 <= best + se)
        .map(|e| e.0)
        .fold(f64::NEG_INFINITY, f64::max))
}

/// Leave-one-source-out predictions for every used sample, nested: the model that predicts a
/// source has its L2 strength chosen by [`choose_l2`] on the other sources only. Samples whose
/// source holds every positive (or every negative) cannot be predicted and are left out.
pub fn leave_one_source_out(
    samples: &[Sample],
    features: &[&str],
    positive: Label,
    negative: Label,
    cfg: &LogisticConfig,
) -> Result<Vec<HeldOut>, CalibrationError> {
    let targets: Vec<Sample> = of_labels(samples, positive, negative)
        .into_iter()
        .cloned()
        .collect();
    held_out_for(samples, &targets, features, positive, negative, cfg)
}

/// Predictions for `targets` (of any label) by models fitted on `pool` without the target's
/// source, L2 chosen on the rest as in [`leave_one_source_out`]. What `faceproof eval
/// --held-out` scores every row with, including those a model is not fitted on (a deepfake
/// under the liveness model, a still under either).
pub fn held_out_for(
    pool: &[Sample],
    targets: &[Sample],
    features: &[&str],
    positive: Label,
    negative: Label,
    cfg: &LogisticConfig,
) -> Result<Vec<HeldOut>, CalibrationError> {
    let used = of_labels(pool, positive, negative);
    let mut sources: Vec<&str> = Vec::new();
    for t in targets {
        if !sources.contains(&t.group.as_str()) {
            sources.push(&t.group);
        }
    }
    let mut out = Vec::with_capacity(targets.len());
    for g in sources {
        let train: Vec<Sample> = used
            .iter()
            .filter(|s| s.group != g)
            .map(|s| (*s).clone())
            .collect();
        if !train.iter().any(|s| s.label == positive) || !train.iter().any(|s| s.label == negative)
        {
            continue;
        }
        let l2 = choose_l2(&train, features, positive, negative, cfg)?;
        let model = fit_model(
            &train,
            features,
            positive,
            negative,
            &LogisticConfig { l2, ..cfg.clone() },
        )?;
        for s in targets.iter().filter(|s| s.group == g) {
            out.push(HeldOut {
                id: s.id.clone(),
                label: s.label,
                species: s.species.clone(),
                group: s.group.clone(),
                prob: predict(&model, s)?,
                l2,
            });
        }
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
    let base = LogisticConfig::default();
    let live = liveness_samples(samples);
    let tuned = |s: &[Sample], features: &[&str], positive| {
        let l2 = choose_l2(s, features, positive, Label::Live, &base)?;
        fit_model(
            s,
            features,
            positive,
            Label::Live,
            &LogisticConfig { l2, ..base.clone() },
        )
    };
    Ok(Calibration {
        fusion: FusionModels {
            liveness: tuned(&live, &LIVENESS_FEATURES, Label::Spoof)?,
            deepfake: tuned(samples, &DEEPFAKE_FEATURES, Label::Deepfake)?,
        },
        far,
        provenance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample with only the first liveness feature (non-rigid motion) measured.
    fn sample(id: usize, label: Label, motion: f64) -> Sample {
        Sample {
            id: id.to_string(),
            label,
            species: label.as_str().to_string(),
            group: (id % 10).to_string(),
            features: vec![(LIVENESS_FEATURES[0].to_string(), Some(motion))],
        }
    }

    #[test]
    fn a_separating_feature_gets_the_right_sign_and_missing_ones_stay_neutral() {
        let mut samples: Vec<Sample> = (0..20)
            .map(|i| sample(i, Label::Live, 0.9 - 0.01 * i as f64))
            .collect();
        samples.extend((0..20).map(|i| sample(100 + i, Label::Spoof, 0.4 - 0.01 * i as f64)));
        let m = fit_model(
            &samples,
            &LIVENESS_FEATURES,
            Label::Spoof,
            Label::Live,
            &LogisticConfig::default(),
        )
        .unwrap();
        assert!(m.weights[0] < 0.0, "more non-rigid motion must mean live");
        // Never-measured features are constant (imputed) and get no weight.
        assert!(m.weights[1..].iter().all(|w| w.abs() < 1e-9));
        let held = leave_one_source_out(
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
        assert_eq!(held.len(), samples.len());
    }

    #[test]
    fn a_source_is_held_out_whole() {
        // Each source is one live clip and one attack made from it that copies the clip's motion
        // value: a per-source quirk, not a class cue. Leave-one-sample-out would see the twin in
        // training; leave-one-source-out must not, so it cannot do better than chance here.
        let mut samples = Vec::new();
        for g in 0..12 {
            let v = f64::from(g);
            for (k, label) in [(0, Label::Live), (1, Label::Spoof)] {
                let mut s = sample(2 * g as usize + k, label, v);
                s.group = format!("clip{g}");
                samples.push(s);
            }
        }
        let held = leave_one_source_out(
            &samples,
            &[LIVENESS_FEATURES[0]],
            Label::Spoof,
            Label::Live,
            &LogisticConfig::default(),
        )
        .unwrap();
        for h in &held {
            let twin = held
                .iter()
                .find(|o| o.group == h.group && o.id != h.id)
                .unwrap();
            assert!(
                (h.prob - twin.prob).abs() < 1e-12,
                "a source's samples are predicted by one model that saw neither"
            );
            assert!(L2_GRID.contains(&h.l2));
        }
    }
}
