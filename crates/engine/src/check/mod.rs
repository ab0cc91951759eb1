//! The verdict engine: media in, one API-neutral [`Verdict`] out.
//!
//! ```text
//! video bytes ─ media::decode (analysis frames at 15 fps + full-res candidates)
//!             ─ track: per frame detect / mesh / quality (vision), skin colour, face count
//!             ─ capture rules ─> reasons (no_face, face_too_small, ...)
//!             ─ signals (motion, planarity, blink, pulse, screen, jitter, PAD model)
//!             ─ fusion ─> liveness, deepfake
//!             ─ best frame (full resolution) ─ embedding ─ match vs ID photo
//! ```
//!
//! [`Engine`] is `Send + Sync`: share one behind an `Arc` and call [`Engine::check`] from as many
//! threads as the host has cores.

mod best;
mod challenge;
mod config;
mod document;
mod error;
pub(crate) mod evidence;
mod far_near;
mod frames;
mod fusion;
mod identity;
mod matching;
mod observation;
mod regions;
mod rules;
mod selfie;
mod tracker;
mod verdict;

pub use config::{
    CaptureConfig, CaptureFusionConfig, CapturePairConfig, DeepfakeConfig, DocumentConfig,
    EngineConfig, LivenessConfig, MatchingConfig, SamplingConfig, SignalConfigs,
};
pub use document::Document;
pub use error::CheckError;
/// The names of the fused features, as they appear in `Liveness.signals` and in calibrations.
pub use evidence::names as feature_names;
pub use far_near::{FarNearRequest, Shot};
pub use fusion::{Calibration, FusionModels};
pub use verdict::{
    AttackType, BestFrame, CaptureMeasures, Deepfake, FaceMatch, FaceTemplate, FarAtScore,
    IdentityHit, IdentityList, IdentitySearch, Liveness, MediaFacts, Reason, ReasonCode, Severity,
    SignalValue, Stage, StageTimes, Verdict,
};

use crate::calibrate::far::FarModel;
use crate::challenge::{ChallengeEvidence, ClientTelemetry};
use faceproof_media::Limits;
use faceproof_vision::{Vision, VisionConfig};
use std::sync::Arc;

/// Milliseconds since `t`, for the verdict's stage times.
fn ms_since(t: std::time::Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// One selfie-video request.
#[derive(Debug, Clone, Copy)]
pub struct CheckRequest<'a> {
    /// The selfie video, as received (mp4, mov, webm, mkv, avi).
    pub video: &'a [u8],
    /// The ID photo, when a face match is wanted.
    pub id_photo: Option<&'a [u8]>,
    /// Honour the ID photo's EXIF orientation (silent API `auto_rotate`; FPT: always).
    pub id_auto_rotate: bool,
    /// Encode the best frame and its face crop as JPEG in the verdict.
    pub encode_best_frame: bool,
    /// The server-issued challenge the video must answer, with the SDK's step log.
    pub challenge: Option<ChallengeEvidence<'a>>,
    /// What the capturing browser reported (injection evidence, never a decision alone).
    pub telemetry: Option<&'a ClientTelemetry>,
    /// Hand out the best frame's face template (`Verdict.template`, for a 1:N search). Off, the
    /// best frame is embedded only to match an ID photo.
    pub want_template: bool,
}

impl<'a> CheckRequest<'a> {
    /// A request for a video alone, EXIF honoured, best frame encoded.
    pub fn video(video: &'a [u8]) -> Self {
        Self {
            video,
            id_photo: None,
            id_auto_rotate: true,
            encode_best_frame: true,
            challenge: None,
            telemetry: None,
            want_template: false,
        }
    }

    /// The same with an ID photo.
    pub fn with_id_photo(mut self, photo: &'a [u8]) -> Self {
        self.id_photo = Some(photo);
        self
    }

