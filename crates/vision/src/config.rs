//! `VisionConfig`: the `[vision]` section of the service configuration. Every threshold the crate uses
//! lives here with its default and its meaning; nothing is hard-coded elsewhere.

use crate::error::{Result, VisionError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Configuration of the vision crate (models, runtime, thresholds).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct VisionConfig {
    /// Intra-op threads (>= 1) of the anti-spoofing model, the only pack model that gets faster with
    /// more threads (~70 ms on 1 thread, ~39 ms on 2: `faceproof bench models`). Concurrent calls to
    /// the same model are serialised (see [`crate::Model`]).
    pub threads: usize,
    /// Intra-op threads (>= 1) of the detectors, mesh, iris and embedder: small models that run as
    /// fast or faster on one thread; parallelism for them comes from analysing frames concurrently.
    pub small_model_threads: usize,
    /// Sessions (>= 1) of each per-frame model (both detectors, mesh, iris): that many calls of one
    /// model run at once, so a check's two frame threads (`engine.sampling.frame_threads`) or two
    /// concurrent checks do not queue on one session. Each extra session holds another copy of the
    /// model's weights (~4 MB for the four together).
    pub frame_model_sessions: usize,
    /// Let ONNX Runtime's worker threads busy-wait between operators (its own default). Faster for
    /// a lone request on an idle machine; off by default because on a small shared host the
    /// spinning threads take CPU from concurrent requests.
    pub spin_threads: bool,
    /// Folder of the model pack. `None`: `$FACEPROOF_HOME/models`, where `FACEPROOF_HOME` defaults
    /// to `~/.cache/faceproof`.
    pub models_dir: Option<PathBuf>,
    /// The ONNX Runtime shared library (loaded with `dlopen`). `None`: `<models_dir>/libonnxruntime.so`.
    pub runtime_library: Option<PathBuf>,
    /// Per-role replacements of the pack's models (an operator's own ONNX, path + sha256).
    pub models: ModelOverrides,
    /// Face detection.
    pub detector: DetectorConfig,
    /// 468-point face mesh.
    pub mesh: MeshConfig,
    /// Iris and eyelid contour.
    pub iris: IrisConfig,
    /// The face embedder: `"sface"` (default) or `"mobilefacenet"`. The match threshold and the FAR
    /// model are per embedder (the engine's calibration); switching embedders switches both.
    pub embedder: EmbedderKind,
    /// Passive anti-spoofing (presentation attack detection) model.
    pub antispoof: AntiSpoofConfig,
    /// The second passive anti-spoofing model (MiniFASNet-style, P(real)).
    pub minifas: MiniFasConfig,
    /// An operator's deepfake detector's input and output (used only when
    /// `models.deepfake` is set).
    pub deepfake: DeepfakeNetConfig,
    /// Per-face quality measurements.
    pub quality: QualityConfig,
}

impl Default for VisionConfig {
    fn default() -> Self {
        Self {
            threads: 2,
            small_model_threads: 1,
            frame_model_sessions: 2,
            spin_threads: false,
            models_dir: None,
            runtime_library: None,
            models: ModelOverrides::default(),
            detector: DetectorConfig::default(),
            mesh: MeshConfig::default(),
            iris: IrisConfig::default(),
            embedder: EmbedderKind::default(),
            antispoof: AntiSpoofConfig::default(),
            minifas: MiniFasConfig::default(),
            deepfake: DeepfakeNetConfig::default(),
            quality: QualityConfig::default(),
        }
    }
}

impl VisionConfig {
    /// The model folder this configuration resolves to.
    pub fn resolved_models_dir(&self) -> PathBuf {
        self.models_dir
            .clone()
            .unwrap_or_else(|| faceproof_home().join("models"))
    }

    /// The ONNX Runtime library this configuration resolves to.
    pub fn resolved_runtime_library(&self) -> PathBuf {
        self.runtime_library
            .clone()
            .unwrap_or_else(|| self.resolved_models_dir().join(crate::pack::RUNTIME_FILE))
    }

    /// Checks ranges; called by [`crate::Vision::load`].
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(VisionError::Config(what));
        if self.threads == 0 || self.small_model_threads == 0 || self.frame_model_sessions == 0 {
            return bad(
                "threads, small_model_threads and frame_model_sessions must be >= 1".into(),
            );
        }
        for (name, d) in [
            ("detector.short", &self.detector.short),
            ("detector.full", &self.detector.full),
        ] {
            if !(0.0..1.0).contains(&d.min_score) {
                return bad(format!("{name}.min_score {} not in [0, 1)", d.min_score));
            }
            if !(0.0..=d.min_score).contains(&d.candidate_min_score) {
                return bad(format!(
                    "{name}.candidate_min_score {} not in [0, min_score]",
                    d.candidate_min_score
                ));
            }
            if !(0.0..=1.0).contains(&d.nms_iou) {
                return bad(format!("{name}.nms_iou {} not in [0, 1]", d.nms_iou));
            }
        }
        if !(0.0..=1.0).contains(&self.detector.auto_merge_iou) {
            return bad(format!(
                "detector.auto_merge_iou {} not in [0, 1]",
                self.detector.auto_merge_iou
            ));
        }
        if self.mesh.roi_scale <= 1.0 || self.iris.roi_scale <= 1.0 {
            return bad("mesh.roi_scale and iris.roi_scale must be > 1".into());
        }
        if !(0.0..1.0).contains(&self.mesh.min_presence) {
            return bad(format!(
                "mesh.min_presence {} not in [0, 1)",
                self.mesh.min_presence
            ));
        }
        if self.antispoof.crop_scale <= 0.0 {
            return bad("antispoof.crop_scale must be > 0".into());
        }
        if self.minifas.crop_scale.is_nan() || self.minifas.crop_scale < 1.0 {
            return bad(format!(
                "minifas.crop_scale {} must be >= 1",
                self.minifas.crop_scale
            ));
        }
        let d = &self.deepfake;
        if d.crop_scale.is_nan() || d.crop_scale < 1.0 {
            return bad(format!("deepfake.crop_scale {} must be >= 1", d.crop_scale));
        }
        if d.std.iter().any(|s| s.is_nan() || *s <= 0.0) || d.mean.iter().any(|m| !m.is_finite()) {
            return bad("deepfake.std must be > 0 and deepfake.mean finite".into());
        }
        if self.quality.sharpness_size < 16 {
            return bad("quality.sharpness_size must be >= 16".into());
        }
        Ok(())
    }
}

