//! Passive anti-spoofing, MiniFASNet-style (the second PAD model; `minifasnet.onnx`).
//!
//! Contract: input `[1, 3, S, S]` (S = 128), raw 0-255 in the configured channel order (BGR by
//! default, settled by measurement: docs/vision.md); one output `[1, C]` of logits (C = 3), softmax
//! index 0 = real. The crop is the detector box enlarged `crop_scale`x (2.7) around its centre, cut
//! to the image's size and shifted to lie inside it, resized bilinear to S x S.
//!
//! Score: P(real) in [0, 1], higher = more likely a live face (the opposite sign of
//! [`crate::AntiSpoof`]'s score).

use crate::config::ChannelOrder;
use crate::detector::Detection;
use crate::error::{Result, VisionError};
use crate::geometry::Rect;
use crate::runtime::Model;
use image::RgbImage;
use image::imageops::{self, FilterType};

/// The MiniFASNet-style model.
#[derive(Debug)]
pub struct MiniFas {
    model: Model,
    size: usize,
    classes: usize,
    crop_scale: f32,
    channels: ChannelOrder,
}

impl MiniFas {
    /// Wraps a loaded model, checking its contract.
    pub fn new(model: Model, crop_scale: f32, channels: ChannelOrder) -> Result<MiniFas> {
        let (h, w) = model.image_input()?;
        if h != w {
            return Err(model.contract(format!("input must be square, is {w}x{h}")));
        }
        model.expect_outputs(&[0])?;
        let classes = model.outputs()[0].shape.iter().skip(1).product::<i64>();
        if classes < 2 {
            return Err(model.contract(format!(
                "output {:?} must be [1, C] with C >= 2 classes",
                model.outputs()[0].shape
            )));
        }
        Ok(MiniFas {
            model,
            size: h,
            classes: classes as usize,
            crop_scale,
            channels,
        })
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The crop of a detection in an image of `w` x `h`: the box enlarged around its centre, no
    /// larger than the image, moved inside it. `None` for an empty image.
    pub fn crop_rect(&self, det: &Detection, w: u32, h: u32) -> Option<Rect> {
        enlarged_inside(det, self.crop_scale, w, h)
    }

    /// P(real) of one face.
    pub fn score(&self, img: &RgbImage, det: &Detection) -> Result<f32> {
        let n = self.size;
        let resized = crop_resized(img, det, self.crop_scale, n)?;
        let order = self.channels.indices();
        let classes = self.classes;
        self.model.run(
            [1, 3, n, n],
            |input| {
                let plane = n * n;
                for (i, px) in resized.as_raw().chunks_exact(3).enumerate() {
                    for (c, &src) in order.iter().enumerate() {
                        input[c * plane + i] = f32::from(px[src]);
                    }
                }
            },
            |out| softmax_first(&out[0][..classes]),
        )
    }
}

/// Softmax probability of index 0 (numerically stable).
fn softmax_first(logits: &[f32]) -> f32 {
    softmax_at(logits, 0)
}

/// Softmax probability of index `k` (numerically stable).
pub(crate) fn softmax_at(logits: &[f32], k: usize) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|z| (z - max).exp()).sum();
    (logits[k] - max).exp() / sum
}

/// A detection's box enlarged `scale`x around its centre, no larger than a `w` x `h` image,
/// moved inside it (the Silent-Face crop; the deepfake slot uses it too). `None` for an empty
/// image.
pub(crate) fn enlarged_inside(det: &Detection, scale: f32, w: u32, h: u32) -> Option<Rect> {
    if w == 0 || h == 0 {
        return None;
    }
    let (iw, ih) = (w as f32, h as f32);
    let c = det.rect.center();
    let bw = (det.rect.w * scale).clamp(1.0, iw);
    let bh = (det.rect.h * scale).clamp(1.0, ih);
    let x = (c.x - bw * 0.5).clamp(0.0, iw - bw);
    let y = (c.y - bh * 0.5).clamp(0.0, ih - bh);
    Some(Rect { x, y, w: bw, h: bh })
}

/// That crop of `img`, resized bilinear to `n` x `n`.
pub(crate) fn crop_resized(
    img: &RgbImage,
    det: &Detection,
    scale: f32,
    n: usize,
) -> Result<RgbImage> {
    let r = enlarged_inside(det, scale, img.width(), img.height())
        .ok_or_else(|| VisionError::InvalidInput("empty image".into()))?;
    let (x, y) = (r.x.round() as u32, r.y.round() as u32);
    let cw = (r.w.round() as u32).clamp(1, img.width() - x);
    let ch = (r.h.round() as u32).clamp(1, img.height() - y);
    let crop = imageops::crop_imm(img, x, y, cw, ch).to_image();
    Ok(imageops::resize(
        &crop,
        n as u32,
        n as u32,
        FilterType::Triangle,
    ))
}

#[cfg(test)]
mod tests {
    use super::softmax_first;

    #[test]
    fn softmax_of_the_first_class() {
        assert!((softmax_first(&[0.0, 0.0, 0.0]) - 1.0 / 3.0).abs() < 1e-6);
        assert!(softmax_first(&[1000.0, 0.0, -5.0]) > 0.999);
        assert!(softmax_first(&[-1000.0, 0.0, 1.0]) < 1e-6);
    }
}
