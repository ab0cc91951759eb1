//! Every threshold the media layer applies, as one typed configuration section.

use serde::{Deserialize, Serialize};

/// Limits for untrusted media. Defaults follow the vendor APIs faceproof imitates (FPT liveness:
/// 10 MB video, 5 MB image, 800x600 minimum image, 720p / 25 fps recommended video; silent-compare:
/// a video under 2 s is `short_time`). Size limits are checked from headers before any large
/// allocation; "minimum" quality values only produce warnings, except `min_duration_seconds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest accepted video, in bytes (FPT: 10 MB).
    pub max_video_bytes: u64,
    /// Largest accepted still image, in bytes (FPT: 5 MB).
    pub max_image_bytes: u64,

    /// Largest video frame width in pixels, as stored (before rotation).
    pub max_video_width: u32,
    /// Largest video frame height in pixels, as stored (before rotation).
    pub max_video_height: u32,
    /// Largest video frame area in pixels (4096x2160 fits; an 8K clip is refused from its header).
    /// Also handed to the decoder, which then refuses to allocate a larger frame whatever the
    /// header said.
    pub max_video_pixels: u64,

    /// Largest image width in pixels.
    pub max_image_width: u32,
    /// Largest image height in pixels.
    pub max_image_height: u32,
    /// Largest image area in pixels (a 100 MP image is refused from its header).
    pub max_image_pixels: u64,

    /// Images below this width (long side, orientation-free) get a `low_resolution` warning (FPT: 800).
    pub min_image_width: u32,
    /// Images below this height (short side, orientation-free) get a `low_resolution` warning (FPT: 600).
    pub min_image_height: u32,
    /// Videos whose short side is below this get a `low_resolution` warning (FPT recommends 720p).
    pub min_video_short_side: u32,
    /// Videos with a lower real frame rate get a `low_frame_rate` warning (FPT recommends 25 fps).
    pub min_video_fps: f64,

    /// Shortest accepted video in seconds; shorter is the `too_short` error (silent-compare:
    /// `short_time` under 2 s).
    pub min_duration_seconds: f64,
    /// Longest accepted video in seconds; longer is the `too_long` error.
    pub max_duration_seconds: f64,
    /// Most video frames accepted (counted while demuxing, before decoding).
    pub max_frames: u64,
    /// Most streams a container may declare (FFmpeg refuses to create more).
    pub max_streams: u32,
    /// Video codecs accepted, by FFmpeg name. Anything else is `unsupported_codec`: this keeps
    /// FFmpeg's many rarely used decoders away from untrusted bytes.
    pub video_codecs: Vec<String>,
    /// Decoder errors tolerated in one video before it is `corrupt` (a damaged slice or two in an
    /// otherwise sound phone video). A truncated file is always `corrupt`.
    pub max_decode_errors: u32,
    /// Bytes FFmpeg may read to identify the container and its streams.
    pub probe_bytes: u64,

    /// Wall-clock budget for one probe or decode, in seconds; past it the work stops with `timeout`.
    pub decode_timeout_seconds: f64,
    /// Long side, in pixels, of the frames decoded for analysis (never upscaled).
    pub analysis_long_side: u32,
    /// Decoder threads per video (FFmpeg's default is 1; 0 lets FFmpeg pick from the CPU count).
    pub threads: u32,
    /// Let the decoder skip the frames the sampling plan does not take when no other frame refers
    /// to them (non-reference B-frames): the frames it does take are decoded bit for bit as
    /// without skipping. Off only to measure what it saves.
    pub skip_unused_frames: bool,
    /// Most full-resolution frames one decode may return.
    pub max_full_frames: u32,
    /// Most bytes of RGB frames one collected decode may return (analysis + full resolution).
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_video_bytes: 10 * 1024 * 1024,
            max_image_bytes: 5 * 1024 * 1024,
            max_video_width: 4096,
            max_video_height: 4096,
            max_video_pixels: 4096 * 2160,
            max_image_width: 16384,
            max_image_height: 16384,
            max_image_pixels: 50_000_000,
            min_image_width: 800,
            min_image_height: 600,
            min_video_short_side: 720,
            min_video_fps: 25.0,
            min_duration_seconds: 2.0,
            max_duration_seconds: 60.0,
            max_frames: 3600,
            max_streams: 16,
            video_codecs: ["h264", "hevc", "vp8", "vp9", "av1", "mpeg4"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            max_decode_errors: 3,
            probe_bytes: 2 * 1024 * 1024,
            decode_timeout_seconds: 30.0,
            analysis_long_side: 640,
            threads: 2,
            skip_unused_frames: true,
            max_full_frames: 16,
            max_output_bytes: 768 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The larger of the two byte limits: what a caller that does not yet know the kind may read.
    pub fn max_input_bytes(&self) -> u64 {
        self.max_video_bytes.max(self.max_image_bytes)
    }
}
