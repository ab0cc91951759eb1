//! The ID photo: decode (EXIF honoured on request), scale down once, find the largest face with
//! both detectors, embed it. Real ID-card photos show small faces: a face below FPT's 40 % is a
//! warning, not a refusal (see [`DocumentConfig`]).

use super::CheckError;
use super::config::DocumentConfig;
use super::rules::reason;
use super::verdict::{Reason, ReasonCode, Severity};
use faceproof_media::{ImageOptions, Limits, Warning};
use faceproof_vision::{AnalyzeOptions, Embedding, Range, Vision, imgops, largest};

/// What the ID photo gave.
#[derive(Debug)]
pub struct Document {
    /// The embedding of its largest usable face; `None` when it has none.
    pub embedding: Option<Embedding>,
    pub reasons: Vec<Reason>,
}

impl super::Engine {
    /// The ID photo exactly as [`super::Engine::check`] reads it (decode, scale, largest usable
    /// face, embedding, reasons): `faceproof calibrate` measures its impostor and genuine
    /// similarities through this, so the calibration describes what the service computes.
    pub fn document(&self, bytes: &[u8], auto_rotate: bool) -> Result<Document, CheckError> {
        analyse(
            &self.vision,
            bytes,
            auto_rotate,
            &self.cfg.document,
            &self.limits,
        )
    }
}

pub(super) fn analyse(
    vision: &Vision,
    bytes: &[u8],
    auto_rotate: bool,
    cfg: &DocumentConfig,
    limits: &Limits,
) -> Result<Document, CheckError> {
    let decoded = faceproof_media::decode_image(bytes, &ImageOptions { auto_rotate }, limits)
        .map_err(CheckError::IdPhoto)?;
    let mut reasons = Vec::new();
    for w in &decoded.info.warnings {
        if let Warning::LowResolution {
            width,
            height,
            min_width,
            min_height,
        } = *w
        {
            reasons.push(reason(
                ReasonCode::DocumentLowResolution,
                Severity::Warning,
                "document_pixels",
                f64::from(width) * f64::from(height),
                f64::from(min_width) * f64::from(min_height),
                None,
            ));
        }
    }
    let scaled = imgops::fit_within(&decoded.image, cfg.max_long_side);
    let (img, factor) = match &scaled {
        Some((img, f)) => (img, f64::from(*f)),
        None => (&decoded.image, 1.0),
    };
    let faces = vision.analyze(
        img,
        &AnalyzeOptions {
            range: Range::Auto,
            iris: false,
            antispoof: false,
            minifas: false,
            embedding: true,
            refine_mesh: true,
        },
    )?;
    let usable = largest(&faces).filter(|f| {
        // Eye distance in the original photo's pixels.
        f64::from(f.quality.eye_distance_px) / factor >= cfg.min_eye_distance_px
    });
    let Some(face) = usable else {
        reasons.insert(
            0,
            reason(
                ReasonCode::NoFaceInDocument,
                Severity::Error,
                "document_faces",
                faces.len() as f64,
                1.0,
                None,
            ),
        );
        return Ok(Document {
            embedding: None,
            reasons,
        });
    };
    let area = f64::from(face.quality.face_area_ratio);
    if area < cfg.min_face_area_ratio {
        reasons.push(reason(
            ReasonCode::DocumentFaceTooSmall,
            Severity::Warning,
            "document_face_area_ratio",
            area,
            cfg.min_face_area_ratio,
            None,
        ));
    }
    Ok(Document {
        embedding: face.embedding.clone(),
        reasons,
    })
}
