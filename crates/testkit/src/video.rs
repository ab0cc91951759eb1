//! Frames in and out of video files through the ffmpeg CLI.

use image::RgbImage;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A generated video file; its temporary directory lives as long as the clip.
pub struct Clip {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Clip {
    /// A new, still empty file name `name` in a fresh temporary directory.
    pub fn new(name: &str) -> Clip {
        let dir = tempfile::tempdir().expect("temporary directory");
        Clip {
            path: dir.path().join(name),
            _dir: dir,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("read generated clip")
    }
}

/// Decodes up to `max_seconds` of `src` into upright RGB frames at `fps` (ffmpeg autorotates).
/// Returns the frames; their timestamps are `i / fps`.
pub fn read_frames(src: &Path, max_seconds: f64, fps: f64) -> Vec<RgbImage> {
    let (w, h) = probe_upright_size(src);
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(src)
        .args(["-t", &max_seconds.to_string(), "-vf", &format!("fps={fps}")])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ffmpeg CLI (installed by scripts/setup.sh)");
    let mut raw = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut raw).unwrap();
    assert!(
        child.wait().unwrap().success(),
        "ffmpeg failed to decode {}",
        src.display()
    );
    let frame_len = (w * h * 3) as usize;
    raw.chunks_exact(frame_len)
        .map(|c| RgbImage::from_raw(w, h, c.to_vec()).unwrap())
        .collect()
}

/// Encodes frames as H.264 (yuv420p, crf 18) at `fps` into `dst` (the container follows the extension).
pub fn write_video(frames: &[RgbImage], fps: f64, dst: &Path) {
    assert!(!frames.is_empty(), "no frames to write");
    let (w, h) = frames[0].dimensions();
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"])
        .args(["-s", &format!("{w}x{h}"), "-r", &fps.to_string(), "-i", "-"])
        // yuv420p needs even sizes; crop at most one pixel.
        .args(["-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2"])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        ])
        .arg(dst)
        .stdin(Stdio::piped())
        .spawn()
        .expect("ffmpeg CLI (installed by scripts/setup.sh)");
    {
        let mut stdin = child.stdin.take().unwrap();
        for frame in frames {
            assert_eq!(frame.dimensions(), (w, h), "all frames must have one size");
            stdin.write_all(frame.as_raw()).unwrap();
        }
    }
    assert!(
        child.wait().unwrap().success(),
        "ffmpeg failed to encode {}",
        dst.display()
    );
}

/// Width and height after the display-matrix rotation, as ffmpeg's autorotate delivers them.
fn probe_upright_size(src: &Path) -> (u32, u32) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=width,height:stream_side_data=rotation",
            "-of",
            "default=nw=1",
        ])
        .arg(src)
        .output()
        .expect("ffprobe CLI");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    let (w, h) = (
        field("width=").expect("width") as u32,
        field("height=").expect("height") as u32,
    );
    match field("rotation=").unwrap_or(0).rem_euclid(180) {
        90 => (h, w),
        _ => (w, h),
    }
}
