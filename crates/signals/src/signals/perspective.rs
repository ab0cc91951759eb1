//! Perspective: does the face change its proportions as the camera comes closer?
//!
//! Why it works: a pinhole camera magnifies a point by `f / (D - z)`, with `D` the distance to the
//! face and `z` how far the point stands out towards the camera. When the phone moves from a far
//! to a near still, every point of a real head grows, but the nose, eyes and mouth (tens of
//! millimetres in front of the cheek edges and the ears) grow faster than the face contour, and
//! the contour recedes. A flat photo or a screen has one depth: its picture only scales (and, when
//! tilted, undergoes a homography). Three measures follow:
//!
//! - `scale_ratio`: the near face's size over the far face's: the area scale `sqrt(|det A|)` of
//!   the least-squares affine map `A` over all points.
//! - `centre_vs_contour`: how much more the centre points (eyes, nose, mouth corners) grew than
//!   the contour (the face oval) says they should. The homography of the contour points, far to
//!   near, predicts where the centre points would be if they lay in one plane with the contour;
//!   `centre_vs_contour` is the area scale of the affine map from that prediction onto the real
//!   near centre points. Exactly 1 (up to noise) for any plane however it is scaled, tilted or
//!   turned; for a head coming closer the centre outgrows the prediction. For a head of relief `Δ` (centre in front of contour) seen from
//!   `D_far` it is about `1 + (Δ / D_far)(scale_ratio - 1)`, hence
//! - `relief_index = (centre_vs_contour - 1) / (scale_ratio - 1)`: an estimate of `Δ / D_far`,
//!   ~0.1-0.3 for a head at a selfie distance, 0 for a plane. Reported only when the pair's
//!   scale change is large enough to divide by.
//! - the RMS residual after the best homography from the far points onto the near points, in
//!   inter-ocular distances (IOD) and in units of what landmark noise alone would leave: about 1
//!   for a plane, more for a head (depth-dependent magnification is not projective).
//!
//! What it cannot do: a curved print or a 3-D mask has relief; a replay of a video in which a
//! real person approached their own camera shows their perspective, moving with the screen. The
//! landmark model regresses a face shape learned from real faces, so it may understate the change
//! (measured on real frames in `docs/signals.md`). The pair must be the same face, frontal and
//! still in expression: a smile between the stills also changes proportions.

use crate::error::SignalError;
use crate::geometry::{EyeAnchors, PlaneTransform, fit_affine, fit_homography, rms_residual};
use crate::input::{Point2, check_indices, check_range};
use serde::{Deserialize, Serialize};

const SIGNAL: &str = "perspective";
/// A homography has 8 degrees of freedom: with fewer than twice as many coordinates the residual
/// is meaningless.
pub const MIN_POINTS: usize = 8;
const HOMOGRAPHY_DOF: f64 = 8.0;

/// Image-left and image-right edge of the face oval at the cheeks (beside the ears): the face
/// width.
pub const FACE_WIDTH: [usize; 2] = [234, 454];
/// Outer eye corners (image-left, image-right).
pub const EYE_SPAN: [usize; 2] = [33, 263];
/// Outer edges of the nose wings (image-left, image-right).
pub const NOSE_WINGS: [usize; 2] = [129, 358];
/// Mouth corners (image-left, image-right).
pub const MOUTH_CORNERS: [usize; 2] = [61, 291];

/// The default centre set: eye corners, the nose (ridge, tip, wings) and the mouth corners, the
/// parts of a face that stand furthest in front of its contour.
pub fn centre_points() -> Vec<usize> {
    crate::layout::IMAGE_LEFT_EYE_CORNERS
        .iter()
        .chain(&crate::layout::IMAGE_RIGHT_EYE_CORNERS)
        .chain(&crate::layout::NOSE)
        .chain(&NOSE_WINGS)
        .chain(&MOUTH_CORNERS)
        .copied()
        .collect()
}

