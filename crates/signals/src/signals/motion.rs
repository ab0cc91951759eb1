//! Non-rigid motion: does the face change shape over the video, or only move as a whole?
//!
//! Why it works: every frame's landmarks are aligned onto a common reference shape by the best
//! similarity or affine map (generalised Procrustes), which removes whatever a camera, a hand or a
//! zoom can do to a flat picture. What remains is shape change: eyelids, lips, cheeks, and the
//! parallax of a turning head. A still image re-encoded as a video (FPT code 413) leaves only
//! landmark noise, so its residual stays at the noise floor; a live face blinks, talks and turns.
//!
//! The statistic is per point: how far each landmark strays from its own median aligned position
//! (a 3-frame median filter first drops single-frame detector glitches), then the k-th largest of
//! those peaks, because a blink moves a handful of the 468 points a lot and leaves the rest still:
//! an average or even a 95th percentile over points would dilute it below the noise.
//!
//! What it cannot do: a video replay of a live face (on a screen or injected) moves exactly like a
//! live face, and a photo bent or waved non-rigidly is not still; those are other signals' job. At
//! frame rates below ~10 fps a blink can fall between frames or be removed as a glitch. A face
//! that holds perfectly still and does not blink looks like a still image: the verdict should ask
//! for a natural 5-6 s capture rather than trust this signal alone.

use crate::dsp::noise::landmark_noise_sigma;
use crate::error::SignalError;
use crate::geometry::{Affine2, EyeAnchors, PlaneTransform, fit_affine, fit_similarity};
use crate::input::{Point2, landmark_track};
use crate::math::stats;
use serde::{Deserialize, Serialize};

const SIGNAL: &str = "motion";
/// One frame's landmarks in f64.
type Shape = Vec<[f64; 2]>;
/// Frames needed: the median filter and the second-difference noise estimate need a few.
pub const MIN_FRAMES: usize = 5;
/// An affine fit needs three points; the eye corners alone are four.
pub const MIN_POINTS: usize = 4;

/// Which rigid motion is removed before measuring what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    /// Rotation, uniform scale, translation: what a camera or a zoom does to a frontal picture.
    Similarity,
    /// Adds shear and anisotropic scale: also absorbs a picture tilted away from the camera
    /// (weak perspective), at the cost of absorbing a little genuine expression change too.
    Affine,
}

/// Tuning of [`measure_motion`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MotionConfig {
    pub alignment: Alignment,
    pub eyes: EyeAnchors,
    /// The score is the peak displacement of the k-th most mobile point. A blink moves the
    /// central upper-lid points of both eyes (3 or more per eye in the mesh) by most of the eye's
    /// height, a mouth movement a dozen lip points; a single glitching point cannot reach it.
    pub mobile_points: usize,
    /// Rounds of generalised Procrustes (align all frames to the mean, recompute the mean).
    /// Two already converge for video; more only cost time.
    pub procrustes_rounds: usize,
    /// Below this score (inter-ocular distances) the face is called still (code `still_image`).
    /// 0.03 IOD is about 4 px on a selfie face: ten times the mesh's jitter on a re-encoded still
    /// and a third of an eyelid's travel in a blink. A prior until the fusion is fitted on data.
    pub still_max_nonrigid_iod: f64,
}

impl Default for MotionConfig {
    fn default() -> MotionConfig {
        MotionConfig {
            alignment: Alignment::Affine,
            eyes: EyeAnchors::default(),
            mobile_points: 6,
            procrustes_rounds: 2,
            still_max_nonrigid_iod: 0.03,
        }
    }
}

