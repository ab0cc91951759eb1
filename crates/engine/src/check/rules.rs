//! Capture rules: per-frame quality measures against the thresholds of [`CaptureConfig`], turned
//! into reasons that carry the measurement. A per-frame rule fails when more than
//! `frame_fraction` of the frames with a face break it; its reported value is the median over
//! those frames, and `at_seconds` the worst frame.

use super::config::CaptureConfig;
use super::observation::{FaceObs, FrameObs};
use super::regions::colour_distance;
use super::verdict::{CaptureMeasures, Reason, ReasonCode, Severity};
use crate::math::stats;

/// Errors before warnings; within each, capture, then liveness, then match (stable otherwise).
pub(super) fn order(codes: &mut [Reason]) {
    codes.sort_by_key(|r| (r.severity == Severity::Warning, r.code.stage() as u8));
}

/// Builds a reason with its hint.
pub(super) fn reason(
    code: ReasonCode,
    severity: Severity,
    measure: &'static str,
    value: f64,
    threshold: f64,
    at_seconds: Option<f64>,
) -> Reason {
    Reason {
        code,
        severity,
        measure,
        value,
        threshold,
        at_seconds,
        hint: code.hint(),
    }
}

/// One per-frame rule: which measure, how it fails.
struct Rule {
    code: ReasonCode,
    measure: &'static str,
    threshold: f64,
    /// Share of frames that may break it.
    tolerance: f64,
    /// `true` when values below the threshold fail.
    fails_below: bool,
    value: fn(&FaceObs, &CaptureConfig) -> Option<f64>,
}

/// The reasons the frames with a face give, in decision order.
pub(super) fn capture_reasons(frames: &[FrameObs], cfg: &CaptureConfig) -> Vec<Reason> {
    let rules = [
        Rule {
            code: ReasonCode::FaceTooSmall,
            measure: "face_area_ratio",
            threshold: cfg.min_face_area_ratio,
            tolerance: cfg.frame_fraction,
            fails_below: true,
            value: |f, _| Some(f64::from(f.quality.face_area_ratio)),
        },
        Rule {
            code: ReasonCode::FaceOutOfFrame,
            measure: "inside_ratio",
            threshold: cfg.min_inside_ratio,
            tolerance: cfg.out_of_frame_fraction,
            fails_below: true,
            value: |f, _| Some(f64::from(f.quality.inside_ratio)),
        },
        Rule {
            code: ReasonCode::NotFrontal,
            measure: "head_turn_ratio",
            threshold: 1.0,
            tolerance: cfg.not_frontal_fraction,
            fails_below: false,
            value: turn_ratio,
        },
        Rule {
            code: ReasonCode::NotFrontal,
            measure: "abs_pitch_degrees",
            threshold: cfg.max_pitch_deg,
            tolerance: cfg.not_frontal_fraction,
            fails_below: false,
            value: |f, _| Some(f64::from(f.quality.pose.pitch.abs())),
        },
        Rule {
            code: ReasonCode::FaceTooDark,
            measure: "face_brightness",
            threshold: cfg.min_brightness,
            tolerance: cfg.frame_fraction,
            fails_below: true,
            value: |f, _| Some(f64::from(f.quality.brightness)),
        },
        Rule {
            code: ReasonCode::FaceTooBright,
            measure: "face_brightness",
            threshold: cfg.max_brightness,
            tolerance: cfg.frame_fraction,
            fails_below: false,
            value: |f, _| Some(f64::from(f.quality.brightness)),
        },
        Rule {
            code: ReasonCode::Backlit,
            measure: "background_minus_face_brightness",
            threshold: cfg.backlit_delta,
            tolerance: cfg.frame_fraction,
            fails_below: false,
            value: |f, _| f.quality.face_background_delta.map(|d| -f64::from(d)),
        },
        Rule {
            code: ReasonCode::FaceBlurry,
            measure: "relative_sharpness",
            threshold: cfg.min_relative_sharpness,
            tolerance: cfg.frame_fraction,
            fails_below: true,
            value: |f, _| relative_sharpness(f),
        },
        Rule {
            code: ReasonCode::FaceOccluded,
            measure: "lip_redness",
            threshold: cfg.min_lip_redness,
            tolerance: cfg.frame_fraction,
            fails_below: true,
            value: lip_redness,
        },
    ];
    let faces: Vec<(f64, &FaceObs)> = frames
        .iter()
        .filter_map(|f| f.face.as_ref().map(|o| (f.t, o)))
        .collect();
    let mut out: Vec<Reason> = Vec::new();
    for rule in &rules {
        if out.iter().any(|r| r.code == rule.code) {
            continue; // one reason per code (yaw before pitch)
        }
        if let Some(r) = apply(rule, &faces, cfg) {
            out.push(r);
        }
    }
    out
}

