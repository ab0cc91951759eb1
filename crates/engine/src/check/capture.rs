//! The capture SDK's far / near still pair (ADVANCE-style liveness session).

use super::{CheckError, Engine, Verdict};

/// A far / near capture: two stills of the same face taken as the phone comes closer, their
/// capture times, and optionally a short clip recorded between them.
#[derive(Debug, Clone, Copy)]
pub struct CaptureRequest<'a> {
    /// The far still (JPEG / PNG / WebP).
    pub far: &'a [u8],
    /// The near still.
    pub near: &'a [u8],
    /// Capture times, milliseconds since the Unix epoch, as the SDK reported them.
    pub far_time_ms: Option<i64>,
    pub near_time_ms: Option<i64>,
    /// A short clip between the two stills, when the SDK recorded one.
    pub clip: Option<&'a [u8]>,
    /// Encode the near frame and its face crop as JPEG in the verdict's best frame.
    pub encode_best_frame: bool,
}

pub(super) fn check(_engine: &Engine, _req: &CaptureRequest<'_>) -> Result<Verdict, CheckError> {
    Err(CheckError::Internal(
        "far/near capture scoring is not implemented yet".into(),
    ))
}
