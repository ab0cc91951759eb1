//! The silent API's error table: every refusal -> one code, message and HTTP status.

use axum::http::StatusCode;
use faceproof_media::MediaError;

/// An error answer of the silent API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SilentCode {
    pub code: u32,
    pub message: &'static str,
    pub status: StatusCode,
}

const fn c(code: u32, message: &'static str, status: StatusCode) -> SilentCode {
    SilentCode {
        code,
        message,
        status,
    }
}

// The seed's codes.
pub const INVALID_ARGUMENT: SilentCode = c(1200, "invalid argument", StatusCode::BAD_REQUEST);
pub const INVALID_IMAGE_SIZE: SilentCode = c(2003, "invalid image size", StatusCode::BAD_REQUEST);
pub const INVALID_CONTENT_LENGTH: SilentCode =
    c(2004, "invalid content length", StatusCode::BAD_REQUEST);
pub const PAYLOAD_TOO_LARGE: SilentCode = c(
    2004,
    "invalid content length",
    StatusCode::PAYLOAD_TOO_LARGE,
);
pub const LENGTH_REQUIRED: SilentCode =
    c(2004, "invalid content length", StatusCode::LENGTH_REQUIRED);
pub const INVALID_TYPE: SilentCode = c(
    2005,
    "invalid image type or corrupted",
    StatusCode::BAD_REQUEST,
);
pub const DETECTION_FAILED: SilentCode = c(4000, "detection failed", StatusCode::BAD_REQUEST);
pub const FACE_OCCLUSION: SilentCode = c(4004, "face occlusion", StatusCode::BAD_REQUEST);
pub const LIVENESS_FAILED: SilentCode = c(
    4007,
    "liveness silent check failed",
    StatusCode::BAD_REQUEST,
);
pub const NOT_FOUND: SilentCode = c(
    1200,
    "invalid argument: no such endpoint",
    StatusCode::NOT_FOUND,
);
// Ours (the seed has no code for these failures of the request itself).
pub const UNAUTHORIZED: SilentCode = c(1401, "unauthorized", StatusCode::UNAUTHORIZED);
pub const BUSY: SilentCode = c(1429, "too many requests", StatusCode::TOO_MANY_REQUESTS);
pub const UNAVAILABLE: SilentCode = c(1503, "service busy", StatusCode::SERVICE_UNAVAILABLE);
pub const INTERNAL: SilentCode = c(1500, "internal error", StatusCode::INTERNAL_SERVER_ERROR);

/// A media refusal of the video or the image. `TooShort` is not here: a short video is a
/// normal answer (`passed: false`, `liveness_status: short_time`).
pub fn media_code(e: &MediaError) -> SilentCode {
    use MediaError::*;
    match e {
        Empty => INVALID_CONTENT_LENGTH,
        TooLarge { .. } => PAYLOAD_TOO_LARGE,
        // Duration and frame count are the video's "length".
        TooLong { .. } | TooManyFrames { .. } | TooShort { .. } => INVALID_CONTENT_LENGTH,
        TooManyPixels { .. } | DimensionsTooLarge { .. } | OutputTooLarge { .. } => {
            INVALID_IMAGE_SIZE
        }
        NotMedia
        | UnsupportedFormat { .. }
        | UnsupportedCodec { .. }
        | NoVideoStream
        | Corrupt { .. }
        // A decode that never ends is a hostile or broken file.
        | Timeout { .. } => INVALID_TYPE,
        InvalidBase64 { .. } => INVALID_ARGUMENT,
        Io { .. } | Internal { .. } => INTERNAL,
    }
}
