//! `faceproof eval --held-out`: every row's liveness and deepfake probabilities recomputed by
//! models fitted without the row's source (its clip, person or generator output: the manifest's
//! `source` column), the L2 strength chosen on the other sources only (nested). The fits are the
//! ones `faceproof calibrate` ships (`fit::fit_calibration`), so the report is what the shipped
//! method does on a face it has not seen, not what the shipped model does on faces it was fitted on.
//!
//! The spoof and deepfake codes are re-decided from the held-out probabilities the way the engine
//! decides them (`spoof` at the liveness threshold unless `still_image` already rejected the
//! clip, `deepfake` at the deepfake threshold); every other code is the engine's own.

use super::manifest::Label;
use super::report::Outcome;
use faceproof_engine::calibrate::fit::{self, Sample};
use faceproof_engine::calibrate::logistic::LogisticConfig;
use faceproof_engine::check::feature_names::PAD_MINIFAS;
use faceproof_engine::check::{DeepfakeConfig, LivenessConfig};
use serde::Serialize;

/// What the held-out refit did.
#[derive(Debug, Serialize)]
pub struct HeldOutNote {
    pub method: &'static str,
    /// Distinct sources among the judged rows.
    pub sources: usize,
    /// Rows with a liveness judgement no model could predict (their source held a whole class).
    pub unpredicted: Vec<String>,
    /// L2 strengths chosen per held-out source, liveness then deepfake (how stable the choice is).
    pub liveness_l2: Vec<f64>,
    pub deepfake_l2: Vec<f64>,
}

/// The fit samples of the rows with a liveness judgement.
pub fn samples(outcomes: &[Outcome]) -> Vec<Sample> {
    outcomes
        .iter()
        .filter(|o| o.error.is_none() && o.spoof_prob.is_some())
        .map(|o| {
            let mut features = o.liveness_signals.clone();
            for d in &o.deepfake_signals {
                if !features.iter().any(|f| f.0 == d.0) {
                    features.push(d.clone());
                }
            }
            Sample {
                id: o.row.video.display().to_string(),
                label: o.row.label,
                species: o.row.species.clone(),
                group: o.row.source.clone(),
                features,
            }
        })
        .collect()
}

/// Replaces the fused probabilities by held-out ones and re-decides `spoof` / `deepfake` (with the
/// engine's own MiniFASNet veto, [`LivenessConfig::spoof_prob`], and its use of an operator's
/// deepfake detector, [`DeepfakeConfig::prob`]).
pub fn apply(
    outcomes: &mut [Outcome],
    liveness: &LivenessConfig,
    deepfake: &DeepfakeConfig,
) -> Result<HeldOutNote, String> {
    let all = samples(outcomes);
    let cfg = LogisticConfig::default();
    let live = fit::held_out_for(
        &fit::liveness_samples(&all),
        &all,
        &fit::LIVENESS_FEATURES,
        Label::Spoof,
        Label::Live,
        &cfg,
    )
    .map_err(|e| e.to_string())?;
    let fake = fit::held_out_for(
        &all,
        &all,
        &fit::DEEPFAKE_FEATURES,
        Label::Deepfake,
        Label::Live,
        &cfg,
    )
    .map_err(|e| e.to_string())?;
    let mut sources: Vec<&str> = all.iter().map(|s| s.group.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut unpredicted = Vec::new();
    for o in outcomes
        .iter_mut()
        .filter(|o| o.error.is_none() && o.spoof_prob.is_some())
    {
        let id = o.row.video.display().to_string();
        let (Some(l), Some(d)) = (
            live.iter().find(|h| h.id == id),
            fake.iter().find(|h| h.id == id),
        ) else {
            // Left with the shipped probabilities, and said so.
            unpredicted.push(id);
            continue;
        };
        let minifas = o
            .liveness_signals
            .iter()
            .find(|f| f.0 == PAD_MINIFAS)
            .and_then(|f| f.1);
        let (spoof_prob, _) = liveness.spoof_prob(l.prob, minifas);
        o.spoof_prob = Some(spoof_prob);
        let (deepfake_prob, _) = deepfake.prob(d.prob, o.deepfake_model_prob);
        o.deepfake_prob = Some(deepfake_prob);
        let still = o.codes.iter().any(|c| c == "still_image");
        o.codes.retain(|c| c != "spoof" && c != "deepfake");
        if spoof_prob >= liveness.threshold && !still {
            o.codes.push("spoof".into());
        }
        if deepfake_prob >= deepfake.threshold {
            o.codes.push("deepfake".into());
        }
    }
    let per_source = |h: &[fit::HeldOut]| {
        let mut seen: Vec<(&str, f64)> = h.iter().map(|h| (h.group.as_str(), h.l2)).collect();
        seen.sort_by(|a, b| a.0.cmp(b.0));
        seen.dedup_by(|a, b| a.0 == b.0);
        seen.into_iter().map(|s| s.1).collect()
    };
    Ok(HeldOutNote {
        method: "leave one source out (clip, person or generator output), L2 chosen by \
                 leave-one-source-out log loss on the remaining sources",
        sources: sources.len(),
        unpredicted,
        liveness_l2: per_source(&live),
        deepfake_l2: per_source(&fake),
    })
}

#[cfg(test)]
mod tests {
    use super::super::report::tests::outcome;
    use super::*;

    #[test]
    fn held_out_probabilities_and_codes_replace_the_shipped_ones() {
        let mut rows = Vec::new();
        for g in 0..8 {
            let v = f64::from(g) * 0.01;
            let mut live = outcome(Label::Live, "live", Some(0.9), &["spoof"]);
            live.liveness_signals = vec![(fit::LIVENESS_FEATURES[0].into(), Some(0.1 + v))];
            live.row.source = format!("s{g}");
            live.row.video = format!("live{g}.mp4").into();
            let mut attack = outcome(Label::Spoof, "screen", Some(0.1), &[]);
            attack.liveness_signals = vec![(fit::LIVENESS_FEATURES[0].into(), Some(0.8 + v))];
            attack.row.source = format!("s{g}");
            attack.row.video = format!("attack{g}.mp4").into();
            rows.push(live);
            rows.push(attack);
        }
        let mut fake = outcome(Label::Deepfake, "deepfake", Some(0.1), &[]);
        fake.row.source = "generated".into();
        fake.deepfake_signals = vec![(fit::DEEPFAKE_FEATURES[0].into(), Some(2.0))];
        rows.push(fake);
        for (i, o) in rows.iter_mut().enumerate() {
            if o.row.label == Label::Live {
                o.deepfake_signals = vec![(fit::DEEPFAKE_FEATURES[0].into(), Some(0.1 * i as f64))];
            }
        }
        let note = apply(
            &mut rows,
            &LivenessConfig::default(),
            &DeepfakeConfig::default(),
        )
        .unwrap();
        assert_eq!(note.sources, 9);
        // The only deepfake's source holds the whole class: nothing can predict it.
        assert_eq!(note.unpredicted, ["deepfake.mp4"]);
        rows.pop();
        for o in &rows {
            let attack = o.row.label == Label::Spoof;
            assert_eq!(o.spoof_prob.unwrap() >= 0.5, attack, "{:?}", o.row.video);
            assert_eq!(o.codes.iter().any(|c| c == "spoof"), attack);
        }
    }
}
