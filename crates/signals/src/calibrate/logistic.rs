//! The fusion model: L2-regularised logistic regression on standardised features.
//!
//! Why this model: the signals are few (about ten), their evidence adds roughly on the log-odds
//! scale, and the verdict must show each signal's share. A logistic model gives calibrated
//! probabilities when its assumptions hold, and its logit is a sum of per-feature terms
//! `weight * (value - mean) / std` plus a bias, which is exactly that share. Features are
//! standardised on the training data so the L2 penalty treats them alike and weights are
//! comparable. The fit minimises the negative log-likelihood plus `l2 / 2 * |w|^2` (the bias is
//! not penalised) by Newton's method (iteratively reweighted least squares) with step halving,
//! which converges in a handful of iterations even on separable data, where the penalty keeps the
//! weights finite.
//!
//! What it cannot do: interactions between signals (e.g. pulse matters only when the face is
//! well lit) need explicit product features; probabilities are only as calibrated as the training
//! set is representative (attack mix, capture devices), so the model must be refitted when those
//! change, and its base rate (the bias) reflects the training set's class balance, not the field's.

use super::CalibrationError;
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// Step halvings tried before a Newton step is accepted anyway.
const MAX_STEP_HALVINGS: usize = 40;

/// Tuning of [`fit_logistic`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogisticConfig {
    /// L2 penalty on the standardised weights, in units of the summed log-likelihood: 1.0 pulls
    /// about as hard as one extra observation, negligible with hundreds of samples but enough to
    /// keep separable data finite.
    pub l2: f64,
    pub max_iterations: usize,
    /// Converged when no parameter moves by more than this in a Newton step.
    pub tolerance: f64,
}

impl Default for LogisticConfig {
    fn default() -> LogisticConfig {
        LogisticConfig {
            l2: 1.0,
            max_iterations: 100,
            tolerance: 1e-9,
        }
    }
}

/// How one feature was standardised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureScale {
    pub name: String,
    pub mean: f64,
    /// Standard deviation on the training data; 1 for a constant feature (whose weight stays 0).
    pub std: f64,
}

/// A fitted model: serialise it with serde, load it, apply it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    pub features: Vec<FeatureScale>,
    /// One weight per feature, on the standardised scale.
    pub weights: Vec<f64>,
    pub bias: f64,
    pub l2: f64,
    /// Newton iterations the fit took.
    pub iterations: usize,
    pub training_samples: usize,
    /// Share of positive labels in the training data.
    pub positive_share: f64,
}

/// One feature's share of a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureContribution {
    pub name: String,
    pub value: f64,
    pub standardised: f64,
    pub weight: f64,
    /// `weight * standardised`: what this feature adds to the logit.
    pub contribution: f64,
}

/// A prediction with every feature's share: `logit = bias + sum(contribution)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub probability: f64,
    pub logit: f64,
    pub bias: f64,
    pub contributions: Vec<FeatureContribution>,
}

/// The logistic function, computed without overflow.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// Fits a model to `rows` (one feature vector per sample, in the order of `names`) and `labels`
/// (true = positive class, e.g. attack).
pub fn fit_logistic(
    names: &[&str],
    rows: &[Vec<f64>],
    labels: &[bool],
    config: &LogisticConfig,
) -> Result<LogisticModel, CalibrationError> {
    let d = names.len();
    validate(d, rows, labels, config)?;
    let n = rows.len();
    let features: Vec<FeatureScale> = (0..d)
        .map(|j| {
            let column: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            let std = crate::math::stats::std_dev(&column);
            FeatureScale {
                name: names[j].to_string(),
                mean: crate::math::stats::mean(&column),
                std: if std > 0.0 { std } else { 1.0 },
            }
        })
        .collect();
    // Standardised design with a trailing 1 for the bias.
    let p = d + 1;
    let design = DMatrix::from_fn(n, p, |i, j| {
        if j == d {
            1.0
        } else {
            (rows[i][j] - features[j].mean) / features[j].std
        }
    });
    let y = DVector::from_iterator(n, labels.iter().map(|&l| if l { 1.0 } else { 0.0 }));
    // Negative log-likelihood plus the L2 penalty on the weights (not the bias).
    let objective = |theta: &DVector<f64>| -> f64 {
        let z = &design * theta;
        let nll: f64 = z
            .iter()
            .zip(y.iter())
            .map(|(z, yi)| softplus(*z) - yi * z)
            .sum();
        nll + 0.5 * config.l2 * theta.rows(0, d).norm_squared()
    };
    let mut theta = DVector::zeros(p);
    let mut current = objective(&theta);
    let mut last_step = f64::INFINITY;
    for iteration in 1..=config.max_iterations {
        // Newton (IRLS): gradient X^T (mu - y) + l2 w, Hessian X^T S X + l2 I with S = mu (1 - mu).
        let mu = (&design * &theta).map(sigmoid);
        let mut gradient = design.tr_mul(&(&mu - &y));
        let mut weighted = design.clone();
        for (mut row, m) in weighted.row_iter_mut().zip(mu.iter()) {
            row *= m * (1.0 - m);
        }
        let mut hessian = design.tr_mul(&weighted);
        for j in 0..d {
            gradient[j] += config.l2 * theta[j];
            hessian[(j, j)] += config.l2;
        }
        // Cholesky when the Hessian is numerically positive definite, else LU.
        let step = hessian
            .clone()
            .cholesky()
            .map(|c| c.solve(&gradient))
            .or_else(|| hessian.lu().solve(&gradient))
            .filter(|s| s.iter().all(|v| v.is_finite()))
            .ok_or(CalibrationError::SingularHessian { iteration })?;
        let mut scale = 1.0;
        let mut candidate = &theta - &step;
        let mut value = objective(&candidate);
        for _ in 0..MAX_STEP_HALVINGS {
            if value <= current {
                break;
            }
            scale *= 0.5;
            candidate = &theta - scale * &step;
            value = objective(&candidate);
        }
        last_step = scale * step.amax();
        theta = candidate;
        current = value;
        if last_step < config.tolerance {
            let positives = labels.iter().filter(|&&l| l).count();
            return Ok(LogisticModel {
                features,
                weights: theta.as_slice()[..d].to_vec(),
                bias: theta[d],
                l2: config.l2,
                iterations: iteration,
                training_samples: n,
                positive_share: positives as f64 / n as f64,
            });
        }
    }
    Err(CalibrationError::NotConverged {
        iterations: config.max_iterations,
        last_step,
    })
}

