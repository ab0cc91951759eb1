//! An operator's own deepfake detector (`[vision.models] deepfake`, `[vision.deepfake]`).
//!
//! No registry package ships a deepfake or generated-video detector, so the pack has none; a bank
//! that licenses or trains one plugs it in here, and the engine weighs its P(fake) beside its own
//! cues (`engine::check`, `[engine.deepfake]`).
//!
//! Contract: one input `[1, 3, S, S]` (S fixed by the model), channels in the configured order,
//! each value `(pixel / 255 - mean) / std`; the crop is the detector box enlarged `crop_scale`x
//! around its centre, cut to the image, shifted inside it and resized bilinear to S x S. One output:
//! `[1, C]` logits (C >= 2, softmax, class `fake_index` = fake) or `[1, 1]`, one logit of "fake"
//! (sigmoid).

use crate::config::DeepfakeNetConfig;
use crate::crop_classifier::{crop_resized, fill_planes, softmax_at, square_input_and_classes};
use crate::detector::Detection;
use crate::error::Result;
use crate::runtime::Model;
use image::RgbImage;

/// The operator's deepfake model.
#[derive(Debug)]
pub struct DeepfakeNet {
    model: Model,
    size: usize,
    classes: usize,
    cfg: DeepfakeNetConfig,
}

impl DeepfakeNet {
    /// Wraps a loaded model, checking its contract against the configuration.
    pub fn new(model: Model, cfg: DeepfakeNetConfig) -> Result<DeepfakeNet> {
        let (size, classes) = square_input_and_classes(&model, 1)?;
        if classes >= 2 && cfg.fake_index >= classes {
            return Err(model.contract(format!(
                "deepfake.fake_index {} is not a class of its {classes} outputs",
                cfg.fake_index
            )));
        }
        Ok(DeepfakeNet {
            model,
            size,
            classes,
            cfg,
        })
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// P(fake) of one face.
    pub fn score(&self, img: &RgbImage, det: &Detection) -> Result<f32> {
        let n = self.size;
        let resized = crop_resized(img, det, self.cfg.crop_scale, n)?;
        let order = self.cfg.channels.indices();
        let (mean, std) = (self.cfg.mean, self.cfg.std);
        let (classes, fake) = (self.classes, self.cfg.fake_index);
        self.model.run(
            [1, 3, n, n],
            |input| {
                fill_planes(input, &resized, order, |c, v| {
                    (f32::from(v) / 255.0 - mean[c]) / std[c]
                })
            },
            |out| {
                let logits = &out[0][..classes];
                if classes == 1 {
                    1.0 / (1.0 + (-logits[0]).exp())
                } else {
                    softmax_at(logits, fake)
                }
            },
        )
    }
}
