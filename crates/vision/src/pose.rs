//! Head pose (yaw, pitch, roll in degrees) from the face mesh's 3-D landmarks.
//!
//! The face frame is built from the mesh: its x axis runs from the subject's right eye's outer corner
//! (33) to the left eye's outer corner (263); its y axis from the midpoint of those eye corners to the
//! midpoint of the mouth corners (61, 291), made orthogonal to x (eye and mouth corners sit at about
//! the same depth, so a face looking into the camera reads pitch ≈ 0; the forehead-chin line leans
//! back ~8° and would bias pitch); its z axis is x × y (away from the camera for a frontal face). The face's
//! forward direction `n` is −z. Camera axes: x right, y down, z away from the camera.
//!
//! Signs (for an unmirrored photo):
//! - **yaw** = `atan2(n.x, −n.z)`: positive when the subject turns to their own left, i.e. the nose
//!   points to the image's right. A horizontal flip of the image negates it.
//! - **pitch** = `asin(−n.y)`: positive when the subject looks up.
//! - **roll** = `atan2(x.y, y.y)`: the rotation about the face's own forward axis once yaw and pitch
//!   are removed (the face rotation is `Ry(−yaw) · Rx(−pitch) · Rz(roll)` in camera axes); positive
//!   when the line from the subject's right eye to their left eye goes down the image, i.e. the head
//!   tilts clockwise on screen (towards the subject's left shoulder). A horizontal flip negates it.

use crate::mesh::{FaceMesh, idx};
use serde::Serialize;

/// Head pose in degrees (signs in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Pose {
    /// Left-right turn; positive = the subject turns to their left (nose to the image's right).
    pub yaw: f32,
    /// Up-down; positive = the subject looks up.
    pub pitch: f32,
    /// In-plane tilt; positive = clockwise on screen.
    pub roll: f32,
}

type V3 = [f32; 3];

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: V3, b: V3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn scale(a: V3, s: f32) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
fn norm(a: V3) -> V3 {
    let l = dot(a, a).sqrt();
    if l > 0.0 { scale(a, 1.0 / l) } else { a }
}
fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

impl Pose {
    /// Pose of a mesh.
    pub fn from_mesh(mesh: &FaceMesh) -> Pose {
        let p = |i: usize| {
            let q = mesh.points[i];
            [q.x, q.y, q.z]
        };
        let x = norm(sub(p(idx::LEFT_EYE_OUTER), p(idx::RIGHT_EYE_OUTER)));
        let mid = |a: V3, b: V3| scale([a[0] + b[0], a[1] + b[1], a[2] + b[2]], 0.5);
        let eyes = mid(p(idx::RIGHT_EYE_OUTER), p(idx::LEFT_EYE_OUTER));
        let mouth = mid(p(idx::MOUTH_RIGHT), p(idx::MOUTH_LEFT));
        let down = sub(mouth, eyes);
        let y = norm(sub(down, scale(x, dot(down, x))));
        let z = cross(x, y);
        let n = scale(z, -1.0);
        Pose {
            yaw: n[0].atan2(-n[2]).to_degrees(),
            pitch: (-n[1]).clamp(-1.0, 1.0).asin().to_degrees(),
            roll: x[1].atan2(y[1]).to_degrees(),
        }
    }
}