/// What [`measure_motion`] measured. Lengths are in inter-ocular distances (IOD) of the
/// reference shape, so they do not depend on the face's size in the frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotionReport {
    pub frames: usize,
    pub points: usize,
    pub alignment: Alignment,
    /// Inter-ocular distance of the reference shape, pixels.
    pub inter_ocular_px: f64,
    /// Per frame: RMS over points of the distance to the points' median aligned positions.
    pub frame_residual_iod: Vec<f64>,
    /// Timestamp of the frame with the largest residual (a blink, a smile, a turn).
    pub peak_time_s: f64,
    /// Median over points of their peak displacement: the noise floor of this track.
    pub point_peak_median_iod: f64,
    /// The score: the peak displacement of the `mobile_points`-th most mobile point.
    pub nonrigid_iod: f64,
    /// Per-coordinate landmark noise from second differences of the aligned track.
    pub noise_sigma_iod: f64,
    /// `nonrigid_iod / noise_sigma_iod`: shape change in units of this track's own noise; `None`
    /// when the frames are bit-identical (zero noise).
    pub nonrigid_to_noise: Option<f64>,
    /// `nonrigid_iod < still_max_nonrigid_iod`.
    pub still: bool,
}

/// Measures non-rigid motion of a landmark track (`frames[i]` taken at `timestamps[i]` seconds,
/// every frame with the same points in the same order, image coordinates).
pub fn measure_motion(
    timestamps: &[f64],
    frames: &[Vec<Point2>],
    config: &MotionConfig,
) -> Result<MotionReport, SignalError> {
    crate::input::check_range(
        "motion.mobile_points",
        config.mobile_points as f64,
        1.0..=f64::INFINITY,
        "at least one point",
    )?;
    let track = landmark_track(SIGNAL, timestamps, frames, MIN_FRAMES, MIN_POINTS)?;
    crate::input::check_indices(&config.eyes.indices(), track[0].len())?;
    let (aligned, reference) = procrustes(&track, config)?;
    let iod = config.eyes.inter_ocular(&reference)?;
    let points = reference.len();

    let median_shape: Vec<[f64; 2]> = (0..points)
        .map(|p| {
            let xs: Vec<f64> = aligned.iter().map(|f| f[p][0]).collect();
            let ys: Vec<f64> = aligned.iter().map(|f| f[p][1]).collect();
            [stats::median(&xs), stats::median(&ys)]
        })
        .collect();
    // displacement[p][i]: how far point p is from its median position in frame i, in IOD.
    let displacement: Vec<Vec<f64>> = (0..points)
        .map(|p| {
            aligned
                .iter()
                .map(|f| crate::geometry::distance(f[p], median_shape[p]) / iod)
                .collect()
        })
        .collect();
    let frame_residual_iod: Vec<f64> = (0..aligned.len())
        .map(|i| {
            let sum: f64 = displacement.iter().map(|d| d[i] * d[i]).sum();
            (sum / points as f64).sqrt()
        })
        .collect();
    let peak_frame = (0..frame_residual_iod.len())
        .max_by(|&a, &b| frame_residual_iod[a].total_cmp(&frame_residual_iod[b]))
        .unwrap_or(0);
    let point_peaks: Vec<f64> = displacement
        .iter()
        .map(|d| median3(d).into_iter().fold(0.0, f64::max))
        .collect();
    let mut ranked = point_peaks.clone();
    ranked.sort_by(|a, b| b.total_cmp(a));
    let nonrigid_iod = ranked[config.mobile_points.min(points) - 1];
    let noise_sigma_iod = landmark_noise_sigma(timestamps, &aligned).unwrap_or(0.0) / iod;
    Ok(MotionReport {
        frames: aligned.len(),
        points,
        alignment: config.alignment,
        inter_ocular_px: iod,
        peak_time_s: timestamps[peak_frame],
        frame_residual_iod,
        point_peak_median_iod: stats::median(&point_peaks),
        nonrigid_iod,
        noise_sigma_iod,
        nonrigid_to_noise: (noise_sigma_iod > 0.0).then(|| nonrigid_iod / noise_sigma_iod),
        still: nonrigid_iod < config.still_max_nonrigid_iod,
    })
}

