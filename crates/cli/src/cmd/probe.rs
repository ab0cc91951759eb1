//! `faceproof probe FILE`: the media facts of a video or image as JSON (kind, container, codec,
//! size, rotation, fps, duration, frames, audio, bytes, warnings), or the refusal as
//! `{"error": {"code", "message"}}` with a failing exit code. It never decodes pixels.

use crate::output::Output;
use faceproof_media::{Limits, MediaError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Video (mp4, mov, webm, mkv, avi) or image (jpeg, png, webp) to inspect.
    pub file: PathBuf,
    /// TOML file with the media limits (the `Limits` fields; missing ones keep their defaults).
    #[arg(long)]
    pub limits: Option<PathBuf>,
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    let limits = match load_limits(args.limits.as_deref()) {
        Ok(l) => l,
        Err(message) => return out.error("invalid_limits", &message),
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

fn load_limits(path: Option<&std::path::Path>) -> Result<Limits, String> {
    let Some(path) = path else {
        return Ok(Limits::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
