//! `faceproof compare A B`: face match between the largest face of each photo.
//!
//! `similarity` is `100 * clamp(cosine, 0, 1)` of the two L2-normalised embeddings (the configured
//! embedder, SFace by default); `is_match` is `cosine >= threshold`, the engine's match threshold
//! (`[engine.matching]` from `--config`: its `threshold`, else the calibration's cosine at
//! `target_far` for that embedder), the same threshold the service applies.

use super::analyze::{FaceJson, ImageJson, RangeArg, VisionArgs, load_image, vision_error};
use crate::output::Output;
use faceproof_engine::check::{Calibration, Engine};
use faceproof_vision::embed::percent;
use faceproof_vision::{AnalyzeOptions, Vision, largest};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// First photo.
    pub image_a: PathBuf,
    /// Second photo.
    pub image_b: PathBuf,
    /// Detector: `short`, `full` or `auto` (both).
    #[arg(long, value_enum, default_value_t = RangeArg::Auto)]
    pub range: RangeArg,
    /// `faceproof.toml` (its `[vision]` and `[engine.matching]` are read) [default: built-in].
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub vision: VisionArgs,
}

#[derive(Serialize)]
struct Side {
    path: PathBuf,
    image: ImageJson,
    /// Faces found in the photo; the largest one is compared.
    face_count: usize,
    face: FaceJson,
}

#[derive(Serialize)]
struct CompareJson {
    /// 0-100: `100 * clamp(cosine, 0, 1)`.
    similarity: f32,
    cosine: f32,
    is_match: bool,
    /// The cosine threshold.
    threshold: f32,
    /// The threshold on the 0-100 scale.
    threshold_similarity: f32,
    faces: [Side; 2],
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    let mut imgs = Vec::with_capacity(2);
    for p in [&args.image_a, &args.image_b] {
        match load_image(p) {
            Ok(img) => imgs.push(img),
            Err(e) => return out.error("unreadable_image", &e),
        }
    }
    let cfg = match crate::config::FileConfig::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return out.error("invalid_config", &e),
    };
    let vision = match Vision::load(&args.vision.apply(cfg.vision)) {
        Ok(v) => Arc::new(v),
        Err(e) => return vision_error(out, &e),
    };
    // The engine owns the threshold (per embedder); the models are loaded once, above.
    let engine = match Engine::new(vision, cfg.engine, cfg.limits, Calibration::default()) {
        Ok(e) => e,
        Err(e) => return out.error("invalid_config", &e.to_string()),
    };
    let vision = engine.vision();
    let threshold = engine.match_threshold() as f32;
    let opts = AnalyzeOptions {
        range: args.range.into(),
        iris: false,
        antispoof: true,
        minifas: true,
        embedding: false,
        refine_mesh: true,
    };
    let mut sides = Vec::with_capacity(2);
    let mut embeddings = Vec::with_capacity(2);
    for (path, img) in [&args.image_a, &args.image_b].into_iter().zip(&imgs) {
        let faces = match vision.analyze(img, &opts) {
            Ok(f) => f,
            Err(e) => return vision_error(out, &e),
        };
        let Some(face) = largest(&faces) else {
            return out.error("no_face", &format!("no face found in {}", path.display()));
        };
        match vision.embed(img, face) {
            Ok(e) => embeddings.push(e),
            Err(e) => return vision_error(out, &e),
        }
        sides.push(Side {
            path: path.clone(),
            image: ImageJson {
                width: img.width(),
                height: img.height(),
            },
            face_count: faces.len(),
            face: FaceJson::from(face),
        });
    }
    let m = vision.compare(&embeddings[0], &embeddings[1]);
    let round = |v: f32, k: f32| (v * k).round() / k;
    let [a, b]: [Side; 2] = match sides.try_into() {
        Ok(s) => s,
        Err(_) => return out.error("internal", "expected two sides"),
    };
    out.json(&CompareJson {
        similarity: round(m.similarity, 10.0),
        cosine: round(m.cosine, 10_000.0),
        is_match: m.cosine >= threshold,
        threshold,
        threshold_similarity: round(percent(threshold), 10.0),
        faces: [a, b],
    })
}
