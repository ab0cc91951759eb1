//! What one analysed frame yields: the observation types the frame loop (`frames`) fills and
//! the evidence, capture rules and best-frame choice read, and the per-face measures taken from
//! the models' outputs (mesh points, eye openness). Plain data and small functions: no decoding,
//! no model runs.

use super::regions::FaceColours;
use crate::signals::blink::{EyeContour, eye_openness, face_openness};
use faceproof_vision::{EyeLandmarks, Quality, layout};

/// What was measured on the main face of one analysed frame.
#[derive(Debug, Clone)]
pub(super) struct FaceObs {
    /// The 468 mesh points in analysis-frame pixels.
    pub points: Vec<[f32; 2]>,
    pub quality: Quality,
    /// Mean colours of skin regions (pulse) and the lower face (occlusion).
    pub colours: FaceColours,
    /// Where the nose tip lies between the eyes along the eye line, from the detector's keypoints:
    /// 0.5 frontal, towards 0 or 1 (and beyond) as the head turns. Independent of the mesh,
    /// whose own pose under-reads profiles (a profile reads 20-30 degrees of yaw).
    pub nose_position: Option<f64>,
    /// Eye openness of the larger eye from the iris model's eyelid contour (the mesh's own lids
    /// barely move in a blink: measured 0.20 -> 0.18 on the shared selfie's closures).
    pub openness: Option<f64>,
}

/// One analysed frame.
#[derive(Debug, Clone)]
pub(super) struct FrameObs {
    pub t: f64,
    /// The largest face, if any.
    pub face: Option<FaceObs>,
    /// Faces the short-range pass saw that are large enough to be a second person, on the frames
    /// it ran.
    pub faces_short: Option<usize>,
    /// Faces the full-range pass counted, on the frames it ran.
    pub faces_full: Option<usize>,
}

/// Eye openness from the iris model's contour of one eye: its first 16 points are outer corner,
/// lower lid (7), inner corner, upper lid (7), with `upper[k]` facing `lower[k]`
/// (`faceproof_vision::iris::CONTOUR_MESH_RIGHT`).
pub(super) fn iris_openness(e: &EyeLandmarks) -> Option<f64> {
    let p = |i: usize| [e.contour[i].x, e.contour[i].y];
    eye_openness(&EyeContour {
        corners: [p(0), p(8)],
        lower: (1..8).map(p).collect(),
        upper: (9..16).map(p).collect(),
    })
    .ok()
}

/// The mesh's points in image pixels, as the signals take them.
pub(super) fn mesh_points(face: &faceproof_vision::Face) -> Vec<[f32; 2]> {
    face.mesh.points.iter().map(|p| [p.x, p.y]).collect()
}

/// Eye openness of one frame from the mesh's lids: a fallback that reacts weakly to blinks.
pub(super) fn openness(points: &[[f32; 2]]) -> Option<f64> {
    let eye = |corners: [usize; 2], upper: &[usize], lower: &[usize]| EyeContour {
        corners: [points[corners[0]], points[corners[1]]],
        upper: upper.iter().map(|&i| points[i]).collect(),
        lower: lower.iter().map(|&i| points[i]).collect(),
    };
    let left = eye(
        layout::IMAGE_LEFT_EYE_CORNERS,
        &layout::IMAGE_LEFT_UPPER_LID,
        &layout::IMAGE_LEFT_LOWER_LID,
    );
    let right = eye(
        layout::IMAGE_RIGHT_EYE_CORNERS,
        &layout::IMAGE_RIGHT_UPPER_LID,
        &layout::IMAGE_RIGHT_LOWER_LID,
    );
    face_openness(&left, &right).ok()
}
