//! The one path uploaded bytes take: handler -> check pool ([`crate::pool`]) -> engine -> verdict.
//! The server probes nothing: the engine validates what it analyses (`Engine::check`,
//! `Engine::check_far_near`) and its refusals come back as [`Refused`] for the adapters to map.
//!
//! A capture token and a challenge are spent once a check slot is taken for the request and
//! before the engine starts: a request refused earlier (auth, form, overload) leaves them usable.

use std::sync::Arc;

use faceproof_engine::check::{CheckRequest, Engine, FarNearRequest, Verdict};

use crate::capture::Evidence;
use crate::pool::Admission;
use crate::refused::Refused;
use crate::state::AppState;

/// Takes a check slot, then spends the request's single-use grants.
async fn admit(state: &AppState, evidence: &Evidence) -> Result<Admission, Refused> {
    let admission = state.checks.admit().await?;
    if let Some(spend) = &evidence.spend {
        spend.spend().await?;
    }
    Ok(admission)
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

pub async fn check_video(state: &AppState, job: VideoJob) -> Result<Verdict, Refused> {
    let engine: Arc<Engine> = state.engine.clone();
    let identity = gallery_probe(&job.evidence).await?;
    let want_template = identity.is_some();
    let mut out = admit(state, &job.evidence)
        .await?
        .run(move || {
            engine.check(&CheckRequest {
                video: &job.video,
                id_photo: job.id_photo.as_deref(),
                id_auto_rotate: job.id_auto_rotate,
                encode_best_frame: job.encode_best_frame,
                challenge: job.evidence.challenge_evidence(),
                telemetry: job.evidence.telemetry.as_ref(),
                want_template,
            })
        })
        .await?
        .map_err(Refused::from_check)?;
    state.metrics.record_stages(&out.timings);
    gallery_step(state, identity.as_ref(), &mut out).await?;
    crate::ratelimit::note_verdict(out.passed());
    Ok(out)
}

/// The request's 1:N probe when its tenant searches its gallery: decided before the check, so the
/// engine computes the face template only then. A store failure fails the request like any
/// internal fault.
async fn gallery_probe(evidence: &Evidence) -> Result<Option<ActiveProbe>, Refused> {
    crate::gallery::active(evidence.identity.clone())
        .await
        .map_err(gallery_fault)
}

/// The 1:N search between the engine's verdict and the adapter (a no-op without a probe).
async fn gallery_step(
    state: &AppState,
    identity: Option<&ActiveProbe>,
    verdict: &mut Verdict,
) -> Result<(), Refused> {
    let Some((probe, settings)) = identity else {
        return Ok(());
    };
    crate::gallery::screen_active(state, probe, settings, verdict)
        .await
        .map_err(gallery_fault)
}

/// A probe whose tenant searches its gallery, with that tenant's 1:N settings.
type ActiveProbe = (crate::gallery::Probe, faceproof_store::GallerySettings);

fn gallery_fault(e: crate::gallery::GalleryError) -> Refused {
    Refused::Internal(format!("1:N gallery: {e}"))
}

/// An ADVANCE capture's media, as received: judged, then stored as artefacts.
pub struct CaptureInputs {
    pub far: Vec<u8>,
    pub near: Vec<u8>,
    pub far_time_ms: Option<i64>,
    pub near_time_ms: Option<i64>,
    pub clip: Option<Vec<u8>>,
}

/// Judges a capture; the media move into the pool and come back with the verdict (no copy), so
/// the handler stores exactly the bytes that were judged.
pub async fn check_far_near(
    state: &AppState,
    media: CaptureInputs,
    evidence: Evidence,
) -> Result<(Verdict, CaptureInputs), Refused> {
    let engine: Arc<Engine> = state.engine.clone();
    let identity = gallery_probe(&evidence).await?;
    let want_template = identity.is_some();
    let (out, media) = admit(state, &evidence)
        .await?
        .run(move || {
            let verdict = engine.check_far_near(&FarNearRequest {
                far: &media.far,
                near: &media.near,
                far_time_ms: media.far_time_ms,
                near_time_ms: media.near_time_ms,
                clip: media.clip.as_deref(),
                encode_best_frame: true,
                challenge: evidence.challenge_evidence(),
                telemetry: evidence.telemetry.as_ref(),
                want_template,
            });
            (verdict, media)
        })
        .await?;
    let mut verdict = out.map_err(Refused::from_capture_check)?;
    state.metrics.record_stages(&verdict.timings);
    gallery_step(state, identity.as_ref(), &mut verdict).await?;
    crate::ratelimit::note_verdict(verdict.passed());
    Ok((verdict, media))
}