    /// The same with a challenge to verify.
    pub fn with_challenge(mut self, challenge: ChallengeEvidence<'a>) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// The same with the client's telemetry.
    pub fn with_telemetry(mut self, telemetry: &'a ClientTelemetry) -> Self {
        self.telemetry = Some(telemetry);
        self
    }
}

/// Models, thresholds and calibration, loaded once. Cloning shares the models.
#[derive(Debug, Clone)]
pub struct Engine {
    vision: Arc<Vision>,
    cfg: EngineConfig,
    limits: Limits,
    calibration: Calibration,
    /// The active embedder's FAR model (from `calibration`).
    far: FarModel,
    /// `matching.threshold`, or the cosine of `matching.target_far` on `far`.
    match_threshold: f64,
}

impl Engine {
    /// Loads the models of `vision_cfg` and the default calibration.
    pub fn load(
        cfg: EngineConfig,
        vision_cfg: &VisionConfig,
        limits: Limits,
    ) -> Result<Engine, CheckError> {
        let vision = Arc::new(Vision::load(vision_cfg)?);
        Engine::new(vision, cfg, limits, Calibration::default())
    }

    /// An engine over already loaded models. Refused when the calibration has no FAR model for
    /// the models' embedder or the match settings are out of range.
    pub fn new(
        vision: Arc<Vision>,
        cfg: EngineConfig,
        limits: Limits,
        calibration: Calibration,
    ) -> Result<Engine, CheckError> {
        let embedder = vision.embedder().kind().name();
        let far = calibration.far_model(embedder).cloned().ok_or_else(|| {
            CheckError::Internal(format!(
                "the calibration has no FAR model for the embedder {embedder:?} (it has {:?})",
                calibration.far.keys().collect::<Vec<_>>()
            ))
        })?;
        let m = &cfg.matching;
        if !(m.target_far > 0.0 && m.target_far < 1.0) {
            return Err(CheckError::Internal(format!(
                "matching.target_far {} must be in (0, 1)",
                m.target_far
            )));
        }
        if let Some(t) = m.threshold.filter(|t| !(-1.0..=1.0).contains(t)) {
            return Err(CheckError::Internal(format!(
                "matching.threshold {t} is a cosine and must be in [-1, 1]"
            )));
        }
        let match_threshold = m
            .threshold
            .unwrap_or_else(|| far.threshold_for_far(m.target_far));
        Ok(Engine {
            vision,
            cfg,
            limits,
            calibration,
            far,
            match_threshold,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// The media limits in use: what the engine refuses, and what the HTTP layer reads its upload
    /// and body limits from.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The same models and settings under other media limits.
    pub fn with_limits(&self, limits: Limits) -> Engine {
        Engine {
            limits,
            ..self.clone()
        }
    }

    /// The models.
    pub fn vision(&self) -> &Vision {
        &self.vision
    }

    /// The calibration (fusion models and the face-match FAR model).
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// The cosine threshold of a face match: `matching.threshold`, else the cosine at which the
    /// active embedder's FAR model estimates `matching.target_far`.
    pub fn match_threshold(&self) -> f64 {
        self.match_threshold
    }

    /// The active embedder's FAR model (what `verification_score` and the silent thresholds
    /// table are computed from).
    pub fn far_model(&self) -> &FarModel {
        &self.far
    }

    /// The frames [`Engine::check`] decodes from a video with these facts (for benchmarks and
    /// tools that must decode the same frames).
    pub fn sampling_plan(
        &self,
        info: &faceproof_media::MediaInfo,
    ) -> faceproof_media::SamplingPlan {
        frames::plan(info, &self.cfg.sampling).0
    }

    /// Judges a selfie video (and matches it against an ID photo when one is given).
    pub fn check(&self, req: &CheckRequest<'_>) -> Result<Verdict, CheckError> {
        selfie::check(self, req)
    }

    /// What the challenge verification reads from each analysed frame of `video` (the frames
    /// [`Engine::check`] analyses): for tools and tests that verify many challenges against one
    /// recording with [`crate::challenge::verify`].
    pub fn challenge_frames(
        &self,
        video: &[u8],
    ) -> Result<Vec<crate::challenge::ChallengeFrame>, CheckError> {
        challenge::frames(self, video)
    }

    /// Judges a far / near still capture from the capture SDK (and an optional short clip).
    pub fn check_far_near(&self, req: &FarNearRequest<'_>) -> Result<Verdict, CheckError> {
        far_near::check(self, req)
    }
}
