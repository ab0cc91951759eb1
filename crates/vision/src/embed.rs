//! Face alignment (5 points -> the 112x112 ArcFace template) and the face embedding.
//!
//! Embedder contract: input `[N, 3, 112, 112]` (N dynamic or 1) RGB of the aligned face, scaled as
//! the embedder kind wants (SFace raw 0-255, its graph normalises; MobileFaceNet `(x - 127.5) / 128`:
//! [`EmbedderKind::input_affine`]); one output `[N, D]`, the raw embedding (any D). Embeddings are
//! L2-normalised here.
//!
//! Similarity: the cosine of the two normalised embeddings, in [-1, 1]. For people it is also shown
//! on a 0-100 scale: `percent = 100 * clamp(cosine, 0, 1)` (a negative cosine, i.e. unrelated faces,
//! is 0). The mapping is linear, so a threshold converts the same way.

use crate::config::EmbedderKind;
use crate::error::{Result, VisionError};
use crate::geometry::{Affine, Point};
use crate::imgops;
use crate::mesh::{FaceMesh, idx};
use crate::runtime::Model;
use image::RgbImage;
use serde::Serialize;

/// Side of the aligned face.
pub const ALIGNED_SIZE: usize = 112;

/// The standard ArcFace 5-point template for a 112x112 face (insightface's values, pixel-index
/// coordinates): subject's right eye, left eye, nose tip, right mouth corner, left mouth corner
/// (the first eye and mouth corner are on the image's left).
pub const TEMPLATE: [Point; 5] = [
    Point::new(38.2946, 51.6963),
    Point::new(73.5318, 51.5014),
    Point::new(56.0252, 71.7366),
    Point::new(41.5493, 92.3655),
    Point::new(70.7299, 92.2041),
];

/// The five alignment points of a face in image pixels, in [`TEMPLATE`] order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Landmarks5 {
    /// Centre of the subject's right eye (image left): mean of mesh 33 and 133.
    pub right_eye: Point,
    /// Centre of the subject's left eye (image right): mean of mesh 362 and 263.
    pub left_eye: Point,
    /// Nose tip: mesh 1.
    pub nose_tip: Point,
    /// Subject's right mouth corner (image left): mesh 61.
    pub mouth_right: Point,
    /// Subject's left mouth corner (image right): mesh 291.
    pub mouth_left: Point,
}

impl Landmarks5 {
    /// The five points of a mesh.
    pub fn from_mesh(mesh: &FaceMesh) -> Landmarks5 {
        Landmarks5 {
            right_eye: mesh
                .xy(idx::RIGHT_EYE_OUTER)
                .mid(mesh.xy(idx::RIGHT_EYE_INNER)),
            left_eye: mesh
                .xy(idx::LEFT_EYE_INNER)
                .mid(mesh.xy(idx::LEFT_EYE_OUTER)),
            nose_tip: mesh.xy(idx::NOSE_TIP),
            mouth_right: mesh.xy(idx::MOUTH_RIGHT),
            mouth_left: mesh.xy(idx::MOUTH_LEFT),
        }
    }

    /// The points in template order.
    pub fn to_array(&self) -> [Point; 5] {
        [
            self.right_eye,
            self.left_eye,
            self.nose_tip,
            self.mouth_right,
            self.mouth_left,
        ]
    }

    /// The similarity transform taking these points to the template, in continuous pixel
    /// coordinates of the 112x112 crop (the template's pixel indices + 0.5).
    pub fn image_to_aligned(&self) -> Option<Affine> {
        let dst = TEMPLATE.map(|p| Point::new(p.x + 0.5, p.y + 0.5));
        Affine::similarity(&self.to_array(), &dst)
    }

    /// The aligned 112x112 face (for inspection; [`Embedder`] does this internally).
    pub fn aligned(&self, img: &RgbImage) -> Option<RgbImage> {
        let m = self.image_to_aligned()?.inverse()?;
        Some(imgops::crop(
            img,
            &m,
            ALIGNED_SIZE as u32,
            ALIGNED_SIZE as u32,
        ))
    }
}

