//! Landmark noise from second differences over time.
//!
//! The deviation of a sample from the straight line through its two neighbours,
//! `d = x1 - (x0 (t2 - t1) + x2 (t1 - t0)) / (t2 - t0)`, is zero for any motion that is linear
//! over three frames and, for white noise of sigma per coordinate, has variance
//! `sigma^2 (1 + a^2 + b^2)` with `a, b` the interpolation weights. Taking the median over all
//! points and frames ignores the few blinks and glitches that move faster than that.

/// Median of a chi-square variable with 2 degrees of freedom (`2 ln 2`): the median of |d|^2 for
/// a 2-D Gaussian d with unit variance per coordinate.
const CHI2_2DOF_MEDIAN: f64 = 2.0 * std::f64::consts::LN_2;

/// Robust per-coordinate noise sigma of landmark positions, in the track's units, from every
/// interior frame and point. `frames` are already aligned (rigid motion removed); `None` with
/// fewer than three frames.
pub fn landmark_noise_sigma(timestamps: &[f64], frames: &[Vec<[f64; 2]>]) -> Option<f64> {
    if frames.len() < 3 {
        return None;
    }
    let mut normalised = Vec::with_capacity((frames.len() - 2) * frames[0].len());
    for i in 1..frames.len() - 1 {
        let (t0, t1, t2) = (timestamps[i - 1], timestamps[i], timestamps[i + 1]);
        let (a, b) = ((t2 - t1) / (t2 - t0), (t1 - t0) / (t2 - t0));
        let variance_gain = 1.0 + a * a + b * b;
        for p in 0..frames[i].len() {
            let mut d2 = 0.0;
            for c in 0..2 {
                let d = frames[i][p][c] - (a * frames[i - 1][p][c] + b * frames[i + 1][p][c]);
                d2 += d * d;
            }
            normalised.push(d2 / variance_gain);
        }
    }
    let median = crate::math::stats::median(&normalised);
    Some((median / CHI2_2DOF_MEDIAN).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_sigma_under_smooth_motion_and_vfr() {
        let mut rng = crate::testutil::Rng::new(8);
        let ts = crate::testutil::vfr_timestamps(&mut rng, 150, 0.025, 0.045);
        let frames: Vec<Vec<[f64; 2]>> = ts
            .iter()
            .map(|t| {
                (0..40)
                    .map(|p| {
                        let drift = 20.0 * (0.5 * t).sin() + p as f64;
                        [drift + 0.7 * rng.normal(), 3.0 * t + 0.7 * rng.normal()]
                    })
                    .collect()
            })
            .collect();
        let sigma = landmark_noise_sigma(&ts, &frames).unwrap();
        assert!((sigma - 0.7).abs() < 0.05, "sigma {sigma}");
    }
}
