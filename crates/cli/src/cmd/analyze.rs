//! `faceproof analyze IMAGE`: every face of a photo with box, landmarks, pose, quality and the
//! anti-spoofing score. Also home of the helpers `compare` and `bench models` share.

use crate::output::Output;
use faceproof_vision::image::{self, DynamicImage, ImageDecoder, ImageReader, RgbImage};
use faceproof_vision::{AnalyzeOptions, Face, Point, Range, Vision, VisionConfig, VisionError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Photo to analyse (JPEG, PNG or WebP; EXIF orientation applied).
    pub image: PathBuf,
    /// Detector: `short` (selfies, video frames), `full` (ID photos, small faces) or `auto` (both).
    #[arg(long, value_enum, default_value_t = RangeArg::Auto)]
    pub range: RangeArg,
    #[command(flatten)]
    pub vision: VisionArgs,
}

/// Detector range on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum RangeArg {
    Short,
    Full,
    Auto,
}

impl From<RangeArg> for Range {
    fn from(r: RangeArg) -> Range {
        match r {
            RangeArg::Short => Range::Short,
            RangeArg::Full => Range::Full,
            RangeArg::Auto => Range::Auto,
        }
    }
}

/// Where the models are and how many threads they use.
#[derive(clap::Args)]
pub struct VisionArgs {
    #[command(flatten)]
    pub dir: super::models::ModelsDir,
    /// Intra-op threads of the anti-spoofing model [default: the vision config's].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Intra-op threads of the detectors, mesh, iris and embedder [default: the vision config's].
    #[arg(long)]
    pub small_model_threads: Option<usize>,
    /// Face embedder [default: the vision config's, `sface`].
    #[arg(long, value_enum)]
    pub embedder: Option<EmbedderArg>,
}

/// `--embedder`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EmbedderArg {
    Sface,
    Mobilefacenet,
}

impl From<EmbedderArg> for faceproof_vision::EmbedderKind {
    fn from(e: EmbedderArg) -> Self {
        match e {
            EmbedderArg::Sface => faceproof_vision::EmbedderKind::Sface,
            EmbedderArg::Mobilefacenet => faceproof_vision::EmbedderKind::Mobilefacenet,
        }
    }
}

impl VisionArgs {
    pub fn config(&self) -> VisionConfig {
        self.apply(VisionConfig::default())
    }

    /// `cfg` (a config file's `[vision]`) with these flags on top: `--models`, else the file's
    /// `models_dir`, else `$FACEPROOF_HOME/models`.
    pub fn apply(&self, mut cfg: VisionConfig) -> VisionConfig {
        cfg.models_dir = Some(match (&self.dir.models, cfg.models_dir) {
            (Some(flag), _) => flag.clone(),
            (None, Some(file)) => file,
            (None, None) => self.dir.resolve(),
        });
        if let Some(t) = self.threads {
            cfg.threads = t;
        }
        if let Some(t) = self.small_model_threads {
            cfg.small_model_threads = t;
        }
        if let Some(e) = self.embedder {
            cfg.embedder = e.into();
        }
        cfg
    }

    /// Loads every model, or prints the error and gives the exit code.
    pub fn load(&self, out: &Output) -> Result<Vision, ExitCode> {
        Vision::load(&self.config()).map_err(|e| vision_error(out, &e))
    }
}

/// Prints a vision error with a stable code.
pub fn vision_error(out: &Output, e: &VisionError) -> ExitCode {
    let code = match e {
        VisionError::ModelMissing { .. } | VisionError::Runtime { .. } => "models_missing",
        VisionError::Checksum { .. } | VisionError::Contract { .. } => "models_invalid",
        VisionError::Config(_) => "invalid_config",
        VisionError::InvalidInput(_) => "invalid_input",
        VisionError::Io { .. } | VisionError::Inference { .. } => "vision_failed",
    };
    out.error(code, &e.to_string())
}

/// Decodes a photo (format sniffed from the content), applies its EXIF orientation, converts to RGB8.
/// The one place the CLI reads images; it moves to the media crate when that lands.
pub fn load_image(path: &Path) -> Result<RgbImage, String> {
    let what = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut decoder = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| what(&e))?
        .into_decoder()
        .map_err(|e| what(&e))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| what(&e))?;
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
}

fn r1(v: f32) -> f32 {
    (v * 10.0).round() / 10.0
}

