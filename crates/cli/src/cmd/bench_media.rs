//! `faceproof bench media`: decode-to-analysis-frames speed and peak memory per decode.
//!
//! Clips are generated with the ffmpeg CLI into a temporary directory (a moving test pattern with
//! film grain, closer to a phone's noisy sensor than a clean pattern): 360p / 720p / 1080p at
//! 30 fps, H.264 and HEVC, phone-like bit rates. Each is decoded with 1 and 2 threads, every frame
//! converted to an analysis frame (640 px long side) plus 8 full-resolution frames.
//!
//! Two numbers per case: `stream` hands frames to a sink that drops them (the decoder's own cost
//! and memory), `collect` keeps them all as `decode_video` does (what the engine holds). Peak
//! memory is VmHWM, reset before each decode through `/proc/self/clear_refs` after returning freed
//! heap pages to the system; growth is measured from the resident size at the start.
//!
//! A benchmark, not a test: numbers depend on the machine and on what else runs on it.

use crate::output::Output;
use faceproof_media::{
    ImageOptions, Limits, SamplingPlan, decode_image, decode_video, decode_video_with,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Clip length in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Timed decodes per case (the fastest is reported).
    #[arg(long, default_value_t = 2)]
    pub runs: usize,
    /// Thread counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<u32>,
    /// Resolutions to measure, comma-separated (360, 720, 1080).
    #[arg(long, value_delimiter = ',', default_value = "360,720,1080")]
    pub heights: Vec<u32>,
    /// Codecs to measure, comma-separated (h264, hevc).
    #[arg(long, value_delimiter = ',', default_value = "h264,hevc")]
    pub codecs: Vec<String>,
    /// Keep the generated clips in this directory instead of a temporary one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

#[derive(Serialize)]
struct Row {
    codec: String,
    resolution: String,
    bitrate_kbps: u32,
    threads: u32,
    frames: u64,
    /// Decoded frames per second, every frame converted to an analysis frame (frames dropped).
    stream_fps: f64,
    /// Decoded frames per second when every frame is kept (`decode_video`).
    collect_fps: f64,
    /// Peak resident memory growth during one streaming decode (MB).
    stream_peak_mb: f64,
    /// Peak resident memory growth during one collecting decode (MB).
    collect_peak_mb: f64,
    /// Bytes of RGB frames the collecting decode returned (MB).
    collect_frames_mb: f64,
}

#[derive(Serialize)]
struct ImageRow {
    format: String,
    resolution: String,
    bytes: usize,
    decode_ms: f64,
    peak_mb: f64,
}

#[derive(Serialize)]
struct Report {
    ffmpeg: String,
    seconds: f64,
    analysis_long_side: u32,
    full_frames: u32,
    videos: Vec<Row>,
    images: Vec<ImageRow>,
    /// Whether VmHWM could be reset per decode (otherwise peaks are process-wide).
    peak_reset: bool,
}

pub fn run(args: Args, out: &Output) -> ExitCode {
    match bench(&args) {
        Ok(report) => out.json(&report),
        Err(message) => out.error("bench_failed", &message),
    }
}

fn bench(args: &Args) -> Result<Report, String> {
    let (dir, _cleanup) = match &args.keep {
        Some(d) => (d.clone(), None),
        None => {
            let d =
                std::env::temp_dir().join(format!("faceproof-bench-media-{}", std::process::id()));
            (d.clone(), Some(RemoveOnDrop(d)))
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = dir.as_path();
    let limits = Limits {
        decode_timeout_seconds: 600.0,
        max_duration_seconds: args.seconds.max(60.0),
        ..Limits::default()
    };
    let plan = SamplingPlan::default();
    let peak_reset = reset_peak();
    let mut videos = Vec::new();
    for codec in &args.codecs {
        for &height in &args.heights {
            let (path, kbps) = make_clip(dir, codec, height, args.seconds)?;
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            for &threads in &args.threads {
                let limits = Limits {
                    threads,
                    ..limits.clone()
                };
                let mut best_stream = f64::MAX;
                let mut best_collect = f64::MAX;
                let (mut stream_peak, mut collect_peak) = (0.0f64, 0.0f64);
                let (mut frames, mut frames_mb) = (0, 0.0);
                for _ in 0..args.runs.max(1) {
                    let base = start_peak();
                    let t = Instant::now();
                    let summary = decode_video_with(&bytes, &plan, &limits, |_, frame| {
                        drop(frame);
                        Ok(())
                    })
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                    best_stream = best_stream.min(t.elapsed().as_secs_f64());
                    stream_peak = stream_peak.max(peak_growth(base));
                    frames = summary.frames_decoded;

                    let base = start_peak();
                    let t = Instant::now();
                    let video = decode_video(&bytes, &plan, &limits)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    best_collect = best_collect.min(t.elapsed().as_secs_f64());
                    collect_peak = collect_peak.max(peak_growth(base));
                    frames_mb = video
                        .analysis
                        .iter()
                        .chain(&video.full)
                        .map(|f| f.image.as_raw().len() as f64)
                        .sum::<f64>()
                        / 1e6;
                }
                videos.push(Row {
                    codec: codec.clone(),
                    resolution: format!("{height}p"),
                    bitrate_kbps: kbps,
                    threads,
                    frames,
                    stream_fps: round1(frames as f64 / best_stream),
                    collect_fps: round1(frames as f64 / best_collect),
                    stream_peak_mb: round1(stream_peak),
                    collect_peak_mb: round1(collect_peak),
                    collect_frames_mb: round1(frames_mb),
                });
            }
        }
    }
    let images = bench_images(dir, args.runs.max(1), &limits)?;
    Ok(Report {
        ffmpeg: faceproof_media::ffmpeg_versions(),
        seconds: args.seconds,
        analysis_long_side: limits.analysis_long_side,
        full_frames: 8,
        videos,
        images,
        peak_reset,
    })
}

fn bench_images(dir: &Path, runs: usize, limits: &Limits) -> Result<Vec<ImageRow>, String> {
    let mut rows = Vec::new();
    for (name, size, extra) in [
        ("photo_12mp.jpg", "4032x3024", &["-q:v", "3"][..]),
        ("photo_1080p.png", "1920x1080", &[][..]),
        ("photo_12mp.webp", "4032x3024", &["-quality", "80"][..]),
    ] {
        let path = dir.join(name);
        if !path.exists() {
            let source = format!("testsrc2=size={size},noise=alls=12:allf=t");
            let mut a = vec!["-f", "lavfi", "-i", source.as_str(), "-frames:v", "1"];
            a.extend_from_slice(extra);
            ffmpeg(&a, &path)?;
        }
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        let limits = Limits {
            max_image_bytes: 64 << 20,
            ..limits.clone()
        };
        let mut best = f64::MAX;
        let mut peak = 0.0f64;
        for _ in 0..runs {
            let base = start_peak();
            let t = Instant::now();
            let img = decode_image(&bytes, &ImageOptions { auto_rotate: true }, &limits)
                .map_err(|e| format!("{name}: {e}"))?;
            best = best.min(t.elapsed().as_secs_f64());
            peak = peak.max(peak_growth(base));
            drop(img);
        }
        rows.push(ImageRow {
            format: name.rsplit('.').next().unwrap_or(name).to_string(),
            resolution: size.to_string(),
            bytes: bytes.len(),
            decode_ms: round1(best * 1000.0),
            peak_mb: round1(peak),
        });
    }
    Ok(rows)
}

/// Generates one clip (if missing) and returns its path and bit rate.
fn make_clip(dir: &Path, codec: &str, height: u32, seconds: f64) -> Result<(PathBuf, u32), String> {
    let width = height * 16 / 9;
    let kbps = match height {
        h if h <= 360 => 1500,
        h if h <= 720 => 5000,
        _ => 10000,
    };
    let path = dir.join(format!("{codec}_{height}p.mp4"));
    if path.exists() {
        return Ok((path, kbps));
    }
    let source =
        format!("testsrc2=size={width}x{height}:rate=30:duration={seconds},noise=alls=12:allf=t");
    let rate = format!("{kbps}k");
    let buffer = format!("{}k", kbps * 2);
    let mut a = vec!["-f", "lavfi", "-i", source.as_str()];
    match codec {
        "h264" => a.extend(["-c:v", "libx264", "-preset", "veryfast"]),
        "hevc" => a.extend([
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
            "-tag:v",
            "hvc1",
        ]),
        other => return Err(format!("unknown codec {other} (h264, hevc)")),
    }
    a.extend([
        "-b:v",
        rate.as_str(),
        "-maxrate",
        rate.as_str(),
        "-bufsize",
        buffer.as_str(),
    ]);
    a.extend(["-pix_fmt", "yuv420p", "-movflags", "+faststart"]);
    ffmpeg(&a, &path)?;
    Ok((path, kbps))
}

fn ffmpeg(args: &[&str], out: &Path) -> Result<(), String> {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .arg(out)
        .status()
        .map_err(|e| format!("cannot run the ffmpeg CLI: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("ffmpeg failed to make {}", out.display()))
    }
}

/// Removes the generated clips when the benchmark ends.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A `/proc/self/status` field in MB (0 when unavailable).
pub(super) fn proc_status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak resident memory to the current value (Linux `clear_refs` 5).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Returns freed heap memory to the system, so the next decode's growth is measured from a low
/// resident size instead of being hidden by pages the allocator kept.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_memory() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: glibc's malloc_trim only releases unused heap pages.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}

/// Resets the peak and returns the resident memory to measure growth from.
pub(super) fn start_peak() -> f64 {
    release_free_memory();
    reset_peak();
    proc_status_mb("VmRSS:")
}

pub(super) fn peak_growth(base: f64) -> f64 {
    (proc_status_mb("VmHWM:") - base).max(0.0)
}
