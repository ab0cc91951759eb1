//! Plane-to-plane projective map fitted by the normalised direct linear transform (Hartley):
//! both point sets are shifted to their centroid and scaled to a mean distance of sqrt(2), the
//! 2N x 9 DLT system is solved in the least-squares sense (smallest eigenvector of A^T A), and the
//! normalisation is undone. Without the normalisation the system is badly conditioned for pixel
//! coordinates in the hundreds.
//!
//! It minimises the algebraic error, not the geometric one; for the near-affine maps between video
//! frames the two minimisers differ by far less than landmark noise.

use super::transform::PlaneTransform;
use crate::math::linalg;

/// Row-major 3x3 projective map, normalised so that `m[2][2] = 1` when possible.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography {
    pub m: [[f64; 3]; 3],
}

impl PlaneTransform for Homography {
    fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let m = &self.m;
        let w = m[2][0] * p[0] + m[2][1] * p[1] + m[2][2];
        [
            (m[0][0] * p[0] + m[0][1] * p[1] + m[0][2]) / w,
            (m[1][0] * p[0] + m[1][1] * p[1] + m[1][2]) / w,
        ]
    }
}

/// Isotropic normalisation: returns (centre, scale) so that `(p - centre) * scale` has mean
/// distance sqrt(2) from the origin.
fn normaliser(points: &[[f64; 2]]) -> Option<([f64; 2], f64)> {
    let n = points.len() as f64;
    let cx = points.iter().map(|p| p[0]).sum::<f64>() / n;
    let cy = points.iter().map(|p| p[1]).sum::<f64>() / n;
    let mean_dist = points
        .iter()
        .map(|p| ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt())
        .sum::<f64>()
        / n;
    (mean_dist > 0.0 && mean_dist.is_finite())
        .then(|| ([cx, cy], std::f64::consts::SQRT_2 / mean_dist))
}

/// Least-squares homography taking `src` to `dst` (at least 4 points, not all collinear);
/// `None` when the configuration does not determine one.
pub fn fit_homography(src: &[[f64; 2]], dst: &[[f64; 2]]) -> Option<Homography> {
    if src.len() != dst.len() || src.len() < 4 {
        return None;
    }
    let (cs, ss) = normaliser(src)?;
    let (cd, sd) = normaliser(dst)?;
    let mut ata = [0.0; 81];
    for (s, d) in src.iter().zip(dst) {
        let (x, y) = ((s[0] - cs[0]) * ss, (s[1] - cs[1]) * ss);
        let (u, v) = ((d[0] - cd[0]) * sd, (d[1] - cd[1]) * sd);
        // Each correspondence gives two rows of A h = 0 with h the stacked rows of H.
        let rows = [
            [-x, -y, -1.0, 0.0, 0.0, 0.0, u * x, u * y, u],
            [0.0, 0.0, 0.0, -x, -y, -1.0, v * x, v * y, v],
        ];
        for r in &rows {
            for i in 0..9 {
                for j in 0..9 {
                    ata[i * 9 + j] += r[i] * r[j];
                }
            }
        }
    }
    let (values, vectors) = linalg::symmetric_eigen(&ata, 9);
    // A unique solution needs a one-dimensional null space: the second-smallest eigenvalue must
    // stand clear of the smallest.
    if values[1].is_nan() || values[1] <= 1e-12 * values[8] {
        return None;
    }
    let h = &vectors[0];
    let hn = [[h[0], h[1], h[2]], [h[3], h[4], h[5]], [h[6], h[7], h[8]]];
    // Undo the normalisation: H = Td^-1 Hn Ts.
    let ts = [
        [ss, 0.0, -ss * cs[0]],
        [0.0, ss, -ss * cs[1]],
        [0.0, 0.0, 1.0],
    ];
    let td_inv = [
        [1.0 / sd, 0.0, cd[0]],
        [0.0, 1.0 / sd, cd[1]],
        [0.0, 0.0, 1.0],
    ];
    let m = multiply(&td_inv, &multiply(&hn, &ts));
    let scale = if m[2][2].abs() > 1e-12 { m[2][2] } else { 1.0 };
    let m = m.map(|row| row.map(|v| v / scale));
    m.iter()
        .flatten()
        .all(|v| v.is_finite())
        .then_some(Homography { m })
}

fn multiply(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            out[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{fit_affine, rms_residual};

    #[test]
    fn recovers_an_exact_perspective_map_that_an_affine_cannot_explain() {
        let mut rng = crate::testutil::Rng::new(5);
        let src: Vec<[f64; 2]> = (0..60)
            .map(|_| [rng.uniform(100.0, 400.0), rng.uniform(200.0, 600.0)])
            .collect();
        let truth = Homography {
            m: [[0.9, 0.1, 30.0], [-0.05, 1.1, -20.0], [4e-4, -2e-4, 1.0]],
        };
        let dst: Vec<_> = src.iter().map(|&p| truth.apply(p)).collect();
        let fit = fit_homography(&src, &dst).unwrap();
        for (a, b) in fit.m.iter().flatten().zip(truth.m.iter().flatten()) {
            assert!((a - b).abs() < 1e-8 * b.abs().max(1e-3), "{a} vs {b}");
        }
        assert!(rms_residual(&fit, &src, &dst) < 1e-7);
        let affine = fit_affine(&src, &dst).unwrap();
        assert!(rms_residual(&affine, &src, &dst) > 1.0);
    }

    #[test]
    fn refuses_collinear_points() {
        let line: Vec<[f64; 2]> = (0..10).map(|i| [i as f64, 3.0 * i as f64 + 1.0]).collect();
        assert!(fit_homography(&line, &line).is_none());
    }
}
