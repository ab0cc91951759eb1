//! faceproof engine: media in, one API-neutral [`Verdict`] out.
//!
//! The engine orchestrates: it decodes the upload (media, FFmpeg), runs the models on the frames
//! (vision, ONNX Runtime), applies the capture rules, runs the signals, fuses them with the fitted
//! calibration and decides liveness, deepfake and face match ([`check`]). The pure math it runs is
//! the `faceproof-signals` crate, re-exported here under its own module names so callers reach the
//! whole engine through one crate:
//!
//! - [`signals`]: non-rigid motion (still image), planarity (photo / screen moved by hand), blinks,
//!   remote pulse, screen and print cues, landmark jitter (deepfake), far/near perspective.
//! - [`calibrate`]: logistic fusion, false-accept-rate tables, the calibrated face-match
//!   `verification_score`, and [`calibrate::fit`], which fits the engine's calibration from
//!   labelled samples (`faceproof calibrate`).
//! - [`evaluation`]: ISO/IEC 30107-3 PAD error rates, TAR at fixed FAR, ROC / DET curves, EER.
//! - [`challenge`]: server-issued colour / head-turn challenges verified in the video, and the
//!   client telemetry read as injection evidence (pure: numbers in, a result out).
//! - [`dsp`], [`geometry`], [`math`], [`input`]: the signals' kernels.
//!
//! Which face-mesh points each signal reads is the mesh's topology, `faceproof_vision::layout`.
//! See `docs/architecture.md` for the request path and `docs/signals.md` for the signals.

// Pixel and matrix kernels (regions, fusion) index several arrays in lockstep; index loops are
// clearer there than zipped iterators.
#![allow(clippy::needless_range_loop)]

pub mod calibrate;
pub mod challenge;
pub mod check;

pub use faceproof_signals::{dsp, error, evaluation, geometry, input, math, signals};

pub use check::{CheckError, CheckRequest, Engine, EngineConfig, Verdict};
pub use faceproof_signals::{Point2, Point3, SignalError};
