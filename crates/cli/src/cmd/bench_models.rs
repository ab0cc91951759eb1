//! `faceproof bench models`: inference time of every model of the pack (ONNX Runtime, each thread
//! count asked for; median over N runs after a warm-up) and peak memory (VmHWM).
//!
//! A benchmark, not a test: numbers depend on the machine and on what else runs on it.

use super::analyze::{VisionArgs, load_image, vision_error};
use super::bench_media::proc_status_mb;
use crate::output::Output;
use faceproof_vision::pack::{self, Role};
use faceproof_vision::{AnalyzeOptions, Model, Range, Runtime, Vision, VisionConfig};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Timed runs per model and thread count.
    #[arg(long, default_value_t = 50)]
    pub runs: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Thread counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
    /// Also time the whole `analyze` pipeline on this photo (per range, with and without the
    /// anti-spoofing model).
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// Let ONNX Runtime's threads busy-wait (its own default; off in faceproof's config by default).
    #[arg(long)]
    pub spin: bool,
    /// Print a text table instead of JSON.
    #[arg(long)]
    pub table: bool,
    #[command(flatten)]
    pub vision: VisionArgs,
}

#[derive(Serialize)]
struct Row {
    name: String,
    /// Intra-op threads; for pipeline rows "small/anti-spoofing" model threads.
    threads: String,
    input: Vec<usize>,
    median_ms: f64,
    p90_ms: f64,
    min_ms: f64,
    /// Growth of the process's peak resident memory while this entry was loaded and run (MB).
    /// Peaks only grow, so later entries that fit in memory already used report ~0.
    peak_rss_growth_mb: f64,
}

#[derive(Serialize)]
struct Report {
    spinning: bool,
    runs: usize,
    warmup: usize,
    onnxruntime: PathBuf,
    models: Vec<Row>,
    pipeline: Vec<Row>,
    /// Peak resident memory of the whole process at the end (VmHWM, MB).
    vm_hwm_mb: f64,
    /// Resident memory at the end (VmRSS, MB).
    vm_rss_mb: f64,
}

fn summarise(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    let r = |v: f64| (v * 1000.0).round() / 1000.0;
    (r(at(0.5)), r(at(0.9)), r(ms[0]))
}

fn time<F: FnMut() -> Result<(), String>>(
    warmup: usize,
    runs: usize,
    mut f: F,
) -> Result<Vec<f64>, String> {
    for _ in 0..warmup {
        f()?;
    }
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(ms)
}