/// Generalised Procrustes: aligns every frame onto a reference that starts as the middle frame
/// and becomes the mean aligned shape, itself kept in the middle frame's position and scale (so
/// the reference cannot shrink or drift over the rounds). Returns the aligned frames and the
/// final reference.
fn procrustes(track: &[Shape], config: &MotionConfig) -> Result<(Vec<Shape>, Shape), SignalError> {
    let anchor = &track[track.len() / 2];
    let mut reference = anchor.clone();
    let mut aligned = Vec::new();
    for _ in 0..config.procrustes_rounds.max(1) {
        aligned = track
            .iter()
            .enumerate()
            .map(|(frame, points)| {
                let t = fit(config.alignment, points, &reference).ok_or(
                    SignalError::DegenerateFit {
                        fit: "alignment",
                        frame,
                    },
                )?;
                Ok(points.iter().map(|&p| t.apply(p)).collect::<Vec<_>>())
            })
            .collect::<Result<Vec<_>, SignalError>>()?;
        let mean = mean_shape(&aligned);
        let gauge = fit(config.alignment, &mean, anchor).ok_or(SignalError::DegenerateFit {
            fit: "reference",
            frame: track.len() / 2,
        })?;
        reference = mean.iter().map(|&p| gauge.apply(p)).collect();
    }
    Ok((aligned, reference))
}

fn fit(alignment: Alignment, src: &[[f64; 2]], dst: &[[f64; 2]]) -> Option<Affine2> {
    match alignment {
        Alignment::Similarity => fit_similarity(src, dst),
        Alignment::Affine => fit_affine(src, dst),
    }
}

/// Point-wise mean of equally long point sets.
pub(crate) fn mean_shape(frames: &[Vec<[f64; 2]>]) -> Vec<[f64; 2]> {
    let n = frames.len() as f64;
    (0..frames[0].len())
        .map(|p| {
            let (sx, sy) = frames
                .iter()
                .fold((0.0, 0.0), |(sx, sy), f| (sx + f[p][0], sy + f[p][1]));
            [sx / n, sy / n]
        })
        .collect()
}

