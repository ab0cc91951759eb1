//! False-accept rates of a face-match threshold, from measured similarity scores.
//!
//! Given impostor scores (different people) and genuine scores (same person), the false-accept
//! rate at threshold `t` is the share of impostor comparisons scoring at or above `t`. How that
//! share is estimated depends on how much data lies above `t`, and the estimate says which method
//! it used:
//!
//! - `Empirical`: at least `min_exceedances` impostor scores reach `t`; FAR = k / N.
//! - `ExponentialTail`: fewer reach it, but the impostor sample is large enough to model its upper
//!   tail. Peaks over threshold: above `u`, the `1 - tail_fraction` quantile, the excess `x - u` is
//!   fitted by an exponential (a generalised Pareto tail with shape 0, maximum likelihood scale =
//!   mean excess), so FAR(t) = P(x > u) exp(-(t - u) / scale). For bounded or Gaussian-like
//!   similarity distributions (shape < 0) this over-estimates the FAR: conservative.
//! - `CountBound`: too few impostors for either. FAR is reported as the one-sided upper
//!   confidence bound of the count; with no exceedance that is `1 - (1 - c)^(1/N)`, about 3/N at
//!   95 % (the "rule of three").
//!
//! Every estimate also carries that count-based upper bound, which is what the data alone can
//! vouch for: a fitted tail below it is a model's extrapolation, not a measurement.

use super::CalibrationError;
use crate::math::{normal, stats};
use serde::{Deserialize, Serialize};

/// Bisection steps of [`FarModel::threshold_for_far`]: enough to reach f64 resolution.
const BISECTION_STEPS: usize = 200;
/// How far above the highest impostor score the threshold search reaches, in tail scales: the
/// fitted tail's FAR there is e^-50 of its start, below any rate anyone asks for.
const SEARCH_REACH_TAIL_SCALES: f64 = 50.0;

/// Tuning of [`FarModel::fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FarConfig {
    /// Impostor scores at or above the threshold needed for the plain empirical rate: with 10
    /// events its relative standard error is about 30 %.
    pub min_exceedances: usize,
    /// Share of the impostor sample, from the top, that the tail model is fitted to.
    pub tail_fraction: f64,
    /// Scores needed in that top share to fit the tail at all.
    pub min_tail_samples: usize,
    /// One-sided confidence of the count-based upper bound.
    pub confidence: f64,
}

impl Default for FarConfig {
    fn default() -> FarConfig {
        FarConfig {
            min_exceedances: 10,
            tail_fraction: 0.1,
            min_tail_samples: 30,
            confidence: 0.95,
        }
    }
}

/// How a [`FarEstimate`] was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FarMethod {
    Empirical,
    ExponentialTail,
    CountBound,
}

/// The estimated false-accept rate at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FarEstimate {
    pub threshold: f64,
    pub far: f64,
    pub method: FarMethod,
    /// One-sided upper confidence bound from the count alone.
    pub upper_bound: f64,
    pub impostor_count: usize,
    /// Impostor scores at or above the threshold.
    pub exceedances: usize,
}

/// One row of a threshold table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FarRow {
    pub far: FarEstimate,
    /// Share of genuine scores below the threshold (false rejects); `None` without genuine data.
    pub frr: Option<f64>,
    pub genuine_count: usize,
}

/// The exponential model of the impostor tail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExponentialTail {
    /// Score above which the tail is modelled.
    pub start: f64,
    /// Share of impostor scores above `start`.
    pub exceed_share: f64,
    /// Mean excess over `start` (the exponential's scale).
    pub scale: f64,
    pub samples: usize,
}

impl ExponentialTail {
    pub fn far_at(&self, threshold: f64) -> f64 {
        self.exceed_share * (-(threshold - self.start).max(0.0) / self.scale).exp()
    }
}

/// Measured score distributions, ready to answer FAR questions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FarModel {
    impostors: Vec<f64>,
    genuine: Vec<f64>,
    pub tail: Option<ExponentialTail>,
    pub config: FarConfig,
}

