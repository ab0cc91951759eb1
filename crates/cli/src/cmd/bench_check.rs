//! `faceproof bench check`: the standard request (a 6 s 720p H.264 selfie + an ID photo) through
//! `Engine::check`, per stage, next to its floor: the same decode alone plus the same model calls
//! alone, one after the other, with nothing else (no signals, no rules, no JPEG encoding).
//!
//! The engine decodes on one thread while the models run on another, so on two cores its total
//! can come in under the floor's sum; the floor's larger part (decode or models) is the bound.

use super::analyze::VisionArgs;
use super::bench_media::{peak_growth, proc_status_mb, start_peak};
use super::check::load_engine;
use crate::output::Output;
use faceproof_engine::check::{CheckRequest, Engine, StageTimes};
use faceproof_vision::{AnalyzeOptions, Range, largest};
use serde::Serialize;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The selfie video [default: the first 6 s of the shared 720x1280 talking clip].
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// The ID photo [default: a shared face photo].
    #[arg(long = "id")]
    pub id_photo: Option<PathBuf>,
    /// Timed runs after one warm-up run (medians are reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Print a table for people instead of JSON.
    #[arg(long)]
    pub table: bool,
    /// `faceproof.toml` (its `[engine]`, `[vision]` and `[limits]` are read) [default: built-in].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also measure throughput: this many threads each run `--runs` checks at once on the one
    /// engine (as `faceproof serve` does under load); 0 or 1 skips it.
    #[arg(long, default_value_t = 0)]
    pub concurrency: usize,
    #[command(flatten)]
    pub vision: VisionArgs,
}

#[derive(Serialize)]
struct Report {
    video: String,
    video_bytes: usize,
    runs: usize,
    /// Medians over the runs, ms.
    check: StageTimes,
    /// Frames the decoder produced and frames analysed per check (the analysis budget).
    frames_decoded: u64,
    frames_analysed: usize,
    floor: Floor,
    /// `check.total_ms / floor.total_ms`.
    ratio_to_floor: f64,
    /// Growth of the peak resident memory during one check, MB.
    check_peak_growth_mb: f64,
    /// Peak resident memory of the process (models loaded, after every run), MB.
    process_peak_mb: f64,
    /// Concurrent checks, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    throughput: Option<Throughput>,
}

#[derive(Serialize)]
struct Throughput {
    concurrency: usize,
    checks: usize,
    wall_s: f64,
    checks_per_s: f64,
    /// Median and slowest single-check total under that load, ms.
    p50_ms: f64,
    max_ms: f64,
    /// Process peak resident memory after the concurrent runs, MB.
    process_peak_mb: f64,
}