/// 3-tap running median (the two end samples take the smaller of their two neighbours), which
/// removes isolated one-frame spikes but keeps anything lasting two frames or more.
fn median3(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|i| {
            if i == 0 || i + 1 == n {
                let j = if i == 0 { 1.min(n - 1) } else { i - 1 };
                x[i].min(x[j])
            } else {
                let (a, b, c) = (x[i - 1], x[i], x[i + 1]);
                a.max(b).min(a.min(b).max(c))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{
        Camera, EYE_ANCHORS, FaceModel, MOUTH_LOWER_LIP, Pose, Rng, blink_profile, close_eyes,
        render_track, uniform_timestamps,
    };

    fn config(alignment: Alignment) -> MotionConfig {
        MotionConfig {
            alignment,
            eyes: EYE_ANCHORS,
            ..MotionConfig::default()
        }
    }

    /// Landmark noise of a real mesh on a re-encoded still: ~0.3 px at a 127 px IOD.
    const NOISE_PX: f64 = 0.3;

    #[test]
    fn a_still_picture_under_camera_drift_stays_at_the_noise_floor() {
        let mut rng = Rng::new(1);
        let face = FaceModel::new(&mut rng, 150);
        let ts = uniform_timestamps(6.0, 30.0);
        // A slow zoom-and-pan of a still frame: a similarity the alignment must remove.
        let frames: Vec<Vec<Point2>> = render_track(
            &face,
            &Camera::selfie(),
            &ts,
            |_| Pose::default(),
            |_, _| {},
            NOISE_PX,
            &mut rng,
        )
        .into_iter()
        .zip(&ts)
        .map(|(points, t)| {
            let (s, a) = (1.0 + 0.03 * t, 0.01 * t);
            points
                .iter()
                .map(|p| {
                    let (x, y) = (p[0] as f64 - 360.0, p[1] as f64 - 640.0);
                    [
                        (360.0 + 8.0 * t + s * (a.cos() * x - a.sin() * y)) as f32,
                        (640.0 + s * (a.sin() * x + a.cos() * y)) as f32,
                    ]
                })
                .collect()
        })
        .collect();
        let report = measure_motion(&ts, &frames, &config(Alignment::Affine)).unwrap();
        eprintln!(
            "still: nonrigid {:.4} IOD, {:.1} x noise",
            report.nonrigid_iod,
            report.nonrigid_to_noise.unwrap_or(0.0)
        );
        assert!(report.still, "{report:?}");
        assert!(report.nonrigid_iod < 0.02, "{}", report.nonrigid_iod);
        // The noise estimate sees the 0.3 px jitter (in IOD units of ~127 px).
        let expected_sigma = NOISE_PX / report.inter_ocular_px;
        assert!((report.noise_sigma_iod / expected_sigma - 1.0).abs() < 0.2);
        assert!(report.nonrigid_to_noise.unwrap() < 6.0);
    }

    #[test]
    fn blinks_and_a_mouth_movement_are_non_rigid() {
        let mut rng = Rng::new(2);
        let face = FaceModel::new(&mut rng, 150);
        let ts = uniform_timestamps(6.0, 30.0);
        let frames = render_track(
            &face,
            &Camera::selfie(),
            &ts,
            |t| Pose {
                roll: 0.02 * (0.7 * t).sin(),
                shift: [0.05 * t, 0.0, 0.0],
                ..Pose::default()
            },
            |t, points| {
                close_eyes(
                    points,
                    blink_profile(t, 1.5, 0.25) + blink_profile(t, 4.2, 0.3),
                );
                points[MOUTH_LOWER_LIP][1] += 0.15 * blink_profile(t, 3.0, 1.0);
            },
            NOISE_PX,
            &mut rng,
        );
        let report = measure_motion(&ts, &frames, &config(Alignment::Affine)).unwrap();
        eprintln!(
            "live: nonrigid {:.4} IOD, {:.1} x noise",
            report.nonrigid_iod,
            report.nonrigid_to_noise.unwrap_or(0.0)
        );
        assert!(!report.still, "{report:?}");
        assert!(report.nonrigid_iod > 0.05, "{}", report.nonrigid_iod);
        assert!(report.nonrigid_to_noise.unwrap() > 20.0);
        // The largest frame residual is at one of the events (blinks at 1.5 / 4.2 s, mouth 3 s).
        let at_event = [1.5, 3.0, 4.2]
            .iter()
            .any(|c| (report.peak_time_s - c).abs() < 0.2);
        assert!(at_event, "peak at {}", report.peak_time_s);
    }

    #[test]
    fn alignment_removes_exactly_what_its_model_allows() {
        let mut rng = Rng::new(3);
        let face = FaceModel::new(&mut rng, 60);
        let ts = uniform_timestamps(2.0, 30.0);
        // Noise-free frames sheared over time: an affine map, not a similarity.
        let frames: Vec<Vec<Point2>> = ts
            .iter()
            .map(|t| {
                face.points
                    .iter()
                    .map(|p| {
                        [
                            (100.0 * p[0] + 40.0 * t * p[1]) as f32,
                            (100.0 * p[1]) as f32,
                        ]
                    })
                    .collect()
            })
            .collect();
        let affine = measure_motion(&ts, &frames, &config(Alignment::Affine)).unwrap();
        assert!(affine.nonrigid_iod < 1e-5, "{}", affine.nonrigid_iod);
        let similarity = measure_motion(&ts, &frames, &config(Alignment::Similarity)).unwrap();
        assert!(
            similarity.nonrigid_iod > 0.05,
            "{}",
            similarity.nonrigid_iod
        );
        // Only the f32 rounding of the coordinates is left as noise.
        assert!(affine.noise_sigma_iod < 1e-6, "{}", affine.noise_sigma_iod);
    }

    #[test]
    fn single_frame_glitches_are_ignored() {
        let x = [0.0, 0.0, 5.0, 0.0, 0.0, 3.0, 3.0, 0.0];
        assert_eq!(median3(&x), vec![0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 3.0, 0.0]);
    }

    #[test]
    fn refuses_bad_input_with_what_was_measured() {
        let frames = vec![vec![[0.0f32, 0.0]; 10]; 6];
        let ts = uniform_timestamps(0.2, 30.0);
        let err = measure_motion(&ts, &frames, &MotionConfig::default()).unwrap_err();
        assert_eq!(
            err,
            SignalError::LandmarkIndexOutOfRange {
                index: 33,
                points: 10
            }
        );
        let err = measure_motion(&ts[..3], &frames[..3], &config(Alignment::Affine)).unwrap_err();
        assert!(matches!(
            err,
            SignalError::TooFewSamples {
                got: 3,
                need: 5,
                ..
            }
        ));
    }
}
