//! The API-neutral verdict: what the engine concluded about one request, and why.
//!
//! No vendor field name appears here. The server's adapters translate a [`Verdict`] into each
//! vendor's JSON; they never compute. Every reason carries the measurement that triggered it and
//! the threshold it was compared with, so an adapter (or an operator reading the JSON) can say
//! exactly why a capture failed.

use faceproof_vision::Embedding;
use serde::Serialize;

/// Why a capture failed or is weak. Serialised in snake_case (`no_face`, `face_too_small`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// No face was found in the video (in enough frames to judge).
    NoFace,
    /// More than one face in the video.
    MultipleFaces,
    /// The face covers less of the frame than required.
    FaceTooSmall,
    /// The face is out of focus.
    FaceBlurry,
    /// The face is too dark.
    FaceTooDark,
    /// The face is over-exposed (or lit by a spotlight).
    FaceTooBright,
    /// The background is much brighter than the face.
    Backlit,
    /// Eyes, nose or mouth are covered.
    FaceOccluded,
    /// The face is turned away from the camera.
    NotFrontal,
    /// The face is cut by the border of the frame.
    FaceOutOfFrame,
    /// The face disappears during the video.
    FaceLost,
    /// The video is too short to judge.
    VideoTooShort,
    /// The video shows a still picture (no non-rigid change between frames).
    StillImage,
    /// The video or image resolution is below what accuracy needs (a warning).
    LowResolution,
    /// The frame rate is below what temporal cues need (a warning).
    LowFrameRate,
    /// A presentation attack (photo, screen, mask) was detected.
    Spoof,
    /// The video looks generated or manipulated.
    Deepfake,
    /// No face was found in the ID photo.
    NoFaceInDocument,
    /// The face in the ID photo covers less of it than required (a warning: real ID cards have
    /// small faces).
    DocumentFaceTooSmall,
    /// The ID photo's resolution is below what accuracy needs (a warning).
    DocumentLowResolution,
    /// The video's face does not match the ID photo.
    FaceMismatch,
    /// The server-issued challenge (colour sequence, head turns) was not answered in the video.
    ChallengeFailed,
    /// The client's telemetry points to an injected stream (virtual camera, automation, a track
    /// replaced mid-recording): a warning for review, an error only beside a failed liveness.
    InjectionSuspected,
    /// The face is enrolled in the tenant's gallery under another external reference (1:N,
    /// opt-in per tenant; a warning or an error by the tenant's setting).
    DuplicateIdentity,
    /// The face matches an entry of the tenant's blocklist (1:N, opt-in per tenant).
    Blocklisted,
}

impl ReasonCode {
    /// The snake_case identifier, as serialised.
    pub fn as_str(self) -> &'static str {
        use ReasonCode::*;
        match self {
            NoFace => "no_face",
            MultipleFaces => "multiple_faces",
            FaceTooSmall => "face_too_small",
            FaceBlurry => "face_blurry",
            FaceTooDark => "face_too_dark",
            FaceTooBright => "face_too_bright",
            Backlit => "backlit",
            FaceOccluded => "face_occluded",
            NotFrontal => "not_frontal",
            FaceOutOfFrame => "face_out_of_frame",
            FaceLost => "face_lost",
            VideoTooShort => "video_too_short",
            StillImage => "still_image",
            LowResolution => "low_resolution",
            LowFrameRate => "low_frame_rate",
            Spoof => "spoof",
            Deepfake => "deepfake",
            NoFaceInDocument => "no_face_in_document",
            DocumentFaceTooSmall => "document_face_too_small",
            DocumentLowResolution => "document_low_resolution",
            FaceMismatch => "face_mismatch",
            ChallengeFailed => "challenge_failed",
            InjectionSuspected => "injection_suspected",
            DuplicateIdentity => "duplicate_identity",
            Blocklisted => "blocklisted",
        }
    }

    /// A short hint for the person in front of the camera.
    pub fn hint(self) -> &'static str {
        use ReasonCode::*;
        match self {
            NoFace => "No face was found. Look straight at the camera.",
            MultipleFaces => "Only one person may be in the video.",
            FaceTooSmall => "Move closer: your face should fill more of the frame.",
            FaceBlurry => "Hold the camera still and make sure it is in focus.",
            FaceTooDark => "Your face is too dark. Move to a brighter place.",
            FaceTooBright => "Your face is over-exposed. Avoid direct light on your face.",
            Backlit => "The light is behind you. Face the light source.",
            FaceOccluded => "Uncover your face: eyes, nose and mouth must be visible.",
            NotFrontal => "Look straight at the camera.",
            FaceOutOfFrame => "Keep your whole face inside the frame.",
            FaceLost => "Keep your face in view for the whole video.",
            VideoTooShort => "Record a longer video (5-6 seconds).",
            StillImage => "The video seems to show a still picture. Record yourself live.",
            LowResolution => "The resolution is low; use at least HD (720p) for accuracy.",
            LowFrameRate => "The frame rate is low; record at 25 fps or more.",
            Spoof => "The face does not seem to be a live person in front of the camera.",
            Deepfake => "The video seems to be generated or manipulated.",
            NoFaceInDocument => "No face was found in the ID photo.",
            DocumentFaceTooSmall => "The face in the ID photo is small; use a closer photo.",
            DocumentLowResolution => "The ID photo's resolution is low (800x600 or more).",
            FaceMismatch => "The face does not match the ID photo.",
            ChallengeFailed => {
                "The on-screen challenge was not seen in the video. Keep your face close to the \
                 screen, in view, and follow the instructions while recording."
            }
            InjectionSuspected => {
                "Use your device's own camera in a regular browser, without virtual-camera software."
            }
            DuplicateIdentity => "This face is already registered under another account.",
            Blocklisted => "This capture cannot be accepted. Please contact support.",
        }
    }

    /// The stage of the decision a code belongs to.
    pub fn stage(self) -> Stage {
        use ReasonCode::*;
        match self {
            Spoof | Deepfake | StillImage | ChallengeFailed | InjectionSuspected => Stage::Liveness,
            NoFaceInDocument | DocumentFaceTooSmall | DocumentLowResolution | FaceMismatch => {
                Stage::Match
            }
            DuplicateIdentity | Blocklisted => Stage::Identity,
            _ => Stage::Capture,
        }
    }
}

