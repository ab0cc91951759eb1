//! Passive anti-spoofing (FaceAntiSpoofing, a Deep Tree Network with 8 leaves).
//!
//! Contract: input `[1, 3, S, S]` RGB `x / 255` (S = 256): the square crop around the detector box
//! (side = long side of the box x `crop_scale`, black outside the image), resized with a bilinear
//! filter. Outputs `[1, L]` leaf scores and `[1, L]` leaf mask (1 at the leaf the crop was routed
//! to), in that order. Score = `sum(|leaf| * mask)`: higher = more likely a spoof.
//!
//! The score is noisy (it flips between ~0.01 and ~0.99 with small crop changes, see
//! `../shared/docs/models.md`): one signal among several, never the decision.

use crate::detector::Detection;
use crate::error::Result;
use crate::geometry::{Affine, Point};
use crate::imgops;
use crate::runtime::Model;
use image::RgbImage;

/// The anti-spoofing model.
#[derive(Debug)]
pub struct AntiSpoof {
    model: Model,
    size: usize,
    leaves: usize,
    crop_scale: f32,
}

impl AntiSpoof {
    /// Wraps a loaded anti-spoofing model, checking its contract.
    pub fn new(model: Model, crop_scale: f32) -> Result<AntiSpoof> {
        let (h, w) = model.image_input()?;
        if h != w {
            return Err(model.contract(format!("input must be square, is {w}x{h}")));
        }
        model.expect_outputs(&[0, 0])?;
        let leaves = model.outputs()[0].shape.iter().skip(1).product::<i64>();
        if leaves <= 0 || model.outputs()[1].shape.iter().skip(1).product::<i64>() != leaves {
            return Err(model.contract(format!(
                "outputs {:?} and {:?} must both be [1, L]",
                model.outputs()[0].shape,
                model.outputs()[1].shape
            )));
        }
        Ok(AntiSpoof {
            model,
            size: h,
            leaves: leaves as usize,
            crop_scale,
        })
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The crop (model input pixel -> image pixel) for a detection.
    pub fn crop_for(&self, det: &Detection) -> Affine {
        let c = det.rect.center();
        let side = det.rect.w.max(det.rect.h) * self.crop_scale;
        let s = side / self.size as f32;
        let origin = Point::new(c.x - side * 0.5, c.y - side * 0.5);
        Affine {
            a: s,
            b: 0.0,
            c: origin.x,
            d: 0.0,
            e: s,
            f: origin.y,
        }
    }

    /// Spoof score of one face (higher = more likely a spoof).
    pub fn score(&self, img: &RgbImage, det: &Detection) -> Result<f32> {
        let n = self.size;
        let m = self.crop_for(det);
        let leaves = self.leaves;
        imgops::with_warp(img, &m, n, n, |rgb| {
            self.model.run(
                [1, 3, n, n],
                |input| imgops::to_chw(rgb, 1.0 / 255.0, 0.0, input),
                |out| {
                    out[0][..leaves]
                        .iter()
                        .zip(&out[1][..leaves])
                        .map(|(s, m)| s.abs() * m)
                        .sum()
                },
            )
        })
    }
}
