//! Linear-interpolation resampling of a variable-frame-rate series onto a uniform grid.
//!
//! Phones record at a variable frame rate; a spectrum needs uniform samples. Linear interpolation
//! is a mild low-pass (it attenuates content near the Nyquist frequency of the grid) which is
//! harmless for a heart rate far below it.

/// A series on a uniform time grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Uniform {
    /// Time of the first sample, seconds.
    pub start: f64,
    /// Samples per second.
    pub rate: f64,
    pub values: Vec<f64>,
}

/// Resamples `(timestamps[i], values[i])` (timestamps strictly increasing) at `rate` Hz from the
/// first to the last timestamp.
pub fn to_uniform(timestamps: &[f64], values: &[f64], rate: f64) -> Uniform {
    assert_eq!(timestamps.len(), values.len(), "one value per timestamp");
    assert!(!timestamps.is_empty() && rate > 0.0);
    let start = timestamps[0];
    let span = timestamps[timestamps.len() - 1] - start;
    let count = (span * rate).floor() as usize + 1;
    let mut out = Vec::with_capacity(count);
    let mut j = 0;
    for k in 0..count {
        let t = start + k as f64 / rate;
        while j + 2 < timestamps.len() && timestamps[j + 1] < t {
            j += 1;
        }
        let (t0, t1) = (timestamps[j], timestamps[(j + 1).min(timestamps.len() - 1)]);
        let v = if t1 > t0 {
            let f = ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
            values[j] + f * (values[(j + 1).min(values.len() - 1)] - values[j])
        } else {
            values[j]
        };
        out.push(v);
    }
    Uniform {
        start,
        rate,
        values: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_a_line_exactly_from_irregular_samples() {
        let mut rng = crate::testutil::Rng::new(9);
        let ts = crate::testutil::vfr_timestamps(&mut rng, 100, 0.02, 0.06);
        let vs: Vec<f64> = ts.iter().map(|t| 3.0 * t - 1.0).collect();
        let u = to_uniform(&ts, &vs, 30.0);
        assert_eq!(
            u.values.len(),
            ((ts[99] - ts[0]) * 30.0).floor() as usize + 1
        );
        for (k, v) in u.values.iter().enumerate() {
            let t = u.start + k as f64 / 30.0;
            assert!((v - (3.0 * t - 1.0)).abs() < 1e-9);
        }
    }
}
