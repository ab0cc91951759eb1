//! faceproof signals: the pure math under the verdict engine. Per-frame measurements in (landmarks
//! as `[f32; 2]`, timestamps in seconds, mean RGB values, face crops as [`image::RgbImage`]),
//! liveness and deepfake signals, calibrated probabilities and error rates out.
//!
//! Everything here is a function over plain numbers, so the math is testable on synthetic data
//! with a known answer, and builds without FFmpeg or ONNX Runtime. The orchestration (decoding,
//! models, rules, the verdict) is `faceproof-engine`, which re-exports these modules.
//!
//! - [`signals`]: non-rigid motion (still image), planarity (photo / screen moved by hand), blinks,
//!   remote pulse, screen and print cues, landmark jitter (deepfake), far/near perspective.
//! - [`calibrate`]: logistic fusion with per-signal contributions, false-accept-rate tables from
//!   measured score distributions, and the calibrated face-match `verification_score`.
//! - [`evaluation`]: ISO/IEC 30107-3 PAD error rates, TAR at fixed FAR, ROC / DET curves, EER.
//! - [`dsp`], [`geometry`], [`math`], [`input`]: the kernels the signals share.
//!
//! Which of the 468 face-mesh points each signal reads by default is the mesh's topology,
//! `faceproof_vision::layout`. See `docs/signals.md` for what each signal can and cannot tell.

// Numeric kernels below index several arrays in lockstep (matrices, paired channels); index loops
// are clearer there than zipped iterators.
#![allow(clippy::needless_range_loop)]

pub mod calibrate;
pub mod dsp;
pub mod error;
pub mod evaluation;
pub mod geometry;
pub mod input;
pub mod math;
pub mod signals;

/// The face mesh's topology: the default landmark indices of the signals.
pub(crate) use faceproof_vision::layout;

#[cfg(test)]
pub(crate) mod testutil;

pub use error::SignalError;
pub use input::{Point2, Point3};
