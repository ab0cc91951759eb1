//! Why a calibration could not be fitted or applied, with the numbers that made it impossible.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum CalibrationError {
    #[error("{what}: {got} samples, need at least {need}")]
    TooFewSamples {
        what: &'static str,
        got: usize,
        need: usize,
    },
    #[error("{rows} feature rows but {labels} labels")]
    LabelCount { rows: usize, labels: usize },
    #[error("row {row} has {got} features, expected {expected}")]
    FeatureCount {
        row: usize,
        got: usize,
        expected: usize,
    },
    #[error("non-finite value in row {row}, column {column}")]
    NonFinite { row: usize, column: usize },
    #[error("only one class present ({positives} positive, {negatives} negative samples)")]
    SingleClass { positives: usize, negatives: usize },
    #[error(
        "Newton's method did not converge in {iterations} iterations (last step {last_step:e})"
    )]
    NotConverged { iterations: usize, last_step: f64 },
    #[error("the Hessian is singular at iteration {iteration}")]
    SingularHessian { iteration: usize },
    #[error("config field {field} = {value} is out of range ({expected})")]
    InvalidConfig {
        field: &'static str,
        value: f64,
        expected: &'static str,
    },
}