/// Where in the decision a reason arises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The capture itself (face presence, size, light, pose): a retake can fix it.
    Capture,
    /// Liveness and deepfake judgement.
    Liveness,
    /// The face match against the ID photo.
    Match,
    /// The 1:N search of the tenant's gallery and blocklist (run by the server after the
    /// engine, recorded with [`Verdict::record_identity`]).
    Identity,
}

/// Whether a reason fails the request or only warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One reason with what was measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub severity: Severity,
    /// Name of the measurement (`face_area_ratio`, `sharpness`, `yaw_degrees`, ...).
    pub measure: &'static str,
    /// Its value for this request.
    pub value: f64,
    /// The threshold it was compared with (from the engine config).
    pub threshold: f64,
    /// Seconds into the video where it was worst, when it applies to a moment.
    pub at_seconds: Option<f64>,
    /// A short hint for the user ([`ReasonCode::hint`]).
    pub hint: &'static str,
}

/// What kind of attack the evidence points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackType {
    /// Something physical in front of the camera: print, screen replay, mask.
    Presentation,
    /// A stream that did not come from a camera pointed at a person (still image re-encoded,
    /// looped or synthetic frames).
    Injection,
    /// A generated or manipulated face.
    Deepfake,
    /// Evidence of an attack without a clear kind.
    Unsure,
}

/// One signal's value and its share of the fused decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalValue {
    /// Feature name (`pad_model`, `nonrigid`, `planarity`, `blink_rate`, `pulse_snr`, ...).
    pub name: &'static str,
    /// The measured value (in the feature's own unit); `None` when it could not be measured.
    pub value: Option<f64>,
    /// Its contribution to the fused logit (`weight * standardised value`); 0 when missing.
    pub contribution: f64,
    /// Attack probability this signal alone would give, when it has its own calibration.
    pub attack_prob: Option<f64>,
}

/// The liveness judgement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Liveness {
    /// Probability that the capture is live, in [0, 1] (`1 - spoof_prob`).
    pub score: f64,
    /// Probability of a presentation or injection attack, in [0, 1].
    pub spoof_prob: f64,
    /// `spoof_prob < threshold` and no liveness reason (still image, deepfake) applies.
    pub is_live: bool,
    /// The threshold `spoof_prob` was compared with.
    pub threshold: f64,
    /// `spoof_prob` lies within the review band around the threshold.
    pub need_to_review: bool,
    /// Kind of attack, when not live.
    pub attack_type: Option<AttackType>,
    /// Every signal that fed the decision.
    pub signals: Vec<SignalValue>,
}