impl FarModel {
    /// Takes impostor and (optionally empty) genuine similarity scores.
    pub fn fit(
        impostors: &[f64],
        genuine: &[f64],
        config: &FarConfig,
    ) -> Result<FarModel, CalibrationError> {
        if impostors.is_empty() {
            return Err(CalibrationError::TooFewSamples {
                what: "impostor scores",
                got: 0,
                need: 1,
            });
        }
        // Column 0 = impostor scores, column 1 = genuine scores.
        for (column, scores) in [impostors, genuine].into_iter().enumerate() {
            if let Some(row) = scores.iter().position(|v| !v.is_finite()) {
                return Err(CalibrationError::NonFinite { row, column });
            }
        }
        if !(config.confidence > 0.0 && config.confidence < 1.0) {
            return Err(CalibrationError::InvalidConfig {
                field: "far.confidence",
                value: config.confidence,
                expected: "in (0, 1)",
            });
        }
        let mut impostors = impostors.to_vec();
        impostors.sort_by(f64::total_cmp);
        let mut genuine = genuine.to_vec();
        genuine.sort_by(f64::total_cmp);
        let tail = fit_tail(&impostors, config);
        Ok(FarModel {
            impostors,
            genuine,
            tail,
            config: config.clone(),
        })
    }

    /// Estimated FAR of accepting every score at or above `threshold`.
    pub fn far_at(&self, threshold: f64) -> FarEstimate {
        let n = self.impostors.len();
        let k = n - self.impostors.partition_point(|&s| s < threshold);
        let upper_bound = count_upper_bound(k, n, self.config.confidence);
        let (far, method) = if k >= self.config.min_exceedances {
            (k as f64 / n as f64, FarMethod::Empirical)
        } else if let Some(tail) = &self.tail {
            (tail.far_at(threshold), FarMethod::ExponentialTail)
        } else {
            (upper_bound, FarMethod::CountBound)
        };
        FarEstimate {
            threshold,
            far,
            method,
            upper_bound,
            impostor_count: n,
            exceedances: k,
        }
    }

    /// FAR and FRR at each threshold.
    pub fn table(&self, thresholds: &[f64]) -> Vec<FarRow> {
        thresholds
            .iter()
            .map(|&t| FarRow {
                far: self.far_at(t),
                frr: (!self.genuine.is_empty()).then(|| {
                    self.genuine.partition_point(|&s| s < t) as f64 / self.genuine.len() as f64
                }),
                genuine_count: self.genuine.len(),
            })
            .collect()
    }

