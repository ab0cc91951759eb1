//! Local quadratic regression (Gaussian-weighted, on real timestamps) for separating smooth
//! motion from frame-to-frame jitter.
//!
//! A moving average would flatten the curvature of a turning head and report it as jitter; a
//! local quadratic follows constant acceleration exactly, so what remains is mostly the
//! high-frequency part. Each output is a fixed linear combination of nearby samples, which makes
//! the share of white noise that survives computable (see [`LocalFit::noise_gain`]).

/// Samples farther than this many kernel widths from the centre get no weight.
const KERNEL_SUPPORT_SIGMAS: f64 = 3.0;

/// The weights that estimate the smooth value at one sample from its neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFit {
    /// Index of the first neighbour the weights apply to.
    pub first: usize,
    /// One weight per neighbour, `first..first + weights.len()`; they sum to 1.
    pub weights: Vec<f64>,
    /// Index (into the whole series) of the sample being estimated.
    pub centre: usize,
}

impl LocalFit {
    /// The smoothed value at `centre` for the series `values`.
    pub fn apply(&self, values: &[f64]) -> f64 {
        self.weights
            .iter()
            .enumerate()
            .map(|(k, w)| w * values[self.first + k])
            .sum()
    }

    /// Standard deviation of `value[centre] - smoothed` per unit of white noise:
    /// `sqrt((1 - w_c)^2 + sum_{k != c} w_k^2)`. Dividing a measured residual by it gives an
    /// unbiased noise estimate whatever the frame rate or kernel width.
    pub fn noise_gain(&self) -> f64 {
        let c = self.centre - self.first;
        self.weights
            .iter()
            .enumerate()
            .map(|(k, &w)| if k == c { (1.0 - w).powi(2) } else { w * w })
            .sum::<f64>()
            .sqrt()
    }
}

/// Local quadratic fit weights at every sample of `timestamps` with a Gaussian kernel of
/// `bandwidth_s`. Where fewer than three neighbours fall in the support (or they are degenerate),
/// the fit falls back to a weighted mean.
pub fn local_quadratic(timestamps: &[f64], bandwidth_s: f64) -> Vec<LocalFit> {
    let reach = KERNEL_SUPPORT_SIGMAS * bandwidth_s;
    let n = timestamps.len();
    let mut first = 0;
    let mut last = 0;
    (0..n)
        .map(|c| {
            let tc = timestamps[c];
            while timestamps[first] < tc - reach {
                first += 1;
            }
            while last + 1 < n && timestamps[last + 1] <= tc + reach {
                last += 1;
            }
            let kernel: Vec<f64> = (first..=last)
                .map(|j| (-0.5 * ((timestamps[j] - tc) / bandwidth_s).powi(2)).exp())
                .collect();
            let weights = quadratic_weights(&timestamps[first..=last], tc, bandwidth_s, &kernel)
                .unwrap_or_else(|| {
                    let total: f64 = kernel.iter().sum();
                    kernel.iter().map(|k| k / total).collect()
                });
            LocalFit {
                first,
                weights,
                centre: c,
            }
        })
        .collect()
}

/// Weights `e0^T (X^T K X)^-1 X^T K` of the weighted quadratic regression evaluated at `tc`, with
/// the design `[1, u, u^2]`, `u = (t - tc) / scale` (scaled for conditioning).
fn quadratic_weights(ts: &[f64], tc: f64, scale: f64, kernel: &[f64]) -> Option<Vec<f64>> {
    if ts.len() < 3 {
        return None;
    }
    let mut xtkx = [0.0; 9];
    for (t, k) in ts.iter().zip(kernel) {
        let u = (t - tc) / scale;
        let row = [1.0, u, u * u];
        for i in 0..3 {
            for j in 0..3 {
                xtkx[i * 3 + j] += k * row[i] * row[j];
            }
        }
    }
    // First row of the inverse = solution of (X^T K X) a = e0 (the matrix is symmetric).
    let a = crate::math::linalg::solve(&xtkx, &[1.0, 0.0, 0.0])?;
    Some(
        ts.iter()
            .zip(kernel)
            .map(|(t, k)| {
                let u = (t - tc) / scale;
                k * (a[0] + a[1] * u + a[2] * u * u)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_parabola_exactly_on_irregular_timestamps() {
        let mut rng = crate::testutil::Rng::new(2);
        let ts = crate::testutil::vfr_timestamps(&mut rng, 120, 0.02, 0.05);
        let xs: Vec<f64> = ts.iter().map(|t| 4.0 - 3.0 * t + 7.0 * t * t).collect();
        for fit in local_quadratic(&ts, 0.1) {
            assert!((fit.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert!((fit.apply(&xs) - xs[fit.centre]).abs() < 1e-8);
        }
    }

    #[test]
    fn noise_gain_predicts_the_residual_of_white_noise() {
        let mut rng = crate::testutil::Rng::new(4);
        let ts: Vec<f64> = (0..4000).map(|i| i as f64 / 30.0).collect();
        let xs: Vec<f64> = ts.iter().map(|_| rng.normal()).collect();
        let fits = local_quadratic(&ts, 0.1);
        let normalised: Vec<f64> = fits
            .iter()
            .map(|f| (xs[f.centre] - f.apply(&xs)) / f.noise_gain())
            .collect();
        let var = normalised.iter().map(|v| v * v).sum::<f64>() / normalised.len() as f64;
        assert!((var - 1.0).abs() < 0.06, "variance {var}");
    }
}
