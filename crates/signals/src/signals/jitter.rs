//! Landmark jitter: the temporal fingerprint of frame-by-frame face synthesis.
//!
//! Why it works: a real face moves smoothly (muscles and a head have inertia), and a landmark
//! detector's own noise is roughly the same across the face. A face swap or reenactment generated
//! frame by frame has small independent errors in each frame inside the generated region (eyes,
//! nose, mouth), while the contour belongs to the real head: the inner landmarks then jitter more,
//! and differently, than the contour. We remove rigid motion (similarity alignment onto the middle
//! frame, which also removes camera shake), then separate each landmark's smooth motion from its
//! high-frequency residual with a local quadratic fit on the real timestamps (Gaussian kernel of
//! `smoothing_bandwidth_s`; a head turn's curvature is followed, not counted). Each residual is
//! divided by the share of white noise the fit leaves in it, so the result is an unbiased
//! per-coordinate noise sigma whatever the frame rate. Per point the sigma is taken robustly over
//! time (median), so a blink or a word, which last several frames, does not count as jitter.
//!
//! Reported: the jitter of the whole face, of the inner face and of the contour (inter-ocular
//! distances), and the inner / contour ratio: the inconsistency between regions.
//!
//! What it cannot do: a deepfake that is temporally smoothed, or a face swap whose contour is
//! also generated, shows no excess; compression and low light raise every landmark's jitter; the
//! ratio's normal value depends on the landmark model (mesh contours are usually noisier than the
//! inner face on real video), so it must be calibrated on real and fake clips before it means
//! anything. Injection of a recorded real video is out of its reach entirely.

use crate::error::SignalError;
use crate::geometry::{EyeAnchors, PlaneTransform, fit_similarity};
use crate::input::{Point2, check_indices, landmark_track};
use crate::math::stats;
use serde::{Deserialize, Serialize};

const SIGNAL: &str = "jitter";
/// A local quadratic needs neighbours on both sides; fewer frames say nothing about jitter.
pub const MIN_FRAMES: usize = 9;
/// Median of a chi-square variable with 2 degrees of freedom (`2 ln 2`), for a robust sigma
/// from squared 2-D residuals.
const CHI2_2DOF_MEDIAN: f64 = 2.0 * std::f64::consts::LN_2;

/// Which landmarks form the inner face and the contour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceRegions {
    pub inner: Vec<usize>,
    pub contour: Vec<usize>,
}

impl Default for FaceRegions {
    /// The face mesh's eyes, nose and lips against its face oval (see [`crate::layout`]).
    fn default() -> FaceRegions {
        FaceRegions {
            inner: crate::layout::inner_face(),
            contour: crate::layout::FACE_OVAL.to_vec(),
        }
    }
}

/// Tuning of [`measure_jitter`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JitterConfig {
    pub eyes: EyeAnchors,
    pub regions: FaceRegions,
    /// Gaussian kernel width of the local quadratic smoother, seconds. 0.1 s follows head
    /// motion up to ~2 Hz and leaves frame-to-frame changes (15-60 Hz) as residual.
    pub smoothing_bandwidth_s: f64,
}

impl Default for JitterConfig {
    fn default() -> JitterConfig {
        JitterConfig {
            eyes: EyeAnchors::default(),
            regions: FaceRegions::default(),
            smoothing_bandwidth_s: 0.1,
        }
    }
}

/// What [`measure_jitter`] measured; jitter is a per-coordinate sigma in inter-ocular distances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JitterReport {
    pub frames: usize,
    pub inter_ocular_px: f64,
    /// Median over all points.
    pub overall_jitter_iod: f64,
    /// Median over the inner-face points.
    pub inner_jitter_iod: f64,
    /// Median over the contour points.
    pub contour_jitter_iod: f64,
    /// `inner / contour`; `None` when the contour does not jitter at all.
    pub inner_to_contour_ratio: Option<f64>,
}

