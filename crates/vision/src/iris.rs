//! Iris and eyelid contour (MediaPipe Iris) per eye, from the face mesh.
//!
//! Contract: input `[1, 3, S, S]` RGB `x / 255` (S = 64), a square crop around one eye with the eye
//! line level; the model expects the subject's right eye (image left), so the other eye is fed
//! mirrored and its outputs are mapped back through the mirrored crop. Outputs `[1, 213]` (71 x
//! (x, y, z) eye contour and brow points) and `[1, 15]` (5 x (x, y, z): iris centre, then 4 points on
//! the iris boundary), in input pixels, in that order.

use crate::error::Result;
use crate::geometry::{Point, Point3, Roi};
use crate::imgops;
use crate::mesh::{FaceMesh, idx};
use crate::runtime::Model;
use image::RgbImage;
use serde::Serialize;

/// Contour (eyelids + brow) points per eye.
pub const CONTOUR_POINTS: usize = 71;
/// Iris points per eye.
pub const IRIS_POINTS: usize = 5;

/// The face-mesh landmarks that the first 16 contour points of the subject's **right** eye (image
/// left) correspond to: outer corner, lower lid, inner corner, upper lid (checked on the shared
/// photos by `tests/faces.rs`).
pub const CONTOUR_MESH_RIGHT: [usize; 16] = [
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173,
];
/// The same for the subject's **left** eye (image right): the mirror images of
/// [`CONTOUR_MESH_RIGHT`] in the mesh.
pub const CONTOUR_MESH_LEFT: [usize; 16] = [
    263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398,
];

/// Landmarks of one eye in image coordinates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EyeLandmarks {
    /// 71 eye contour and brow points; the first 16 outline the eye (see [`CONTOUR_MESH_RIGHT`]).
    pub contour: Vec<Point3>,
    /// Iris centre, then 4 boundary points.
    pub iris: [Point3; IRIS_POINTS],
    /// The crop the eye was measured on.
    pub roi: Roi,
}

impl EyeLandmarks {
    /// Iris centre.
    pub fn iris_center(&self) -> Point {
        self.iris[0].xy()
    }

    /// Mean distance from the iris centre to its 4 boundary points, pixels.
    pub fn iris_radius(&self) -> f32 {
        let c = self.iris_center();
        self.iris[1..].iter().map(|p| p.xy().dist(c)).sum::<f32>() / 4.0
    }
}

/// Both eyes of a face: the subject's right (image left) and left (image right).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eyes {
    /// Subject's right eye (image left).
    pub right: EyeLandmarks,
    /// Subject's left eye (image right).
    pub left: EyeLandmarks,
}

/// The iris model.
#[derive(Debug)]
pub struct Iris {
    model: Model,
    size: usize,
    roi_scale: f32,
}

impl Iris {
    /// Wraps a loaded iris model, checking its contract. `roi_scale` is the eye crop side over the
    /// eye-corner distance.
    pub fn new(model: Model, roi_scale: f32) -> Result<Iris> {
        let (h, w) = model.image_input()?;
        if h != w {
            return Err(model.contract(format!("input must be square, is {w}x{h}")));
        }
        model.expect_outputs(&[CONTOUR_POINTS * 3, IRIS_POINTS * 3])?;
        Ok(Iris {
            model,
            size: h,
            roi_scale,
        })
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Eye crops of a mesh: (right eye ROI, left eye ROI), both with the face's eye line level.
    pub fn rois(&self, mesh: &FaceMesh) -> (Roi, Roi) {
        let ro = mesh.xy(idx::RIGHT_EYE_OUTER);
        let lo = mesh.xy(idx::LEFT_EYE_OUTER);
        let angle = (lo.y - ro.y).atan2(lo.x - ro.x);
        let eye = |a: Point, b: Point| Roi {
            center: a.mid(b),
            size: a.dist(b) * self.roi_scale,
            angle,
        };
        (
            eye(ro, mesh.xy(idx::RIGHT_EYE_INNER)),
            eye(mesh.xy(idx::LEFT_EYE_INNER), lo),
        )
    }

    /// Runs the model on the eye that looks larger in the image (the one nearer the camera): half
    /// the cost of [`Iris::run`], for callers that need one eyelid per frame (blinks close both).
    /// Returns the landmarks and whether they are the subject's left eye.
    pub fn run_larger(&self, img: &RgbImage, mesh: &FaceMesh) -> Result<(EyeLandmarks, bool)> {
        let (r, l) = self.rois(mesh);
        if l.size > r.size {
            Ok((self.eye(img, &l, true)?, true))
        } else {
            Ok((self.eye(img, &r, false)?, false))
        }
    }

    /// Runs the model on both eyes.
    pub fn run(&self, img: &RgbImage, mesh: &FaceMesh) -> Result<Eyes> {
        let (r, l) = self.rois(mesh);
        Ok(Eyes {
            right: self.eye(img, &r, false)?,
            left: self.eye(img, &l, true)?,
        })
    }

    fn eye(&self, img: &RgbImage, roi: &Roi, mirrored: bool) -> Result<EyeLandmarks> {
        let n = self.size;
        let to_img = if mirrored {
            roi.mirrored_crop_to_image(n)
        } else {
            roi.crop_to_image(n)
        };
        let zscale = roi.size / n as f32;
        let map = move |p: &[f32]| {
            let q = to_img.apply(Point::new(p[0], p[1]));
            Point3 {
                x: q.x,
                y: q.y,
                z: p[2] * zscale,
            }
        };
        imgops::with_warp(img, &to_img, n, n, |rgb| {
            self.model.run(
                [1, 3, n, n],
                |input| imgops::to_chw(rgb, 1.0 / 255.0, 0.0, input),
                |out| {
                    let contour = out[0].chunks_exact(3).map(map).collect();
                    let mut iris = [Point3::default(); IRIS_POINTS];
                    for (dst, p) in iris.iter_mut().zip(out[1].chunks_exact(3)) {
                        *dst = map(p);
                    }
                    EyeLandmarks {
                        contour,
                        iris,
                        roi: *roi,
                    }
                },
            )
        })
    }
}
