//! Runs one engine check in the check pool: the media layer's probe first (header-level refusals
//! cost milliseconds and need no model), then the engine. Vendor adapters map the outcome.
//!
//! A capture token and a challenge are spent once a check slot is taken for the request and
//! before the engine starts: a request refused earlier (auth, form, overload) leaves them usable.

use std::sync::Arc;

use faceproof_engine::check::{CaptureRequest, CheckError, CheckRequest, Engine, Verdict};
use faceproof_media::{Limits, MediaError, MediaKind};

use crate::capture::{Evidence, SpendError};
use crate::checks::{Admission, RunError};
use crate::state::AppState;

/// Why no verdict came back.
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    /// The engine (or the probe before it) refused the request.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The check pool refused or failed it.
    #[error(transparent)]
    Pool(#[from] RunError),
    /// The capture token or the challenge could not be spent (used meanwhile, or the store).
    #[error(transparent)]
    Spend(#[from] SpendError),
}

/// Takes a check slot, then spends the request's single-use grants.
async fn admit(state: &AppState, evidence: &Evidence) -> Result<Admission, JudgeError> {
    let admission = state.checks.admit().await?;
    if let Some(spend) = &evidence.spend {
        spend.spend().await?;
    }
    Ok(admission)
}

/// Refuses bytes that are not a video (an image sent as the video is a refused format, not a
/// still-image attack: there is nothing to judge over time).
pub fn probe_video(bytes: &[u8], limits: &Limits) -> Result<(), MediaError> {
    let info = faceproof_media::probe(bytes, limits)?;
    match info.kind {
        MediaKind::Video => Ok(()),
        MediaKind::Image => Err(MediaError::UnsupportedFormat {
            format: format!("{} still image where a video is expected", info.container),
        }),
    }
}

/// Refuses bytes that are not a still image.
pub fn probe_image(bytes: &[u8], limits: &Limits) -> Result<(), MediaError> {
    let info = faceproof_media::probe(bytes, limits)?;
    match info.kind {
        MediaKind::Image => Ok(()),
        MediaKind::Video => Err(MediaError::UnsupportedFormat {
            format: format!("{} video where an image is expected", info.container),
        }),
    }
}

/// A selfie-video check's inputs, owned so they can move to the blocking pool.
pub struct VideoJob {
    pub video: Vec<u8>,
    pub id_photo: Option<Vec<u8>>,
    pub id_auto_rotate: bool,
    pub encode_best_frame: bool,
    /// The challenge, the telemetry and the grants spent on admission.
    pub evidence: Evidence,
}

pub async fn check_video(state: &AppState, job: VideoJob) -> Result<Verdict, JudgeError> {
    let engine: Arc<Engine> = state.engine.clone();
    let identity = job.evidence.identity.clone();
    let mut out = admit(state, &job.evidence)
        .await?
        .run(move || {
            let limits = engine.limits();
            probe_video(&job.video, limits).map_err(CheckError::Video)?;
            if let Some(photo) = &job.id_photo {
                probe_image(photo, limits).map_err(CheckError::IdPhoto)?;
            }
            let req = CheckRequest {
                video: &job.video,
                id_photo: job.id_photo.as_deref(),
                id_auto_rotate: job.id_auto_rotate,
                encode_best_frame: job.encode_best_frame,
                challenge: job.evidence.challenge_evidence(),
                telemetry: job.evidence.telemetry.as_ref(),
            };
            engine.check(&req)
        })
        .await??;
    state.metrics.record_stages(&out.timings);
    gallery_step(state, identity.as_ref(), &mut out).await?;
    crate::ratelimit::note_verdict(out.passed());
    Ok(out)
}

/// The 1:N search between the engine's verdict and the adapter (a no-op for tenants without the
/// gallery). A store failure fails the request like any internal fault.
async fn gallery_step(
    state: &AppState,
    identity: Option<&crate::gallery::Probe>,
    verdict: &mut Verdict,
) -> Result<(), JudgeError> {
    let Some(probe) = identity else {
        return Ok(());
    };
    crate::gallery::screen(state, probe, verdict)
        .await
        .map_err(|e| JudgeError::Check(CheckError::Internal(format!("1:N gallery: {e}"))))
}

/// A far / near capture's inputs.
pub struct CaptureJob {
    pub far: Vec<u8>,
    pub near: Vec<u8>,
    pub far_time_ms: Option<i64>,
    pub near_time_ms: Option<i64>,
    pub clip: Option<Vec<u8>>,
    /// The challenge (answered in the clip), the telemetry and the grants spent on admission.
    pub evidence: Evidence,
}

pub async fn check_capture(state: &AppState, job: CaptureJob) -> Result<Verdict, JudgeError> {
    let engine: Arc<Engine> = state.engine.clone();
    let identity = job.evidence.identity.clone();
    let mut out = admit(state, &job.evidence)
        .await?
        .run(move || {
            let limits = engine.limits();
            for (which, bytes) in [("far", &job.far), ("near", &job.near)] {
                probe_image(bytes, limits)
                    .map_err(|error| CheckError::CaptureImage { which, error })?;
            }
            if let Some(clip) = &job.clip {
                probe_video(clip, limits).map_err(CheckError::Video)?;
            }
            let req = CaptureRequest {
                far: &job.far,
                near: &job.near,
                far_time_ms: job.far_time_ms,
                near_time_ms: job.near_time_ms,
                clip: job.clip.as_deref(),
                encode_best_frame: true,
                challenge: job.evidence.challenge_evidence(),
                telemetry: job.evidence.telemetry.as_ref(),
            };
            engine.check_capture(&req)
        })
        .await??;
    state.metrics.record_stages(&out.timings);
    gallery_step(state, identity.as_ref(), &mut out).await?;
    crate::ratelimit::note_verdict(out.passed());
    Ok(out)
}
