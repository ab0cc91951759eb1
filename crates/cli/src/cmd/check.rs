//! `faceproof check --video V [--id I]`: the engine's verdict as JSON.
//!
//! Exit code 0 whenever a verdict was reached, negative or not; non-zero only when the input could
//! not be judged at all (refused media, model failure). `--save-frames DIR` writes the best frame
//! and its aligned face crop as JPEG.

use super::analyze::VisionArgs;
use crate::config::FileConfig;
use crate::output::Output;
use faceproof_engine::check::{CheckRequest, Engine};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The selfie video.
    #[arg(long)]
    pub video: PathBuf,
    /// The ID photo to match against.
    #[arg(long = "id")]
    pub id_photo: Option<PathBuf>,
    /// Write best_frame.jpg and best_face.jpg into this folder.
    #[arg(long)]
    pub save_frames: Option<PathBuf>,
    /// `faceproof.toml` (its `[engine]`, `[vision]` and `[limits]` are read) [default: built-in].
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub vision: VisionArgs,
}

/// Loads the engine of the video commands (check, eval, calibrate, bench check) from an optional
/// `faceproof.toml` (`[engine]`, `[vision]`, `[limits]`), the command line's vision flags
/// overriding the file's `[vision]`: the service's own construction, less the DTN anti-spoofing
/// model, which only the ADVANCE far / near stills run (a video check never does: it would cost
/// every start-up its session).
pub fn load_engine(
    vision: &VisionArgs,
    config: Option<&PathBuf>,
    out: &Output,
) -> Result<Engine, ExitCode> {
    let cfg = FileConfig::load(config.map(PathBuf::as_path))
        .map_err(|e| out.error("invalid_config", &e))?;
    let mut vision_cfg = vision.apply(cfg.vision);
    vision_cfg.antispoof.enabled = false;
    Engine::load(cfg.engine, &vision_cfg, cfg.limits)
        .map_err(|e| out.error("model_failure", &e.to_string()))
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    // The file's `[limits]` bound what is read; a broken file is reported by `load_engine` below.
    let limits = FileConfig::load(args.config.as_deref())
        .map(|c| c.limits)
        .unwrap_or_default();
    let read = |p: &PathBuf, max: u64| {
        faceproof_media::read_file(p, max).map_err(|e| (e.code(), format!("{}: {e}", p.display())))
    };
    let video = match read(&args.video, limits.max_video_bytes) {
        Ok(v) => v,
        Err((code, msg)) => return out.error(code, &msg),
    };
    let id = match args
        .id_photo
        .as_ref()
        .map(|p| read(p, limits.max_image_bytes))
    {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err((code, msg))) => return out.error(code, &msg),
    };
    let engine = match load_engine(&args.vision, args.config.as_ref(), out) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut req = CheckRequest::video(&video);
    req.id_photo = id.as_deref();
    req.encode_best_frame = args.save_frames.is_some();
    let verdict = match engine.check(&req) {
        Ok(v) => v,
        Err(e) => {
            let code = e.media_error().map_or("model_failure", |m| m.code());
            return out.error(code, &e.to_string());
        }
    };
    if let (Some(dir), Some(best)) = (&args.save_frames, &verdict.best_frame) {
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(dir.join("best_frame.jpg"), &best.jpeg))
            .and_then(|_| std::fs::write(dir.join("best_face.jpg"), &best.face_jpeg));
        if let Err(e) = written {
            return out.error("io", &format!("{}: {e}", dir.display()));
        }
    }
    out.json(&verdict)
}
