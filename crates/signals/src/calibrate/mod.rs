//! Calibration: turning raw signals and similarities into probabilities and rates that mean
//! what they say.
//!
//! - [`logistic`]: the liveness / deepfake fusion, an L2-regularised logistic regression on
//!   standardised features, fitted by Newton's method, serialisable, and explainable per feature.
//! - [`far`]: false-accept rates of a face-match threshold from measured impostor and genuine
//!   similarity scores, with the method (empirical, fitted tail, or a count bound) stated.
//! - [`verification`]: the 0-1 `verification_score` whose value keeps a published
//!   threshold-to-FAR table's meaning.

mod error;
pub mod far;
pub mod logistic;
pub mod verification;

pub use error::CalibrationError;
