//! Vision: faces, landmarks, pose, embeddings and model scores from upright RGB frames.
//!
//! The input currency is [`image::RgbImage`] (upright RGB8; decoding and EXIF orientation belong to
//! the media crate). Models run on ONNX Runtime ([`Runtime`], [`Model`]); each role has a typed
//! wrapper that owns its pre- and post-processing and checks the model's input/output contract at
//! load time, so an operator's ONNX can replace a pack model by path + sha256 ([`VisionConfig`]).
//!
//! ```no_run
//! use faceproof_vision::{AnalyzeOptions, Vision, VisionConfig};
//! let vision = Vision::load(&VisionConfig::default())?;
//! let img = image::open("face.jpg").unwrap().to_rgb8();
//! let faces = vision.analyze(&img, &AnalyzeOptions { embedding: true, ..Default::default() })?;
//! # Ok::<(), faceproof_vision::VisionError>(())
//! ```
//!
//! Coordinates are image pixels, continuous (pixel `i` spans `[i, i + 1)`); "left"/"right" of a face
//! part are the subject's own (their right eye is on the image's left in an unmirrored photo).
//! `docs/vision.md` documents the contracts, signs, similarity scale and measured behaviour.

pub mod antispoof;
pub mod config;
pub mod detector;
pub mod embed;
pub mod error;
pub mod geometry;
pub mod imgops;
pub mod iris;
pub mod mesh;
pub mod minifas;
pub mod pack;
pub mod pose;
pub mod quality;
pub mod runtime;
mod vision;

/// The image crate this crate's API is expressed in (re-exported so callers use the same version).
pub use image;

pub use antispoof::AntiSpoof;
pub use config::{ChannelOrder, EmbedderKind, ModelSpec, Range, VisionConfig};
pub use detector::{Detection, Detector};
pub use embed::{Embedder, Embedding, Landmarks5};
pub use error::{Result, VisionError};
pub use geometry::{Affine, Point, Point3, Rect, Roi};
pub use iris::{EyeLandmarks, Eyes, Iris};
pub use mesh::{FaceMesh, Mesh};
pub use minifas::MiniFas;
pub use pack::Role;
pub use pose::Pose;
pub use quality::Quality;
pub use runtime::{Model, Runtime};
pub use vision::{AnalyzeOptions, Face, Match, Vision, largest};