fn validate(
    d: usize,
    rows: &[Vec<f64>],
    labels: &[bool],
    config: &LogisticConfig,
) -> Result<(), CalibrationError> {
    if rows.len() != labels.len() {
        return Err(CalibrationError::LabelCount {
            rows: rows.len(),
            labels: labels.len(),
        });
    }
    if rows.len() < 2 {
        return Err(CalibrationError::TooFewSamples {
            what: "logistic fit",
            got: rows.len(),
            need: 2,
        });
    }
    for (row, r) in rows.iter().enumerate() {
        if r.len() != d {
            return Err(CalibrationError::FeatureCount {
                row,
                got: r.len(),
                expected: d,
            });
        }
        if let Some(column) = r.iter().position(|v| !v.is_finite()) {
            return Err(CalibrationError::NonFinite { row, column });
        }
    }
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 || positives == labels.len() {
        return Err(CalibrationError::SingleClass {
            positives,
            negatives: labels.len() - positives,
        });
    }
    if !(config.l2.is_finite() && config.l2 >= 0.0) {
        return Err(CalibrationError::InvalidConfig {
            field: "logistic.l2",
            value: config.l2,
            expected: "finite and >= 0",
        });
    }
    Ok(())
}

impl LogisticModel {
    /// Log-odds of the positive class for one feature vector (same order as training).
    pub fn logit(&self, values: &[f64]) -> Result<f64, CalibrationError> {
        Ok(self.explain(values)?.logit)
    }

    /// Probability of the positive class.
    pub fn probability(&self, values: &[f64]) -> Result<f64, CalibrationError> {
        Ok(self.explain(values)?.probability)
    }

    /// The prediction with each feature's contribution to the logit.
    pub fn explain(&self, values: &[f64]) -> Result<Explanation, CalibrationError> {
        if values.len() != self.features.len() {
            return Err(CalibrationError::FeatureCount {
                row: 0,
                got: values.len(),
                expected: self.features.len(),
            });
        }
        if let Some(column) = values.iter().position(|v| !v.is_finite()) {
            return Err(CalibrationError::NonFinite { row: 0, column });
        }
        let contributions: Vec<FeatureContribution> = self
            .features
            .iter()
            .zip(&self.weights)
            .zip(values)
            .map(|((f, &weight), &value)| {
                let standardised = (value - f.mean) / f.std;
                FeatureContribution {
                    name: f.name.clone(),
                    value,
                    standardised,
                    weight,
                    contribution: weight * standardised,
                }
            })
            .collect();
        let logit = self.bias + contributions.iter().map(|c| c.contribution).sum::<f64>();
        Ok(Explanation {
            probability: sigmoid(logit),
            logit,
            bias: self.bias,
            contributions,
        })
    }

