//! `faceproof bench gallery`: 1:N search latency (p50, p95 of single searches, one thread) and
//! the index's memory per template, on synthetic galleries of random unit templates. Brute force
//! reads every row whatever it holds, so random templates cost exactly what real ones cost.

use std::process::ExitCode;

use serde_json::json;

use crate::output::Output;

#[derive(clap::Args)]
pub struct Args {
    /// Gallery sizes to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000usize, 100_000, 1_000_000])]
    sizes: Vec<usize>,
    /// Template dimension (SFace and MobileFaceNet: 128).
    #[arg(long, default_value_t = 128)]
    dim: usize,
    /// Searches timed per size.
    #[arg(long, default_value_t = 50)]
    searches: usize,
    /// Target FAR of one search the thresholds are shown for (default: `[gallery] target_far`).
    #[arg(long)]
    target_far: Option<f64>,
    /// Print a table instead of JSON.
    #[arg(long)]
    table: bool,
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    if args.dim == 0 || args.sizes.iter().any(|n| *n == 0 || *n > 20_000_000) {
        return out.error("invalid_argument", "sizes must be 1..=20,000,000, dim >= 1");
    }
    // The threshold each size gets with the shipped calibration (SFace) and the default
    // `[gallery]` / `[engine.matching]` settings.
    let calibration = faceproof_engine::check::Calibration::default();
    let Some(far_model) = calibration.far_model("sface") else {
        return out.error("internal", "the shipped calibration has no SFace FAR model");
    };
    let target = args
        .target_far
        .unwrap_or(faceproof_server::gallery::GalleryConfig::default().target_far);
    if !(target > 0.0 && target < 1.0) {
        return out.error("invalid_argument", "--target-far must be in (0, 1)");
    }
    let floor = far_model.threshold_for_far(
        faceproof_engine::check::EngineConfig::default()
            .matching
            .target_far,
    );
    let threshold = |n: usize| faceproof_server::gallery::threshold_on(far_model, floor, target, n);
    let rows: Vec<_> = args
        .sizes
        .iter()
        .map(|&n| faceproof_gallery::bench::run(n, args.dim, args.searches, 0x5eed ^ n as u64))
        .collect();
    if args.table {
        println!(
            "1:N search, brute force, int8 templates of {} dims, 1 thread",
            args.dim
        );
        println!(
            "{:>10} {:>9} {:>9} {:>14} {:>10} {:>16}",
            "templates", "p50 ms", "p95 ms", "bytes/template", "build ms", "sface threshold"
        );
        for m in &rows {
            println!(
                "{:>10} {:>9.2} {:>9.2} {:>14.0} {:>10.0} {:>16.3}",
                m.templates,
                m.p50_ms,
                m.p95_ms,
                m.bytes_per_template,
                m.build_ms,
                threshold(m.templates)
            );
        }
        return ExitCode::SUCCESS;
    }
    out.json(&json!({
        "dim": args.dim,
        "sizes": rows.iter().map(|m| json!({
            "templates": m.templates,
            "searches": m.searches,
            "p50_ms": m.p50_ms,
            "p95_ms": m.p95_ms,
            "bytes_per_template": m.bytes_per_template,
            "build_ms": m.build_ms,
            "sface_threshold": threshold(m.templates),
        })).collect::<Vec<_>>(),
        "target_far": target,
        "floor_threshold": floor,
    }))
}
