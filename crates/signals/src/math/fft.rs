//! Iterative radix-2 Cooley-Tukey FFT, 1-D and 2-D. The signals only need power-of-two lengths
//! (pulse spectra are zero-padded, screen crops are cut to a power-of-two square), and 256-4096
//! points, where a plain implementation is fast enough and saves a dependency.

use std::f64::consts::TAU;
use std::ops::{Add, Mul, Sub};

/// A complex number; only what the FFT and power spectra need.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

impl Complex {
    pub const ZERO: Complex = Complex { re: 0.0, im: 0.0 };

    pub fn new(re: f64, im: f64) -> Complex {
        Complex { re, im }
    }

    /// |z|^2, the power of a spectral bin.
    pub fn norm_sqr(self) -> f64 {
        self.re * self.re + self.im * self.im
    }
}

impl Add for Complex {
    type Output = Complex;
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl Sub for Complex {
    type Output = Complex;
    fn sub(self, o: Complex) -> Complex {
        Complex::new(self.re - o.re, self.im - o.im)
    }
}

impl Mul for Complex {
    type Output = Complex;
    fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

/// In-place FFT of a power-of-two length. Forward uses exp(-i...), inverse exp(+i...) and
/// divides by n, so `inverse(forward(x)) == x`.
///
/// # Panics
/// If the length is not a power of two.
pub fn fft(data: &mut [Complex], inverse: bool) {
    let n = data.len();
    assert!(n.is_power_of_two(), "FFT length {n} is not a power of two");
    if n <= 1 {
        return;
    }
    // Bit-reversal permutation.
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if j > i {
            data.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let angle = sign * TAU / len as f64;
        let w_len = Complex::new(angle.cos(), angle.sin());
        for start in (0..n).step_by(len) {
            let mut w = Complex::new(1.0, 0.0);
            for k in 0..len / 2 {
                let a = data[start + k];
                let b = data[start + k + len / 2] * w;
                data[start + k] = a + b;
                data[start + k + len / 2] = a - b;
                w = w * w_len;
            }
        }
        len <<= 1;
    }
    if inverse {
        let scale = 1.0 / n as f64;
        for z in data.iter_mut() {
            z.re *= scale;
            z.im *= scale;
        }
    }
}

/// In-place 2-D FFT of a row-major `width x height` grid (both powers of two): rows, then columns.
pub fn fft2d(data: &mut [Complex], width: usize, height: usize, inverse: bool) {
    assert_eq!(data.len(), width * height, "grid size mismatch");
    for row in data.chunks_mut(width) {
        fft(row, inverse);
    }
    let mut column = vec![Complex::ZERO; height];
    for x in 0..width {
        for y in 0..height {
            column[y] = data[y * width + x];
        }
        fft(&mut column, inverse);
        for y in 0..height {
            data[y * width + x] = column[y];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