/// `$FACEPROOF_HOME`, or `~/.cache/faceproof`.
pub fn faceproof_home() -> PathBuf {
    if let Some(home) = std::env::var_os("FACEPROOF_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    let user_home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    Path::new(&user_home).join(".cache").join("faceproof")
}

/// One model file: where it is and, optionally, what it must hash to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Path of the ONNX file.
    pub path: PathBuf,
    /// Expected sha256 (hex). Checked at load time when present; strongly advised for operator models.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// Replacements of the pack's models, one optional entry per role. A replacement must follow the
/// role's input/output contract (docs/vision.md): same input size and layout, outputs in the same
/// order and shape. It is checked at load time.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ModelOverrides {
    /// Short-range detector (BlazeFace 128x128 contract).
    pub blazeface_short: Option<ModelSpec>,
    /// Full-range detector (BlazeFace 192x192 contract).
    pub blazeface_full: Option<ModelSpec>,
    /// Face mesh (192x192 -> 468x3 + presence logit).
    pub face_mesh: Option<ModelSpec>,
    /// Iris (64x64 eye crop -> 71x3 contour + 5x3 iris).
    pub iris: Option<ModelSpec>,
    /// The selected face embedder (aligned 112x112 -> D-dimensional embedding; D is read from the
    /// model; input normalisation as the selected kind's: docs/vision.md).
    pub embedder: Option<ModelSpec>,
    /// Anti-spoofing (256x256 crop -> 8 leaf scores + 8 leaf mask).
    pub antispoof: Option<ModelSpec>,
    /// MiniFASNet-style anti-spoofing (128x128 crop, raw 0-255 -> 3 logits, index 0 = real).
    pub minifasnet: Option<ModelSpec>,
    /// An operator's deepfake detector (not in the pack; off unless set): square NCHW face crop
    /// normalised as `[vision.deepfake]` says -> `[1, C]` logits or one logit of "fake".
    pub deepfake: Option<ModelSpec>,
}

