//! Planarity: does the face move like a flat picture or like a head?
//!
//! Why it works: all points of a plane (a printed photo, a phone or monitor screen) map from one
//! view to another by a single homography, however the plane is tilted, turned or carried by a
//! hand. A head is not flat: when it turns, the nose tip shifts against the cheeks and the cheeks
//! against the ears (parallax), and no homography reproduces that. For each frame against a
//! reference frame we fit an affine map and a homography over all landmarks (normalised DLT,
//! least squares, optionally trimmed) and compare what each leaves unexplained:
//!
//! - `excitation`: the residual after the affine map, beyond what noise alone leaves. It is zero
//!   when the motion is in-plane (nothing to tell a plane from a head) and grows with perspective
//!   change (plane tilted) or with parallax (head turned).
//! - `parallax`: the residual after the homography, beyond noise. About zero for any plane.
//! - per frame `1 - parallax / excitation`: near 1 when the homography explains what the affine
//!   could not (a plane), near 0 when it explains none of it (a head).
//!
//! The noise level is not assumed: it is measured from the second differences over time of the
//! homography-aligned landmarks (smooth motion cancels, landmark jitter does not), and the
//! residual a noise-only fit would leave is `2 sigma sqrt(1 - dof / 2N)` (noise in both frames,
//! minus what the fit's degrees of freedom absorb).
//!
//! What it cannot do: a head held perfectly still shows no parallax and a picture moved only in
//! its own plane shows no perspective: both leave `excitation` at the noise floor, and the score is
//! then `None` (no evidence) rather than a guess. A curved or folded print, or a face mask, is
//! not a plane and will look like a head. Blinks and expressions also resist both fits and read as
//! "not planar", which is harmless for liveness (a photo does not blink) but means the score is
//! about the whole face's motion, not its depth alone. Trimming (`trim_fraction`) reduces that.

use crate::dsp::noise::landmark_noise_sigma;
use crate::error::SignalError;
use crate::geometry::{EyeAnchors, PlaneTransform, fit_affine, fit_homography, rms_residual};
use crate::input::{Point2, check_indices, check_range, landmark_track};
use crate::math::stats;
use serde::{Deserialize, Serialize};

const SIGNAL: &str = "planarity";
/// Frames needed for a noise estimate and at least a couple of comparisons.
pub const MIN_FRAMES: usize = 5;
/// A homography has 8 degrees of freedom; with fewer than twice as many coordinates as that, the
/// residual says little.
pub const MIN_POINTS: usize = 8;
/// Degrees of freedom of a plane affine map and of a homography.
const AFFINE_DOF: f64 = 6.0;
const HOMOGRAPHY_DOF: f64 = 8.0;
/// Percentile over frames for the video-level parallax and excitation: the frames of largest pose
/// change carry the evidence, and the top tenth is left to glitches.
const SUMMARY_QUANTILE: f64 = 0.9;

/// Tuning of [`measure_planarity`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanarityConfig {
    pub eyes: EyeAnchors,
    /// Frame every other frame is compared with; `None` = the middle frame (closest on average
    /// to all others, so the largest pose differences are halved).
    pub reference_frame: Option<usize>,
    /// Share of points with the largest residual dropped before a refit (0 = plain least
    /// squares). 0.1 keeps a blink or a glitching point from dominating both fits. The noise
    /// floor is still that of an untrimmed fit, which a trimmed fit undercuts a little: trimming
    /// biases `planarity` slightly towards 1 (tested: head 0.27 -> 0.34, photo 0.93 -> 1.0).
    pub trim_fraction: f64,
    /// A frame counts as evidence only if its excitation exceeds this many noise residuals...
    pub min_excitation_to_noise: f64,
    /// ...and this absolute size (IOD), so a near-noiseless track does not vote on nothing.
    pub min_excitation_iod: f64,
}

impl Default for PlanarityConfig {
    fn default() -> PlanarityConfig {
        PlanarityConfig {
            eyes: EyeAnchors::default(),
            reference_frame: None,
            trim_fraction: 0.0,
            min_excitation_to_noise: 1.5,
            min_excitation_iod: 0.004,
        }
    }
}