impl Liveness {
    /// P(live) on a scale whose midpoint is this verdict's decision: at or above 0.5 exactly when
    /// `is_live`. The threshold maps to 0.5 (piecewise linear on each side, so the order of
    /// scores is kept), and a capture refused for a reason P(live) does not carry (a failed
    /// challenge, a still image, a deepfake) stays below 0.5. A vendor scale with a fixed pass
    /// mark (ADVANCE's `livenessScore` >= 50) reads this, so moving `engine.liveness.threshold`
    /// moves every API's answer with the engine's decision.
    pub fn decision_score(&self) -> f64 {
        let p = self.score.clamp(0.0, 1.0);
        // P(live) at the boundary: spoof when spoof_prob >= threshold.
        let boundary = (1.0 - self.threshold).clamp(1e-9, 1.0 - 1e-9);
        let s = if p >= boundary {
            0.5 + 0.5 * (p - boundary) / (1.0 - boundary)
        } else {
            0.5 * p / boundary
        };
        if self.is_live {
            s.max(0.5)
        } else {
            // Below the 2-decimal 0-100 rounding's 50.00.
            s.min(0.4999)
        }
    }
}

/// The deepfake judgement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deepfake {
    /// Probability that the face is generated or manipulated, in [0, 1].
    pub prob: f64,
    pub is_deepfake: bool,
    pub threshold: f64,
    pub signals: Vec<SignalValue>,
    /// The operator's deepfake detector's median P(fake) over the analysed best frames, when one
    /// is plugged in (`[vision.models] deepfake`); `prob` is the larger of it and the fused cues'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_prob: Option<f64>,
}

/// The frame chosen to represent the capture (and matched against the ID photo).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestFrame {
    /// Seconds from the first frame.
    pub timestamp: f64,
    /// The frame as JPEG, full resolution, upright (not serialised).
    #[serde(skip)]
    pub jpeg: Vec<u8>,
    /// The aligned 112x112 face crop as JPEG (not serialised).
    #[serde(skip)]
    pub face_jpeg: Vec<u8>,
    /// The face box in the frame, pixels `[x, y, w, h]`.
    pub face_box: [f32; 4],
    /// Why it was chosen.
    pub yaw: f32,
    pub pitch: f32,
    pub sharpness: f32,
    pub eye_openness: Option<f64>,
    /// The selection score (higher is better).
    pub score: f64,
}

/// How the false-accept rate at a score was estimated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FarAtScore {
    /// Estimated false-accept rate at the observed similarity.
    pub far: f64,
    /// `empirical`, `exponential_tail` or `count_bound`.
    pub method: &'static str,
    /// The upper bound the impostor count alone can vouch for.
    pub upper_bound: f64,
}

/// The face match against the ID photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceMatch {
    /// 0-100 (`100 * clamp(cosine, 0, 1)`).
    pub similarity: f64,
    /// Raw cosine similarity of the two embeddings.
    pub cosine: f64,
    pub is_match: bool,
    /// The cosine threshold used.
    pub threshold: f64,
    /// Calibrated 0-1 score on the published FAR line (0.4 -> 1/10 ... 0.9 -> 1/1,000,000).
    pub verification_score: f64,
    /// The false-accept rate at this similarity.
    pub far: FarAtScore,
}

/// Facts of the media that were judged (for adapters' warnings and for audit).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MediaFacts {
    pub width: u32,
    pub height: u32,
    pub duration_seconds: f64,
    pub fps: f64,
    /// Seconds analysed from the start (the engine's analysis window, or the whole clip).
    pub analysed_seconds: f64,
    /// Frames the decoder produced: what the request cost in decoding.
    pub frames_decoded: u64,
    pub frames_analysed: usize,
    pub frames_with_face: usize,
}

/// Medians over the frames with a face of what the capture rules measure, so a negative verdict
/// can be explained and the thresholds checked against real captures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CaptureMeasures {
    pub face_area_ratio: Option<f64>,
    pub inside_ratio: Option<f64>,
    pub sharpness: Option<f64>,
    /// Sharpness over the squared face contrast (dimensionless).
    pub relative_sharpness: Option<f64>,
    pub brightness: Option<f64>,
    pub background_minus_face_brightness: Option<f64>,
    pub abs_yaw_degrees: Option<f64>,
    pub abs_pitch_degrees: Option<f64>,
    pub head_turn_ratio: Option<f64>,
    pub lower_face_colour_distance: Option<f64>,
    /// Lips' (r - g) chromaticity minus the forehead's: > 0 when the mouth is visible.
    pub lip_redness: Option<f64>,
    /// Spread (95th minus 5th percentile) of the eye openness: eyelids moving at all.
    pub eye_openness_spread: Option<f64>,
}

/// Time spent per stage, milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StageTimes {
    pub decode_ms: f64,
    pub detect_ms: f64,
    pub landmarks_ms: f64,
    pub pad_ms: f64,
    /// The best frame's embedding (beside its JPEG encoding) and the match, after the frames.
    /// The ID photo's own analysis runs beside the frames (`check` on a selfie video), so it is
    /// not in any stage here.
    pub embed_ms: f64,
    pub signals_ms: f64,
    pub total_ms: f64,
}