/// How far the head is turned, as a share of what is allowed: the larger of |yaw| over
/// `max_yaw_deg` (mesh pose) and the nose's offset from the middle of the eyes over
/// `max_nose_offset` (detector keypoints: the mesh under-reads profiles). Above 1 is not frontal.
fn turn_ratio(f: &FaceObs, cfg: &CaptureConfig) -> Option<f64> {
    let yaw = f64::from(f.quality.pose.yaw.abs()) / cfg.max_yaw_deg.max(1e-6);
    // The keypoints' few pixels of noise make the nose offset meaningless on small faces.
    let nose = f
        .nose_position
        .filter(|_| f64::from(f.quality.eye_distance_px) >= cfg.nose_offset_min_eye_distance_px)
        .map_or(0.0, |n| (n - 0.5).abs() / cfg.max_nose_offset.max(1e-6));
    Some(yaw.max(nose))
}

/// Medians of every measure over the frames with a face; `None` without any.
pub(super) fn measures(frames: &[FrameObs], cfg: &CaptureConfig) -> Option<CaptureMeasures> {
    let faces: Vec<&FaceObs> = frames.iter().filter_map(|f| f.face.as_ref()).collect();
    if faces.is_empty() {
        return None;
    }
    let median = |value: &dyn Fn(&FaceObs) -> Option<f64>| {
        let v: Vec<f64> = faces.iter().filter_map(|f| value(f)).collect();
        stats::median_or_none(&v)
    };
    let openness: Vec<f64> = faces.iter().filter_map(|f| f.openness).collect();
    Some(CaptureMeasures {
        face_area_ratio: median(&|f| Some(f64::from(f.quality.face_area_ratio))),
        inside_ratio: median(&|f| Some(f64::from(f.quality.inside_ratio))),
        sharpness: median(&|f| Some(f64::from(f.quality.sharpness))),
        relative_sharpness: median(&|f| relative_sharpness(f)),
        brightness: median(&|f| Some(f64::from(f.quality.brightness))),
        background_minus_face_brightness: median(&|f| {
            f.quality.face_background_delta.map(|d| -f64::from(d))
        }),
        abs_yaw_degrees: median(&|f| Some(f64::from(f.quality.pose.yaw.abs()))),
        abs_pitch_degrees: median(&|f| Some(f64::from(f.quality.pose.pitch.abs()))),
        head_turn_ratio: median(&|f| turn_ratio(f, cfg)),
        lower_face_colour_distance: median(&|f| lower_face_distance(f, cfg)),
        lip_redness: median(&|f| lip_redness(f, cfg)),
        eye_openness_spread: openness_spread(&openness),
    })
}

/// 95th minus 5th percentile of an openness series (blinks and squints move it; a still does not).
pub(super) fn openness_spread(openness: &[f64]) -> Option<f64> {
    (openness.len() >= 2).then(|| stats::quantile(openness, 0.95) - stats::quantile(openness, 0.05))
}

/// Laplacian variance over the squared luma contrast of the face: dimensionless, so a soft but
/// sharp low-contrast face is not taken for a blurred one.
fn relative_sharpness(f: &FaceObs) -> Option<f64> {
    let c = f64::from(f.quality.contrast);
    (c > 1.0).then(|| f64::from(f.quality.sharpness) / (c * c))
}

/// The occlusion measure of one frame: lips redder than the forehead. The forehead alone, not
/// the cheeks: a mask covers the cheeks, so against forehead + cheeks a white mask under dark
/// bangs read as skin-coloured (-0.011, a live clip missed); against the forehead it reads -0.031.
pub(super) fn lip_redness(f: &FaceObs, _: &CaptureConfig) -> Option<f64> {
    Some(super::regions::lip_redness(
        f.colours.lips?,
        f.colours.forehead?,
    ))
}

/// A second occlusion measure, reported only: lower face against forehead colour.
pub(super) fn lower_face_distance(f: &FaceObs, _: &CaptureConfig) -> Option<f64> {
    Some(colour_distance(f.colours.lower?, f.colours.forehead?))
}