/// One frame compared with the reference; lengths in inter-ocular distances (IOD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FramePlanarity {
    pub time_s: f64,
    /// RMS residual after the best affine map onto the reference.
    pub affine_residual_iod: f64,
    /// RMS residual after the best homography onto the reference.
    pub homography_residual_iod: f64,
    /// Affine residual beyond the noise floor: how much non-affine motion there is to explain.
    pub excitation_iod: f64,
    /// Homography residual beyond the noise floor: what a plane cannot explain.
    pub parallax_iod: f64,
    /// Whether this frame has enough excitation to vote.
    pub informative: bool,
}

/// What [`measure_planarity`] measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanarityReport {
    pub reference_frame: usize,
    pub inter_ocular_px: f64,
    /// Per-coordinate landmark noise (IOD) from second differences of the aligned track.
    pub noise_sigma_iod: f64,
    /// Residual a noise-only homography fit leaves (IOD); the floor `parallax` is measured from.
    pub homography_noise_floor_iod: f64,
    pub frames: Vec<FramePlanarity>,
    pub informative_frames: usize,
    /// Median over informative frames of `1 - parallax / excitation`, in [0, 1]: 1 = moves as a
    /// plane. `None` when no frame had enough out-of-plane motion to tell.
    pub planarity: Option<f64>,
    /// 90th percentile over frames of `parallax_iod`: absolute depth evidence, 0 for any plane.
    pub parallax_p90_iod: f64,
    /// 90th percentile over frames of `excitation_iod`: how much the capture could reveal.
    pub excitation_p90_iod: f64,
}

/// Fits affine maps and homographies from every frame onto the reference frame and reports how
/// planar the motion is. `frames[i]` are the landmarks (same points, same order) at
/// `timestamps[i]` seconds.
pub fn measure_planarity(
    timestamps: &[f64],
    frames: &[Vec<Point2>],
    config: &PlanarityConfig,
) -> Result<PlanarityReport, SignalError> {
    check_range(
        "planarity.trim_fraction",
        config.trim_fraction,
        0.0..=0.5,
        "a share in [0, 0.5]",
    )?;
    let track = landmark_track(SIGNAL, timestamps, frames, MIN_FRAMES, MIN_POINTS)?;
    let points = track[0].len();
    check_indices(&config.eyes.indices(), points)?;
    let reference_frame = config.reference_frame.unwrap_or(track.len() / 2);
    check_indices(&[reference_frame], track.len())?;
    let reference = &track[reference_frame];
    let iod = config.eyes.inter_ocular(reference)?;

    let mut residuals = Vec::with_capacity(track.len());
    let mut homography_aligned = Vec::with_capacity(track.len());
    for (frame, current) in track.iter().enumerate() {
        let (affine_res, _) = robust_fit(current, reference, config.trim_fraction, |s, d| {
            fit_affine(s, d).map(|a| Box::new(a) as Box<dyn PlaneTransform>)
        })
        .ok_or(SignalError::DegenerateFit {
            fit: "affine",
            frame,
        })?;
        let (homography_res, h) = robust_fit(current, reference, config.trim_fraction, |s, d| {
            fit_homography(s, d).map(|h| Box::new(h) as Box<dyn PlaneTransform>)
        })
        .ok_or(SignalError::DegenerateFit {
            fit: "homography",
            frame,
        })?;
        residuals.push((affine_res / iod, homography_res / iod));
        homography_aligned.push(current.iter().map(|&p| h.apply(p)).collect::<Vec<_>>());
    }

    let sigma = landmark_noise_sigma(timestamps, &homography_aligned).unwrap_or(0.0) / iod;
    let kept = points as f64 * (1.0 - config.trim_fraction);
    let floor = |dof: f64| 2.0 * sigma * (1.0 - dof / (2.0 * kept)).max(0.0).sqrt();
    let (affine_floor, homography_floor) = (floor(AFFINE_DOF), floor(HOMOGRAPHY_DOF));
    let beyond = |value: f64, floor: f64| (value * value - floor * floor).max(0.0).sqrt();
    let min_excitation = config
        .min_excitation_iod
        .max(config.min_excitation_to_noise * affine_floor);

    let frame_reports: Vec<FramePlanarity> = residuals
        .iter()
        .zip(timestamps)
        .enumerate()
        .map(|(i, (&(a, h), &t))| {
            let excitation = beyond(a, affine_floor);
            FramePlanarity {
                time_s: t,
                affine_residual_iod: a,
                homography_residual_iod: h,
                excitation_iod: excitation,
                parallax_iod: beyond(h, homography_floor),
                informative: i != reference_frame && excitation > min_excitation,
            }
        })
        .collect();
    let votes: Vec<f64> = frame_reports
        .iter()
        .filter(|f| f.informative)
        .map(|f| (1.0 - f.parallax_iod / f.excitation_iod).clamp(0.0, 1.0))
        .collect();
    let parallax: Vec<f64> = frame_reports.iter().map(|f| f.parallax_iod).collect();
    let excitation: Vec<f64> = frame_reports.iter().map(|f| f.excitation_iod).collect();
    Ok(PlanarityReport {
        reference_frame,
        inter_ocular_px: iod,
        noise_sigma_iod: sigma,
        homography_noise_floor_iod: homography_floor,
        informative_frames: votes.len(),
        planarity: stats::median_or_none(&votes),
        parallax_p90_iod: stats::quantile(&parallax, SUMMARY_QUANTILE),
        excitation_p90_iod: stats::quantile(&excitation, SUMMARY_QUANTILE),
        frames: frame_reports,
    })
}