/// Tuning of [`measure_perspective`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerspectiveConfig {
    pub eyes: EyeAnchors,
    /// Points whose scale is compared with the contour's (default [`centre_points`]).
    pub centre: Vec<usize>,
    /// The face contour (default the face oval, [`crate::layout::FACE_OVAL`]).
    pub contour: Vec<usize>,
    /// Named distances reported as proportions of the face width (default eye span, nose
    /// wings, mouth corners over [`FACE_WIDTH`]): for people reading the report.
    pub proportions: Vec<NamedSpan>,
    /// Landmarks of the face width the proportions divide by.
    pub face_width: [usize; 2],
    /// Per-coordinate landmark error of one still, in IOD: what the homography residual is
    /// divided by. Measured on real frames: pairs of frames of the stillest live clip
    /// (`live_selfie_portrait`) at the same face size leave a median homography residual of
    /// 0.0039 IOD, i.e. sigma = 0.0039 / 2 (see `docs/signals.md`).
    pub landmark_noise_iod: f64,
    /// `relief_index` is reported only when `|scale_ratio - 1|` reaches this: below it the
    /// division amplifies noise more than it reveals relief. On real frames `centre_vs_contour`
    /// varies by 0.003-0.017 (sd) between frames of one face at one size (expressions), so at
    /// 0.1 the relief index carries +-0.03-0.17 of noise: a real head (~0.2) stays visible.
    pub min_scale_change: f64,
}

/// A distance between two landmarks, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedSpan {
    pub name: String,
    pub points: [usize; 2],
}

impl Default for PerspectiveConfig {
    fn default() -> PerspectiveConfig {
        let span = |name: &str, points| NamedSpan {
            name: name.into(),
            points,
        };
        PerspectiveConfig {
            eyes: EyeAnchors::default(),
            centre: centre_points(),
            contour: crate::layout::FACE_OVAL.to_vec(),
            proportions: vec![
                span("eye_span", EYE_SPAN),
                span("nose_width", NOSE_WINGS),
                span("mouth_width", MOUTH_CORNERS),
            ],
            face_width: FACE_WIDTH,
            landmark_noise_iod: 0.002,
            min_scale_change: 0.1,
        }
    }
}

/// One named proportion in both stills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proportion {
    pub name: String,
    /// Span over face width, far still.
    pub far: f64,
    /// The same, near still.
    pub near: f64,
    /// `near / far`: > 1 when the centre grew faster than the contour.
    pub change: f64,
}

/// What [`measure_perspective`] measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerspectiveReport {
    pub points: usize,
    pub far_inter_ocular_px: f64,
    pub near_inter_ocular_px: f64,
    /// Area scale far -> near over all points: how much closer the near still is.
    pub scale_ratio: f64,
    /// Area scale far -> near of the contour points, and `contour_scale * centre_vs_contour`.
    pub centre_scale: f64,
    pub contour_scale: f64,
    /// The centre's growth beyond what the contour's homography predicts: 1 for a plane, > 1
    /// for a head coming closer.
    pub centre_vs_contour: f64,
    /// `(centre_vs_contour - 1) / (scale_ratio - 1)`: relief over far distance; `None` when the
    /// scale changed less than `min_scale_change`.
    pub relief_index: Option<f64>,
    pub proportions: Vec<Proportion>,
    /// RMS residual after the best homography far -> near, in near IOD.
    pub homography_residual_iod: f64,
    /// What landmark noise alone would leave: `2 noise sqrt(1 - 8 / 2N)` (noise in both stills).
    pub homography_noise_floor_iod: f64,
    /// `homography_residual_iod / homography_noise_floor_iod`: ~1 for a plane.
    pub residual_to_noise: f64,
}

