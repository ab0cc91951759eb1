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
//! fitted on), `DIR/summary.json` (also printed), `DIR/det.png` and `DIR/roc.png` (one curve per
//! attack species), and `DIR/table.md` (the per-species table and every rejected bona fide row).
//!
//! `--scores FILE` takes the rows' verdicts from an earlier run's `scores.csv` instead of running
//! the models (the features do not depend on the calibration). `--held-out` replaces the shipped
//! fusion's probabilities by leave-one-source-out ones (see `held_out`): the honest numbers.
//!
//! `faceproof eval --pairs pairs.txt [--embedder sface|mobilefacenet]`: face match on an LFW-style
//! pairs list instead (protocol accuracy over its folds, TAR at FAR 1 % / 0.1 % with every
//! cross-identity pair, held out by fold, and the FAR model the calibration ships): see [`pairs`].

pub(crate) mod cache;
mod held_out;
pub(crate) mod manifest;
pub mod pairs;
mod plot;
pub(crate) mod report;
mod separation;

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
    /// `faceproof.toml` (its `[engine]`, `[vision]` and `[limits]` are read) [default: built-in].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// No progress bar on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Take the verdicts from this earlier `scores.csv` instead of running the models.
    #[arg(long)]
    pub scores: Option<PathBuf>,
    /// Score every row by fusion models fitted without its source (leave one source out).
    #[arg(long)]
    pub held_out: bool,
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
    let config = match crate::config::FileConfig::load(args.config.as_deref()) {
        Ok(c) => c.engine,
        Err(e) => return out.error("invalid_config", &e),
    };
    let mut outcomes = match &args.scores {
        Some(path) => match cache::read(path, &rows) {
            Ok(mut o) => {
                media_facts(&mut o);
                o
            }
            Err(e) => return out.error("invalid_scores", &e),
        },
        None => {
            let engine = match load_engine(&args.vision, args.config.as_ref(), out) {
                Ok(e) => e,
                Err(code) => return code,
            };
            run_engine(&engine, &rows, args.quiet)
        }
    };
    let held_out = if args.held_out {
        match held_out::apply(&mut outcomes, &config.liveness, &config.deepfake) {
            Ok(note) => Some(note),
            Err(e) => return out.error("fit_failed", &e),
        }
    } else {
        None
    };
    let mut summary = report::summarise(&outcomes, config.liveness.threshold);
    summary.held_out = held_out;
    summary.separation = separation::separation(&outcomes);
    let written = report::write_scores(&args.out.join("scores.csv"), &outcomes)
        .and_then(|_| {
            let text = serde_json::to_string_pretty(&summary).map_err(std::io::Error::other)?;
            std::fs::write(args.out.join("summary.json"), text)
        })
        .and_then(|_| std::fs::write(args.out.join("table.md"), report::table(&summary)))
        .and_then(|_| plot::write_plots(&args.out, &outcomes));
    if let Err(e) = written {
        return out.error("io", &format!("{}: {e}", args.out.display()));
    }
    out.json(&summary)
}

/// Fills the short side and frame rate of cached rows written without them (by probing the file:
/// no decoding, no models).
fn media_facts(outcomes: &mut [Outcome]) {
    let limits = Limits::default();
    for o in outcomes.iter_mut().filter(|o| o.short_side.is_none()) {
        let Ok(bytes) = faceproof_media::read_file(&o.row.video, limits.max_video_bytes) else {
            continue;
        };
        if let Ok(info) = faceproof_media::probe(&bytes, &limits) {
            o.short_side = Some(info.width.min(info.height));
            o.fps = info.fps;
        }
    }
}

/// Runs the engine on every row, with a progress bar unless `quiet`.
fn run_engine(engine: &Engine, rows: &[Row], quiet: bool) -> Vec<Outcome> {
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if !quiet {
            progress(i, rows.len(), start, &row.video.display().to_string());
        }
        outcomes.push(evaluate(engine, row));
    }
    if !quiet {
        progress(rows.len(), rows.len(), start, "done");
        eprintln!();
    }
    outcomes
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
