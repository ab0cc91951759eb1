//! Dense solves for the small systems the signals meet (3x3 affine and local-quadratic normal
//! equations, the logistic fit's Newton system), over `nalgebra`'s Cholesky and LU. Matrices come
//! in as row-major `n x n` slices so callers can build them in plain arrays. (The homography's DLT
//! uses `nalgebra`'s SVD directly; the logistic fit builds its design matrix in `nalgebra`.)

use nalgebra::{DMatrix, DVector};

/// A pivot below this share of the matrix's largest entry counts as zero: `nalgebra`'s LU only
/// refuses an exactly zero pivot, and a near-singular normal matrix (collinear landmarks, a flat
/// kernel) would otherwise return a huge, meaningless solution instead of `None`.
const RELATIVE_PIVOT_FLOOR: f64 = 1e-12;

/// Solves `a x = b` for symmetric positive-definite `a` by Cholesky; `None` if `a` is not
/// numerically positive definite.
pub fn solve_spd(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let (a, b) = system(a, b);
    if a.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let x = a.cholesky()?.solve(&b);
    x.iter()
        .all(|v| v.is_finite())
        .then(|| x.as_slice().to_vec())
}

/// Solves `a x = b` by LU with partial pivoting; `None` if `a` is singular (a pivot below
/// [`RELATIVE_PIVOT_FLOOR`] times the largest entry).
pub fn solve(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let (a, b) = system(a, b);
    let scale = a.amax();
    if scale == 0.0 || !scale.is_finite() {
        return None;
    }
    let lu = a.lu();
    if lu.u().diagonal().amin() < RELATIVE_PIVOT_FLOOR * scale {
        return None;
    }
    lu.solve(&b).map(|x| x.as_slice().to_vec())
}

fn system(a: &[f64], b: &[f64]) -> (DMatrix<f64>, DVector<f64>) {
    let n = b.len();
    assert_eq!(a.len(), n * n, "matrix must be n x n");
    (
        DMatrix::from_row_slice(n, n, a),
        DVector::from_column_slice(b),
    )
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

    #[test]
    fn a_nearly_singular_matrix_is_refused_not_solved() {
        // Second row is the first times 2, off by 1e-14: nalgebra's LU alone would solve it.
        let a = [1.0, 2.0, 2.0, 4.0 + 1e-14];
        assert!(solve(&a, &[1.0, 2.0]).is_none());
        // A non-symmetric system is solved in row-major order.
        let x = solve(&[0.0, 1.0, 2.0, 0.0], &[3.0, 4.0]).unwrap();
        assert_eq!(x, vec![2.0, 3.0]);
    }
}