/// An L2-normalised face embedding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Embedding(pub Vec<f32>);

impl Embedding {
    /// Normalises a raw model output (a zero vector stays zero).
    pub fn from_raw(raw: &[f32]) -> Embedding {
        let n = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
        let inv = if n > 0.0 { 1.0 / n } else { 0.0 };
        Embedding(raw.iter().map(|v| v * inv).collect())
    }

    /// Cosine similarity in [-1, 1] (the dot product of two normalised vectors).
    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| a * b)
            .sum::<f32>()
            .clamp(-1.0, 1.0)
    }
}

/// A cosine on the 0-100 scale shown to people: `100 * clamp(cosine, 0, 1)`.
pub fn percent(cosine: f32) -> f32 {
    100.0 * cosine.clamp(0.0, 1.0)
}

/// The embedding model.
#[derive(Debug)]
pub struct Embedder {
    model: Model,
    kind: EmbedderKind,
    dim: usize,
    batched: bool,
}

impl Embedder {
    /// Wraps a loaded embedding model of `kind`, checking its contract.
    pub fn new(model: Model, kind: EmbedderKind) -> Result<Embedder> {
        let (h, w) = model.image_input()?;
        if (h, w) != (ALIGNED_SIZE, ALIGNED_SIZE) {
            return Err(model.contract(format!(
                "input is {w}x{h}, expected {ALIGNED_SIZE}x{ALIGNED_SIZE} (aligned face)"
            )));
        }
        model.expect_outputs(&[0])?;
        let out = &model.outputs()[0];
        let dim = match out.shape.as_slice() {
            &[_, d] if d > 0 => d as usize,
            other => {
                return Err(model.contract(format!(
                    "output {} has shape {other:?}, expected [N, D]",
                    out.name
                )));
            }
        };
        let batched = model.inputs()[0].shape[0] < 0;
        Ok(Embedder {
            model,
            kind,
            dim,
            batched,
        })
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Which embedder this is (its threshold and FAR model are per kind).
    pub fn kind(&self) -> EmbedderKind {
        self.kind
    }

    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Embeds one face given its five points.
    pub fn embed(&self, img: &RgbImage, lm: &Landmarks5) -> Result<Embedding> {
        Ok(self
            .embed_batch(&[(img, *lm)])?
            .pop()
            .expect("one face in, one embedding out"))
    }

    /// Embeds several faces (of one or several images) in one run when the model has a dynamic
    /// batch, else one run per face.
    pub fn embed_batch(&self, faces: &[(&RgbImage, Landmarks5)]) -> Result<Vec<Embedding>> {
        let n = ALIGNED_SIZE;
        // one (image, crop -> image map) per model input
        let mut crops: Vec<(&RgbImage, Affine)> = Vec::with_capacity(faces.len());
        for (img, lm) in faces {
            let m = lm
                .image_to_aligned()
                .and_then(|m| m.inverse())
                .ok_or_else(|| {
                    VisionError::InvalidInput(format!("degenerate face landmarks {lm:?}"))
                })?;
            crops.push((img, m));
        }
        let plane = 3 * n * n;
        let chunk = if self.batched { crops.len().max(1) } else { 1 };
        let (scale, offset) = self.kind.input_affine();
        let mut vectors: Vec<Embedding> = Vec::with_capacity(crops.len());
        for group in crops.chunks(chunk) {
            let b = group.len();
            let raw = self.model.run(
                [b, 3, n, n],
                |input| {
                    for ((img, m), dst) in group.iter().zip(input.chunks_exact_mut(plane)) {
                        imgops::with_warp(img, m, n, n, |rgb| {
                            imgops::to_chw(rgb, scale, offset, dst)
                        });
                    }
                },
                |o| o[0].to_vec(),
            )?;
            if raw.len() != b * self.dim {
                return Err(VisionError::Inference {
                    role: self.model.role().name(),
                    message: format!("{} values for {b} crops of dim {}", raw.len(), self.dim),
                });
            }
            vectors.extend(raw.chunks_exact(self.dim).map(Embedding::from_raw));
        }
        Ok(vectors)
    }
}
