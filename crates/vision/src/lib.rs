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
//!
//! [`layout`] is the face mesh's topology (which of its 468 points are the eyes, lips, cheeks...).
//! It is the only module built without the default `models` feature, so the signals crate can
//! name mesh points without compiling the model runtime.

#[cfg(feature = "models")]
pub mod antispoof;
#[cfg(feature = "models")]
pub mod config;
#[cfg(feature = "models")]
mod crop_classifier;
#[cfg(feature = "models")]
pub mod deepfake;
#[cfg(feature = "models")]
pub mod detector;
#[cfg(feature = "models")]
pub mod embed;
#[cfg(feature = "models")]
pub mod error;
#[cfg(feature = "models")]
pub mod geometry;
#[cfg(feature = "models")]
pub mod imgops;
#[cfg(feature = "models")]
pub mod iris;
pub mod layout;
#[cfg(feature = "models")]
pub mod mesh;
#[cfg(feature = "models")]
pub mod minifas;
#[cfg(feature = "models")]
pub mod pack;
#[cfg(feature = "models")]
pub mod pose;
#[cfg(feature = "models")]
pub mod quality;
#[cfg(feature = "models")]
pub mod runtime;
#[cfg(feature = "models")]
mod vision;

/// The image crate this crate's API is expressed in (re-exported so callers use the same version).
#[cfg(feature = "models")]
pub use image;

#[cfg(feature = "models")]
pub use antispoof::AntiSpoof;
#[cfg(feature = "models")]
pub use config::{ChannelOrder, DeepfakeNetConfig, EmbedderKind, ModelSpec, Range, VisionConfig};
#[cfg(feature = "models")]
pub use deepfake::DeepfakeNet;
#[cfg(feature = "models")]
pub use detector::{Detection, Detector};
#[cfg(feature = "models")]
pub use embed::{Embedder, Embedding, Landmarks5};
#[cfg(feature = "models")]
pub use error::{Result, VisionError};
#[cfg(feature = "models")]
pub use geometry::{Affine, Point, Point3, Rect, Roi};
#[cfg(feature = "models")]
pub use iris::{EyeLandmarks, Eyes, Iris};
#[cfg(feature = "models")]
pub use mesh::{FaceMesh, Mesh};
#[cfg(feature = "models")]
pub use minifas::MiniFas;
#[cfg(feature = "models")]
pub use pack::Role;
#[cfg(feature = "models")]
pub use pose::Pose;
#[cfg(feature = "models")]
pub use quality::Quality;
#[cfg(feature = "models")]
pub use runtime::{Model, Runtime};
#[cfg(feature = "models")]
pub use vision::{AnalyzeOptions, Face, Match, Vision, largest};
