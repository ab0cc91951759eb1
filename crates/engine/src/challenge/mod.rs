//! Server-issued challenges verified in the video: a random screen-colour sequence whose light
//! must show on the face, or a random sequence of head turns.
//!
//! A replayed, pre-recorded or generated video cannot have answered a challenge issued a moment
//! before the capture. The server issues a [`ChallengeSpec`] ([`ChallengeSpec::generate`] from a
//! random seed), the capture SDK shows it while recording and logs when each step appeared
//! ([`StepShown`], in [`ClientTelemetry::challenge_log`]), and the engine checks the recorded
//! face against it ([`verify`]), returning a [`ChallengeResult`] in the verdict.
//!
//! ```text
//! per analysed frame: face skin RGB, background RGB, nose position, vertical nose ratio
//!   colour:    log-chromaticity of face minus background ─ correlate with the issued sequence
//!              (lag search 0-500 ms) ─ score, per-step agreement ─ passed
//!   head turn: nose trajectory ─ extremum per step window ─ direction and order ─ passed
//! telemetry: virtual camera, webdriver, track events, frame timing ─ injection evidence
//! ```
//!
//! The math here is pure (numbers in, numbers out): the frame loop in `check` measures, this
//! module decides.

mod colour;
mod generate;
mod head_turn;
mod telemetry;

pub use colour::ColourConfig;
pub use head_turn::HeadTurnConfig;
pub use telemetry::{
    CameraSettings, CameraTelemetry, ClientTelemetry, EventKind, FrameTelemetry, InjectionCue,
    RecordingTelemetry, TelemetryConfig, TelemetryEvent,
};

use serde::{Deserialize, Serialize};

/// What the user is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    /// The screen shows a sequence of colours; their light must appear on the face.
    Colour,
    /// The user turns the head in a sequence of directions (for users who cannot watch flashes).
    HeadTurn,
}

impl ChallengeKind {
    /// The snake_case identifier, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeKind::Colour => "colour",
            ChallengeKind::HeadTurn => "head_turn",
        }
    }
}

/// A head-turn direction, from the user's point of view (their own left). Measured in the
/// camera's unmirrored frame, as browsers record it (the mirrored preview is only CSS): the
/// user's left is the image's right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnDirection {
    Left,
    Right,
    Up,
}

/// One step of a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChallengeStep {
    /// Show this colour (full brightness sRGB) for `duration_ms`.
    Colour { rgb: [u8; 3], duration_ms: u32 },
    /// Ask for a head turn in `direction` for `duration_ms`.
    Turn {
        direction: TurnDirection,
        duration_ms: u32,
    },
}

impl ChallengeStep {
    /// How long the step is shown, milliseconds.
    pub fn duration_ms(&self) -> u32 {
        match *self {
            ChallengeStep::Colour { duration_ms, .. } | ChallengeStep::Turn { duration_ms, .. } => {
                duration_ms
            }
        }
    }
}

/// An issued challenge: its kind and its steps, in the order they are shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeSpec {
    pub kind: ChallengeKind,
    pub steps: Vec<ChallengeStep>,
}

impl ChallengeSpec {
    /// A fresh challenge of `kind`, fully determined by `seed` (the server passes a random u64).
    /// Colour: 5-7 colours from [`PALETTE`], no colour twice in a row, 350-600 ms each (at most
    /// 3 changes per second, WCAG 2.3.1). Head turn: 2-3 directions, no direction twice in a row,
    /// 1500 ms each.
    pub fn generate(kind: ChallengeKind, seed: u64) -> ChallengeSpec {
        generate::generate(kind, seed)
    }

    /// Total duration of the steps, milliseconds.
    pub fn total_ms(&self) -> u64 {
        self.steps.iter().map(|s| u64::from(s.duration_ms())).sum()
    }
}

pub use generate::{
    COLOUR_MAX_STEPS, COLOUR_MIN_STEPS, MAX_STEP_MS, MIN_STEP_MS, PALETTE, TURN_STEP_MS,
};

/// When one step appeared on the screen, as the SDK logged it: milliseconds since the recording
/// started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepShown {
    pub index: usize,
    pub shown_at_ms: f64,
}

/// What a request carries to verify a challenge: the issued spec and the SDK's log of when each
/// step was shown (empty: the steps are taken as shown back to back from the recording's start).
#[derive(Debug, Clone, Copy)]
pub struct ChallengeEvidence<'a> {
    pub spec: &'a ChallengeSpec,
    pub shown: &'a [StepShown],
}

