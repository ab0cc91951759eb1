//! FFT, 1-D and 2-D, over `rustfft` (any length, SIMD kernels, plans cached per call site's
//! length). The signals transform 256-4096 points (pulse spectra, zero-padded) and 64-256 pixel
//! squares (screen crops); this module keeps their interface: in place, forward or inverse, with
//! the inverse scaled by 1/n so that `inverse(forward(x)) == x`.

use rustfft::FftPlanner;

/// A complex number (`rustfft`'s `num_complex::Complex<f64>`: `re`, `im`, `norm_sqr`, arithmetic).
pub type Complex = rustfft::num_complex::Complex<f64>;

fn transform(data: &mut [Complex], len: usize, inverse: bool) {
    let mut planner = FftPlanner::new();
    let plan = if inverse {
        planner.plan_fft_inverse(len)
    } else {
        planner.plan_fft_forward(len)
    };
    // `process` transforms every consecutive chunk of `len`.
    plan.process(data);
    if inverse {
        let scale = 1.0 / len as f64;
        for z in data.iter_mut() {
            *z *= scale;
        }
    }
}

/// In-place FFT of any length. Forward uses exp(-i...), inverse exp(+i...) and divides by n, so
/// `inverse(forward(x)) == x`.
pub fn fft(data: &mut [Complex], inverse: bool) {
    if data.len() > 1 {
        transform(data, data.len(), inverse);
    }
}

/// In-place 2-D FFT of a row-major `width x height` grid: rows, then columns (through a
/// transposed copy, so each pass is one batched call).
pub fn fft2d(data: &mut [Complex], width: usize, height: usize, inverse: bool) {
    assert_eq!(data.len(), width * height, "grid size mismatch");
    if width > 1 {
        transform(data, width, inverse);
    }
    if height > 1 {
        let mut columns = vec![Complex::ZERO; width * height];
        for y in 0..height {
            for x in 0..width {
                columns[x * height + y] = data[y * width + x];
            }
        }
        transform(&mut columns, height, inverse);
        for x in 0..width {
            for y in 0..height {
                data[y * width + x] = columns[x * height + y];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    fn naive_dft(x: &[Complex]) -> Vec<Complex> {
        let n = x.len();
        (0..n)
            .map(|k| {
                x.iter().enumerate().fold(Complex::ZERO, |acc, (t, &v)| {
                    let a = -TAU * (k * t) as f64 / n as f64;
                    acc + v * Complex::new(a.cos(), a.sin())
                })
            })
            .collect()
    }

    #[test]
    fn matches_the_direct_dft_and_inverts() {
        let mut rng = crate::testutil::Rng::new(3);
        let x: Vec<Complex> = (0..64)
            .map(|_| Complex::new(rng.normal(), rng.normal()))
            .collect();
        let mut y = x.clone();
        fft(&mut y, false);
        for (a, b) in y.iter().zip(naive_dft(&x)) {
            assert!((*a - b).norm_sqr().sqrt() < 1e-10);
        }
        fft(&mut y, true);
        for (a, b) in y.iter().zip(&x) {
            assert!((*a - *b).norm_sqr().sqrt() < 1e-12);
        }
    }

    #[test]
    fn any_length_matches_the_direct_dft() {
        let mut rng = crate::testutil::Rng::new(4);
        for n in [1usize, 3, 60, 97] {
            let x: Vec<Complex> = (0..n)
                .map(|_| Complex::new(rng.normal(), rng.normal()))
                .collect();
            let mut y = x.clone();
            fft(&mut y, false);
            for (a, b) in y.iter().zip(naive_dft(&x)) {
                assert!((*a - b).norm_sqr().sqrt() < 1e-9, "n = {n}");
            }
        }
    }

    #[test]
    fn a_2d_plane_wave_lands_in_one_bin() {
        let (w, h) = (32, 16);
        let (u, v) = (5usize, 3usize);
        let mut grid: Vec<Complex> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64, (i / w) as f64);
                let phase = TAU * (u as f64 * x / w as f64 + v as f64 * y / h as f64);
                Complex::new(phase.cos(), phase.sin())
            })
            .collect();
        fft2d(&mut grid, w, h, false);
        for (i, z) in grid.iter().enumerate() {
            let expected = if i == v * w + u { (w * h) as f64 } else { 0.0 };
            assert!((z.norm_sqr().sqrt() - expected).abs() < 1e-8, "bin {i}");
        }
    }
}
