//! `faceproof calibrate --manifest M.csv --out FILE`: fits the engine's calibration.
//!
//! 1. Runs the engine (with its current calibration: the features do not depend on it) on every
//!    manifest row and keeps each sample's measured features.
//! 2. Fits the liveness fusion (spoof vs live) and the deepfake fusion (deepfake vs live).
//! 3. The face-match FAR models (one per embedder) are kept from the built-in calibration, where
//!    `faceproof eval --pairs` on LFW put them (docs/engine.md). With `--faces` (one folder per
//!    identity, plus `single/` with one photo per person named by file) the active embedder's is
//!    refitted from every genuine and impostor pair of those photos instead.
//! 4. Prints leave-one-source-out error rates (every row of a held-out source left out at once,
//!    L2 chosen on the others) and writes the calibration JSON (the engine compiles
//!    `crates/engine/calibration/default.json` in); the shipped models' L2 strength is chosen by
//!    the same leave-one-source-out log loss over all sources.
//!
//! `--scores FILE` takes the features from an earlier `faceproof eval` run's `scores.csv` instead
//! of running the models (they do not depend on the calibration).
//!
//! The manifest is the `eval` one (`video,id_photo,label,codes[,species[,source]]`). Still-image attacks
//! are decided by the `still_image` rule and left out of the liveness fit (see
//! `fit::RULE_DECIDED_SPECIES`); every row counts for the deepfake fit.

use super::analyze::VisionArgs;
use super::check::load_engine;
use crate::output::Output;
use faceproof_engine::calibrate::far::{FarConfig, FarModel};
use faceproof_engine::calibrate::fit::{self, HeldOut, Label, Sample};
use faceproof_engine::calibrate::logistic::LogisticConfig;
use faceproof_engine::check::{CheckRequest, Engine};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The labelled videos (`video,id_photo,label,codes`).
    #[arg(long)]
    pub manifest: PathBuf,
    /// Labelled face photos (one folder per identity): refit the active embedder's FAR model from
    /// their pairs [default: keep the built-in FAR models, fitted on LFW].
    #[arg(long)]
    pub faces: Option<PathBuf>,
    /// Where to write the calibration JSON.
    #[arg(long)]
    pub out: PathBuf,
    /// `faceproof.toml` (its `[engine]`, `[vision]` and `[limits]` are read) [default: built-in].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Features from an earlier `faceproof eval` run's `scores.csv` (no model runs for the clips).
    #[arg(long)]
    pub scores: Option<PathBuf>,
    #[command(flatten)]
    pub vision: VisionArgs,
}

#[derive(Serialize)]
struct Summary {
    samples: usize,
    live: usize,
    spoof: usize,
    deepfake: usize,
    skipped: Vec<String>,
    genuine_pairs: usize,
    impostor_pairs: usize,
    sources: usize,
    liveness_leave_one_source_out: ErrorRates,
    deepfake_leave_one_source_out: ErrorRates,
    liveness_l2: f64,
    deepfake_l2: f64,
    held_out: Vec<HeldOut>,
}

#[derive(Serialize)]
struct ErrorRates {
    /// Attacks with a held-out probability below 0.5.
    attacks_accepted: usize,
    attacks: usize,
    /// Live samples at or above 0.5.
    live_rejected: usize,
    live: usize,
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    let engine = match load_engine(&args.vision, args.config.as_ref(), out) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let rows = match super::eval::manifest::read(&args.manifest) {
        Ok(r) => r,
        Err(e) => return out.error("invalid_manifest", &e),
    };
    let mut samples = Vec::new();
    let mut skipped = Vec::new();
    let cached = match &args.scores {
        Some(path) => match super::eval::cache::read(path, &rows) {
            Ok(o) => Some(o),
            Err(e) => return out.error("invalid_scores", &e),
        },
        None => None,
    };
    for (i, row) in rows.iter().enumerate() {
        let measured = match &cached {
            Some(outcomes) => cached_features(&outcomes[i]),
            None => {
                eprint!("\rcalibrate: sample {}/{}", i + 1, rows.len());
                features(&engine, &row.video)
            }
        };
        match measured {
            Some(features) => samples.push(Sample {
                id: row.video.display().to_string(),
                label: row.label,
                species: row.species.clone(),
                group: row.source.clone(),
                features,
            }),
            None => skipped.push(row.video.display().to_string()),
        }
    }
    eprintln!();
    let mut far = engine.calibration().far.clone();
    let (mut genuine, mut impostors) = (Vec::new(), Vec::new());
    let far_source = match &args.faces {
        Some(faces) => {
            (genuine, impostors) = match similarities(&engine, faces) {
                Ok(v) => v,
                Err(e) => return out.error("faces", &e),
            };
            let model = match FarModel::fit(&impostors, &genuine, &FarConfig::default()) {
                Ok(m) => m,
                Err(e) => return out.error("fit_failed", &e.to_string()),
            };
            let embedder = engine.vision().embedder().kind().name();
            far.insert(embedder.to_owned(), model);
            format!(
                "{embedder} FAR from {} genuine and {} impostor photo pairs",
                genuine.len(),
                impostors.len()
            )
        }
        None => "FAR models kept from the built-in calibration".to_owned(),
    };
    let count = |l: Label| samples.iter().filter(|s| s.label == l).count();
    let provenance = format!(
        "faceproof calibrate: {} live, {} spoof, {} deepfake samples from {}; {far_source}; \
         L2-regularised logistic fusion, L2 chosen by leave-one-source-out log loss",
        count(Label::Live),
        count(Label::Spoof),
        count(Label::Deepfake),
        args.manifest
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
    );
    let calibration = match fit::fit_calibration(&samples, far, provenance) {
        Ok(c) => c,
        Err(e) => return out.error("fit_failed", &e.to_string()),
    };
    let cfg = LogisticConfig::default();
    let loo = |features: &[&str], positive: Label| {
        fit::leave_one_source_out(&samples, features, positive, Label::Live, &cfg)
    };
    let (live_loo, df_loo) = match (
        fit::leave_one_source_out(
            &fit::liveness_samples(&samples),
            &fit::LIVENESS_FEATURES,
            Label::Spoof,
            Label::Live,
            &cfg,
        ),
        loo(&fit::DEEPFAKE_FEATURES, Label::Deepfake),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return out.error("fit_failed", &e.to_string()),
    };
    let json = serde_json::to_string_pretty(&calibration).expect("calibration serialises");
    if let Err(e) = std::fs::write(&args.out, json + "\n") {
        return out.error("io", &format!("{}: {e}", args.out.display()));
    }
    let mut held_out = live_loo.clone();
    held_out.extend(
        df_loo
            .iter()
            .filter(|h| h.label == Label::Deepfake)
            .cloned(),
    );
    out.json(&Summary {
        samples: samples.len(),
        live: count(Label::Live),
        spoof: count(Label::Spoof),
        deepfake: count(Label::Deepfake),
        skipped,
        genuine_pairs: genuine.len(),
        impostor_pairs: impostors.len(),
        sources: {
            let mut g: Vec<&str> = samples.iter().map(|s| s.group.as_str()).collect();
            g.sort_unstable();
            g.dedup();
            g.len()
        },
        liveness_leave_one_source_out: rates(&live_loo),
        deepfake_leave_one_source_out: rates(&df_loo),
        liveness_l2: calibration.fusion.liveness.l2,
        deepfake_l2: calibration.fusion.deepfake.l2,
        held_out,
    })
}