/// The whole verdict of one request. `Default` is an empty verdict (no reason, no judgement): a
/// base for hand-built verdicts in adapter tests, never what the engine returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verdict {
    /// Every reason found, errors first, in decision order (capture, liveness, match).
    pub codes: Vec<Reason>,
    /// The liveness judgement; `None` when the capture was unusable (no face, too short, ...).
    pub liveness: Option<Liveness>,
    /// The deepfake judgement; `None` when it could not be measured.
    pub deepfake: Option<Deepfake>,
    /// The best frame; `None` when no usable face was seen.
    pub best_frame: Option<BestFrame>,
    /// The face match; `None` without an ID photo, or when either side has no face.
    #[serde(rename = "match")]
    pub face_match: Option<FaceMatch>,
    pub media: MediaFacts,
    /// What the capture rules measured; `None` when no face was seen.
    pub capture: Option<CaptureMeasures>,
    /// The server-issued challenge's verification; `None` when the request carried none.
    pub challenge: Option<crate::challenge::ChallengeResult>,
    pub timings: StageTimes,
    /// The best frame's face template, for a 1:N search. Never serialised: the stored verdict
    /// (and every vendor answer) holds no embedding.
    #[serde(skip)]
    pub template: Option<FaceTemplate>,
    /// The 1:N search's outcome, when the tenant's gallery was searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentitySearch>,
}

impl Verdict {
    /// The first error of a stage, if any.
    pub fn first_error(&self, stage: Stage) -> Option<&Reason> {
        self.codes
            .iter()
            .find(|r| r.severity == Severity::Error && r.code.stage() == stage)
    }

    /// Whether a code is present (any severity).
    pub fn has(&self, code: ReasonCode) -> bool {
        self.codes.iter().any(|r| r.code == code)
    }

    /// Warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Reason> {
        self.codes
            .iter()
            .filter(|r| r.severity == Severity::Warning)
    }

    /// The capture was usable, live, not a deepfake, and matched when an ID photo was given.
    pub fn passed(&self) -> bool {
        !self.codes.iter().any(|r| r.severity == Severity::Error)
            && self.liveness.as_ref().is_some_and(|l| l.is_live)
    }
}

/// The best frame's face embedding and the embedder that made it (templates of two embedders
/// are not comparable). `Debug` shows the size, not the values.
#[derive(Clone, PartialEq)]
pub struct FaceTemplate {
    /// [`faceproof_vision::EmbedderKind::name`] of the model (`sface`, `mobilefacenet`).
    pub embedder: &'static str,
    /// Unit-length embedding.
    pub embedding: Embedding,
}

impl std::fmt::Debug for FaceTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceTemplate")
            .field("embedder", &self.embedder)
            .field("dims", &self.embedding.0.len())
            .finish()
    }
}

/// Which list a hit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityList {
    /// An identity enrolled under another external reference.
    Enrolled,
    /// The tenant's blocklist.
    Blocklist,
}

/// One entry the search matched at or above the threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityHit {
    pub list: IdentityList,
    /// The tenant's reference of the matched entry (`None` for a blocklist entry without one).
    pub external_ref: Option<String>,
    /// The matched gallery entry's id (for the console and the DELETE routes).
    pub entry_id: String,
    /// Cosine of the two templates (int8 index approximation).
    pub cosine: f64,
    /// 0-100 (`100 * clamp(cosine, 0, 1)`), the scale of the 1:1 match.
    pub similarity: f64,
    /// FAR of one comparison at this cosine (the engine's FAR model of the embedder).
    pub far_per_comparison: f64,
    /// FAR of the whole search at this cosine: `1 - (1 - far_per_comparison)^gallery_size`.
    pub far_at_gallery: f64,
    /// Entries of that list searched.
    pub gallery_size: usize,
    /// Cosine threshold of that list at that size (see `docs/gallery.md`).
    pub threshold: f64,
}

/// The 1:N search of one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentitySearch {
    /// Target FAR of one whole search, from which each list's threshold follows.
    pub target_far: f64,
    /// Enrolled identities and blocklist entries searched.
    pub enrolled_searched: usize,
    pub blocklist_searched: usize,
    /// Matches at or above the threshold (at most one per list: the best).
    pub hits: Vec<IdentityHit>,
    /// Id under which this request's template was stored (for enrolment after a review and for
    /// the blocklist button); `None` when it was not stored.
    pub template_id: Option<String>,
    /// Whether the template was enrolled in the gallery (a passed check with an external reference).
    pub enrolled: bool,
}
