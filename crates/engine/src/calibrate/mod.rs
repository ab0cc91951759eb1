//! Calibration: the signals crate's fitting math ([`logistic`], [`far`], [`verification`],
//! re-exported) and [`fit`], which fits the engine's fusion models and FAR model from labelled
//! samples: what `faceproof calibrate` runs.

pub use faceproof_signals::calibrate::*;

pub mod fit;
