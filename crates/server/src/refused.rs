//! Why a request got no verdict: one type for every upload handler, carrying what was measured
//! (the media layer's sizes and limits, the pool's queue, the store's error), which each vendor
//! adapter maps once to its own code (`fpt::FptRefusal`, `silent::SilentRefusal`,
//! `advance::AdvanceRefusal`, each an `IntoResponse`). Handlers return `Result<_, Refused>` and
//! use `?`; no adapter compares code strings.

use faceproof_engine::check::{CheckError, Shot};
use faceproof_media::MediaError;
use faceproof_store::StoreError;

use crate::auth::AuthFailure;
use crate::capture::{PrepareError, SpendError};
use crate::form::FormError;
use crate::pool::RunError;

/// Which uploaded medium a media refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The selfie video (FPT `video`, silent `video`).
    Video,
    /// The ID photo (FPT `cmnd`, silent `image`).
    IdPhoto,
    /// An ADVANCE capture still (`far` / `near`).
    Still(Shot),
    /// The ADVANCE capture's optional clip.
    Clip,
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Input::Video => "video",
            Input::IdPhoto => "image",
            Input::Still(which) => which.name(),
            Input::Clip => "clip",
        })
    }
}

/// Why a request was refused before (or instead of) a verdict.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// No credential, or one this route does not accept; `detail` when there is more to say.
    #[error("{}", detail.as_deref().unwrap_or("credentials refused"))]
    Unauthorized { detail: Option<String> },
    /// The capture token was spent by another request meanwhile.
    #[error("the capture token can no longer be used: {0}")]
    TokenSpent(StoreError),
    /// The body has no `Content-Length` (the silent API's 411).
    #[error("Content-Length is required")]
    LengthRequired,
    /// A body or field over its limit (`input`: the field, `None`: the whole body).
    #[error("{} is over the limit of {limit} bytes", input.map_or("the body".to_owned(), |i| i.to_string()))]
    TooLarge { input: Option<Input>, limit: u64 },
    /// The body is not the API's shape (not multipart, broken framing, not JSON, duplicates).
    #[error("{0}")]
    Malformed(String),
    /// A required field is missing.
    #[error("{field} is required")]
    Missing { field: &'static str },
    /// A field's value is refused (a time that is not a number, a field sent twice over, ...).
    #[error("{0}")]
    Invalid(String),
    /// `client_telemetry` is not the SDK's JSON.
    #[error("{0}")]
    Telemetry(String),
    /// The challenge is unknown, foreign, used, expired, or required and missing.
    #[error("{0}")]
    Challenge(String),
    /// The ADVANCE `signatureId` is unknown, already filled, or expired.
    #[error("{0}")]
    Signature(String),
    /// ADVANCE: no session of this tenant with that `livenessId` / `signatureId`.
    #[error("no such livenessId or signatureId")]
    UnknownSession,
    /// ADVANCE: the session has no result to read (not uploaded yet, or deleted), and why.
    #[error("{0}")]
    NoResult(String),
    /// The media layer refused an input (what it measured is in `error`).
    #[error("{input}: {error}")]
    Media { input: Input, error: MediaError },
    /// A silent envelope did not open, or was not bound to its pair and its time.
    #[error("encrypted_{input}: {error}")]
    Envelope {
        input: Input,
        error: crate::silent::envelope::EnvelopeError,
    },
    /// The silent pair was already judged within the replay window.
    #[error("this envelope pair was already submitted at {first_seen_ms} (replays are refused)")]
    Replayed { first_seen_ms: i64 },
    /// The check pool is full, the wait too long, or the task failed.
    #[error(transparent)]
    Pool(#[from] RunError),
    /// Every upload slot of the body gate is taken (nothing was read).
    #[error("too many uploads in flight")]
    UploadsInFlight,
    /// The per-tenant or per-client rate limit, or a failure lockout (`[server.rate_limit]`);
    /// answered 429 with `Retry-After` by the gate.
    #[error("{0}")]
    RateLimited(&'static str),
    /// Our fault (store, model, encoder): logged, never detailed to the client.
    #[error("internal: {0}")]
    Internal(String),
}

impl Refused {
    /// True when the fault is ours (answered 5xx and logged as an error).
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Refused::Internal(_) | Refused::Pool(RunError::TaskFailed(_))
        )
    }

    /// Logs the refusal at the level its cause deserves.
    pub fn log(&self, api: &'static str) {
        match self {
            e if e.is_internal() => tracing::error!(api, error = %e, "request failed"),
            Refused::Pool(e) => tracing::warn!(api, error = %e, "check not run"),
            e => tracing::debug!(api, error = %e, "request refused"),
        }
    }

    /// The engine's error for a selfie-video request.
    pub fn from_check(e: CheckError) -> Self {
        Self::from_engine(e, Input::Video)
    }

    /// The engine's error for an ADVANCE capture, whose video is the clip.
    pub fn from_capture_check(e: CheckError) -> Self {
        Self::from_engine(e, Input::Clip)
    }

    fn from_engine(e: CheckError, video: Input) -> Self {
        if !e.is_input_error() {
            return Refused::Internal(e.to_string());
        }
        let (input, error) = match e {
            CheckError::Video(error) => (video, error),
            CheckError::IdPhoto(error) => (Input::IdPhoto, error),
            CheckError::CaptureImage { which, error } => (Input::Still(which), error),
            other => return Refused::Internal(other.to_string()),
        };
        Refused::Media { input, error }
    }

    /// A body or field limit from the form reader; `input` names the field's medium.
    pub fn from_form(e: FormError, input: impl Fn(&str) -> Option<Input>) -> Self {
        match e {
            FormError::BodyTooLarge { limit } => Refused::TooLarge {
                input: None,
                limit: limit as u64,
            },
            FormError::FieldTooLarge { field, limit } => Refused::TooLarge {
                input: input(&field),
                limit,
            },
            other => Refused::Malformed(other.to_string()),
        }
    }

    /// A media field that is not the media it claims (silent base64, which the media layer
    /// decodes and measures).
    pub fn media(input: Input, error: MediaError) -> Self {
        match error {
            MediaError::Internal { .. } | MediaError::Io { .. } => {
                Refused::Internal(error.to_string())
            }
            error => Refused::Media { input, error },
        }
    }
}

impl From<AuthFailure> for Refused {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::Refused => Refused::Unauthorized { detail: None },
            AuthFailure::Backend(e) => Refused::Internal(format!("credential lookup: {e}")),
        }
    }
}

impl From<SpendError> for Refused {
    fn from(e: SpendError) -> Self {
        match e {
            SpendError::Token(e) => Refused::TokenSpent(e),
            SpendError::Challenge(e) => Refused::Challenge(e.to_string()),
            SpendError::Backend(e) => Refused::Internal(format!("spending grants: {e}")),
        }
    }
}

impl From<PrepareError> for Refused {
    fn from(e: PrepareError) -> Self {
        match e {
            PrepareError::Invalid(d) => Refused::Challenge(d),
            PrepareError::Backend(d) => Refused::Internal(format!("challenge lookup: {d}")),
        }
    }
}

impl From<StoreError> for Refused {
    /// A store failure where no single-use refusal is expected: ours.
    fn from(e: StoreError) -> Self {
        Refused::Internal(format!("store: {e}"))
    }
}
