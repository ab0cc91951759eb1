//! Why a request could not be judged at all. A negative verdict (spoof, no face, mismatch) is not
//! an error: it is a [`super::Verdict`] with reasons.

use faceproof_media::MediaError;
use faceproof_vision::VisionError;

/// A request the engine could not judge.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The video was refused by the media layer (empty, too large, not a video, corrupt, ...).
    /// A too-short video is not an error but the `video_too_short` reason.
    #[error("video refused: {0}")]
    Video(MediaError),
    /// The ID photo was refused by the media layer.
    #[error("ID photo refused: {0}")]
    IdPhoto(MediaError),
    /// A capture image (far / near selfie) was refused by the media layer.
    #[error("{which} image refused: {error}")]
    CaptureImage {
        which: super::far_near::Shot,
        error: MediaError,
    },
    /// A model failed to run: an internal fault, not a property of the input.
    #[error("model failure: {0}")]
    Vision(#[from] VisionError),
    /// The frames could not be encoded (JPEG of the best frame): internal.
    #[error("internal: {0}")]
    Internal(String),
}

impl CheckError {
    /// True when the fault is the input's (answer 4xx), false when it is ours (answer 5xx).
    pub fn is_input_error(&self) -> bool {
        match self {
            // A decode that runs out of time is the input's fault: a hostile file, not our load.
            CheckError::Video(e)
            | CheckError::IdPhoto(e)
            | CheckError::CaptureImage { error: e, .. } => {
                !matches!(e, MediaError::Internal { .. } | MediaError::Io { .. })
            }
            CheckError::Vision(_) | CheckError::Internal(_) => false,
        }
    }

    /// The media error, when the input was refused by the media layer.
    pub fn media_error(&self) -> Option<&MediaError> {
        match self {
            CheckError::Video(e) | CheckError::IdPhoto(e) => Some(e),
            CheckError::CaptureImage { error, .. } => Some(error),
            _ => None,
        }
    }
}
