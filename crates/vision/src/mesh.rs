//! 468-point face mesh (MediaPipe Face Mesh) on a rotated square ROI.
//!
//! Contract: input `[1, 3, S, S]` RGB `x / 255` (S = 192 in the pack), outputs `[1, 1404, ...]`
//! (468 x (x, y, z) in input pixels) and `[1, 1, ...]` (face-presence logit), in that order.

use crate::detector::{Detection, kp};
use crate::error::Result;
use crate::geometry::{Point, Point3, Roi};
use crate::imgops;
use crate::runtime::Model;
use image::RgbImage;
use serde::Serialize;

/// Number of mesh landmarks.
pub const POINTS: usize = 468;

/// Mesh landmark indices used by this crate. "Right"/"left" are the subject's (the subject's right
/// eye is on the image's left in an unmirrored photo).
pub mod idx {
    /// Nose tip.
    pub const NOSE_TIP: usize = 1;
    /// Right eye, outer corner.
    pub const RIGHT_EYE_OUTER: usize = 33;
    /// Right eye, inner corner.
    pub const RIGHT_EYE_INNER: usize = 133;
    /// Left eye, inner corner.
    pub const LEFT_EYE_INNER: usize = 362;
    /// Left eye, outer corner.
    pub const LEFT_EYE_OUTER: usize = 263;
    /// Right mouth corner.
    pub const MOUTH_RIGHT: usize = 61;
    /// Left mouth corner.
    pub const MOUTH_LEFT: usize = 291;
    /// Top of the forehead (face midline).
    pub const FOREHEAD: usize = 10;
    /// Chin (face midline).
    pub const CHIN: usize = 152;
    /// Upper lip, inner centre.
    pub const LIP_UPPER_INNER: usize = 13;
    /// Lower lip, inner centre.
    pub const LIP_LOWER_INNER: usize = 14;
}

/// A face mesh in image coordinates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceMesh {
    /// 468 landmarks (x, y in image pixels; z relative depth scaled like x and y).
    pub points: Vec<Point3>,
    /// Face-presence score in [0, 1] (sigmoid of the model's logit).
    pub presence: f32,
    /// The ROI the mesh was computed on.
    pub roi: Roi,
}

impl FaceMesh {
    /// Landmark `i` as a 2-D point.
    pub fn xy(&self, i: usize) -> Point {
        self.points[i].xy()
    }

    /// ROI for a further pass, MediaPipe-style: eye line level, bounding box of the landmarks in
    /// that frame, scaled by `scale`, square.
    pub fn refined_roi(&self, scale: f32) -> Roi {
        let r = self.xy(idx::RIGHT_EYE_OUTER);
        let l = self.xy(idx::LEFT_EYE_OUTER);
        roi_around(&self.points, (l.y - r.y).atan2(l.x - r.x), scale)
    }
}

/// ROI of the mesh from a detection: the box scaled by `scale` around its centre, square (long
/// side), rotated so that the eyes (keypoints 0 and 1) are level.
pub fn roi_from_detection(det: &Detection, scale: f32) -> Roi {
    let r = det.keypoints[kp::RIGHT_EYE];
    let l = det.keypoints[kp::LEFT_EYE];
    Roi {
        center: det.rect.center(),
        size: det.rect.w.max(det.rect.h) * scale,
        angle: (l.y - r.y).atan2(l.x - r.x),
    }
}

fn roi_around(points: &[Point3], angle: f32, scale: f32) -> Roi {
    let (sin, cos) = angle.sin_cos();
    let (mut u0, mut v0, mut u1, mut v1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in points {
        // coordinates along the rotated axes
        let u = p.x * cos + p.y * sin;
        let v = -p.x * sin + p.y * cos;
        u0 = u0.min(u);
        u1 = u1.max(u);
        v0 = v0.min(v);
        v1 = v1.max(v);
    }
    let (uc, vc) = ((u0 + u1) * 0.5, (v0 + v1) * 0.5);
    Roi {
        center: Point::new(uc * cos - vc * sin, uc * sin + vc * cos),
        size: (u1 - u0).max(v1 - v0) * scale,
        angle,
    }
}

/// The face mesh model.
#[derive(Debug)]
pub struct Mesh {
    model: Model,
    size: usize,
}

impl Mesh {
    /// Wraps a loaded mesh model, checking its contract.
    pub fn new(model: Model) -> Result<Mesh> {
        let (h, w) = model.image_input()?;
        if h != w {
            return Err(model.contract(format!("input must be square, is {w}x{h}")));
        }
        model.expect_outputs(&[POINTS * 3, 1])?;
        Ok(Mesh { model, size: h })
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Runs the mesh on `roi` of `img`.
    pub fn run(&self, img: &RgbImage, roi: &Roi) -> Result<FaceMesh> {
        let n = self.size;
        let to_img = roi.crop_to_image(n);
        let zscale = roi.size / n as f32;
        imgops::with_warp(img, &to_img, n, n, |rgb| {
            self.model.run(
                [1, 3, n, n],
                |input| imgops::to_chw(rgb, 1.0 / 255.0, 0.0, input),
                |out| {
                    let points = out[0]
                        .chunks_exact(3)
                        .take(POINTS)
                        .map(|p| {
                            let q = to_img.apply(Point::new(p[0], p[1]));
                            Point3 {
                                x: q.x,
                                y: q.y,
                                z: p[2] * zscale,
                            }
                        })
                        .collect();
                    let logit = out[1][0].clamp(-80.0, 80.0);
                    FaceMesh {
                        points,
                        presence: 1.0 / (1.0 + (-logit).exp()),
                        roi: *roi,
                    }
                },
            )
        })
    }
}