/// Which face embedder the service runs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default, Hash)]
#[serde(rename_all = "snake_case")]
pub enum EmbedderKind {
    /// SFace 2021dec (128-d, input raw 0-255): LFW accuracy 99.4 % published; the default.
    #[default]
    Sface,
    /// MobileFaceNet (192-d, input (x - 127.5) / 128).
    Mobilefacenet,
}

impl EmbedderKind {
    /// Stable name: the key of the embedder's FAR model in the engine's calibration.
    pub fn name(self) -> &'static str {
        self.role().name()
    }

    /// The pack role of the embedder.
    pub fn role(self) -> crate::pack::Role {
        match self {
            EmbedderKind::Sface => crate::pack::Role::SFace,
            EmbedderKind::Mobilefacenet => crate::pack::Role::MobileFaceNet,
        }
    }

    /// `(scale, offset)` of the model input: `pixel * scale + offset`.
    pub fn input_affine(self) -> (f32, f32) {
        match self {
            // SFace's graph subtracts 127.5 and scales by 1/128 itself.
            EmbedderKind::Sface => (1.0, 0.0),
            EmbedderKind::Mobilefacenet => (1.0 / 128.0, -127.5 / 128.0),
        }
    }
}

/// Which detector to run on an image.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Range {
    /// BlazeFace short range (128x128): selfies and video frames where the face fills much of the frame.
    Short,
    /// BlazeFace full range (192x192): ID photos, group photos, small faces.
    Full,
    /// Both, merged (a face found by both counts once). The default for still photos.
    #[default]
    Auto,
}

/// Thresholds of one detector.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorThresholds {
    /// Face score (sigmoid of the anchor's logit) from which a detection is a face, as in MediaPipe.
    /// Only such candidates are averaged into a face's box and keypoints (weighted NMS).
    pub min_score: f32,
    /// Weaker candidates down to this score are kept when they overlap no stronger face, and only
    /// if the mesh confirms them (`detector.require_mesh_presence`; ignored without it).
    pub candidate_min_score: f32,
    /// Candidates overlapping the best one by more than this IoU are merged into it (weighted NMS).
    pub nms_iou: f32,
}

impl Default for DetectorThresholds {
    fn default() -> Self {
        // MediaPipe keeps detections above 0.5 and merges at IoU 0.3. Weak candidates (0.3-0.5)
        // verified by the mesh's face-presence score found a child's face at 0.34 on the shared
        // photos and no false face (non-face candidates had presence < 0.03).
        Self {
            min_score: 0.5,
            candidate_min_score: 0.3,
            nms_iou: 0.3,
        }
    }
}

/// Face detection settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Short-range detector thresholds.
    pub short: DetectorThresholds,
    /// Full-range detector thresholds.
    pub full: DetectorThresholds,
    /// With [`Range::Auto`], a short-range and a full-range face overlapping by more than this IoU
    /// are the same face (the higher score is kept).
    pub auto_merge_iou: f32,
    /// A face is kept only if its mesh presence score (sigmoid) reaches [`MeshConfig::min_presence`];
    /// this removes detector false positives (animal faces, patterns). Set false to keep every detection.
    pub require_mesh_presence: bool,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            short: DetectorThresholds::default(),
            full: DetectorThresholds::default(),
            auto_merge_iou: 0.3,
            require_mesh_presence: true,
        }
    }
}