fn apply(rule: &Rule, faces: &[(f64, &FaceObs)], cfg: &CaptureConfig) -> Option<Reason> {
    let measured: Vec<(f64, f64)> = faces
        .iter()
        .filter_map(|&(t, f)| (rule.value)(f, cfg).map(|v| (t, v)))
        .collect();
    if measured.is_empty() {
        return None;
    }
    let breaks = |v: f64| {
        if rule.fails_below {
            v < rule.threshold
        } else {
            v > rule.threshold
        }
    };
    let bad: Vec<(f64, f64)> = measured
        .iter()
        .copied()
        .filter(|&(_, v)| breaks(v))
        .collect();
    let share = bad.len() as f64 / measured.len() as f64;
    if share <= rule.tolerance || bad.is_empty() {
        return None;
    }
    let values: Vec<f64> = bad.iter().map(|&(_, v)| v).collect();
    let worst = bad
        .iter()
        .copied()
        .max_by(|a, b| {
            let (ka, kb) = if rule.fails_below {
                (-a.1, -b.1)
            } else {
                (a.1, b.1)
            };
            ka.total_cmp(&kb)
        })
        .map(|(t, _)| t);
    Some(reason(
        rule.code,
        Severity::Error,
        rule.measure,
        stats::median(&values),
        rule.threshold,
        worst,
    ))
}

/// Share of analysed frames with a face.
pub(super) fn face_share(frames: &[FrameObs]) -> f64 {
    let with_face = frames.iter().filter(|f| f.face.is_some()).count();
    with_face as f64 / frames.len().max(1) as f64
}

/// `no_face`, `face_lost` and `multiple_faces`: rules over the whole series, not per face.
pub(super) fn presence_reasons(
    frames: &[FrameObs],
    duration_s: f64,
    cfg: &CaptureConfig,
) -> Vec<Reason> {
    let mut out = Vec::new();
    // Shares of frames with two or more faces, per detector (the full-range one runs on fewer
    // frames but sees smaller faces); the larger share decides.
    let share_of = |count: &dyn Fn(&FrameObs) -> Option<usize>| -> (f64, Option<f64>) {
        let counted: Vec<(f64, usize)> = frames
            .iter()
            .filter_map(|f| count(f).map(|c| (f.t, c)))
            .collect();
        let multi: Vec<f64> = counted.iter().filter(|c| c.1 >= 2).map(|c| c.0).collect();
        (
            multi.len() as f64 / counted.len().max(1) as f64,
            multi.first().copied(),
        )
    };
    let short = share_of(&|f| f.faces_short);
    let full = share_of(&|f| f.faces_full);
    let (multi_share, first) = if full.0 > short.0 { full } else { short };
    if multi_share > cfg.multiple_faces_fraction {
        out.push(reason(
            ReasonCode::MultipleFaces,
            Severity::Error,
            "frames_with_several_faces_share",
            multi_share,
            cfg.multiple_faces_fraction,
            first,
        ));
    }
    let share = face_share(frames);
    if share < cfg.min_face_frames {
        // Several small faces and no main one (a crowd) is `multiple_faces`, not `no_face`.
        if out.is_empty() {
            out.push(reason(
                ReasonCode::NoFace,
                Severity::Error,
                "frames_with_face_share",
                share,
                cfg.min_face_frames,
                None,
            ));
        }
        return out;
    }
    // Longest stretch without a face, the clip's ends included.
    let times: Vec<f64> = frames
        .iter()
        .filter(|f| f.face.is_some())
        .map(|f| f.t)
        .collect();
    let Some(&first) = times.first() else {
        return out; // only when `min_face_frames` is configured to 0
    };
    let mut gap = (first, first);
    let mut edges = vec![0.0];
    edges.extend(&times);
    edges.push(duration_s.max(*times.last().unwrap_or(&0.0)));
    for w in edges.windows(2) {
        if w[1] - w[0] > gap.1 - gap.0 {
            gap = (w[0], w[1]);
        }
    }
    let longest = gap.1 - gap.0;
    if longest > cfg.max_face_gap_s {
        out.push(reason(
            ReasonCode::FaceLost,
            Severity::Error,
            "longest_gap_without_face_seconds",
            longest,
            cfg.max_face_gap_s,
            Some(gap.0),
        ));
    }
    out
}
