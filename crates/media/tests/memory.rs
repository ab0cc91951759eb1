//! Peak memory of hostile and normal decodes, measured in a child process (VmHWM covers FFmpeg's C
//! allocations too, which a Rust allocator hook would miss).

mod common;

use common::*;
use faceproof_media::{ImageOptions, Limits, SamplingPlan, decode_image, decode_video};
use std::process::Command;

const CHILD_ENV: &str = "FACEPROOF_MEMORY_CHILD";

fn vm_hwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM line")
}

/// Runs one decode named by `FACEPROOF_MEMORY_CHILD=<kind>:<path>` and prints its result code and
/// the process's peak resident memory. Only meaningful when started by `measure` below.
#[test]
#[ignore = "started by the memory tests in a child process"]
fn memory_child() {
    let spec = std::env::var(CHILD_ENV).expect("started by measure()");
    let (kind, path) = spec.split_once(':').expect("kind:path");
    let limits = Limits::default();
    let code = if kind == "baseline" {
        "ok"
    } else {
        let bytes = read(std::path::Path::new(path));
        let result = match kind {
            "image" => {
                decode_image(&bytes, &ImageOptions { auto_rotate: true }, &limits).map(|_| ())
            }
            "video" => decode_video(&bytes, &SamplingPlan::default(), &limits).map(|_| ()),
            other => panic!("unknown kind {other}"),
        };
        match result {
            Ok(()) => "ok",
            Err(e) => e.code(),
        }
    };
    println!("MEMORY_RESULT {code} {}", vm_hwm_kb());
}

/// Result code and peak memory (MiB) of one decode in a fresh process.
fn measure(kind: &str, path: &std::path::Path) -> (String, f64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "memory_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{kind}:{}", path.display()))
        .output()
        .expect("run the test binary as a child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("MEMORY_RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| {
            panic!(
                "child failed: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let (code, kb) = line.split_once(' ').unwrap();
    (code.to_string(), kb.parse::<f64>().unwrap() / 1024.0)
}

/// An MP4 whose container says 320x240 while its H.264 parameter sets say 7680x4320.
fn lying_mp4() -> std::path::PathBuf {
    let src = read(&ffmpeg_fixture(
        "8k_for_lie.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:size=7680x4320:rate=25:duration=0.2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
        ],
    ));
    bytes_fixture("lying_8k.mp4", || {
        let mut b = src.clone();
        let tkhd = b.windows(4).position(|w| w == b"tkhd").unwrap();
        let size = u32::from_be_bytes(b[tkhd - 4..tkhd].try_into().unwrap()) as usize;
        let end = tkhd - 4 + size;
        b[end - 8..end - 4].copy_from_slice(&(320u32 << 16).to_be_bytes());
        b[end - 4..end].copy_from_slice(&(240u32 << 16).to_be_bytes());
        let avc1 = b.windows(4).position(|w| w == b"avc1").unwrap() + 4;
        b[avc1 + 24..avc1 + 26].copy_from_slice(&320u16.to_be_bytes());
        b[avc1 + 26..avc1 + 28].copy_from_slice(&240u16.to_be_bytes());
        b
    })
}

#[test]
fn peak_memory_stays_bounded() {
    let (_, baseline) = measure("baseline", std::path::Path::new("-"));
    let huge_png = bytes_fixture("huge.png", || {
        png_with_header(30000, 30000, &[0u8; 100_000], None)
    });
    let big_jpeg = ffmpeg_fixture(
        "mem_100mp.jpg",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:size=10000x10000",
            "-frames:v",
            "1",
            "-q:v",
            "31",
        ],
    );
    let eight_k = ffmpeg_fixture(
        "mem_8k.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:size=7680x4320:rate=25:duration=0.2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let mut hd = pattern("1280x720", 30, 6.0);
    hd.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ]
        .map(String::from),
    );
    let hd = ffmpeg_fixture("mem_720p.mp4", &strs(&hd));
    // (kind, file, expected result, allowed growth over the baseline in MiB)
    let cases = [
        ("image", huge_png, "too_many_pixels", 16.0),
        ("image", big_jpeg, "too_many_pixels", 16.0),
        ("video", eight_k, "too_many_pixels", 48.0),
        ("video", lying_mp4(), "too_many_pixels", 48.0),
        // 180 analysis frames at 640x360 (124 MB) + 8 full frames (22 MB) + decoder.
        ("video", hd, "ok", 260.0),
    ];
    for (kind, path, expected, growth) in cases {
        let (code, peak) = measure(kind, &path);
        println!(
            "{}: {code}, peak {peak:.1} MiB (baseline {baseline:.1})",
            path.display()
        );
        assert_eq!(code, expected, "{}", path.display());
        assert!(
            peak < baseline + growth,
            "{}: peak {peak:.1} MiB over the {baseline:.1} MiB baseline + {growth}",
            path.display()
        );
    }
}
