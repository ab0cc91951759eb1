//! Plane geometry over landmark sets: face size, least-squares similarity / affine / homography
//! fits, and residuals after them.

mod homography;
mod transform;

pub use homography::{Homography, fit_homography};
pub use transform::{Affine2, PlaneTransform, fit_affine, fit_similarity, rms_residual};

use crate::error::SignalError;
use serde::{Deserialize, Serialize};

/// Which landmarks are the corners of each eye: the mean of an eye's corners is its centre and the
/// distance between the centres (inter-ocular distance) is the face size every signal divides by,
/// so results do not depend on how far the face is from the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EyeAnchors {
    /// Corners of the eye on the image's left (the subject's right eye in an unmirrored frame).
    pub image_left: [usize; 2],
    /// Corners of the eye on the image's right.
    pub image_right: [usize; 2],
}

impl Default for EyeAnchors {
    /// The 468-point face mesh's eye corners (see [`crate::layout`]).
    fn default() -> EyeAnchors {
        EyeAnchors {
            image_left: crate::layout::IMAGE_LEFT_EYE_CORNERS,
            image_right: crate::layout::IMAGE_RIGHT_EYE_CORNERS,
        }
    }
}

/// Faces whose eyes are closer than this many pixels cannot be normalised meaningfully
/// (landmark noise would be a large fraction of the face size).
pub const MIN_INTER_OCULAR_PX: f64 = 4.0;

impl EyeAnchors {
    pub fn indices(&self) -> [usize; 4] {
        [
            self.image_left[0],
            self.image_left[1],
            self.image_right[0],
            self.image_right[1],
        ]
    }

    /// Distance between the two eye centres of `points`.
    pub fn inter_ocular(&self, points: &[[f64; 2]]) -> Result<f64, SignalError> {
        crate::input::check_indices(&self.indices(), points.len())?;
        let centre = |[a, b]: [usize; 2]| {
            [
                0.5 * (points[a][0] + points[b][0]),
                0.5 * (points[a][1] + points[b][1]),
            ]
        };
        let (l, r) = (centre(self.image_left), centre(self.image_right));
        let d = ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2)).sqrt();
        if d.is_finite() && d >= MIN_INTER_OCULAR_PX {
            Ok(d)
        } else {
            Err(SignalError::DegenerateFaceSize { pixels: d })
        }
    }
}

/// Euclidean distance between two points.
pub fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}
