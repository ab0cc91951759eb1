//! `faceproof calibrate --manifest M.csv --out FILE`: fits the engine's calibration.
//!
//! 1. Runs the engine (with its current calibration: the features do not depend on it) on every
//!    manifest row and keeps each sample's measured features.
//! 2. Fits the liveness fusion (spoof vs live) and the deepfake fusion (deepfake vs live).
//! 3. The face-match FAR models (one per embedder) are kept from the built-in calibration, where
//!    `faceproof eval --pairs` on LFW put them (docs/engine.md). With `--faces` (one folder per
//!    identity, plus `single/` with one photo per person named by file) the active embedder's is
//!    refitted from every genuine and impostor pair of those photos instead.
//! 4. Prints leave-one-out error rates and writes the calibration JSON (the engine compiles
//!    `crates/engine/calibration/default.json` in).
//!
//! The manifest is the `eval` one (`video,id_photo,label,codes[,species]`). Still-image attacks
//! are decided by the `still_image` rule and left out of the liveness fit (see
//! `fit::RULE_DECIDED_SPECIES`); every row counts for the deepfake fit.

use super::analyze::VisionArgs;
use super::check::load_engine;
use crate::output::Output;
use faceproof_engine::calibrate::far::{FarConfig, FarModel};
use faceproof_engine::calibrate::fit::{self, HeldOut, Label, Sample};
use faceproof_engine::calibrate::logistic::LogisticConfig;
use faceproof_engine::check::{CheckRequest, Engine};
use faceproof_vision::{AnalyzeOptions, Range, imgops, largest};
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
    liveness_leave_one_out: ErrorRates,
    deepfake_leave_one_out: ErrorRates,
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
    let engine = match load_engine(&args.vision, None, out) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let rows = match super::eval::manifest::read(&args.manifest) {
        Ok(r) => r,
        Err(e) => return out.error("invalid_manifest", &e),
    };
    let mut samples = Vec::new();
    let mut skipped = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        eprint!("\rcalibrate: sample {}/{}", i + 1, rows.len());
        match features(&engine, &row.video) {
            Some(features) => samples.push(Sample {
                id: row.video.display().to_string(),
                label: row.label,
                species: row.species.clone(),
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
         L2-regularised logistic fusion",
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
        fit::leave_one_out(&samples, features, positive, Label::Live, &cfg)
    };
    let (live_loo, df_loo) = match (
        fit::leave_one_out(
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
        liveness_leave_one_out: rates(&live_loo),
        deepfake_leave_one_out: rates(&df_loo),
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
    let opts = AnalyzeOptions {
        range: Range::Auto,
        iris: false,
        antispoof: false,
        embedding: true,
        refine_mesh: true,
    };
    let mut embedded = Vec::new();
    for (identity, path) in &people {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let Ok(img) = faceproof_media::decode_image(
            &bytes,
            &faceproof_media::ImageOptions { auto_rotate: true },
            engine.limits(),
        ) else {
            continue;
        };
        let img = imgops::fit_within(&img.image, engine.config().document.max_long_side)
            .map_or(img.image, |(i, _)| i);
        let faces = engine
            .vision()
            .analyze(&img, &opts)
            .map_err(|e| e.to_string())?;
        if let Some(e) = largest(&faces).and_then(|f| f.embedding.clone()) {
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