/// How one step was answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepResult {
    pub index: usize,
    /// Whether the step was seen answered (its colour on the face / its turn in its window).
    pub passed: bool,
    /// Colour: cosine between the observed and expected colour change of the step (-1..1).
    /// Head turn: the turn measured in the step's direction over the threshold (>= 1 passes).
    pub score: f64,
    /// Seconds into the video where the step was measured (its window's start, or the turn's
    /// extremum).
    pub at_seconds: Option<f64>,
}

/// The challenge's verification, as the verdict carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChallengeResult {
    pub kind: ChallengeKind,
    pub passed: bool,
    /// Colour: the correlation of the observed with the expected signal at the best lag (-1..1).
    /// Head turn: the share of steps answered in order (0..1).
    pub score: f64,
    /// The delay between the logged step times and the face's response, milliseconds.
    pub lag_ms: f64,
    pub per_step: Vec<StepResult>,
}

/// What the frame loop measured on one analysed frame, for the challenge.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChallengeFrame {
    /// Presentation time, seconds from the video's start.
    pub t: f64,
    /// Mean RGB (0-255) of the face's skin (forehead and cheeks).
    pub skin: Option<[f32; 3]>,
    /// Mean RGB of a band of background around the face, away from it.
    pub background: Option<[f32; 3]>,
    /// Nose tip along the eye line (image-left eye 0, image-right eye 1): 0.5 frontal, larger as
    /// the head turns to the user's left in an unmirrored recording.
    pub nose_position: Option<f64>,
    /// Nose tip below the eye line over the inter-ocular distance: smaller as the head tilts up.
    pub nose_drop: Option<f64>,
}

/// Thresholds of the challenge verification (`[engine.challenge]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ChallengeConfig {
    pub colour: ColourConfig,
    pub head_turn: HeadTurnConfig,
    pub telemetry: TelemetryConfig,
}

/// Why a challenge could not be verified at all (it then fails).
#[derive(Debug, Clone, PartialEq)]
pub enum Unverifiable {
    /// The spec has no steps, or steps of the other kind.
    MalformedSpec,
    /// Too few frames with a measured face inside the steps' windows.
    TooFewFrames { found: usize, min: usize },
}

/// Verifies `evidence` against the measured frames.
pub fn verify(
    evidence: &ChallengeEvidence<'_>,
    frames: &[ChallengeFrame],
    cfg: &ChallengeConfig,
) -> ChallengeResult {
    let times = step_times(evidence);
    match evidence.spec.kind {
        ChallengeKind::Colour => colour::verify(evidence.spec, &times, frames, &cfg.colour),
        ChallengeKind::HeadTurn => head_turn::verify(evidence.spec, &times, frames, &cfg.head_turn),
    }
}

/// When each step started and ended on screen, seconds since the recording started: from the
/// SDK's log where it names the step (and the time is finite and not before the previous step),
/// otherwise right after the previous step.
pub fn step_times(evidence: &ChallengeEvidence<'_>) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(evidence.spec.steps.len());
    let mut prev_end = 0.0_f64;
    let mut prev_start = f64::NEG_INFINITY;
    for (i, step) in evidence.spec.steps.iter().enumerate() {
        let logged = evidence
            .shown
            .iter()
            .find(|s| s.index == i)
            .map(|s| s.shown_at_ms / 1000.0)
            .filter(|t| t.is_finite() && *t >= 0.0 && *t >= prev_start && *t < 3600.0);
        let start = logged.unwrap_or(prev_end);
        let end = start + f64::from(step.duration_ms()) / 1000.0;
        out.push((start, end));
        prev_start = start;
        prev_end = end;
    }
    out
}

/// A failed result for a challenge that could not be verified.
fn unverified(spec: &ChallengeSpec, why: &Unverifiable) -> ChallengeResult {
    let _ = why;
    ChallengeResult {
        kind: spec.kind,
        passed: false,
        score: 0.0,
        lag_ms: 0.0,
        per_step: (0..spec.steps.len())
            .map(|index| StepResult {
                index,
                passed: false,
                score: 0.0,
                at_seconds: None,
            })
            .collect(),
    }
}

impl ChallengeConfig {
    /// The score a challenge of `kind` must reach ([`ChallengeResult::score`]'s unit).
    pub fn pass_threshold(&self, kind: ChallengeKind) -> f64 {
        match kind {
            ChallengeKind::Colour => self.colour.min_correlation,
            ChallengeKind::HeadTurn => 1.0,
        }
    }
}

/// A failed result for a request whose video could not be judged at all (too short, unreadable
/// frames): the challenge was not answered.
pub fn not_answered(spec: &ChallengeSpec) -> ChallengeResult {
    unverified(spec, &Unverifiable::TooFewFrames { found: 0, min: 1 })
}
