//! Temporal evidence from the face track: each signal of [`crate::signals`] run on the frames
//! with a face, reduced to the named features the fusion reads. A signal that cannot be measured
//! (too few frames, no skin pixels, ...) gives `None`, which the fusion treats as "no evidence".

use super::config::SignalConfigs;
use super::observation::FrameObs;
use crate::signals::blink::detect_blinks;
use crate::signals::{jitter, motion, planarity, pulse};

/// A named feature value.
pub(super) type Feature = (&'static str, Option<f64>);

/// Names of the temporal features, in a fixed order.
pub mod names {
    /// Non-rigid shape change, log10 of inter-ocular distances.
    pub const NONRIGID: &str = "nonrigid_log10_iod";
    /// Median share of the motion a plane explains (1 = flat).
    pub const PLANARITY: &str = "planarity";
    /// Parallax no plane explains, log10 of inter-ocular distances (90th percentile).
    pub const PARALLAX: &str = "parallax_log10_iod";
    /// Blinks found.
    pub const BLINKS: &str = "blink_count";
    /// Pulse signal-to-noise ratio, dB.
    pub const PULSE_SNR: &str = "pulse_snr_db";
    /// Inner-face over contour landmark jitter.
    pub const JITTER_RATIO: &str = "jitter_inner_to_contour";
    /// Overall landmark jitter, log10 of inter-ocular distances.
    pub const JITTER: &str = "jitter_log10_iod";
    /// Median anti-spoofing model score over the analysed candidates.
    pub const PAD: &str = "pad_model_median";
    /// Median MiniFASNet P(real) over the analysed candidates (the second PAD model; higher =
    /// live). Absent from a calibration fitted before it existed: no weight there.
    pub const PAD_MINIFAS: &str = "pad_minifas_real_median";
    /// Strongest periodic peak on the face crop, log10 of its ratio to its ring's median.
    pub const SCREEN_PEAK: &str = "screen_peak_log10";
    /// Share of bright unsaturated pixels on the face crop.
    pub const GLARE: &str = "glare_fraction";
}

/// What the temporal signals measured.
#[derive(Debug, Clone, Default)]
pub(super) struct Temporal {
    pub nonrigid_iod: Option<f64>,
    pub planarity: Option<f64>,
    pub parallax_p90_iod: Option<f64>,
    pub blink_count: Option<usize>,
    /// 95th minus 5th percentile of the eye openness.
    pub openness_spread: Option<f64>,
    pub pulse_snr_db: Option<f64>,
    pub pulse_bpm: Option<f64>,
    pub jitter_ratio: Option<f64>,
    pub jitter_iod: Option<f64>,
}

impl Temporal {
    pub fn features(&self) -> Vec<Feature> {
        vec![
            (names::NONRIGID, self.nonrigid_iod.map(log10_floor)),
            (names::PLANARITY, self.planarity),
            (names::PARALLAX, self.parallax_p90_iod.map(log10_floor)),
            (names::BLINKS, self.blink_count.map(|c| c as f64)),
            (
                names::PULSE_SNR,
                self.pulse_snr_db.map(|v| v.max(PULSE_SNR_FLOOR_DB)),
            ),
            (names::JITTER_RATIO, self.jitter_ratio),
            (names::JITTER, self.jitter_iod.map(log10_floor)),
        ]
    }
}

/// The pulse SNR the fusion reads (and `signals[]` shows) is floored at this many dB. Below about -3 dB the measure reads codec noise, not the absence of a pulse:
/// one clip reads -1.5 dB re-encoded and -5.1 dB as uploaded (`live_blink_square_1`), and the
/// pulse SNR of a clip moves by up to 4 dB between those two encodings on the evaluation set. A
/// floor keeps "no pulse found" from counting as ever stronger evidence of an attack.
pub const PULSE_SNR_FLOOR_DB: f64 = -3.0;

/// log10 with a floor, so a bit-exact still (0 motion) stays finite.
pub(super) fn log10_floor(v: f64) -> f64 {
    v.max(1e-6).log10()
}

/// Runs the temporal signals on the frames with a face.
pub(super) fn temporal(frames: &[FrameObs], cfg: &SignalConfigs) -> Temporal {
    let faces: Vec<(f64, &super::observation::FaceObs)> = frames
        .iter()
        .filter_map(|f| f.face.as_ref().map(|o| (f.t, o)))
        .collect();
    let times: Vec<f64> = faces.iter().map(|f| f.0).collect();
    let tracks: Vec<Vec<[f32; 2]>> = faces.iter().map(|f| f.1.points.clone()).collect();
    let mut out = Temporal::default();
    if let Ok(m) = motion::measure_motion(&times, &tracks, &cfg.motion) {
        out.nonrigid_iod = Some(m.nonrigid_iod);
    }
    if let Ok(p) = planarity::measure_planarity(&times, &tracks, &cfg.planarity) {
        out.planarity = p.planarity;
        out.parallax_p90_iod = Some(p.parallax_p90_iod);
    }
    let openness: Vec<(f64, f64)> = faces
        .iter()
        .filter_map(|&(t, f)| f.openness.map(|o| (t, o)))
        .collect();
    let (ot, ov): (Vec<f64>, Vec<f64>) = openness.into_iter().unzip();
    out.openness_spread = super::rules::openness_spread(&ov);
    if let Ok(b) = detect_blinks(&ot, &ov, &cfg.blink) {
        out.blink_count = Some(b.count);
    }
    let skin: Vec<(f64, [f32; 3])> = faces
        .iter()
        .filter_map(|&(t, f)| f.colours.skin.map(|c| (t, c)))
        .collect();
    let (st, sv): (Vec<f64>, Vec<[f32; 3]>) = skin.into_iter().unzip();
    if let Ok(p) = pulse::measure_pulse(&st, &sv, &cfg.pulse) {
        out.pulse_snr_db = Some(p.snr_db);
        out.pulse_bpm = Some(p.heart_rate_bpm);
    }
    if let Ok(j) = jitter::measure_jitter(&times, &tracks, &cfg.jitter) {
        out.jitter_ratio = j.inner_to_contour_ratio;
        out.jitter_iod = Some(j.overall_jitter_iod);
    }
    out
}
