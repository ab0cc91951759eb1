//! Synthetic fixtures for unit tests: a seeded random generator and a face-like 3-D point cloud
//! seen through a pinhole camera. Generated at test time; nothing here ships.

use crate::geometry::EyeAnchors;
use crate::input::Point2;

/// SplitMix64: small, seeded, and good enough for test noise.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal by Box-Muller.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Timestamps of a variable-frame-rate capture: intervals drawn uniformly in `[lo, hi]` seconds.
pub fn vfr_timestamps(rng: &mut Rng, frames: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut t = 0.0;
    (0..frames)
        .map(|_| {
            let now = t;
            t += rng.uniform(lo, hi);
            now
        })
        .collect()
}

/// A face-like surface in "face units" (inter-ocular distance = 1), x right, y down, z towards
/// the camera. Indices 0-3 are the eye corners (image-left eye outer, inner; image-right eye
/// inner, outer), 4-7 the image-left eye's upper lid, 8-11 its lower lid, 12-15 and 16-19 the
/// same for the other eye, 20-23 the mouth (corners, upper and lower lip centre); the rest fill an
/// ellipse whose last `CONTOUR` points lie on its rim.
pub struct FaceModel {
    pub points: Vec<[f64; 3]>,
}

/// How many rim points the model has (the last ones).
pub const CONTOUR: usize = 40;
pub const EYE_ANCHORS: EyeAnchors = EyeAnchors {
    image_left: [0, 1],
    image_right: [2, 3],
};
pub const LEFT_UPPER_LID: [usize; 4] = [4, 5, 6, 7];
pub const LEFT_LOWER_LID: [usize; 4] = [8, 9, 10, 11];
pub const RIGHT_UPPER_LID: [usize; 4] = [12, 13, 14, 15];
pub const RIGHT_LOWER_LID: [usize; 4] = [16, 17, 18, 19];
pub const MOUTH_LOWER_LIP: usize = 23;

/// Depth of the face surface: a nose bump on a surface curving back towards the ears.
fn depth(x: f64, y: f64) -> f64 {
    let nose = 0.35 * (-(x * x + (y - 0.1).powi(2)) / (2.0 * 0.15 * 0.15)).exp();
    nose - 0.6 * (x / 1.1).powi(2) - 0.3 * (y / 1.4).powi(2)
}

impl FaceModel {
    /// `interior` random points plus the fixed features and the rim.
    pub fn new(rng: &mut Rng, interior: usize) -> FaceModel {
        let mut xy: Vec<[f64; 2]> =
            vec![[-0.75, -0.25], [-0.25, -0.25], [0.25, -0.25], [0.75, -0.25]];
        for centre in [-0.5, 0.5] {
            // Lids open to +-0.07 around the eye line at four positions across the eye.
            for sign in [-1.0, 1.0] {
                for k in 0..4 {
                    let x = centre - 0.18 + 0.12 * k as f64;
                    let open = 0.07 * (1.0 - ((x - centre) / 0.25).powi(2)).sqrt();
                    xy.push([x, -0.25 + sign * open]);
                }
            }
        }
        xy.extend([[-0.4, 0.6], [0.4, 0.6], [0.0, 0.55], [0.0, 0.65]]);
        while xy.len() < 24 + interior {
            let (x, y) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.3, 1.3));
            if (x / 1.0).powi(2) + (y / 1.3).powi(2) < 0.9 {
                xy.push([x, y]);
            }
        }
        for k in 0..CONTOUR {
            let a = std::f64::consts::TAU * k as f64 / CONTOUR as f64;
            xy.push([1.1 * a.cos(), 1.4 * a.sin()]);
        }
        let points = xy.iter().map(|&[x, y]| [x, y, depth(x, y)]).collect();
        FaceModel { points }
    }

    /// The same face printed on paper: every point flattened onto z = 0.
    pub fn flattened(&self) -> FaceModel {
        FaceModel {
            points: self.points.iter().map(|p| [p[0], p[1], 0.0]).collect(),
        }
    }
}

/// A pinhole camera looking down -z at a face `distance` face units away.
pub struct Camera {
    pub focal_px: f64,
    pub distance: f64,
    pub centre: [f64; 2],
}

