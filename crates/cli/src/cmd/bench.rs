//! `faceproof bench`: speed and memory on this machine. Each part lives in its own file.

use crate::output::Output;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    part: Part,
}

#[derive(clap::Subcommand)]
enum Part {
    /// Per-model inference time (ONNX Runtime) and peak memory.
    Models(super::bench_models::Args),
    /// Decode-to-analysis-frames speed for videos and images.
    Media(super::bench_media::Args),
    /// The standard request (6 s 720p selfie + ID photo) per stage, next to its floor.
    Check(super::bench_check::Args),
    /// 1:N search latency and memory per template on synthetic galleries (10k, 100k, 1M).
    Gallery(super::bench_gallery::Args),
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    match args.part {
        Part::Models(a) => super::bench_models::run(a, out),
        Part::Media(a) => super::bench_media::run(a, out),
        Part::Check(a) => super::bench_check::run(a, out),
        Part::Gallery(a) => super::bench_gallery::run(a, out),
    }
}
