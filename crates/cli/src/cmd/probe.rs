//! `faceproof probe FILE`: the media facts of a video or image as JSON (kind, container, codec,
//! size, rotation, fps, duration, frames, audio, bytes, warnings), or the refusal as
//! `{"error": {"code", "message"}}` with a failing exit code. It never decodes pixels.

use crate::output::Output;
use faceproof_media::MediaError;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Video (mp4, mov, webm, mkv, avi) or image (jpeg, png, webp) to inspect.
    pub file: PathBuf,
    /// `faceproof.toml`; its `[limits]` bound the input (missing keys keep their defaults).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    let limits = match crate::config::FileConfig::load(args.config.as_deref()) {
        Ok(c) => c.limits,
        Err(message) => return out.error("invalid_config", &message),
    };
    // The media crate returns errors for every input; the guard keeps the promise of a JSON answer
    // even if a library bug panics.
    let result = std::panic::catch_unwind(|| -> Result<_, MediaError> {
        let bytes = faceproof_media::read_file(&args.file, limits.max_input_bytes())?;
        faceproof_media::probe(&bytes, &limits)
    });
    match result {
        Ok(Ok(info)) => out.json(&info),
        Ok(Err(e)) => out.error(e.code(), &e.to_string()),
        Err(_) => out.error("internal", "probing failed unexpectedly"),
    }
}
