//! Shared by the integration tests and the examples: loading real photos and the models.
#![allow(dead_code)]

use faceproof_vision::image::{self, DynamicImage, ImageDecoder, ImageReader, RgbImage};
use faceproof_vision::{Vision, VisionConfig};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Decodes a photo (format from its content, not its extension), applies its EXIF orientation and
/// converts it to RGB8. (The media crate owns this in the service.)
pub fn load_rgb(path: &Path) -> RgbImage {
    let reader = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut decoder = reader
        .into_decoder()
        .unwrap_or_else(|e| panic!("cannot decode {}: {e}", path.display()));
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)
        .unwrap_or_else(|e| panic!("cannot decode {}: {e}", path.display()));
    img.apply_orientation(orientation);
    img.to_rgb8()
}

/// `shared/data` (see faceproof_testkit::shared_dir).
/// The face-match threshold these tests check the embedder against: the default of
/// `engine.matching.threshold` (crates/engine/src/check/config.rs), its one owner. Vision measures
/// similarities; it does not decide (vision cannot depend on the engine to read it).
pub const MATCH_THRESHOLD: f32 = 0.60;

pub fn data_dir() -> PathBuf {
    faceproof_testkit::shared_dir().join("data")
}

/// Image files of a folder under `shared/data`, sorted.
pub fn images_in(relative: &str) -> Vec<PathBuf> {
    let dir = data_dir().join(relative);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("jpg" | "jpeg" | "png" | "webp")
            )
        })
        .collect();
    out.sort();
    out
}

/// The models, loaded once per test process. Fails (never skips) when the pack is missing.
pub fn vision() -> &'static Vision {
    static V: OnceLock<Vision> = OnceLock::new();
    V.get_or_init(|| {
        let cfg = VisionConfig::default();
        let dir = cfg.resolved_models_dir();
        Vision::load(&cfg).unwrap_or_else(|e| {
            panic!(
                "the model pack is needed at {} ({e}): run scripts/fetch-models.sh \
                 (or set FACEPROOF_HOME)",
                dir.display()
            )
        })
    })
}