/// Face mesh settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MeshConfig {
    /// The mesh ROI is the detector box scaled by this factor around its centre, made square (long side).
    pub roi_scale: f32,
    /// Minimum face-presence score (sigmoid of the mesh model's logit) for the mesh to be trusted.
    pub min_presence: f32,
    /// Extra mesh passes on a ROI re-centred on the previous pass's landmarks (MediaPipe's tracking
    /// ROI). 1 makes alignment tighter on photos; 0 runs the mesh once on the detector ROI.
    pub refine_passes: u32,
}

impl Default for MeshConfig {
    fn default() -> Self {
        Self {
            roi_scale: 1.5,
            min_presence: 0.5,
            refine_passes: 1,
        }
    }
}

/// Iris settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IrisConfig {
    /// The eye ROI side is this factor times the distance between the eye's two corners.
    pub roi_scale: f32,
}

impl Default for IrisConfig {
    fn default() -> Self {
        Self { roi_scale: 2.3 }
    }
}

/// Anti-spoofing settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AntiSpoofConfig {
    /// Run the anti-spoofing model (its file must then be present).
    pub enabled: bool,
    /// The crop side is this factor times the detector box's long side (1.0 = the model's own app).
    pub crop_scale: f32,
}

impl Default for AntiSpoofConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            crop_scale: 1.0,
        }
    }
}

/// Channel order of a model's image input.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChannelOrder {
    /// Channel 0 = red.
    Rgb,
    /// Channel 0 = blue.
    Bgr,
}

impl ChannelOrder {
    /// The source channel (0 = red) of each input channel.
    pub fn indices(self) -> [usize; 3] {
        match self {
            ChannelOrder::Rgb => [0, 1, 2],
            ChannelOrder::Bgr => [2, 1, 0],
        }
    }
}

/// MiniFASNet-style anti-spoofing settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MiniFasConfig {
    /// Run the model (its file must then be present).
    pub enabled: bool,
    /// The crop is the detector box enlarged by this factor around its centre (cut to the image,
    /// shifted to stay inside it).
    pub crop_scale: f32,
    /// Channel order fed to the model.
    pub channels: ChannelOrder,
}

impl Default for MiniFasConfig {
    fn default() -> Self {
        // 2.7x is the Silent-Face family's crop for this input size. BGR by measurement on the
        // shared clips and stills, held out by person (models/measure_minifas.py): frame AUC 0.909
        // vs 0.822 fed RGB (docs/vision.md).
        Self {
            enabled: true,
            crop_scale: 2.7,
            channels: ChannelOrder::Bgr,
        }
    }
}

/// How the input of an operator's own deepfake detector (`[vision.models] deepfake`) is made and
/// its output read. No registry package ships such a model (docs/vision.md, "An operator's
/// deepfake detector"); the defaults are those of ImageNet-pretrained classifiers, the usual base
/// of published ones.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeepfakeNetConfig {
    /// The crop is the detector box enlarged by this factor around its centre (cut to the image,
    /// shifted to stay inside it), resized to the model's square input.
    pub crop_scale: f32,
    /// Channel order fed to the model.
    pub channels: ChannelOrder,
    /// Per input channel: value = (pixel / 255 - mean) / std.
    pub mean: [f32; 3],
    /// Per input channel, > 0.
    pub std: [f32; 3],
    /// Index of the "fake" class in a `[1, C]` output of logits (softmax); a `[1, 1]` output is
    /// one logit of "fake" (sigmoid) and ignores it.
    pub fake_index: usize,
}

impl Default for DeepfakeNetConfig {
    fn default() -> Self {
        Self {
            crop_scale: 1.3,
            channels: ChannelOrder::Rgb,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
            fake_index: 1,
        }
    }
}

/// Quality measurement settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    /// The face box is resampled to this square size (pixels) before the Laplacian is taken, so
    /// sharpness does not depend on how many pixels the face has.
    pub sharpness_size: u32,
    /// Long side (pixels) of the thumbnail the background brightness is measured on.
    pub background_size: u32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            sharpness_size: 112,
            background_size: 160,
        }
    }
}
