//! `faceproof eval MANIFEST.csv [--out DIR]`: runs `Engine::check` over a labelled set and reports
//! ISO/IEC 30107-3 PAD error rates per attack species, TAR at fixed FAR for the rows with an ID
//! photo, and a confusion table of expected vs produced reason codes.
//!
//! Manifest: a header line, then `video,id_photo,label,codes[,species]`: `label` is `live`,
//! `spoof` or `deepfake`; `codes` the expected reason codes separated by `;` (may be empty); the
//! optional `species` names the attack (`still`, `planar`, `screen`, ...; default: the label).
//! Paths are relative to the manifest's folder or absolute. A row with an ID photo whose expected
//! codes include `face_mismatch` is an impostor pair, any other row with an ID photo a genuine one.
//!
//! Writes `DIR/scores.csv` (one row per sample with every signal as a column: what the fusion is
//! fitted on), `DIR/summary.json` (also printed), `DIR/det.png` and `DIR/roc.png`.
//!
//! `faceproof eval --pairs pairs.txt [--embedder sface|mobilefacenet]`: face match on an LFW-style
//! pairs list instead (protocol accuracy over its folds, TAR at FAR 1 % / 0.1 % with every
//! cross-identity pair, held out by fold, and the FAR model the calibration ships): see [`pairs`].

pub(crate) mod manifest;
pub mod pairs;
mod plot;
mod report;

use super::analyze::VisionArgs;
use super::check::load_engine;
use crate::output::Output;
use faceproof_engine::check::{CheckRequest, Engine};
use faceproof_media::Limits;
use manifest::Row;
use report::Outcome;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The manifest (CSV: video,id_photo,label,codes[,species]).
    #[arg(required_unless_present = "pairs", conflicts_with = "pairs")]
    pub manifest: Option<PathBuf>,
    /// Pairs mode: an LFW-style pairs list (`FOLDS N` header, matched then mismatched pairs per
    /// fold; images in `<name>/` folders beside it).
    #[arg(long)]
    pub pairs: Option<PathBuf>,
    /// Pairs mode: impostor scores kept (a systematic sample of all) in `far_model.json`.
    #[arg(long, default_value_t = 20_000)]
    pub far_sample: usize,
    /// Report folder (created).
    #[arg(long, default_value = "eval-report")]
    pub out: PathBuf,
    /// Engine configuration (TOML, the `[engine]` fields at top level) [default: built-in].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// No progress bar on stderr.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub vision: VisionArgs,
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return out.error("io", &format!("{}: {e}", args.out.display()));
    }
    let manifest = match (&args.pairs, &args.manifest) {
        (Some(list), _) => {
            return pairs::run(
                list,
                &args.out,
                &args.vision,
                args.far_sample,
                args.quiet,
                out,
            );
        }
        (None, Some(m)) => m,
        (None, None) => return out.error("usage", "a manifest or --pairs is required"),
    };
    let rows = match manifest::read(manifest) {
        Ok(rows) => rows,
        Err(e) => return out.error("invalid_manifest", &e),
    };
    let engine = match load_engine(&args.vision, args.config.as_ref(), out) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if !args.quiet {
            progress(i, rows.len(), start, &row.video.display().to_string());
        }
        outcomes.push(evaluate(&engine, row));
    }
    if !args.quiet {
        progress(rows.len(), rows.len(), start, "done");
        eprintln!();
    }
    let summary = report::summarise(&outcomes, engine.config().liveness.threshold);
    let written = report::write_scores(&args.out.join("scores.csv"), &outcomes)
        .and_then(|_| {
            let text = serde_json::to_string_pretty(&summary).map_err(std::io::Error::other)?;
            std::fs::write(args.out.join("summary.json"), text)
        })
        .and_then(|_| plot::write_plots(&args.out, &outcomes));
    if let Err(e) = written {
        return out.error("io", &format!("{}: {e}", args.out.display()));
    }
    out.json(&summary)
}

/// Runs the engine on one row; a refused input or a failure becomes the outcome's error.
fn evaluate(engine: &Engine, row: &Row) -> Outcome {
    let limits = Limits::default();
    let read = |p: &PathBuf, max| {
        faceproof_media::read_file(p, max).map_err(|e| format!("{}: {e}", p.display()))
    };
    let verdict = read(&row.video, limits.max_video_bytes).and_then(|video| {
        let photo = match &row.id_photo {
            Some(p) => Some(read(p, limits.max_image_bytes)?),
            None => None,
        };
        let mut req = CheckRequest::video(&video);
        req.encode_best_frame = false;
        if let Some(photo) = &photo {
            req = req.with_id_photo(photo);
        }
        engine.check(&req).map_err(|e| e.to_string())
    });
    Outcome::new(row.clone(), verdict)
}

/// `[#####.....] 12/40 1m02s clip.mp4` on one stderr line.
fn progress(done: usize, total: usize, start: Instant, what: &str) {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    let secs = start.elapsed().as_secs();
    let tail: Vec<char> = what.chars().rev().take(40).collect();
    let name: String = tail.into_iter().rev().collect();
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r[{}{}] {done}/{total} {}m{:02}s {name:<40}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        secs / 60,
        secs % 60,
    );
    let _ = err.flush();
}