/// Fits `fit` on all points, then (if `trim` > 0) again on the points with the smallest
/// residuals; returns the RMS residual over the points used and the final transform.
fn robust_fit(
    src: &[[f64; 2]],
    dst: &[[f64; 2]],
    trim: f64,
    fit: impl Fn(&[[f64; 2]], &[[f64; 2]]) -> Option<Box<dyn PlaneTransform>>,
) -> Option<(f64, Box<dyn PlaneTransform>)> {
    let t = fit(src, dst)?;
    if trim <= 0.0 {
        return Some((rms_residual(&*t, src, dst), t));
    }
    let mut order: Vec<(f64, usize)> = src
        .iter()
        .zip(dst)
        .enumerate()
        .map(|(i, (s, d))| (crate::geometry::distance(t.apply(*s), *d), i))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let keep = ((src.len() as f64) * (1.0 - trim)).round() as usize;
    let (s, d): (Vec<_>, Vec<_>) = order[..keep.max(MIN_POINTS)]
        .iter()
        .map(|&(_, i)| (src[i], dst[i]))
        .unzip();
    let t = fit(&s, &d)?;
    Some((rms_residual(&*t, &s, &d), t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{
        Camera, EYE_ANCHORS, FaceModel, Pose, Rng, render_track, uniform_timestamps,
    };

    const NOISE_PX: f64 = 0.4;

    fn config() -> PlanarityConfig {
        PlanarityConfig {
            eyes: EYE_ANCHORS,
            ..PlanarityConfig::default()
        }
    }

    /// A head turning a few degrees (yaw +-6, pitch +-4) and drifting a little.
    fn head_pose(t: f64) -> Pose {
        Pose {
            yaw: 6f64.to_radians() * (0.9 * t).sin(),
            pitch: 4f64.to_radians() * (0.6 * t + 1.0).sin(),
            roll: 0.03 * (0.5 * t).sin(),
            shift: [0.1 * (0.4 * t).sin(), 0.05 * t, 0.0],
        }
    }

    /// A photo held by hand: slow tilts of +-12 degrees plus a 4-8 Hz tremor, and a drift.
    fn hand_pose(t: f64) -> Pose {
        let tremor = |f: f64, phase: f64| {
            0.6f64.to_radians() * (std::f64::consts::TAU * f * t + phase).sin()
        };
        Pose {
            yaw: 12f64.to_radians() * (0.8 * t).sin() + tremor(6.0, 0.3),
            pitch: 10f64.to_radians() * (0.5 * t + 2.0).sin() + tremor(4.5, 1.1),
            roll: 0.05 * (0.7 * t).sin() + tremor(7.5, 2.0),
            shift: [
                0.15 * (0.3 * t).sin(),
                0.1 * (0.45 * t).cos(),
                0.3 * (0.35 * t).sin(),
            ],
        }
    }

    #[test]
    fn a_turning_head_shows_parallax_a_homography_cannot_explain() {
        let mut rng = Rng::new(21);
        let face = FaceModel::new(&mut rng, 200);
        let ts = uniform_timestamps(6.0, 30.0);
        let frames = render_track(
            &face,
            &Camera::selfie(),
            &ts,
            head_pose,
            |_, _| {},
            NOISE_PX,
            &mut rng,
        );
        let report = measure_planarity(&ts, &frames, &config()).unwrap();
        eprintln!(
            "head: planarity {:?} parallax p90 {:.4} excitation p90 {:.4} floor {:.4} informative {}",
            report.planarity,
            report.parallax_p90_iod,
            report.excitation_p90_iod,
            report.homography_noise_floor_iod,
            report.informative_frames
        );
        let planarity = report.planarity.expect("a turning head is informative");
        assert!(planarity < 0.4, "planarity {planarity}");
        assert!(report.informative_frames > ts.len() / 2);
        // Parallax well above the noise floor (0.026 vs 0.0065 IOD when written).
        assert!(
            report.parallax_p90_iod > 3.0 * report.homography_noise_floor_iod,
            "{report:?}"
        );
    }

    #[test]
    fn a_photo_moved_by_hand_is_explained_by_a_homography() {
        let mut rng = Rng::new(22);
        let photo = FaceModel::new(&mut rng, 200).flattened();
        let ts = uniform_timestamps(6.0, 30.0);
        let frames = render_track(
            &photo,
            &Camera::selfie(),
            &ts,
            hand_pose,
            |_, _| {},
            NOISE_PX,
            &mut rng,
        );
        let report = measure_planarity(&ts, &frames, &config()).unwrap();
        eprintln!(
            "photo: planarity {:?} parallax p90 {:.4} excitation p90 {:.4} floor {:.4} informative {}",
            report.planarity,
            report.parallax_p90_iod,
            report.excitation_p90_iod,
            report.homography_noise_floor_iod,
            report.informative_frames
        );
        let planarity = report.planarity.expect("tilting a photo shows perspective");
        assert!(planarity > 0.8, "planarity {planarity}");
        // The homography leaves only noise: the measured sigma matches the injected one.
        let sigma_px = report.noise_sigma_iod * report.inter_ocular_px;
        assert!(
            (sigma_px / NOISE_PX - 1.0).abs() < 0.2,
            "sigma {sigma_px} px"
        );
        assert!(
            report.parallax_p90_iod < 2.0 * report.homography_noise_floor_iod,
            "{report:?}"
        );
    }

    #[test]
    fn trimming_keeps_the_verdicts_apart() {
        let mut rng = Rng::new(23);
        let face = FaceModel::new(&mut rng, 200);
        let ts = uniform_timestamps(4.0, 30.0);
        let trimmed = PlanarityConfig {
            trim_fraction: 0.1,
            ..config()
        };
        let head = render_track(
            &face,
            &Camera::selfie(),
            &ts,
            head_pose,
            |_, _| {},
            NOISE_PX,
            &mut rng,
        );
        let photo = render_track(
            &face.flattened(),
            &Camera::selfie(),
            &ts,
            hand_pose,
            |_, _| {},
            NOISE_PX,
            &mut rng,
        );
        let head = measure_planarity(&ts, &head, &trimmed)
            .unwrap()
            .planarity
            .unwrap();
        let photo = measure_planarity(&ts, &photo, &trimmed)
            .unwrap()
            .planarity
            .unwrap();
        eprintln!("trimmed: photo {photo:.3} head {head:.3}");
        assert!(photo - head > 0.4, "photo {photo} head {head}");
    }

    #[test]
    fn a_picture_moved_only_in_its_plane_gives_no_evidence() {
        let mut rng = Rng::new(24);
        let photo = FaceModel::new(&mut rng, 200).flattened();
        let ts = uniform_timestamps(4.0, 30.0);
        let in_plane = |t: f64| Pose {
            roll: 0.1 * (0.8 * t).sin(),
            shift: [0.2 * (0.5 * t).sin(), 0.1 * t, 0.0],
            ..Pose::default()
        };
        let frames = render_track(
            &photo,
            &Camera::selfie(),
            &ts,
            in_plane,
            |_, _| {},
            NOISE_PX,
            &mut rng,
        );
        let report = measure_planarity(&ts, &frames, &config()).unwrap();
        assert_eq!(report.planarity, None, "{report:?}");
        assert_eq!(report.informative_frames, 0);
    }
}