fn rates(held: &[HeldOut]) -> ErrorRates {
    let attacks = held.iter().filter(|h| h.label != Label::Live);
    let live = held.iter().filter(|h| h.label == Label::Live);
    ErrorRates {
        attacks_accepted: attacks.clone().filter(|h| h.prob < 0.5).count(),
        attacks: attacks.count(),
        live_rejected: live.clone().filter(|h| h.prob >= 0.5).count(),
        live: live.count(),
    }
}

/// The features of a cached outcome, or `None` when it had no liveness judgement.
fn cached_features(o: &super::eval::report::Outcome) -> Option<Vec<(String, Option<f64>)>> {
    if o.error.is_some() || o.spoof_prob.is_none() {
        return None;
    }
    let mut features = o.liveness_signals.clone();
    for d in &o.deepfake_signals {
        if !features.iter().any(|f| f.0 == d.0) {
            features.push(d.clone());
        }
    }
    Some(features)
}

/// The features of one video, or `None` when the engine could not judge its liveness.
fn features(engine: &Engine, video: &Path) -> Option<Vec<(String, Option<f64>)>> {
    let bytes = std::fs::read(video).ok()?;
    let mut req = CheckRequest::video(&bytes);
    req.encode_best_frame = false;
    let verdict = engine.check(&req).ok()?;
    let liveness = verdict.liveness?;
    Some(
        liveness
            .signals
            .iter()
            .map(|s| (s.name.to_string(), s.value))
            .collect(),
    )
}

/// Genuine and impostor cosine similarities over every pair of labelled photos.
fn similarities(engine: &Engine, dir: &Path) -> Result<(Vec<f64>, Vec<f64>), String> {
    let mut people: Vec<(String, PathBuf)> = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !path.is_dir() || name == "multi" || name == "partial" {
            continue;
        }
        for photo in std::fs::read_dir(&path)
            .map_err(|e| e.to_string())?
            .flatten()
        {
            let identity = if name == "single" {
                photo
                    .path()
                    .file_stem()
                    .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
            } else {
                name.clone()
            };
            people.push((identity, photo.path()));
        }
    }
    people.sort();
    let mut embedded = Vec::new();
    for (identity, path) in &people {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // The service's own ID-photo path (`Engine::document`), so the FAR model describes the
        // similarities the service computes. A photo the media layer refuses is skipped.
        let doc = match engine.document(&bytes, true) {
            Ok(d) => d,
            Err(e) if e.media_error().is_some() => continue,
            Err(e) => return Err(e.to_string()),
        };
        if let Some(e) = doc.embedding {
            embedded.push((identity.clone(), e));
        }
    }
    let (mut genuine, mut impostors) = (Vec::new(), Vec::new());
    for i in 0..embedded.len() {
        for j in i + 1..embedded.len() {
            let c = f64::from(embedded[i].1.cosine(&embedded[j].1));
            if embedded[i].0 == embedded[j].0 {
                genuine.push(c);
            } else {
                impostors.push(c);
            }
        }
    }
    Ok((genuine, impostors))
}
