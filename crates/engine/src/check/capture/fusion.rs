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
use crate::check::{AttackType, Liveness, SignalValue};
use crate::signals::perspective::PerspectiveReport;
use serde::{Deserialize, Serialize};

/// Prior fusion weights of the far / near check (log-odds of an attack).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptureFusionConfig {
    /// Log-odds of an attack before any evidence (0: even odds).
    pub bias: f64,
    /// Weight of the PAD model's own log-odds.
    pub pad_weight: f64,
    /// PAD scores are clamped to `[pad_clamp, 1 - pad_clamp]` before the log-odds: the model
    /// saturates at 0.99+ on some genuine photos, and an unclamped 0.9999 would be worth 9 nats.
    pub pad_clamp: f64,
    /// Relief index that counts as neither live nor planar. Measured (docs/signals.md): one real
    /// lean-in pair 0.21; the same photo at two scales, tilted or not, -0.08 to 0.03. The midpoint
    /// sits between them; one real pair is not a calibration: refit on real SDK captures.
    pub relief_midpoint: f64,
    /// Relief index change worth `relief_weight` nats.
    pub relief_scale: f64,
    pub relief_weight: f64,
    /// Homography residual over noise that counts as neither (log scale around it).
    pub residual_midpoint: f64,
    /// Weight per natural-log unit of `residual_to_noise / residual_midpoint`. 0 by default: on
    /// real frames it did not separate (a tilted photo 1.9x noise, the live pair 1.6x; talking
    /// moves the mesh more than depth does), so it is reported for the fit but not fused.
    pub residual_weight: f64,
    /// Largest share, in nats, one perspective term may contribute: a single glitching landmark
    /// set must not decide alone.
    pub max_term: f64,
    /// Weight of the clip's spoof log-odds.
    pub clip_weight: f64,
}

impl Default for CaptureFusionConfig {
    fn default() -> Self {
        Self {
            bias: 0.0,
            pad_weight: 0.5,
            pad_clamp: 0.02,
            relief_midpoint: 0.08,
            relief_scale: 0.04,
            relief_weight: 1.0,
            residual_midpoint: 2.0,
            residual_weight: 0.0,
            max_term: 4.0,
            clip_weight: 1.0,
        }
    }
}

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
