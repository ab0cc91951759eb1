//! faceproof engine: turns per-frame measurements into liveness and deepfake signals, calibrates
//! them, and measures how well they work.
//!
//! Everything here is a pure function over plain numbers (landmarks as `[f32; 2]`, timestamps in
//! seconds, mean RGB values, face crops as [`image::RgbImage`]), so the math is testable on
//! synthetic data with a known answer and does not wait for the vision layer.
//!
//! - [`signals`]: non-rigid motion (still image), planarity (photo / screen moved by hand), blinks,
//!   remote pulse, screen and print cues, landmark jitter (deepfake).
//! - [`calibrate`]: logistic fusion with per-signal contributions, false-accept-rate tables from
//!   measured score distributions, and the calibrated face-match `verification_score`.
//! - [`metrics`]: ISO/IEC 30107-3 PAD error rates, TAR at fixed FAR, ROC / DET curves, EER.
//! - [`challenge`]: server-issued colour / head-turn challenges verified in the video, and the
//!   client telemetry read as injection evidence.
//! - [`layout`]: which of the 468 face-mesh points each signal reads (for the wiring step).
//!
//! See `docs/signals.md` for what each signal can and cannot tell.

// Numeric kernels below index several arrays in lockstep (matrices, paired channels); index loops
// are clearer there than zipped iterators.
#![allow(clippy::needless_range_loop)]

pub mod calibrate;
pub mod challenge;
pub mod check;
pub mod dsp;
pub mod error;
pub mod geometry;
pub mod layout;
pub mod math;
pub mod metrics;
pub mod signals;
pub mod track;

#[cfg(test)]
pub(crate) mod testutil;

pub use check::{CheckError, CheckRequest, Engine, EngineConfig, Verdict};
pub use error::SignalError;
pub use track::{Point2, Point3};