/// Measures high-frequency landmark jitter of a track (`frames[i]` at `timestamps[i]` seconds).
pub fn measure_jitter(
    timestamps: &[f64],
    frames: &[Vec<Point2>],
    config: &JitterConfig,
) -> Result<JitterReport, SignalError> {
    crate::input::check_range(
        "jitter.smoothing_bandwidth_s",
        config.smoothing_bandwidth_s,
        f64::MIN_POSITIVE..=f64::MAX,
        "positive",
    )?;
    let track = landmark_track(SIGNAL, timestamps, frames, MIN_FRAMES, 2)?;
    let points = track[0].len();
    check_indices(&config.eyes.indices(), points)?;
    for region in [&config.regions.inner, &config.regions.contour] {
        check_indices(region, points)?;
        if region.is_empty() {
            return Err(SignalError::TooFewLandmarks {
                signal: SIGNAL,
                got: 0,
                need: 1,
            });
        }
    }
    let reference = &track[track.len() / 2];
    let iod = config.eyes.inter_ocular(reference)?;
    let aligned: Vec<Vec<[f64; 2]>> = track
        .iter()
        .enumerate()
        .map(|(frame, f)| {
            let t = fit_similarity(f, reference).ok_or(SignalError::DegenerateFit {
                fit: "similarity",
                frame,
            })?;
            Ok(f.iter().map(|&p| t.apply(p)).collect())
        })
        .collect::<Result<_, SignalError>>()?;

    let fits = crate::dsp::smooth::local_quadratic(timestamps, config.smoothing_bandwidth_s);
    let point_sigma: Vec<f64> = (0..points)
        .map(|p| {
            let xs: Vec<f64> = aligned.iter().map(|f| f[p][0]).collect();
            let ys: Vec<f64> = aligned.iter().map(|f| f[p][1]).collect();
            let squared: Vec<f64> = fits
                .iter()
                .map(|fit| {
                    let gain = fit.noise_gain().max(f64::MIN_POSITIVE);
                    let rx = (xs[fit.centre] - fit.apply(&xs)) / gain;
                    let ry = (ys[fit.centre] - fit.apply(&ys)) / gain;
                    rx * rx + ry * ry
                })
                .collect();
            (stats::median(&squared) / CHI2_2DOF_MEDIAN).sqrt() / iod
        })
        .collect();
    let region_jitter = |indices: &[usize]| {
        let values: Vec<f64> = indices.iter().map(|&i| point_sigma[i]).collect();
        stats::median(&values)
    };
    let inner = region_jitter(&config.regions.inner);
    let contour = region_jitter(&config.regions.contour);
    Ok(JitterReport {
        frames: track.len(),
        inter_ocular_px: iod,
        overall_jitter_iod: stats::median(&point_sigma),
        inner_jitter_iod: inner,
        contour_jitter_iod: contour,
        inner_to_contour_ratio: (contour > 0.0).then(|| inner / contour),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{
        CONTOUR, Camera, EYE_ANCHORS, FaceModel, Pose, Rng, blink_profile, close_eyes,
        render_track, uniform_timestamps, vfr_timestamps,
    };

    const NOISE_PX: f64 = 0.5;

    fn regions(points: usize) -> FaceRegions {
        FaceRegions {
            inner: (0..24).collect(),
            contour: (points - CONTOUR..points).collect(),
        }
    }

    /// A head turning +-15 degrees at 0.4 Hz and drifting, filmed by a shaking hand-held phone.
    fn track(
        ts: &[f64],
        inner_extra_px: f64,
        blinks: bool,
        seed: u64,
    ) -> (Vec<Vec<Point2>>, JitterConfig) {
        let mut rng = Rng::new(seed);
        let face = FaceModel::new(&mut rng, 150);
        let mut frames = render_track(
            &face,
            &Camera::selfie(),
            ts,
            |t| Pose {
                yaw: 15f64.to_radians() * (std::f64::consts::TAU * 0.4 * t).sin(),
                pitch: 0.05 * (1.3 * t).sin(),
                roll: 0.0,
                shift: [0.2 * (0.7 * t).sin(), 0.1 * t, 0.2 * (0.5 * t).cos()],
            },
            |t, points| {
                if blinks {
                    close_eyes(
                        points,
                        blink_profile(t, 1.5, 0.3) + blink_profile(t, 4.0, 0.3),
                    );
                }
            },
            NOISE_PX,
            &mut rng,
        );
        for f in frames.iter_mut() {
            // Camera shake: a random whole-frame shift and rotation every frame.
            let (dx, dy, a) = (3.0 * rng.normal(), 3.0 * rng.normal(), 0.01 * rng.normal());
            for (i, p) in f.iter_mut().enumerate() {
                let (x, y) = (p[0] as f64 - 360.0, p[1] as f64 - 640.0);
                let extra = if i < 24 { inner_extra_px } else { 0.0 };
                p[0] = (360.0 + dx + a.cos() * x - a.sin() * y + extra * rng.normal()) as f32;
                p[1] = (640.0 + dy + a.sin() * x + a.cos() * y + extra * rng.normal()) as f32;
            }
        }
        let points = frames[0].len();
        let config = JitterConfig {
            eyes: EYE_ANCHORS,
            regions: regions(points),
            ..JitterConfig::default()
        };
        (frames, config)
    }

    #[test]
    fn measures_landmark_noise_not_head_motion_or_camera_shake() {
        for (seed, ts) in [
            (61, uniform_timestamps(6.0, 30.0)),
            (62, vfr_timestamps(&mut Rng::new(9), 180, 0.022, 0.045)),
        ] {
            let (frames, config) = track(&ts, 0.0, false, seed);
            let r = measure_jitter(&ts, &frames, &config).unwrap();
            let measured_px = r.overall_jitter_iod * r.inter_ocular_px;
            eprintln!(
                "jitter {measured_px:.3} px, ratio {:?}",
                r.inner_to_contour_ratio
            );
            assert!(
                (measured_px / NOISE_PX - 1.0).abs() < 0.2,
                "{measured_px} px"
            );
            let ratio = r.inner_to_contour_ratio.unwrap();
            assert!((0.8..1.25).contains(&ratio), "{ratio}");
        }
    }

    #[test]
    fn extra_jitter_of_the_inner_face_shows_as_inconsistency() {
        let ts = uniform_timestamps(6.0, 30.0);
        let (frames, config) = track(&ts, 1.5, false, 63);
        let r = measure_jitter(&ts, &frames, &config).unwrap();
        // Inner sigma sqrt(0.5^2 + 1.5^2) = 1.58 px against 0.5 px on the contour.
        let ratio = r.inner_to_contour_ratio.unwrap();
        assert!((ratio - 3.16).abs() < 0.5, "{ratio}");
    }

    #[test]
    fn blinks_are_motion_not_jitter() {
        let ts = uniform_timestamps(6.0, 30.0);
        let (frames, config) = track(&ts, 0.0, true, 64);
        let r = measure_jitter(&ts, &frames, &config).unwrap();
        let ratio = r.inner_to_contour_ratio.unwrap();
        assert!((0.8..1.3).contains(&ratio), "{ratio}");
    }
}