    /// Weights and bias on the features' original scale: `logit = bias + sum(w_j x_j)`.
    pub fn original_scale(&self) -> (Vec<f64>, f64) {
        let weights: Vec<f64> = self
            .features
            .iter()
            .zip(&self.weights)
            .map(|(f, w)| w / f.std)
            .collect();
        let bias = self.bias
            - self
                .features
                .iter()
                .zip(&weights)
                .map(|(f, w)| w * f.mean)
                .sum::<f64>();
        (weights, bias)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    /// Samples from a known model: logit = -3 + 0.6 x1 - 8 x2 + 0 x3, with x1 ~ N(5, 2),
    /// x2 ~ N(-0.2, 0.1), x3 ~ N(0, 1) (irrelevant).
    fn known_model(n: usize, rng: &mut Rng) -> (Vec<Vec<f64>>, Vec<bool>) {
        let rows: Vec<Vec<f64>> = (0..n)
            .map(|_| {
                vec![
                    5.0 + 2.0 * rng.normal(),
                    -0.2 + 0.1 * rng.normal(),
                    rng.normal(),
                ]
            })
            .collect();
        let labels = rows
            .iter()
            .map(|r| rng.unit() < sigmoid(-3.0 + 0.6 * r[0] - 8.0 * r[1]))
            .collect();
        (rows, labels)
    }

    const NAMES: [&str; 3] = ["motion", "planarity", "noise"];

    #[test]
    fn recovers_the_weights_of_a_known_model() {
        let mut rng = Rng::new(71);
        let (rows, labels) = known_model(20_000, &mut rng);
        let config = LogisticConfig {
            l2: 1e-3,
            ..LogisticConfig::default()
        };
        let model = fit_logistic(&NAMES, &rows, &labels, &config).unwrap();
        let (w, b) = model.original_scale();
        assert!((w[0] - 0.6).abs() < 0.06, "{w:?}");
        assert!((w[1] + 8.0).abs() < 0.8, "{w:?}");
        assert!(w[2].abs() < 0.06, "{w:?}");
        assert!((b + 3.0).abs() < 0.4, "{b}");
        assert!(model.iterations < 20);
    }

    #[test]
    fn the_fit_is_a_stationary_point_of_the_penalised_likelihood() {
        let mut rng = Rng::new(72);
        let (rows, labels) = known_model(500, &mut rng);
        let config = LogisticConfig {
            l2: 5.0,
            ..LogisticConfig::default()
        };
        let model = fit_logistic(&NAMES, &rows, &labels, &config).unwrap();
        let mut gradient = vec![0.0; 4];
        for (r, &y) in rows.iter().zip(&labels) {
            let e = model.explain(r).unwrap();
            let residual = e.probability - if y { 1.0 } else { 0.0 };
            for (j, c) in e.contributions.iter().enumerate() {
                gradient[j] += residual * c.standardised;
            }
            gradient[3] += residual;
        }
        for j in 0..3 {
            gradient[j] += config.l2 * model.weights[j];
        }
        assert!(gradient.iter().all(|g| g.abs() < 1e-6), "{gradient:?}");
    }

    #[test]
    fn separable_data_stays_finite_and_classifies() {
        let mut rng = Rng::new(73);
        let rows: Vec<Vec<f64>> = (0..400)
            .map(|_| vec![rng.uniform(-1.0, 1.0), rng.normal()])
            .collect();
        let labels: Vec<bool> = rows.iter().map(|r| r[0] > 0.1).collect();
        let model = fit_logistic(&["a", "b"], &rows, &labels, &LogisticConfig::default()).unwrap();
        assert!(
            model
                .weights
                .iter()
                .all(|w| w.is_finite() && w.abs() < 100.0)
        );
        let correct = rows
            .iter()
            .zip(&labels)
            .filter(|(r, l)| (model.probability(r).unwrap() > 0.5) == **l)
            .count();
        assert!(correct >= 396, "{correct}/400");
    }

    #[test]
    fn contributions_add_up_and_survive_serialisation() {
        let mut rng = Rng::new(74);
        let (rows, labels) = known_model(300, &mut rng);
        let model = fit_logistic(&NAMES, &rows, &labels, &LogisticConfig::default()).unwrap();
        let json = serde_json::to_string(&model).unwrap();
        let loaded: LogisticModel = serde_json::from_str(&json).unwrap();
        // JSON keeps the last bit of a float only approximately: compare what the model does.
        for r in &rows {
            let (a, b) = (model.logit(r).unwrap(), loaded.logit(r).unwrap());
            assert!((a - b).abs() < 1e-12);
        }
        let x = [6.0, -0.35, 0.4];
        let e = loaded.explain(&x).unwrap();
        let sum: f64 = e.bias + e.contributions.iter().map(|c| c.contribution).sum::<f64>();
        assert!((sum - e.logit).abs() < 1e-12);
        assert!((e.probability - sigmoid(e.logit)).abs() < 1e-15);
        let (w, b) = model.original_scale();
        let direct = b + w.iter().zip(&x).map(|(w, x)| w * x).sum::<f64>();
        assert!((direct - e.logit).abs() < 1e-9);
        assert_eq!(e.contributions[1].name, "planarity");
        assert!(
            (e.contributions[1].contribution
                - e.contributions[1].weight * e.contributions[1].standardised)
                .abs()
                < 1e-15
        );
    }

    #[test]
    fn refuses_data_it_cannot_fit() {
        let rows = vec![vec![1.0], vec![2.0]];
        let err =
            fit_logistic(&["x"], &rows, &[true, true], &LogisticConfig::default()).unwrap_err();
        assert_eq!(
            err,
            CalibrationError::SingleClass {
                positives: 2,
                negatives: 0
            }
        );
        let err = fit_logistic(
            &["x", "y"],
            &rows,
            &[true, false],
            &LogisticConfig::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            CalibrationError::FeatureCount {
                row: 0,
                got: 1,
                expected: 2
            }
        );
    }
}