fn r4(v: f32) -> f32 {
    (v * 10_000.0).round() / 10_000.0
}

fn pt(p: Point) -> [f32; 2] {
    [r1(p.x), r1(p.y)]
}

#[derive(Serialize)]
pub struct ImageJson {
    pub width: u32,
    pub height: u32,
}

#[derive(Serialize)]
pub struct FaceJson {
    /// `[x, y, w, h]` in image pixels.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    pub score: f32,
    pub detector: Range,
    pub landmarks: LandmarksJson,
    pub pose: PoseJson,
    pub quality: QualityJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iris: Option<IrisJson>,
    pub pad_score: Option<f32>,
}

#[derive(Serialize)]
pub struct LandmarksJson {
    /// Subject's right eye centre (image left).
    pub right_eye: [f32; 2],
    /// Subject's left eye centre (image right).
    pub left_eye: [f32; 2],
    pub nose_tip: [f32; 2],
    pub mouth_right: [f32; 2],
    pub mouth_left: [f32; 2],
    pub mesh_points: usize,
}

#[derive(Serialize)]
pub struct PoseJson {
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
}

#[derive(Serialize)]
pub struct QualityJson {
    pub face_area_ratio: f32,
    pub inside_ratio: f32,
    pub eye_distance_px: f32,
    pub sharpness: f32,
    pub brightness: f32,
    pub contrast: f32,
    pub background_brightness: Option<f32>,
    pub face_background_delta: Option<f32>,
    pub mesh_presence: f32,
}

#[derive(Serialize)]
pub struct IrisJson {
    /// Iris centre and radius of the subject's right eye (image left).
    pub right: EyeJson,
    /// Same for the left eye (image right).
    pub left: EyeJson,
}

#[derive(Serialize)]
pub struct EyeJson {
    pub center: [f32; 2],
    pub radius: f32,
}

impl From<&Face> for FaceJson {
    fn from(f: &Face) -> FaceJson {
        let r = f.detection.rect;
        let l = &f.landmarks;
        let q = &f.quality;
        FaceJson {
            bbox: [r1(r.x), r1(r.y), r1(r.w), r1(r.h)],
            score: r4(f.detection.score),
            detector: f.detection.range,
            landmarks: LandmarksJson {
                right_eye: pt(l.right_eye),
                left_eye: pt(l.left_eye),
                nose_tip: pt(l.nose_tip),
                mouth_right: pt(l.mouth_right),
                mouth_left: pt(l.mouth_left),
                mesh_points: f.mesh.points.len(),
            },
            pose: PoseJson {
                yaw: r1(f.pose.yaw),
                pitch: r1(f.pose.pitch),
                roll: r1(f.pose.roll),
            },
            quality: QualityJson {
                face_area_ratio: r4(q.face_area_ratio),
                inside_ratio: r4(q.inside_ratio),
                eye_distance_px: r1(q.eye_distance_px),
                sharpness: r1(q.sharpness),
                brightness: r1(q.brightness),
                contrast: r1(q.contrast),
                background_brightness: q.background_brightness.map(r1),
                face_background_delta: q.face_background_delta.map(r1),
                mesh_presence: r4(q.mesh_presence),
            },
            iris: f.eyes.as_ref().map(|e| IrisJson {
                right: EyeJson {
                    center: pt(e.right.iris_center()),
                    radius: r1(e.right.iris_radius()),
                },
                left: EyeJson {
                    center: pt(e.left.iris_center()),
                    radius: r1(e.left.iris_radius()),
                },
            }),
            pad_score: f.pad_score.map(r4),
        }
    }
}

#[derive(Serialize)]
struct AnalyzeJson {
    image: ImageJson,
    range: Range,
    faces: Vec<FaceJson>,
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    let img = match load_image(&args.image) {
        Ok(img) => img,
        Err(e) => return out.error("unreadable_image", &e),
    };
    let vision = match args.vision.load(out) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let opts = AnalyzeOptions {
        range: args.range.into(),
        iris: true,
        antispoof: true,
        minifas: true,
        embedding: false,
        refine_mesh: true,
    };
    match vision.analyze(&img, &opts) {
        Ok(faces) => out.json(&AnalyzeJson {
            image: ImageJson {
                width: img.width(),
                height: img.height(),
            },
            range: opts.range,
            faces: faces.iter().map(FaceJson::from).collect(),
        }),
        Err(e) => vision_error(out, &e),
    }
}
