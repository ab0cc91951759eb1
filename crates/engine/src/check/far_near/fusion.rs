//! How the far / near evidence becomes one spoof probability.
//!
//! A logistic combination on the log-odds scale, like the video fusion, but with prior weights
//! instead of fitted ones: there is no labelled set of real far / near captures yet (see
//! `docs/signals.md`, "Perspective (far / near)", for what was measured and on what). Each term is
//! visible in the verdict as a signal with its contribution:
//!
//! - `pad_model`: the anti-spoofing model's mean score over both stills, entered as its own
//!   log-odds times `pad_weight` < 1: it is noisy (it scores some genuine photos 0.99), so it may
//!   tip a doubtful pair but not overrule clear depth evidence.
//! - `perspective_relief`: the relief index (centre vs contour growth per unit of scale change),
//!   centred on a midpoint between what planar and real pairs measured and divided by a scale:
//!   a head adds negative (live) log-odds, a plane positive.
//! - `perspective_residual`: the homography residual over landmark noise, on a log scale: a
//!   residual at the noise floor says "plane", well above it says "not one homography".
//! - `clip_liveness`: the clip's own fused spoof probability as log-odds, when a clip was judged.

use crate::calibrate::logistic::sigmoid;
use crate::check::config::CaptureFusionConfig;
use crate::check::{AttackType, Liveness, SignalValue};
use crate::signals::perspective::PerspectiveReport;

/// What the fusion reads.
pub struct Evidence<'a> {
    /// The anti-spoofing score of the far and the near face, when the model ran.
    pub pad: [Option<f32>; 2],
    pub perspective: &'a PerspectiveReport,
    /// The clip's liveness, when a clip was judged.
    pub clip: Option<&'a Liveness>,
    /// A capture-time rule broke (reported as its own reason; listed for the attack type).
    pub timing_broken: bool,
}

/// The fused result.
pub struct Fused {
    pub spoof_prob: f64,
    pub attack_type: AttackType,
    pub signals: Vec<SignalValue>,
}

fn log_odds(p: f64, clamp: f64) -> f64 {
    let p = p.clamp(clamp, 1.0 - clamp);
    (p / (1.0 - p)).ln()
}

/// Combines the evidence (see the module documentation).
pub fn fuse(cfg: &CaptureFusionConfig, e: &Evidence<'_>) -> Fused {
    let cap = |x: f64| x.clamp(-cfg.max_term, cfg.max_term);
    let pads: Vec<f64> = e.pad.iter().flatten().map(|&s| f64::from(s)).collect();
    let pad = (!pads.is_empty()).then(|| pads.iter().sum::<f64>() / pads.len() as f64);
    let pad_term = pad.map_or(0.0, |p| cfg.pad_weight * log_odds(p, cfg.pad_clamp));
    let relief = e.perspective.relief_index;
    let relief_term = relief.map_or(0.0, |r| {
        cap(-cfg.relief_weight * (r - cfg.relief_midpoint) / cfg.relief_scale)
    });
    let residual = e.perspective.residual_to_noise;
    let residual_term = if residual.is_finite() && residual > 0.0 {
        cap(-cfg.residual_weight * (residual / cfg.residual_midpoint).ln())
    } else {
        0.0
    };
    let clip = e.clip.map(|l| l.spoof_prob);
    let clip_term = clip.map_or(0.0, |p| cfg.clip_weight * log_odds(p, cfg.pad_clamp));
    let logit = cfg.bias + pad_term + relief_term + residual_term + clip_term;
    let attack_type = if clip_term > pad_term + relief_term + residual_term {
        e.clip
            .and_then(|l| l.attack_type)
            .unwrap_or(AttackType::Unsure)
    } else if e.timing_broken {
        AttackType::Injection
    } else {
        AttackType::Presentation
    };
    let signal = |name, value: Option<f64>, contribution, attack_prob| SignalValue {
        name,
        value,
        contribution,
        attack_prob,
    };
    let p = e.perspective;
    Fused {
        spoof_prob: sigmoid(logit),
        attack_type,
        signals: vec![
            signal("pad_model", pad, pad_term, pad),
            signal("perspective_relief", relief, relief_term, None),
            signal("perspective_residual", Some(residual), residual_term, None),
            signal(
                "perspective_centre_vs_contour",
                Some(p.centre_vs_contour),
                0.0,
                None,
            ),
            signal("near_far_scale", Some(p.scale_ratio), 0.0, None),
            signal("clip_liveness", clip, clip_term, clip),
        ],
    }
}
