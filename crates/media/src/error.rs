//! One error type for every refusal, each variant carrying what was measured.

/// Why an input was refused. The HTTP layer maps variants to vendor codes with [`MediaError::code`]
/// (or by matching the variant), never by reading the message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    /// The input has no bytes at all.
    #[error("the input is empty")]
    Empty,

    /// The input is larger than the configured byte limit.
    #[error("the input is {bytes} bytes, over the limit of {limit} bytes")]
    TooLarge { bytes: u64, limit: u64 },

    /// The bytes are neither a known image nor a known video container.
    #[error("the input is not a recognised image or video")]
    NotMedia,

    /// A recognised format this service does not accept (HEIC, GIF, MPEG-TS, a still image where a
    /// video is expected, ...).
    #[error("the {format} format is not supported")]
    UnsupportedFormat { format: String },

    /// A video stream whose codec is not accepted or cannot be decoded here.
    #[error("the {codec} codec is not supported")]
    UnsupportedCodec { codec: String },

    /// A container without any video stream (audio only, cover art only, ...).
    #[error("the file contains no video stream")]
    NoVideoStream,

    /// The data is damaged or truncated; `detail` says what was found.
    #[error("the file is corrupt or truncated: {detail}")]
    Corrupt { detail: String },

    /// The video is shorter than the minimum duration.
    #[error("the video lasts {seconds:.3} s, shorter than the minimum of {min} s")]
    TooShort { seconds: f64, min: f64 },

    /// The video is longer than the maximum duration.
    #[error("the video lasts {seconds:.3} s, longer than the maximum of {max} s")]
    TooLong { seconds: f64, max: f64 },

    /// Width x height exceeds the pixel budget (checked from the header, before decoding).
    #[error("{width}x{height} is {} pixels, over the limit of {limit}", *width as u64 * *height as u64)]
    TooManyPixels { width: u32, height: u32, limit: u64 },

    /// Width or height exceeds its own limit (checked from the header, before decoding).
    #[error("{width}x{height} exceeds the maximum of {max_width}x{max_height}")]
    DimensionsTooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },

    /// More frames than allowed (counted while demuxing, before decoding).
    #[error("the video has {frames} frames or more, over the limit of {limit}")]
    TooManyFrames { frames: u64, limit: u64 },

    /// Decoding did not finish within the wall-clock budget.
    #[error("decoding did not finish within {seconds} s")]
    Timeout { seconds: f64 },

    /// The decoded frames requested would take more memory than allowed.
    #[error("the requested frames need {bytes} bytes, over the limit of {limit}")]
    OutputTooLarge { bytes: u64, limit: u64 },

    /// A base64 text could not be decoded.
    #[error("invalid base64: {detail}")]
    InvalidBase64 { detail: String },

    /// Reading the input from a file failed.
    #[error("cannot read the input: {detail}")]
    Io { detail: String },

    /// A failure inside the decoding libraries that says nothing about the input (allocation of a
    /// context failed, ...).
    #[error("internal media error: {detail}")]
    Internal { detail: String },
}

impl MediaError {
    /// A stable snake_case identifier for the variant, for JSON bodies and code mapping.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::Empty => "empty",
            MediaError::TooLarge { .. } => "too_large",
            MediaError::NotMedia => "not_media",
            MediaError::UnsupportedFormat { .. } => "unsupported_format",
            MediaError::UnsupportedCodec { .. } => "unsupported_codec",
            MediaError::NoVideoStream => "no_video_stream",
            MediaError::Corrupt { .. } => "corrupt",
            MediaError::TooShort { .. } => "too_short",
            MediaError::TooLong { .. } => "too_long",
            MediaError::TooManyPixels { .. } => "too_many_pixels",
            MediaError::DimensionsTooLarge { .. } => "dimensions_too_large",
            MediaError::TooManyFrames { .. } => "too_many_frames",
            MediaError::Timeout { .. } => "timeout",
            MediaError::OutputTooLarge { .. } => "output_too_large",
            MediaError::InvalidBase64 { .. } => "invalid_base64",
            MediaError::Io { .. } => "io",
            MediaError::Internal { .. } => "internal",
        }
    }

    /// Every code [`MediaError::code`] can return, for exhaustive mapping tables and their tests.
    pub const ALL_CODES: &'static [&'static str] = &[
        "empty",
        "too_large",
        "not_media",
        "unsupported_format",
        "unsupported_codec",
        "no_video_stream",
        "corrupt",
        "too_short",
        "too_long",
        "too_many_pixels",
        "dimensions_too_large",
        "too_many_frames",
        "timeout",
        "output_too_large",
        "invalid_base64",
        "io",
        "internal",
    ];

    pub(crate) fn corrupt(detail: impl Into<String>) -> Self {
        MediaError::Corrupt {
            detail: detail.into(),
        }
    }

    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        MediaError::Internal {
            detail: detail.into(),
        }
    }
}