/// Compares the far and the near landmarks (same points, same order, image pixels).
pub fn measure_perspective(
    far: &[Point2],
    near: &[Point2],
    config: &PerspectiveConfig,
) -> Result<PerspectiveReport, SignalError> {
    check_range(
        "perspective.landmark_noise_iod",
        config.landmark_noise_iod,
        1e-6..=1.0,
        "an IOD fraction in (0, 1]",
    )?;
    check_range(
        "perspective.min_scale_change",
        config.min_scale_change,
        1e-3..=10.0,
        "a positive ratio change",
    )?;
    if far.len() != near.len() {
        return Err(SignalError::LengthMismatch {
            signal: SIGNAL,
            left_name: "far landmarks",
            left: far.len(),
            right_name: "near landmarks",
            right: near.len(),
        });
    }
    let n = far.len();
    for (set, need) in [
        (n, MIN_POINTS),
        (config.centre.len(), 3),
        (config.contour.len(), 2),
    ] {
        if set < need {
            return Err(SignalError::TooFewLandmarks {
                signal: SIGNAL,
                got: set,
                need,
            });
        }
    }
    let to_f64 = |points: &[Point2], index: usize| -> Result<Vec<[f64; 2]>, SignalError> {
        if points.iter().flatten().any(|v| !v.is_finite()) {
            return Err(SignalError::NonFinite {
                signal: SIGNAL,
                index,
            });
        }
        Ok(points
            .iter()
            .map(|p| [f64::from(p[0]), f64::from(p[1])])
            .collect())
    };
    let (f, q) = (to_f64(far, 0)?, to_f64(near, 1)?);
    check_indices(&config.centre, n)?;
    check_indices(&config.contour, n)?;
    check_indices(&config.face_width, n)?;
    for span in &config.proportions {
        check_indices(&span.points, n)?;
    }
    let far_iod = config.eyes.inter_ocular(&f)?;
    let near_iod = config.eyes.inter_ocular(&q)?;

    let subset = |pts: &[[f64; 2]], idx: &[usize]| idx.iter().map(|&i| pts[i]).collect::<Vec<_>>();
    let area_scale = |s: &[[f64; 2]], d: &[[f64; 2]], frame: usize| -> Result<f64, SignalError> {
        let t = fit_affine(s, d).ok_or(SignalError::DegenerateFit {
            fit: "affine",
            frame,
        })?;
        let [[a, b, _], [c, d, _]] = t.rows;
        Ok((a * d - b * c).abs().sqrt())
    };
    let scale_ratio = area_scale(&f, &q, 0)?;
    let (far_contour, near_contour) = (subset(&f, &config.contour), subset(&q, &config.contour));
    let contour_scale = area_scale(&far_contour, &near_contour, 0)?;
    // The contour's own homography says where a plane through the contour would put the centre
    // points in the near still; how much larger they really are is the centre's excess growth.
    // Any planar motion (scale, tilt, turn) is absorbed by that homography, exactly.
    let contour_map =
        fit_homography(&far_contour, &near_contour).ok_or(SignalError::DegenerateFit {
            fit: "contour homography",
            frame: 1,
        })?;
    let predicted: Vec<[f64; 2]> = config
        .centre
        .iter()
        .map(|&i| contour_map.apply(f[i]))
        .collect();
    let centre_vs_contour = area_scale(&predicted, &subset(&q, &config.centre), 1)?;
    let centre_scale = contour_scale * centre_vs_contour;
    let relief_index = ((scale_ratio - 1.0).abs() >= config.min_scale_change)
        .then(|| (centre_vs_contour - 1.0) / (scale_ratio - 1.0));

    let span = |pts: &[[f64; 2]], [a, b]: [usize; 2]| crate::geometry::distance(pts[a], pts[b]);
    let (far_width, near_width) = (span(&f, config.face_width), span(&q, config.face_width));
    if far_width < crate::geometry::MIN_INTER_OCULAR_PX
        || near_width < crate::geometry::MIN_INTER_OCULAR_PX
    {
        return Err(SignalError::DegenerateFaceSize {
            pixels: far_width.min(near_width),
        });
    }
    let proportions = config
        .proportions
        .iter()
        .map(|s| {
            let far = span(&f, s.points) / far_width;
            let near = span(&q, s.points) / near_width;
            Proportion {
                name: s.name.clone(),
                far,
                near,
                change: near / far,
            }
        })
        .collect();

    let h = fit_homography(&f, &q).ok_or(SignalError::DegenerateFit {
        fit: "homography",
        frame: 1,
    })?;
    let residual = rms_residual(&h, &f, &q) / near_iod;
    // Noise of sigma per coordinate in each still (each in its own IOD, so the far one's maps to
    // the same size in near units): 2 sigma^2 per coordinate, two coordinates, less what the
    // fit's 8 parameters absorb.
    let floor =
        2.0 * config.landmark_noise_iod * (1.0 - HOMOGRAPHY_DOF / (2.0 * n as f64)).max(0.0).sqrt();
    Ok(PerspectiveReport {
        points: n,
        far_inter_ocular_px: far_iod,
        near_inter_ocular_px: near_iod,
        scale_ratio,
        centre_scale,
        contour_scale,
        centre_vs_contour,
        relief_index,
        proportions,
        homography_residual_iod: residual,
        homography_noise_floor_iod: floor,
        residual_to_noise: residual / floor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{CONTOUR, Camera, EYE_ANCHORS, FaceModel, Pose, Rng, noisy};

    /// Per-coordinate landmark noise of each still, in IOD (as the config assumes).
    const NOISE_IOD: f64 = 0.006;

    /// The synthetic face's centre (eye corners, mouth, the points on the nose bump) and rim.
    fn config(model: &FaceModel) -> PerspectiveConfig {
        let n = model.points.len();
        let mut centre: Vec<usize> = (0..4).chain(20..24).collect();
        centre.extend((24..n - CONTOUR).filter(|&i| {
            let [x, y, _] = model.points[i];
            x * x + (y - 0.1).powi(2) < 0.3 * 0.3
        }));
        let rim = n - CONTOUR;
        PerspectiveConfig {
            eyes: EYE_ANCHORS,
            centre,
            contour: (rim..n).collect(),
            proportions: vec![NamedSpan {
                name: "eye_span".into(),
                points: [0, 3],
            }],
            face_width: [rim + CONTOUR / 2, rim],
            landmark_noise_iod: NOISE_IOD,
            min_scale_change: 0.15,
        }
    }

    /// Projects the model at `pose` and adds noise proportional to the face's size in the image.
    fn still(model: &FaceModel, pose: Pose, rng: &mut Rng) -> Vec<Point2> {
        let clean = Camera::selfie().project(&model.points, pose);
        let centre = |a: usize, b: usize| {
            [
                0.5 * (clean[a][0] + clean[b][0]),
                0.5 * (clean[a][1] + clean[b][1]),
            ]
        };
        let iod = crate::geometry::distance(centre(0, 1), centre(2, 3));
        noisy(&clean, rng, NOISE_IOD * iod)
    }

    /// Far: 7 face units (~44 cm at a 63 mm IOD); near: 3.5 (~22 cm), as the capture SDK asks.
    fn far_pose() -> Pose {
        Pose {
            shift: [0.05, -0.1, -1.5],
            ..Pose::default()
        }
    }

    fn near_pose() -> Pose {
        Pose {
            shift: [-0.05, 0.05, 2.0],
            ..Pose::default()
        }
    }

    fn pair(model: &FaceModel, far: Pose, near: Pose, seed: u64) -> PerspectiveReport {
        let mut rng = Rng::new(seed);
        let (f, q) = (still(model, far, &mut rng), still(model, near, &mut rng));
        measure_perspective(&f, &q, &config(model)).unwrap()
    }

    /// First-order `Δ / D_far` of the model: each set's depth weighted by the squared distance
    /// of its points from the set's centre (what dominates a least-squares scale).
    fn analytic_relief(model: &FaceModel) -> f64 {
        let cfg = config(model);
        let weighted_z = |idx: &[usize]| {
            let n = idx.len() as f64;
            let cx = idx.iter().map(|&i| model.points[i][0]).sum::<f64>() / n;
            let cy = idx.iter().map(|&i| model.points[i][1]).sum::<f64>() / n;
            let w =
                |i: usize| (model.points[i][0] - cx).powi(2) + (model.points[i][1] - cy).powi(2);
            let total: f64 = idx.iter().map(|&i| w(i)).sum();
            idx.iter().map(|&i| w(i) * model.points[i][2]).sum::<f64>() / total
        };
        let contour_z = weighted_z(&cfg.contour);
        let far_distance = Camera::selfie().distance - far_pose().shift[2] - contour_z;
        (weighted_z(&cfg.centre) - contour_z) / far_distance
    }

    /// The same pair without landmark noise.
    fn noiseless(model: &FaceModel, far: Pose, near: Pose) -> PerspectiveReport {
        let project = |pose| -> Vec<Point2> {
            Camera::selfie()
                .project(&model.points, pose)
                .iter()
                .map(|p| [p[0] as f32, p[1] as f32])
                .collect()
        };
        measure_perspective(&project(far), &project(near), &config(model)).unwrap()
    }

    #[test]
    fn a_head_coming_closer_grows_its_centre_faster_than_its_contour() {
        let model = FaceModel::new(&mut Rng::new(31), 200);
        let r = pair(&model, far_pose(), near_pose(), 1);
        let exact = noiseless(&model, far_pose(), near_pose())
            .relief_index
            .unwrap();
        let first_order = analytic_relief(&model);
        eprintln!("head: {r:?}\nrelief without noise {exact:.4}, first order {first_order:.4}");
        assert!((r.scale_ratio - 2.0).abs() < 0.2, "{}", r.scale_ratio);
        assert!(r.centre_vs_contour > 1.02, "{}", r.centre_vs_contour);
        // The measure is what the geometry predicts: to first order, and within noise exactly.
        assert!(
            (exact / first_order - 1.0).abs() < 0.3,
            "exact {exact} vs first order {first_order}"
        );
        let relief = r.relief_index.expect("the scale doubled");
        assert!(
            (relief - exact).abs() < 0.4 * exact,
            "relief {relief} vs {exact}"
        );
        assert!(r.proportions[0].change > 1.03, "{:?}", r.proportions);
        // A straight approach is mostly absorbed by the homography's projective terms: the
        // residual stands only a little above noise (1.6x when written); relief is the evidence.
        assert!(r.residual_to_noise > 1.3, "{}", r.residual_to_noise);
    }

    #[test]
    fn a_photo_coming_closer_only_scales() {
        let photo = FaceModel::new(&mut Rng::new(31), 200).flattened();
        let r = pair(&photo, far_pose(), near_pose(), 2);
        eprintln!("photo: {r:?}");
        assert!((r.scale_ratio - 2.0).abs() < 0.2, "{}", r.scale_ratio);
        assert!((r.centre_vs_contour - 1.0).abs() < 0.01, "{r:?}");
        assert!(r.relief_index.unwrap().abs() < 0.015, "{r:?}");
        assert!((r.proportions[0].change - 1.0).abs() < 0.02, "{r:?}");
        // Only noise is left, and the noise model says how much: the ratio is about 1.
        assert!(
            r.residual_to_noise > 0.8 && r.residual_to_noise < 1.25,
            "{}",
            r.residual_to_noise
        );
    }

    #[test]
    fn a_tilted_photo_is_still_one_homography_a_turned_head_is_not() {
        let model = FaceModel::new(&mut Rng::new(32), 200);
        let far = Pose {
            yaw: -5f64.to_radians(),
            pitch: 4f64.to_radians(),
            ..far_pose()
        };
        let near = Pose {
            yaw: 15f64.to_radians(),
            pitch: -10f64.to_radians(),
            roll: 0.1,
            ..near_pose()
        };
        let photo = pair(&model.flattened(), far, near, 3);
        let head = pair(&model, far, near, 3);
        eprintln!("tilted photo: {photo:?}\nturned head: {head:?}");
        assert!((photo.centre_vs_contour - 1.0).abs() < 0.015, "{photo:?}");
        assert!(photo.residual_to_noise < 1.25, "{photo:?}");
        assert!(head.residual_to_noise > 3.0 * photo.residual_to_noise);
        // Turning between the stills shows parallax (5x noise when written) and still relief.
        assert!(head.relief_index.unwrap() > 0.01, "{head:?}");
    }

    #[test]
    fn noise_never_makes_a_photo_look_like_a_head() {
        let model = FaceModel::new(&mut Rng::new(33), 200);
        let flat = model.flattened();
        let relief = |m: &FaceModel, seed| pair(m, far_pose(), near_pose(), seed).relief_index;
        let photos: Vec<f64> = (0..20).map(|s| relief(&flat, 100 + s).unwrap()).collect();
        let heads: Vec<f64> = (0..20).map(|s| relief(&model, 200 + s).unwrap()).collect();
        let (photo_max, head_min) = (
            photos.iter().copied().fold(f64::MIN, f64::max),
            heads.iter().copied().fold(f64::MAX, f64::min),
        );
        eprintln!("photo relief max {photo_max:.4}, head relief min {head_min:.4}");
        // 0.0115 vs 0.034 when written.
        assert!(head_min > photo_max + 0.015, "{photos:?} {heads:?}");
    }

    #[test]
    fn an_unchanged_distance_gives_no_relief_index() {
        let model = FaceModel::new(&mut Rng::new(34), 100);
        let r = pair(&model, far_pose(), far_pose(), 4);
        assert!((r.scale_ratio - 1.0).abs() < 0.02, "{}", r.scale_ratio);
        assert_eq!(r.relief_index, None);
    }

    #[test]
    fn refuses_mismatched_degenerate_and_misconfigured_input() {
        let model = FaceModel::new(&mut Rng::new(35), 100);
        let cfg = config(&model);
        let mut rng = Rng::new(5);
        let f = still(&model, far_pose(), &mut rng);
        let q = still(&model, near_pose(), &mut rng);
        assert!(matches!(
            measure_perspective(&f, &q[..q.len() - 1], &cfg),
            Err(SignalError::LengthMismatch { left, right, .. }) if left == f.len() && right == f.len() - 1
        ));
        assert!(matches!(
            measure_perspective(&f[..5], &q[..5], &cfg),
            Err(SignalError::TooFewLandmarks {
                got: 5,
                need: MIN_POINTS,
                ..
            })
        ));
        let collapsed = vec![[100.0f32, 100.0]; f.len()];
        assert!(matches!(
            measure_perspective(&collapsed, &q, &cfg),
            Err(SignalError::DegenerateFaceSize { pixels }) if pixels == 0.0
        ));
        let bad = PerspectiveConfig {
            landmark_noise_iod: 0.0,
            ..cfg.clone()
        };
        assert!(matches!(
            measure_perspective(&f, &q, &bad),
            Err(SignalError::InvalidConfig {
                field: "perspective.landmark_noise_iod",
                ..
            })
        ));
        let out_of_range = PerspectiveConfig {
            centre: vec![0, 1, f.len()],
            ..cfg
        };
        assert!(matches!(
            measure_perspective(&f, &q, &out_of_range),
            Err(SignalError::LandmarkIndexOutOfRange { index, .. }) if index == f.len()
        ));
    }

    #[test]
    fn default_landmark_lists_fit_the_mesh() {
        let cfg = PerspectiveConfig::default();
        let all: Vec<usize> = cfg
            .centre
            .iter()
            .chain(&cfg.contour)
            .chain(&cfg.face_width)
            .chain(cfg.proportions.iter().flat_map(|p| &p.points))
            .copied()
            .collect();
        assert!(all.iter().all(|&i| i < 468));
        assert!(cfg.centre.iter().all(|i| !cfg.contour.contains(i)));
        assert!(cfg.face_width.iter().all(|i| cfg.contour.contains(i)));
    }
}
