//! How well the signals and the fused verdict work, measured from raw scores.
//!
//! - [`curves`]: ROC and DET curves, the equal error rate, and the true-accept rate at a fixed
//!   false-accept rate (face matching: TAR at FAR 1 % and 0.1 %).
//! - [`pad`]: ISO/IEC 30107-3 presentation attack detection metrics: APCER per attack species
//!   and its maximum, BPCER, ACER, and BPCER at APCER = 1 %.

pub mod curves;
pub mod pad;

use thiserror::Error;

/// Added before flooring `target * count` to an allowed number of errors, so that products that
/// should be whole numbers but land just below in floating point (0.01 * 300 =
/// 2.9999999999999996) are not rounded down a whole error.
pub(crate) const FLOOR_GUARD: f64 = 1e-9;

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MetricsError {
    #[error("no {which} scores")]
    Empty { which: &'static str },
    #[error("{which} score {index} is not finite")]
    NonFinite { which: &'static str, index: usize },
    #[error("target rate {value} is outside [0, 1]")]
    InvalidTarget { value: f64 },
}

pub(crate) fn check_scores(which: &'static str, scores: &[f64]) -> Result<(), MetricsError> {
    if scores.is_empty() {
        return Err(MetricsError::Empty { which });
    }
    match scores.iter().position(|s| !s.is_finite()) {
        Some(index) => Err(MetricsError::NonFinite { which, index }),
        None => Ok(()),
    }
}

pub(crate) fn check_target(value: f64) -> Result<(), MetricsError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(MetricsError::InvalidTarget { value })
    }
}
