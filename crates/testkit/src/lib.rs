//! Test support for every faceproof crate (a dev-dependency only; the service never links it).
//!
//! - [`shared`] finds the real-face test data (`../shared` beside the repository, or `$FACEPROOF_SHARED`).
//! - [`video`] reads a real clip into upright RGB frames and writes frames back as H.264, through the
//!   ffmpeg CLI (an independent decoder from the one under test, on purpose).
//! - [`attacks`] and [`degrade`] make the synthetic cases the shared data lacks: a still frame
//!   re-encoded as video, a photo moved by hand as a rigid plane, the same shown on a screen, a print
//!   bent round a cylinder; and
//!   captures that are too small, blurred, dark, or whose face leaves the frame.
//! - [`light`] relights real frames with a screen's colour sequence (the colour challenge's cases).
//! - [`onnx`] writes tiny synthetic ONNX graphs with known outputs (the operator model slots' cases).
//!
//! Everything is generated at test time into temporary directories; nothing is committed.

pub mod attacks;
pub mod degrade;
pub mod light;
pub mod onnx;
pub mod shared;
pub mod video;
mod warp;

pub use shared::{labelled_photos, shared_dir, shared_file};
pub use video::{Clip, read_frames, write_video};
