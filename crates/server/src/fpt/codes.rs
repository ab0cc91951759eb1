//! The FPT code table: one engine reason -> one FPT code and message, in one place.

use faceproof_engine::check::ReasonCode;

/// What an engine reason becomes in an FPT response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FptCode {
    /// An error code (`"301"`, `"410"`, ...) and its message.
    Error(&'static str, &'static str),
    /// Not an error: the text goes into the `warning` field of its part.
    Warning(&'static str),
}

/// The whole mapping. Messages follow the seed's samples where it has one for the code.
pub fn fpt_code(reason: ReasonCode) -> FptCode {
    use FptCode::{Error, Warning};
    use ReasonCode::*;
    match reason {
        // capture (a retake can fix it)
        NoFace | FaceLost => Error("410", "No face detected or face lost in video"),
        MultipleFaces => Error("408", "More than 1 face in the video"),
        FaceTooSmall => Error("411", "The face is too small"),
        FaceBlurry => Error("412", "The face is too blurry"),
        FaceTooDark | FaceTooBright | Backlit | FaceOccluded => {
            Error("406", "Face quality is not good enough")
        }
        NotFrontal => Error("422", "No frontal face in video"),
        FaceOutOfFrame => Error("423", "Face is out of frame during video"),
        VideoTooShort => Error("409", "Video is too short"),
        // liveness
        StillImage => Error("413", "Video may seem like image"),
        Spoof => Error("301", "Face in video is spoof"),
        Deepfake => Error("302", "Video seems like deepfake"),
        // Ours: only a request that used the challenge extension can fail it.
        ChallengeFailed => Error("304", "Face in video did not answer the challenge"),
        // Client telemetry alone never decides: a note for the reviewer (need_to_review is set).
        InjectionSuspected => Warning(
            "The capture device or browser looks virtual or automated. Please review this capture",
        ),
        // face match
        FaceMismatch => Error("303", "face is not matching with document"),
        NoFaceInDocument => Error("407", "No faces detected in document"),
        // 1:N (ours, opt-in per tenant): a duplicate set to warn shows in the stored verdict only.
        DuplicateIdentity => Error("305", "Face is already enrolled under another identity"),
        Blocklisted => Error("306", "Face is on the blocklist"),
        // warnings
        LowResolution => Warning(
            "Resolution of video is too low. Please upload video with at least HD resolution to ensure accuracy",
        ),
        LowFrameRate => Warning(
            "Frame rate of video is too low. Please upload video with at least 25fps to ensure accuracy",
        ),
        DocumentFaceTooSmall => Warning(
            "The face in the document is small. Please upload an image whose face takes up at least 40% of it",
        ),
        DocumentLowResolution => Warning(
            "Resolution of document is too low. Please upload an image of at least 800x600 to ensure accuracy",
        ),
    }
}

/// Success messages of each part and of the whole.
pub const OK_REQUEST: (&str, &str) = ("200", "request successful");
pub const OK_LIVENESS: (&str, &str) = ("200", "liveness check successful");
pub const OK_MATCH: (&str, &str) = ("200", "face matching successful");
/// Refused input (not a video, empty, corrupt, too large...): the seed's 409.
pub const INVALID_VIDEO: (&str, &str) = ("409", "Invalid upload video");
pub const INVALID_IMAGE: (&str, &str) = ("409", "Invalid upload image");
pub const NO_VIDEO: (&str, &str) = ("409", "No video uploaded");
/// Ours, for the challenge extension: a `challenge_id` that is unknown, another tenant's, used,
/// expired or not the capture token's; or one missing when the tenant requires it.
pub const INVALID_CHALLENGE: (&str, &str) = (
    "409",
    "Invalid challenge: unknown, used, expired or required",
);
/// Ours: `client_telemetry` that is not the SDK's JSON, or too long.
pub const INVALID_TELEMETRY: (&str, &str) = ("409", "Invalid client telemetry");
/// Not in the seed's table: our own codes for failures of the request itself.
pub const UNAUTHORIZED: (&str, &str) = ("401", "Invalid or missing api-key");
pub const BUSY: (&str, &str) = ("429", "Too many requests, try again later");
pub const UNAVAILABLE: (&str, &str) = ("503", "Service busy, try again later");
pub const INTERNAL: (&str, &str) = ("500", "Internal server error");
/// Placeholder of every value the request did not produce, as the seed's samples show.
pub const NA: &str = "N/A";