/// Deterministic input in the model's value range (content does not change these models' cost).
fn input_for(role: Role, len: usize) -> Vec<f32> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let u = state as f32 / u32::MAX as f32;
            match role {
                Role::DetectorShort | Role::DetectorFull | Role::MobileFaceNet => u * 2.0 - 1.0,
                Role::SFace | Role::MiniFas => u * 255.0,
                _ => u,
            }
        })
        .collect()
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    if args.runs == 0 || args.threads.is_empty() || args.threads.contains(&0) {
        return out.error(
            "invalid_arguments",
            "--runs must be >= 1 and every --threads value >= 1",
        );
    }
    let cfg = args.vision.config();
    let lib = cfg.resolved_runtime_library();
    let rt = match Runtime::init(&lib, args.threads[0]) {
        Ok(rt) => rt.with_spinning(args.spin),
        Err(e) => return vision_error(out, &e),
    };
    let mut models = Vec::new();
    for &threads in &args.threads {
        let rt = rt.with_threads(threads);
        for role in Role::ALL {
            let spec = match pack::model_spec(&cfg, role) {
                Ok(s) => s,
                Err(e) => return vision_error(out, &e),
            };
            let before = proc_status_mb("VmHWM:");
            let model = match Model::load(&rt, role, &spec) {
                Ok(m) => m,
                Err(e) => return vision_error(out, &e),
            };
            let Some(info) = model.inputs().first() else {
                return out.error("models_invalid", &format!("{} has no input", role.name()));
            };
            let dims: Vec<usize> = info.shape.iter().map(|&d| d.max(1) as usize).collect();
            let Ok(shape) = <[usize; 4]>::try_from(dims.as_slice()) else {
                return out.error(
                    "models_invalid",
                    &format!("{}: input shape {:?} is not 4-D", role.name(), info.shape),
                );
            };
            let input = input_for(role, shape.iter().product());
            let timed = time(args.warmup, args.runs, || {
                model
                    .run_raw(shape, &input)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
            let ms = match timed {
                Ok(ms) => ms,
                Err(e) => return out.error("vision_failed", &e),
            };
            let (median_ms, p90_ms, min_ms) = summarise(ms);
            models.push(Row {
                name: role.name().to_owned(),
                threads: threads.to_string(),
                input: shape.to_vec(),
                median_ms,
                p90_ms,
                min_ms,
                peak_rss_growth_mb: ((proc_status_mb("VmHWM:") - before) * 10.0).round() / 10.0,
            });
        }
    }
    let mut pipeline = Vec::new();
    if let Some(path) = &args.image {
        let img = match load_image(path) {
            Ok(i) => i,
            Err(e) => return out.error("unreadable_image", &e),
        };
        // every thread count for all models, then the config's own mix
        let mut mixes: Vec<(usize, usize)> = args.threads.iter().map(|&t| (t, t)).collect();
        let own = (cfg.small_model_threads, cfg.threads);
        if !mixes.contains(&own) {
            mixes.push(own);
        }
        for (small, big) in mixes {
            let before = proc_status_mb("VmHWM:");
            let mix = VisionConfig {
                small_model_threads: small,
                threads: big,
                ..cfg.clone()
            };
            let vision = match Vision::with_runtime(&rt, &mix) {
                Ok(v) => v,
                Err(e) => return vision_error(out, &e),
            };
            // (label, range, refined mesh, anti-spoofing, embedding); iris always on
            for (label, range, refine, pad, embedding) in [
                (
                    "analyze short, 1 mesh pass",
                    Range::Short,
                    false,
                    false,
                    false,
                ),
                ("analyze short", Range::Short, true, false, false),
                (
                    "analyze short + pad + embedding",
                    Range::Short,
                    true,
                    true,
                    true,
                ),
                (
                    "analyze auto + pad + embedding",
                    Range::Auto,
                    true,
                    true,
                    true,
                ),
            ] {
                let opts = AnalyzeOptions {
                    range,
                    iris: true,
                    antispoof: pad,
                    minifas: pad,
                    embedding,
                    refine_mesh: refine,
                };
                let timed = time(args.warmup, args.runs, || {
                    vision
                        .analyze(&img, &opts)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                });
                let ms = match timed {
                    Ok(ms) => ms,
                    Err(e) => return out.error("vision_failed", &e),
                };
                let (median_ms, p90_ms, min_ms) = summarise(ms);
                pipeline.push(Row {
                    name: label.to_owned(),
                    threads: format!("{small}/{big}"),
                    input: vec![img.width() as usize, img.height() as usize],
                    median_ms,
                    p90_ms,
                    min_ms,
                    peak_rss_growth_mb: ((proc_status_mb("VmHWM:") - before) * 10.0).round() / 10.0,
                });
            }
        }
    }
    let report = Report {
        spinning: args.spin,
        runs: args.runs,
        warmup: args.warmup,
        onnxruntime: lib,
        models,
        pipeline,
        vm_hwm_mb: (proc_status_mb("VmHWM:") * 10.0).round() / 10.0,
        vm_rss_mb: (proc_status_mb("VmRSS:") * 10.0).round() / 10.0,
    };
    if args.table {
        print_table(&report);
        return ExitCode::SUCCESS;
    }
    out.json(&report)
}

fn print_table(r: &Report) {
    println!(
        "{} timed runs after {} warm-up, thread spinning {}, ONNX Runtime {}",
        r.runs,
        r.warmup,
        if r.spinning { "on" } else { "off" },
        r.onnxruntime.display()
    );
    println!(
        "{:34} {:>7} {:>10} {:>10} {:>10} {:>12}",
        "model", "threads", "median ms", "p90 ms", "min ms", "peak +MB"
    );
    for row in r.models.iter().chain(&r.pipeline) {
        println!(
            "{:34} {:>7} {:>10.2} {:>10.2} {:>10.2} {:>12.1}",
            row.name, row.threads, row.median_ms, row.p90_ms, row.min_ms, row.peak_rss_growth_mb
        );
    }
    println!(
        "process peak memory (VmHWM) {:.1} MB, resident at the end {:.1} MB",
        r.vm_hwm_mb, r.vm_rss_mb
    );
}