#[derive(Serialize)]
struct Floor {
    /// Frames the sampling plan's decode produced (the check's window, not the whole clip).
    frames_decoded: u64,
    decode_ms: f64,
    models_ms: f64,
    total_ms: f64,
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    let shared = std::env::var_os("FACEPROOF_SHARED")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("../shared"), PathBuf::from)
        .join("data");
    let tmp = tempdir();
    let video_path = match &args.video {
        Some(p) => p.clone(),
        None => {
            let dst = tmp.join("standard.mp4");
            let ok = Command::new("ffmpeg")
                .args(["-v", "error", "-y", "-i"])
                .arg(shared.join("videos/live_talking_720x1280.mp4"))
                .args(["-t", "6", "-c", "copy", "-an"])
                .arg(&dst)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return out.error("io", "cannot cut the standard clip (ffmpeg CLI, ../shared)");
            }
            dst
        }
    };
    let id_path = args
        .id_photo
        .clone()
        .unwrap_or_else(|| shared.join("faces/obama/1.jpg"));
    let (video, id) = match (std::fs::read(&video_path), std::fs::read(&id_path)) {
        (Ok(v), Ok(i)) => (v, i),
        (Err(e), _) | (_, Err(e)) => return out.error("io", &e.to_string()),
    };
    let engine = match load_engine(&args.vision, args.config.as_ref(), out) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let req = CheckRequest::video(&video).with_id_photo(&id);
    if let Err(e) = engine.check(&req) {
        return out.error("check_failed", &e.to_string());
    }
    let mut runs = Vec::new();
    let mut growth: f64 = 0.0;
    let mut frames = (0, 0);
    for _ in 0..args.runs.max(1) {
        let base = start_peak();
        match engine.check(&req) {
            Ok(v) => {
                frames = (v.media.frames_decoded, v.media.frames_analysed);
                runs.push(v.timings)
            }
            Err(e) => return out.error("check_failed", &e.to_string()),
        }
        growth = growth.max(peak_growth(base));
    }
    let floor = match floor(&engine, &video, &id) {
        Ok(f) => f,
        Err(e) => return out.error("floor_failed", &e),
    };
    let med = |f: fn(&StageTimes) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        round1(v[v.len() / 2])
    };
    let check = StageTimes {
        decode_ms: med(|t| t.decode_ms),
        detect_ms: med(|t| t.detect_ms),
        landmarks_ms: med(|t| t.landmarks_ms),
        pad_ms: med(|t| t.pad_ms),
        embed_ms: med(|t| t.embed_ms),
        signals_ms: med(|t| t.signals_ms),
        total_ms: med(|t| t.total_ms),
    };
    let process_peak_mb = round1(proc_status_mb("VmHWM:"));
    let throughput = if args.concurrency > 1 {
        match throughput(&engine, &req, args.concurrency, args.runs.max(1)) {
            Ok(t) => Some(t),
            Err(e) => return out.error("check_failed", &e),
        }
    } else {
        None
    };
    let report = Report {
        video: video_path.display().to_string(),
        video_bytes: video.len(),
        runs: runs.len(),
        ratio_to_floor: ((check.total_ms / floor.total_ms) * 100.0).round() / 100.0,
        check,
        frames_decoded: frames.0,
        frames_analysed: frames.1,
        floor,
        check_peak_growth_mb: round1(growth),
        process_peak_mb,
        throughput,
    };
    let _ = std::fs::remove_dir_all(&tmp);
    if args.table {
        print_table(&report);
        return ExitCode::SUCCESS;
    }
    out.json(&report)
}

/// `concurrency` threads each running `runs` checks of `req` on the one engine.
fn throughput(
    engine: &Engine,
    req: &CheckRequest<'_>,
    concurrency: usize,
    runs: usize,
) -> Result<Throughput, String> {
    let started = Instant::now();
    let totals = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                scope.spawn(move || {
                    (0..runs)
                        .map(|_| engine.check(req).map(|v| v.timings.total_ms))
                        .collect::<Result<Vec<f64>, _>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| "a check thread panicked".to_string()))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let wall_s = started.elapsed().as_secs_f64();
    let mut all: Vec<f64> = totals
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?
        .into_iter()
        .flatten()
        .collect();
    all.sort_by(f64::total_cmp);
    Ok(Throughput {
        concurrency,
        checks: all.len(),
        wall_s: round2(wall_s),
        checks_per_s: round2(all.len() as f64 / wall_s),
        p50_ms: round1(all[all.len() / 2]),
        max_ms: round1(*all.last().unwrap_or(&0.0)),
        process_peak_mb: round1(proc_status_mb("VmHWM:")),
    })
}

