//! Media ingest: untrusted bytes in, decoded and validated frames (or a precise refusal) out.
//!
//! - [`probe`] reads the facts of an image or a video without decoding pixels.
//! - [`decode_video`] / [`decode_video_with`] decode a video into upright RGB [`Frame`]s with exact
//!   timestamps, as a [`SamplingPlan`] asks.
//! - [`decode_image`] decodes a JPEG / PNG / WebP photo, honouring EXIF orientation on request.
//! - [`decode_base64`] and [`read_file`] turn the other input forms into bytes.
//!
//! Every refusal is a [`MediaError`] variant carrying what was measured; every threshold lives in
//! [`Limits`].

mod error;
mod image;
mod info;
mod input;
mod limits;
mod plan;
mod sniff;
mod video;

pub use crate::image::{DecodedImage, ImageOptions, decode_image, probe_image};
pub use error::MediaError;
pub use info::{MediaInfo, MediaKind, Warning};
pub use input::{decode_base64, read_file};
pub use limits::Limits;
pub use plan::{AnalysisFrames, Frame, FrameRole, FullFrames, SamplingPlan};
pub use sniff::ImageFormat;
pub use video::{
    DecodedVideo, DemuxedVideo, VideoSummary, decode_video, decode_video_with, demux_video,
    probe_video,
};

/// Reads the facts of an image or a video, whichever the bytes are, without decoding pixels.
pub fn probe(bytes: &[u8], limits: &Limits) -> Result<MediaInfo, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    match sniff::sniff(bytes) {
        sniff::Sniffed::Other => probe_video(bytes, limits),
        _ => probe_image(bytes, limits),
    }
}

/// Kind of the bytes by their signature: `Some(Image)` for JPEG/PNG/WebP (and refused image
/// formats), `None` when only FFmpeg can tell (a video container, or nothing).
pub fn sniff_kind(bytes: &[u8]) -> Option<MediaKind> {
    match sniff::sniff(bytes) {
        sniff::Sniffed::Other => None,
        _ => Some(MediaKind::Image),
    }
}

/// Versions of the FFmpeg libraries linked at run time, for diagnostics.
pub fn ffmpeg_versions() -> String {
    video::ensure_init();
    let v = |x: u32| format!("{}.{}.{}", x >> 16, (x >> 8) & 0xff, x & 0xff);
    format!(
        "avformat {}, avcodec {}",
        v(ffmpeg_next::format::version()),
        v(ffmpeg_next::codec::version())
    )
}
