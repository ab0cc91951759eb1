//! Dense linear algebra for the small systems the signals solve: 3x3 affine normal equations
//! and the Newton step of a logistic regression with a handful of features. Matrices are
//! row-major `n x n` slices. (The homography's DLT uses `nalgebra`'s SVD.)

/// Solves `a x = b` for symmetric positive-definite `a` by Cholesky; `None` if `a` is not
/// numerically positive definite.
pub fn solve_spd(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    assert_eq!(a.len(), n * n, "matrix must be n x n");
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = a[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[i * n + i] = sum.sqrt();
            } else {
                l[i * n + j] = sum / l[j * n + j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
        y[i] = (b[i] - s) / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (y[i] - s) / l[i * n + i];
    }
    Some(x)
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None` if `a` is singular
/// (a pivot below `1e-12` times the largest entry).
pub fn solve(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    assert_eq!(a.len(), n * n, "matrix must be n x n");
    let mut m = a.to_vec();
    let mut x = b.to_vec();
    let scale = m.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return None;
    }
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&r, &s| m[r * n + col].abs().total_cmp(&m[s * n + col].abs()))
            .expect("non-empty range");
        if m[pivot * n + col].abs() < 1e-12 * scale {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                m.swap(col * n + k, pivot * n + k);
            }
            x.swap(col, pivot);
        }
        for row in col + 1..n {
            let f = m[row * n + col] / m[col * n + col];
            if f != 0.0 {
                for k in col..n {
                    m[row * n + k] -= f * m[col * n + k];
                }
                x[row] -= f * x[col];
            }
        }
    }
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| m[row * n + k] * x[k]).sum();
        x[row] = (x[row] - s) / m[row * n + row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solvers_reproduce_a_known_solution() {
        // a = b^T b + I is symmetric positive definite.
        let b = [2.0, -1.0, 0.5, 1.0, 3.0, -2.0, 0.0, 1.0, 4.0];
        let mut a = vec![0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                a[i * 3 + j] = (0..3).map(|k| b[k * 3 + i] * b[k * 3 + j]).sum::<f64>()
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let x_true = [1.5, -2.0, 0.25];
        let rhs: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| a[i * 3 + j] * x_true[j]).sum())
            .collect();
        for x in [solve_spd(&a, &rhs).unwrap(), solve(&a, &rhs).unwrap()] {
            for (got, want) in x.iter().zip(x_true) {
                assert!((got - want).abs() < 1e-12);
            }
        }
        assert!(solve(&[1.0, 2.0, 2.0, 4.0], &[1.0, 2.0]).is_none());
        assert!(solve_spd(&[1.0, 2.0, 2.0, 1.0], &[1.0, 2.0]).is_none());
    }
}
