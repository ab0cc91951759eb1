//! Shared by the integration tests and the examples: loading real photos and the models.
#![allow(dead_code)]

use faceproof_vision::image::{self, DynamicImage, ImageDecoder, ImageReader, RgbImage};
use faceproof_vision::{AnalyzeOptions, EmbedderKind, Vision, VisionConfig, largest};
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

/// The models with MobileFaceNet as the embedder (the selectable alternative), loaded once.
pub fn mobilefacenet_vision() -> &'static Vision {
    static V: OnceLock<Vision> = OnceLock::new();
    V.get_or_init(|| {
        let cfg = VisionConfig {
            embedder: EmbedderKind::Mobilefacenet,
            ..VisionConfig::default()
        };
        Vision::load(&cfg).unwrap_or_else(|e| panic!("the model pack is needed ({e})"))
    })
}

/// `folder/file` of a photo, for messages.
pub fn name(p: &Path) -> String {
    let parent = p.parent().and_then(|d| d.file_name()).unwrap();
    format!(
        "{}/{}",
        parent.to_string_lossy(),
        p.file_name().unwrap().to_string_lossy()
    )
}

/// (identity, photo) for every labelled photo (see faceproof_testkit::labelled_photos).
pub fn labelled() -> Vec<(String, PathBuf)> {
    faceproof_testkit::labelled_photos()
}

/// Cosines of every pair of labelled photos, with a `a ~ b` label each.
pub struct PairCosines {
    pub genuine: Vec<(f32, String)>,
    pub impostor: Vec<(f32, String)>,
}

impl PairCosines {
    pub fn lowest_genuine(&self) -> f32 {
        self.genuine.iter().map(|p| p.0).fold(f32::MAX, f32::min)
    }

    pub fn highest_impostor(&self) -> f32 {
        self.impostor.iter().map(|p| p.0).fold(f32::MIN, f32::max)
    }
}

/// Every pair of labelled photos (largest face each) embedded with `v`'s embedder.
pub fn pair_cosines(v: &Vision) -> PairCosines {
    let opts = AnalyzeOptions::ALIGN_ONLY;
    let mut embs = Vec::new();
    for (who, p) in labelled() {
        let img = load_rgb(&p);
        let faces = v.analyze(&img, &opts).unwrap();
        let face = largest(&faces).unwrap_or_else(|| panic!("no face in {}", name(&p)));
        embs.push((who, name(&p), v.embed(&img, face).unwrap()));
    }
    let mut out = PairCosines {
        genuine: Vec::new(),
        impostor: Vec::new(),
    };
    for i in 0..embs.len() {
        for j in i + 1..embs.len() {
            let c = embs[i].2.cosine(&embs[j].2);
            let label = format!("{} ~ {}", embs[i].1, embs[j].1);
            if embs[i].0 == embs[j].0 {
                out.genuine.push((c, label));
            } else {
                out.impostor.push((c, label));
            }
        }
    }
    out
}
