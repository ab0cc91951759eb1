//! Test fixtures generated at test time with the ffmpeg CLI (nothing is committed), and helpers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

/// One temporary directory per test binary; fixtures are made once, on first use.
fn dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("faceproof-media-test")
            .tempdir()
            .expect("temp dir")
    })
    .path()
}

type Slot = Arc<OnceLock<PathBuf>>;

fn slot(name: &str) -> Slot {
    static SLOTS: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let mut map = SLOTS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    map.entry(name.to_string()).or_default().clone()
}

/// Runs the ffmpeg CLI once to create `name` in the fixture directory and returns its path.
/// `args` are the input and encoding arguments; the output path is appended.
pub fn ffmpeg_fixture(name: &str, args: &[&str]) -> PathBuf {
    slot(name)
        .get_or_init(|| {
            let out = dir().join(name);
            let status = Command::new("ffmpeg")
                .env("SVT_LOG", "1")
                .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
                .args(args)
                .arg(&out)
                .status()
                .expect("the ffmpeg CLI must be installed to run these tests");
            assert!(status.success(), "ffmpeg failed to make {name}: {args:?}");
            out
        })
        .clone()
}

/// Creates a fixture file from bytes computed by `make`.
pub fn bytes_fixture(name: &str, make: impl FnOnce() -> Vec<u8>) -> PathBuf {
    slot(name)
        .get_or_init(|| {
            let out = dir().join(name);
            std::fs::write(&out, make()).expect("write fixture");
            out
        })
        .clone()
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The shared data directory: `$FACEPROOF_SHARED`, else `../shared` next to the repository root.
pub fn shared() -> PathBuf {
    if let Ok(p) = std::env::var("FACEPROOF_SHARED") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .canonicalize()
        .expect("shared data next to the repository (or set FACEPROOF_SHARED)")
}

/// The asymmetric test pattern (testsrc2: moving content, coloured bars, a counter) as input args.
pub fn pattern(size: &str, rate: u32, seconds: f64) -> Vec<String> {
    vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("testsrc2=size={size}:rate={rate}:duration={seconds}"),
    ]
}

/// A 3 s, 25 fps, 320x240 H.264 MP4 (moov at the end, as ffmpeg writes by default).
pub fn h264_mp4() -> PathBuf {
    let mut a = pattern("320x240", 25, 3.0);
    a.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    ffmpeg_fixture("h264.mp4", &strs(&a))
}

/// Same clip with the moov atom first.
pub fn h264_mp4_faststart() -> PathBuf {
    let src = h264_mp4();
    ffmpeg_fixture(
        "h264_faststart.mp4",
        &[
            "-i",
            src.to_str().unwrap(),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
        ],
    )
}

pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

/// Frames the ffmpeg CLI decodes (autorotated, as `ffmpeg -i` does by default), as RGB24 bytes of
/// `width` x `height` each.
pub fn cli_frames(path: &Path, count: usize) -> (Vec<Vec<u8>>, u32, u32) {
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args([
            "stream=width,height:stream_side_data=rotation",
            "-of",
            "default=nw=1",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    let text = String::from_utf8_lossy(&probe.stdout);
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let (w, h) = (
        field("width").unwrap() as u32,
        field("height").unwrap() as u32,
    );
    let rot = field("rotation").unwrap_or(0);
    let (w, h) = if rot.rem_euclid(180) == 90 {
        (h, w)
    } else {
        (w, h)
    };
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(path)
        .args([
            "-frames:v",
            &count.to_string(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .expect("ffmpeg");
    assert!(out.status.success());
    let size = (w * h * 3) as usize;
    let frames = out.stdout.chunks(size).map(|c| c.to_vec()).collect();
    (frames, w, h)
}

/// Mean absolute difference of two equally sized byte buffers.
pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "buffers differ in size");
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.len() as f64
}

/// Frame presentation times as ffprobe reports them, relative to the first frame.
pub fn ffprobe_frame_times(path: &Path) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["frame=best_effort_timestamp_time", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe");
    let mut t: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    t.sort_by(f64::total_cmp);
    let first = t.first().copied().unwrap_or(0.0);
    t.iter().map(|x| x - first).collect()
}

/// Small deterministic PRNG (xorshift64*), so "random" inputs are reproducible.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// CRC-32 (IEEE), for hand-made PNG chunks.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A zlib stream of `raw` using stored (uncompressed) deflate blocks.
pub fn zlib_stored(raw: &[u8]) -> Vec<u8> {
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = if raw.is_empty() {
        vec![&[][..]]
    } else {
        raw.chunks(65535).collect()
    };
    for (i, c) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        z.extend_from_slice(&(c.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(c.len() as u16)).to_le_bytes());
        z.extend_from_slice(c);
    }
    z.extend_from_slice(&adler32(raw).to_be_bytes());
    z
}

/// A PNG whose IHDR declares `width` x `height` RGB8 but whose IDAT holds `raw` (scanlines with
/// filter bytes) — honest when `raw` matches, a lying header otherwise.
pub fn png_with_header(width: u32, height: u32, raw: &[u8], zlib: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &zlib.unwrap_or_else(|| zlib_stored(raw)));
    png_chunk(&mut out, b"IEND", &[]);
    out
}