    /// The lowest threshold whose estimated FAR is at most `target` (bisection; FAR falls as the
    /// threshold rises).
    pub fn threshold_for_far(&self, target: f64) -> f64 {
        let lowest = self.impostors[0];
        let highest = self.impostors[self.impostors.len() - 1];
        let reach = self
            .tail
            .as_ref()
            .map_or(1.0, |t| SEARCH_REACH_TAIL_SCALES * t.scale);
        let (mut lo, mut hi) = (lowest - 1.0, highest + reach.max(1.0));
        for _ in 0..BISECTION_STEPS {
            let mid = 0.5 * (lo + hi);
            if self.far_at(mid).far <= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

fn fit_tail(sorted: &[f64], config: &FarConfig) -> Option<ExponentialTail> {
    let n = sorted.len();
    let start = stats::quantile_sorted(sorted, 1.0 - config.tail_fraction);
    let excess: Vec<f64> = sorted
        .iter()
        .filter(|&&s| s > start)
        .map(|s| s - start)
        .collect();
    if excess.len() < config.min_tail_samples.max(1) {
        return None;
    }
    let scale = stats::mean(&excess);
    (scale > 0.0).then(|| ExponentialTail {
        start,
        exceed_share: excess.len() as f64 / n as f64,
        scale,
        samples: excess.len(),
    })
}

/// One-sided upper confidence bound on a rate with `k` events in `n` trials: exact for k = 0
/// (`1 - (1 - c)^(1/n)`), Wilson's score bound otherwise.
pub fn count_upper_bound(k: usize, n: usize, confidence: f64) -> f64 {
    let n_f = n as f64;
    if k == 0 {
        return 1.0 - (1.0 - confidence).powf(1.0 / n_f);
    }
    let z = normal::quantile(confidence);
    let p = k as f64 / n_f;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n_f);
    let spread = z * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    ((centre + spread) / (1.0 + z2 / n_f)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    fn gaussian_impostors(n: usize, rng: &mut Rng) -> Vec<f64> {
        (0..n).map(|_| 0.1 * rng.normal()).collect()
    }

    #[test]
    fn empirical_rate_where_the_data_reach() {
        let mut rng = Rng::new(81);
        let model = FarModel::fit(
            &gaussian_impostors(100_000, &mut rng),
            &[],
            &FarConfig::default(),
        )
        .unwrap();
        let e = model.far_at(0.2);
        let truth = normal::sf(2.0);
        assert_eq!(e.method, FarMethod::Empirical);
        assert!((e.far / truth - 1.0).abs() < 0.06, "{} vs {truth}", e.far);
        assert!(e.upper_bound > e.far && e.upper_bound < 1.1 * e.far);
    }

    #[test]
    fn the_fitted_tail_is_conservative_beyond_gaussian_data() {
        let mut rng = Rng::new(82);
        let model = FarModel::fit(
            &gaussian_impostors(100_000, &mut rng),
            &[],
            &FarConfig::default(),
        )
        .unwrap();
        for t in [0.42, 0.5, 0.6] {
            let e = model.far_at(t);
            let truth = normal::sf(t / 0.1);
            assert_eq!(e.method, FarMethod::ExponentialTail, "at {t}");
            assert!(e.far >= truth, "at {t}: {} < {truth}", e.far);
        }
    }

    #[test]
    fn the_fitted_tail_is_right_when_the_tail_is_exponential() {
        let mut rng = Rng::new(83);
        // Impostor scores 0.1 + Exp(scale 0.05): P(x >= t) = exp(-(t - 0.1) / 0.05).
        let scores: Vec<f64> = (0..20_000)
            .map(|_| 0.1 - 0.05 * (1.0 - rng.unit()).ln())
            .collect();
        let model = FarModel::fit(&scores, &[], &FarConfig::default()).unwrap();
        let t = 0.8;
        let truth = (-(t - 0.1) / 0.05f64).exp();
        let e = model.far_at(t);
        assert_eq!((e.method, e.exceedances), (FarMethod::ExponentialTail, 0));
        assert!(
            e.far / truth > 0.5 && e.far / truth < 2.0,
            "{} vs {truth}",
            e.far
        );
        // The data alone vouch for no less than the rule of three.
        assert!((e.upper_bound - 3.0 / 20_000.0).abs() < 0.1 * 3.0 / 20_000.0);
    }

    #[test]
    fn few_impostors_give_the_rule_of_three_bound() {
        let scores: Vec<f64> = (0..20).map(|i| i as f64 * 0.01).collect();
        let model = FarModel::fit(&scores, &[0.6, 0.7, 0.3], &FarConfig::default()).unwrap();
        let row = &model.table(&[0.5])[0];
        assert_eq!(row.far.method, FarMethod::CountBound);
        let exact = 1.0 - 0.05f64.powf(1.0 / 20.0);
        assert!((row.far.far - exact).abs() < 1e-12);
        assert!(
            (row.far.far - 3.0 / 20.0).abs() < 0.015,
            "rule of three: {}",
            row.far.far
        );
        assert_eq!(row.frr, Some(1.0 / 3.0));
    }

    #[test]
    fn wilson_bound_covers_the_observed_rate_and_tightens_with_data() {
        assert!(count_upper_bound(5, 100, 0.95) > 0.05);
        assert!(count_upper_bound(50, 1000, 0.95) < count_upper_bound(5, 100, 0.95));
        assert_eq!(count_upper_bound(100, 100, 0.95), 1.0);
    }

    #[test]
    fn thresholds_for_a_target_far_are_consistent_with_the_table() {
        let mut rng = Rng::new(84);
        let model = FarModel::fit(
            &gaussian_impostors(50_000, &mut rng),
            &[],
            &FarConfig::default(),
        )
        .unwrap();
        for target in [1e-1, 1e-2, 1e-3, 1e-5] {
            let t = model.threshold_for_far(target);
            assert!(model.far_at(t).far <= target);
            assert!(
                model.far_at(t - 1e-6).far > target * 0.99,
                "target {target}"
            );
        }
        let rows = model.table(&[0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);
        assert!(rows.windows(2).all(|w| w[1].far.far <= w[0].far.far));
    }
}
