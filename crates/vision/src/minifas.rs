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
use crate::crop_classifier::{
    crop_resized, enlarged_inside, fill_planes, softmax_at, square_input_and_classes,
};
use crate::detector::Detection;
use crate::error::Result;
use crate::geometry::Rect;
use crate::runtime::Model;
use image::RgbImage;

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
        let (size, classes) = square_input_and_classes(&model, 2)?;
        Ok(MiniFas {
            model,
            size,
            classes,
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
            |input| fill_planes(input, &resized, order, |_, v| f32::from(v)),
            |out| softmax_at(&out[0][..classes], 0),
        )
    }
}