impl Camera {
    /// A phone at arm's length: a 127 px inter-ocular distance in a 720p frame.
    pub fn selfie() -> Camera {
        Camera {
            focal_px: 700.0,
            distance: 5.5,
            centre: [360.0, 640.0],
        }
    }

    /// Projects `points` after rotating them by yaw (about y), pitch (about x) and roll (about z),
    /// in radians, and shifting by `shift` (face units, z towards the camera).
    pub fn project(&self, points: &[[f64; 3]], pose: Pose) -> Vec<[f64; 2]> {
        let (sy, cy) = pose.yaw.sin_cos();
        let (sp, cp) = pose.pitch.sin_cos();
        let (sr, cr) = pose.roll.sin_cos();
        points
            .iter()
            .map(|&[x, y, z]| {
                let (x, z) = (cy * x + sy * z, -sy * x + cy * z);
                let (y, z) = (cp * y - sp * z, sp * y + cp * z);
                let (x, y) = (cr * x - sr * y, sr * x + cr * y);
                let (x, y, z) = (x + pose.shift[0], y + pose.shift[1], z + pose.shift[2]);
                let depth = self.distance - z;
                [
                    self.centre[0] + self.focal_px * x / depth,
                    self.centre[1] + self.focal_px * y / depth,
                ]
            })
            .collect()
    }
}

/// A rigid pose: angles in radians, shift in face units.
#[derive(Clone, Copy, Default)]
pub struct Pose {
    pub yaw: f64,
    pub pitch: f64,
    pub roll: f64,
    pub shift: [f64; 3],
}

/// Adds isotropic Gaussian noise of `sigma_px` and converts to the API's f32 points.
pub fn noisy(points: &[[f64; 2]], rng: &mut Rng, sigma_px: f64) -> Vec<Point2> {
    points
        .iter()
        .map(|p| {
            [
                (p[0] + sigma_px * rng.normal()) as f32,
                (p[1] + sigma_px * rng.normal()) as f32,
            ]
        })
        .collect()
}

/// Renders a landmark track: at each timestamp, `deform` may move the model's points (blinks,
/// mouth), `pose` places the head, the camera projects, and Gaussian noise of `sigma_px` is added.
pub fn render_track(
    model: &FaceModel,
    camera: &Camera,
    timestamps: &[f64],
    mut pose: impl FnMut(f64) -> Pose,
    mut deform: impl FnMut(f64, &mut [[f64; 3]]),
    sigma_px: f64,
    rng: &mut Rng,
) -> Vec<Vec<Point2>> {
    timestamps
        .iter()
        .map(|&t| {
            let mut points = model.points.clone();
            deform(t, &mut points);
            noisy(&camera.project(&points, pose(t)), rng, sigma_px)
        })
        .collect()
}

/// Closes both eyes of a [`FaceModel`] by `closure` (0 open, 1 shut): the upper lids come down
/// to meet the lower lids, which rise a little, as in a real blink.
pub fn close_eyes(points: &mut [[f64; 3]], closure: f64) {
    for (upper, lower) in [
        (LEFT_UPPER_LID, LEFT_LOWER_LID),
        (RIGHT_UPPER_LID, RIGHT_LOWER_LID),
    ] {
        for (&u, &l) in upper.iter().zip(&lower) {
            let gap = points[l][1] - points[u][1];
            points[u][1] += 0.85 * closure * gap;
            points[l][1] -= 0.15 * closure * gap;
        }
    }
}

/// A blink's closure profile: a raised cosine of `width` seconds centred on `centre`.
pub fn blink_profile(t: f64, centre: f64, width: f64) -> f64 {
    let x = (t - centre) / width;
    if x.abs() >= 0.5 {
        0.0
    } else {
        0.5 + 0.5 * (std::f64::consts::TAU * x).cos()
    }
}

/// Timestamps at a constant `fps` for `seconds`.
pub fn uniform_timestamps(seconds: f64, fps: f64) -> Vec<f64> {
    (0..(seconds * fps).round() as usize)
        .map(|i| i as f64 / fps)
        .collect()
}
