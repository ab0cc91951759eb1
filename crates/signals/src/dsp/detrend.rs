//! Smoothness-priors detrending (Tarvainen et al. 2002): the trend is the series that balances
//! fidelity against its second differences, `(I + lambda^2 D2^T D2) trend = x`, and the output is
//! `x - trend`. It is a high-pass filter with no phase shift whose cutoff follows from lambda, and
//! removes slow illumination drift and auto-exposure ramps before a pulse is looked for. It leaves
//! a quadratic trend's interior exactly (its fourth difference is zero); near the ends, where the
//! filter is one-sided, a curved trend leaks for about `sqrt(lambda)` samples.

/// The lambda whose detrending halves the amplitude (-6 dB) at `cutoff_hz` for a series sampled
/// at `rate_hz`. The amplitude response is `L / (1 + L)` with
/// `L = (lambda * 4 sin^2(pi f / rate))^2`, which is 1/2 where `lambda * 4 sin^2(...) = 1`.
pub fn lambda_for_cutoff(cutoff_hz: f64, rate_hz: f64) -> f64 {
    let s = (std::f64::consts::PI * cutoff_hz / rate_hz).sin();
    1.0 / (4.0 * s * s)
}

/// `x` minus its smoothness-priors trend. The system is symmetric, positive definite and
/// pentadiagonal, solved by a banded Cholesky factorisation in O(n).
pub fn detrend(x: &[f64], lambda: f64) -> Vec<f64> {
    let n = x.len();
    if n < 3 {
        let m = x.iter().sum::<f64>() / n.max(1) as f64;
        return x.iter().map(|v| v - m).collect();
    }
    // Band storage: band[i][k] = A[i][i - k] for k = 0..=2.
    let l2 = lambda * lambda;
    let mut band = vec![[0.0f64; 3]; n];
    // D2 has rows (1, -2, 1) at columns (r, r+1, r+2), r = 0..n-2; accumulate D2^T D2.
    for r in 0..n - 2 {
        let cols = [r, r + 1, r + 2];
        let coef = [1.0, -2.0, 1.0];
        for a in 0..3 {
            for b in 0..=a {
                band[cols[a]][a - b] += l2 * coef[a] * coef[b];
            }
        }
    }
    for row in band.iter_mut() {
        row[0] += 1.0;
    }
    // In-place banded Cholesky: A = L L^T with L lower triangular of bandwidth 2.
    for i in 0..n {
        for k in (1..=2).rev() {
            if k > i {
                continue;
            }
            let j = i - k;
            let mut sum = band[i][k];
            for m in 1..=2 {
                if k + m <= 2 && m <= j {
                    sum -= band[i][k + m] * band[j][m];
                }
            }
            band[i][k] = sum / band[j][0];
        }
        let mut d = band[i][0];
        for k in 1..=2.min(i) {
            d -= band[i][k] * band[i][k];
        }
        band[i][0] = d.sqrt();
    }
    let mut y = x.to_vec();
    for i in 0..n {
        for k in 1..=2.min(i) {
            y[i] -= band[i][k] * y[i - k];
        }
        y[i] /= band[i][0];
    }
    for i in (0..n).rev() {
        for k in 1..=2 {
            if i + k < n {
                y[i] -= band[i + k][k] * y[i + k];
            }
        }
        y[i] /= band[i][0];
    }
    x.iter().zip(&y).map(|(v, trend)| v - trend).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    #[test]
    fn removes_a_slow_drift_and_keeps_a_pulse_band_sine() {
        let rate = 30.0;
        let lambda = lambda_for_cutoff(0.3, rate);
        let n = 300;
        let pulse: Vec<f64> = (0..n)
            .map(|i| (TAU * 1.2 * i as f64 / rate).sin())
            .collect();
        let drifted: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64 / rate;
                pulse[i] + 5.0 + 2.0 * t - 0.2 * t * t
            })
            .collect();
        let out = detrend(&drifted, lambda);
        // Away from the ends (where any trend filter is one-sided) the pulse comes back unchanged.
        for i in 30..n - 30 {
            assert!((out[i] - pulse[i]).abs() < 0.06, "sample {i}: {}", out[i]);
        }
    }

    #[test]
    fn the_cutoff_formula_halves_the_amplitude_at_the_cutoff() {
        let rate = 30.0;
        let cutoff = 0.5;
        let lambda = lambda_for_cutoff(cutoff, rate);
        let n = 3000;
        let amplitude_after = |f: f64| {
            let x: Vec<f64> = (0..n).map(|i| (TAU * f * i as f64 / rate).sin()).collect();
            let y = detrend(&x, lambda);
            let mid = &y[n / 4..3 * n / 4];
            (2.0 * mid.iter().map(|v| v * v).sum::<f64>() / mid.len() as f64).sqrt()
        };
        let gain = amplitude_after(cutoff);
        assert!((gain - 0.5).abs() < 0.02, "amplitude gain {gain}");
        assert!(amplitude_after(0.1) < 0.05);
        assert!(amplitude_after(2.0) > 0.98);
    }
}
