//! Media facts (what `probe` reports) and non-fatal warnings.

use serde::Serialize;

/// Still image or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
}

/// Facts about one input, read from headers and (for video) from demuxed packet timestamps,
/// without decoding pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaInfo {
    pub kind: MediaKind,
    /// Container or file format: `mp4`, `mov`, `webm`, `matroska`, `avi`, `jpeg`, `png`, `webp`.
    pub container: String,
    /// Codec name as FFmpeg spells it (`h264`, `hevc`, `vp8`, `vp9`, `av1`, `mpeg4`); for images
    /// the image format again.
    pub codec: String,
    /// Width as stored in the file, before `rotation`.
    pub width: u32,
    /// Height as stored in the file, before `rotation`.
    pub height: u32,
    /// Clockwise rotation, in degrees (0, 90, 180, 270), that makes the picture upright: the
    /// display matrix for videos, the EXIF orientation for images.
    pub rotation: u32,
    /// The image is also mirrored (EXIF orientations 2, 4, 5, 7).
    pub mirrored: bool,
    /// Average frame rate the container declares.
    pub fps: Option<f64>,
    /// Frame rate measured from the packet timestamps: (frames - 1) / (last - first).
    pub fps_real: Option<f64>,
    /// Frame intervals differ by more than 20 % of the median interval.
    pub variable_frame_rate: Option<bool>,
    /// Duration in seconds, from the frame timestamps (first to last plus one frame interval).
    pub duration_seconds: Option<f64>,
    /// Number of video frames (packets of the video stream).
    pub frames: Option<u64>,
    /// The container has an audio stream.
    pub has_audio: bool,
    /// Pixel format (`yuv420p`, `rgb24`, ...), where known.
    pub pixel_format: Option<String>,
    /// Size of the input in bytes.
    pub bytes: u64,
    /// Quality remarks that do not refuse the input; the API layer decides what they mean.
    pub warnings: Vec<Warning>,
}

impl MediaInfo {
    /// Width and height after `rotation`.
    pub fn upright_size(&self) -> (u32, u32) {
        if self.rotation % 180 == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// A remark about the input that does not refuse it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// Smaller than the recommended resolution (orientation-free comparison).
    LowResolution {
        width: u32,
        height: u32,
        min_width: u32,
        min_height: u32,
    },
    /// Lower real frame rate than recommended.
    LowFrameRate { fps: f64, min: f64 },
    /// Shorter than the minimum duration (probe reports it; decoding refuses with `too_short`).
    TooShort { seconds: f64, min: f64 },
    /// The display matrix asks for a rotation that is not a multiple of 90 degrees; it was ignored.
    OddRotation { degrees: f64 },
    /// Some requested full-resolution frames could not be matched to a decoded frame.
    MissingFullFrames { requested: u32, delivered: u32 },
    /// The decoder reported errors on some packets (tolerated up to the limit).
    DecodeErrors { count: u32 },
}

impl Warning {
    /// A stable snake_case identifier, the same as the serialised `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::LowResolution { .. } => "low_resolution",
            Warning::LowFrameRate { .. } => "low_frame_rate",
            Warning::TooShort { .. } => "too_short",
            Warning::OddRotation { .. } => "odd_rotation",
            Warning::MissingFullFrames { .. } => "missing_full_frames",
            Warning::DecodeErrors { .. } => "decode_errors",
        }
    }
}
