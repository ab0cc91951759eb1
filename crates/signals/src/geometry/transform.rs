//! Least-squares similarity and affine fits between two landmark sets.
//!
//! Both map `src` onto `dst` minimising the summed squared distance: the similarity in closed form
//! (centred cross-covariance, as in Procrustes analysis), the affine by its 3x3 normal equations.

use crate::math::linalg;

/// A map of the plane onto itself.
pub trait PlaneTransform {
    fn apply(&self, p: [f64; 2]) -> [f64; 2];
}

/// `x' = a x + b y + c`, `y' = d x + e y + f`, stored as two rows `[a, b, c]`, `[d, e, f]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine2 {
    pub rows: [[f64; 3]; 2],
}

impl PlaneTransform for Affine2 {
    fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let [r0, r1] = self.rows;
        [
            r0[0] * p[0] + r0[1] * p[1] + r0[2],
            r1[0] * p[0] + r1[1] * p[1] + r1[2],
        ]
    }
}

fn centroid(points: &[[f64; 2]]) -> [f64; 2] {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
    [sx / n, sy / n]
}

/// Best rotation + uniform scale + translation taking `src` to `dst`; `None` when `src` has no
/// spread (all points coincide) or the slices differ in length.
pub fn fit_similarity(src: &[[f64; 2]], dst: &[[f64; 2]]) -> Option<Affine2> {
    if src.len() != dst.len() || src.len() < 2 {
        return None;
    }
    let (cs, cd) = (centroid(src), centroid(dst));
    // With z = x + iy, the least-squares scale-rotation is sum(conj(s) d) / sum(|s|^2).
    let (mut re, mut im, mut norm) = (0.0, 0.0, 0.0);
    for (s, d) in src.iter().zip(dst) {
        let (sx, sy) = (s[0] - cs[0], s[1] - cs[1]);
        let (dx, dy) = (d[0] - cd[0], d[1] - cd[1]);
        re += sx * dx + sy * dy;
        im += sx * dy - sy * dx;
        norm += sx * sx + sy * sy;
    }
    if norm <= f64::EPSILON * (cs[0].abs() + cs[1].abs() + 1.0) {
        return None;
    }
    let (a, b) = (re / norm, im / norm);
    Some(Affine2 {
        rows: [
            [a, -b, cd[0] - (a * cs[0] - b * cs[1])],
            [b, a, cd[1] - (b * cs[0] + a * cs[1])],
        ],
    })
}

/// Best affine map taking `src` to `dst`; `None` when `src` is collinear (the normal equations
/// are singular) or the slices differ in length.
pub fn fit_affine(src: &[[f64; 2]], dst: &[[f64; 2]]) -> Option<Affine2> {
    if src.len() != dst.len() || src.len() < 3 {
        return None;
    }
    // Centre for conditioning; the normal matrix of [x, y, 1] is shared by both output rows.
    let (cs, cd) = (centroid(src), centroid(dst));
    let mut ata = [0.0; 9];
    let (mut atx, mut aty) = ([0.0; 3], [0.0; 3]);
    for (s, d) in src.iter().zip(dst) {
        let row = [s[0] - cs[0], s[1] - cs[1], 1.0];
        let (dx, dy) = (d[0] - cd[0], d[1] - cd[1]);
        for i in 0..3 {
            for j in 0..3 {
                ata[i * 3 + j] += row[i] * row[j];
            }
            atx[i] += row[i] * dx;
            aty[i] += row[i] * dy;
        }
    }
    let px = linalg::solve(&ata, &atx)?;
    let py = linalg::solve(&ata, &aty)?;
    Some(Affine2 {
        rows: [
            [px[0], px[1], px[2] + cd[0] - px[0] * cs[0] - px[1] * cs[1]],
            [py[0], py[1], py[2] + cd[1] - py[0] * cs[0] - py[1] * cs[1]],
        ],
    })
}

/// Root mean square distance between `t(src[i])` and `dst[i]`.
pub fn rms_residual(t: &(impl PlaneTransform + ?Sized), src: &[[f64; 2]], dst: &[[f64; 2]]) -> f64 {
    let sum: f64 = src
        .iter()
        .zip(dst)
        .map(|(s, d)| {
            let m = t.apply(*s);
            (m[0] - d[0]).powi(2) + (m[1] - d[1]).powi(2)
        })
        .sum();
    (sum / src.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud() -> Vec<[f64; 2]> {
        let mut rng = crate::testutil::Rng::new(11);
        (0..50)
            .map(|_| [rng.uniform(-50.0, 50.0), rng.uniform(-60.0, 60.0)])
            .collect()
    }

    #[test]
    fn similarity_fit_recovers_rotation_scale_shift() {
        let src = cloud();
        let (angle, scale): (f64, f64) = (0.3, 1.7);
        let truth = Affine2 {
            rows: [
                [scale * angle.cos(), -scale * angle.sin(), 12.0],
                [scale * angle.sin(), scale * angle.cos(), -7.0],
            ],
        };
        let dst: Vec<_> = src.iter().map(|&p| truth.apply(p)).collect();
        let fit = fit_similarity(&src, &dst).unwrap();
        for (r, t) in fit.rows.iter().flatten().zip(truth.rows.iter().flatten()) {
            assert!((r - t).abs() < 1e-9);
        }
        assert!(rms_residual(&fit, &src, &dst) < 1e-9);
    }

    #[test]
    fn affine_fit_recovers_shear_that_a_similarity_cannot() {
        let src = cloud();
        let truth = Affine2 {
            rows: [[1.1, 0.4, 3.0], [-0.2, 0.8, 100.0]],
        };
        let dst: Vec<_> = src.iter().map(|&p| truth.apply(p)).collect();
        let fit = fit_affine(&src, &dst).unwrap();
        assert!(rms_residual(&fit, &src, &dst) < 1e-9);
        let sim = fit_similarity(&src, &dst).unwrap();
        assert!(rms_residual(&sim, &src, &dst) > 1.0);
        let collinear: Vec<[f64; 2]> = (0..10).map(|i| [i as f64, 2.0 * i as f64]).collect();
        assert!(fit_affine(&collinear, &collinear).is_none());
    }
}
