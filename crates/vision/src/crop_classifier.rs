//! What the face classifiers on an enlarged box crop share (MiniFASNet, an operator's deepfake
//! detector): the contract check of a square NCHW input with one output of classes, the crop
//! (the Silent-Face family's: the box enlarged around its centre, kept inside the image) and a
//! planar NCHW fill and a stable softmax.

use crate::detector::Detection;
use crate::error::{Result, VisionError};
use crate::geometry::Rect;
use crate::runtime::Model;
use image::RgbImage;
use image::imageops::{self, FilterType};

/// Checks a square `[1, 3, S, S]` input and one `[1, C]` output with `C >= min_classes`;
/// returns `(S, C)`.
pub(crate) fn square_input_and_classes(
    model: &Model,
    min_classes: usize,
) -> Result<(usize, usize)> {
    let (h, w) = model.image_input()?;
    if h != w {
        return Err(model.contract(format!("input must be square, is {w}x{h}")));
    }
    model.expect_outputs(&[0])?;
    let classes = model.outputs()[0].shape.iter().skip(1).product::<i64>();
    if classes < min_classes as i64 {
        return Err(model.contract(format!(
            "output {:?} must be [1, C] with C >= {min_classes}",
            model.outputs()[0].shape
        )));
    }
    Ok((h, classes as usize))
}

/// A detection's box enlarged `scale`x around its centre, no larger than a `w` x `h` image,
/// moved inside it. `None` for an empty image.
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

/// Writes a resized crop into an NCHW input: plane `c` holds source channel `order[c]` of every
/// pixel, mapped by `value(c, byte)` (the model's own scaling).
pub(crate) fn fill_planes(
    input: &mut [f32],
    crop: &RgbImage,
    order: [usize; 3],
    value: impl Fn(usize, u8) -> f32,
) {
    let plane = crop.as_raw().len() / 3;
    for (i, px) in crop.as_raw().chunks_exact(3).enumerate() {
        for (c, &src) in order.iter().enumerate() {
            input[c * plane + i] = value(c, px[src]);
        }
    }
}

/// Softmax probability of index `k` (numerically stable).
pub(crate) fn softmax_at(logits: &[f32], k: usize) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|z| (z - max).exp()).sum();
    (logits[k] - max).exp() / sum
}

#[cfg(test)]
mod tests {
    use super::softmax_at;

    #[test]
    fn softmax_of_one_class() {
        assert!((softmax_at(&[0.0, 0.0, 0.0], 0) - 1.0 / 3.0).abs() < 1e-6);
        assert!(softmax_at(&[1000.0, 0.0, -5.0], 0) > 0.999);
        assert!(softmax_at(&[-1000.0, 0.0, 1.0], 0) < 1e-6);
        assert!((softmax_at(&[0.0, 2.0_f32.ln()], 1) - 2.0 / 3.0).abs() < 1e-6);
    }
}