/// Decode alone, then the engine's model calls alone on the decoded frames.
fn floor(engine: &Engine, video: &[u8], id: &[u8]) -> Result<Floor, String> {
    let cfg = engine.config();
    let limits = engine.limits();
    let info = faceproof_media::probe_video(video, limits).map_err(|e| e.to_string())?;
    let plan = engine.sampling_plan(&info);
    let t0 = Instant::now();
    let decoded = faceproof_media::decode_video(video, &plan, limits).map_err(|e| e.to_string())?;
    let decode_ms = ms(t0);
    let frames_decoded = decoded.frames_decoded;

    let vision = engine.vision();
    let t1 = Instant::now();
    // As the check's frames (`engine/src/check/frames.rs`): detector and mesh on every face, the
    // iris on the larger eye of the largest one.
    let per_frame = AnalyzeOptions::MESH_ONLY;
    for frame in &decoded.analysis {
        let faces = vision
            .analyze(&frame.image, &per_frame)
            .map_err(|e| e.to_string())?;
        if let Some(face) = largest(&faces) {
            vision
                .iris_model()
                .run_larger(&frame.image, &face.mesh)
                .map_err(|e| e.to_string())?;
        }
    }
    // As the check's candidates (`engine/src/check/best.rs`): MiniFASNet, no DTN.
    let candidate = AnalyzeOptions {
        iris: false,
        antispoof: false,
        minifas: true,
        refine_mesh: true,
        ..per_frame
    };
    let mut best = None;
    for frame in decoded.full.iter().take(cfg.sampling.pad_frames) {
        let faces = vision
            .analyze(&frame.image, &candidate)
            .map_err(|e| e.to_string())?;
        if best.is_none() {
            best = largest(&faces).cloned().map(|f| (frame, f));
        }
    }
    if let Some((frame, face)) = &best {
        vision
            .embed(&frame.image, face)
            .map_err(|e| e.to_string())?;
    }
    let photo = faceproof_media::decode_image(
        id,
        &faceproof_media::ImageOptions { auto_rotate: true },
        limits,
    )
    .map_err(|e| e.to_string())?;
    let doc = AnalyzeOptions {
        range: Range::Auto,
        iris: false,
        antispoof: false,
        minifas: false,
        embedding: true,
        refine_mesh: true,
    };
    vision
        .analyze(&photo.image, &doc)
        .map_err(|e| e.to_string())?;
    let models_ms = ms(t1);
    Ok(Floor {
        frames_decoded,
        decode_ms: round1(decode_ms),
        models_ms: round1(models_ms),
        total_ms: round1(decode_ms + models_ms),
    })
}

fn print_table(r: &Report) {
    let c = &r.check;
    println!(
        "standard request: {} ({} bytes), median of {} runs",
        r.video, r.video_bytes, r.runs
    );
    println!("| stage | ms |\n|---|---|");
    for (name, v) in [
        ("decode (overlapped with the models)", c.decode_ms),
        ("detect", c.detect_ms),
        ("landmarks (mesh + iris)", c.landmarks_ms),
        ("PAD + best-frame candidates", c.pad_ms),
        (
            "best frame: embed + JPEG beside it, match (ID photo: beside the frames)",
            c.embed_ms,
        ),
        ("signals", c.signals_ms),
        ("total", c.total_ms),
    ] {
        println!("| {name} | {v:.1} |");
    }
    println!(
        "floor: decode {:.1} ({} frames decoded for {} analysed) + models {:.1} = {:.1} ms; \
         check / floor = {:.2}",
        r.floor.decode_ms,
        r.floor.frames_decoded,
        r.frames_analysed,
        r.floor.models_ms,
        r.floor.total_ms,
        r.ratio_to_floor
    );
    println!(
        "peak memory: +{:.1} MB during a check, process peak {:.1} MB",
        r.check_peak_growth_mb, r.process_peak_mb
    );
    if let Some(t) = &r.throughput {
        println!(
            "throughput: {} checks on {} threads in {:.1} s = {:.1} checks/s; per check p50 {:.0} \
             ms, max {:.0} ms; process peak {:.1} MB",
            t.checks,
            t.concurrency,
            t.wall_s,
            t.checks_per_s,
            t.p50_ms,
            t.max_ms,
            t.process_peak_mb
        );
    }
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faceproof-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
