//! Wires the server-issued challenge and the client telemetry into a verdict: the frame loop's
//! measurements go to [`crate::challenge::verify`], the result and the telemetry's injection cues
//! become reasons and change the liveness judgement.
//!
//! A failed challenge fails liveness (`challenge_failed`, an error). Telemetry cues alone only
//! warn (`injection_suspected`) and ask for review; beside a failed liveness they are errors and
//! name the attack an injection.

use super::frames::{FaceObs, FrameObs};
use super::rules::reason;
use super::verdict::{AttackType, Liveness, Reason, ReasonCode, Severity};
use crate::challenge::{
    self, ChallengeConfig, ChallengeEvidence, ChallengeFrame, ChallengeResult, ClientTelemetry,
    InjectionCue,
};
use faceproof_vision::layout;

/// Tracks `video` as [`super::Engine::check`] does and returns the challenge's view of its frames.
pub(super) fn frames(
    engine: &super::Engine,
    video: &[u8],
) -> Result<Vec<ChallengeFrame>, super::CheckError> {
    use super::frames::TrackError;
    let cfg = &engine.cfg;
    let track = super::frames::track(
        &engine.vision,
        video,
        &cfg.sampling,
        cfg.capture.second_face_min_relative_area,
        &engine.limits,
    )
    .map_err(|e| match e {
        TrackError::Media(e) => super::CheckError::Video(e),
        TrackError::Vision(e) => super::CheckError::Vision(e),
    })?;
    Ok(track.frames.iter().map(frame).collect())
}

/// The challenge's view of one analysed frame.
pub(super) fn frame(f: &FrameObs) -> ChallengeFrame {
    let face = f.face.as_ref();
    ChallengeFrame {
        t: f.t,
        skin: face.and_then(|o| o.colours.skin),
        background: face.and_then(|o| o.colours.background),
        nose_position: face.and_then(|o| o.nose_position),
        nose_drop: face.and_then(nose_drop),
    }
}

/// The mesh's nose tip below the line through the eye centres, over the distance between them:
/// it shrinks as the head tilts up (the nose tip stands in front of the eyes).
fn nose_drop(face: &FaceObs) -> Option<f64> {
    let p = &face.points;
    let mean = |idx: &[usize]| {
        let n = idx.len() as f64;
        idx.iter().fold([0.0, 0.0], |a, &i| {
            [a[0] + f64::from(p[i][0]) / n, a[1] + f64::from(p[i][1]) / n]
        })
    };
    if p.len() < 468 {
        return None;
    }
    let (l, r) = (
        mean(&layout::IMAGE_LEFT_EYE_CORNERS),
        mean(&layout::IMAGE_RIGHT_EYE_CORNERS),
    );
    let nose = [f64::from(p[NOSE_TIP][0]), f64::from(p[NOSE_TIP][1])];
    let e = [r[0] - l[0], r[1] - l[1]];
    let iod = e[0].hypot(e[1]);
    (iod > 1.0).then(|| {
        let mid = [(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0];
        // The eye line's normal pointing down the face.
        let n = [-e[1] / iod, e[0] / iod];
        ((nose[0] - mid[0]) * n[0] + (nose[1] - mid[1]) * n[1]) / iod
    })
}

/// Mesh index of the nose tip.
const NOSE_TIP: usize = 1;

/// Verifies the challenge (when the request carries one) on the analysed frames.
pub(super) fn verify(
    evidence: Option<ChallengeEvidence<'_>>,
    frames: &[FrameObs],
    cfg: &ChallengeConfig,
) -> Option<ChallengeResult> {
    let evidence = evidence?;
    let frames: Vec<ChallengeFrame> = frames.iter().map(frame).collect();
    Some(challenge::verify(&evidence, &frames, cfg))
}

/// The telemetry's injection cues (none without telemetry).
pub(super) fn cues(
    telemetry: Option<&ClientTelemetry>,
    media_fps: Option<f64>,
    cfg: &ChallengeConfig,
) -> Vec<InjectionCue> {
    telemetry.map_or_else(Vec::new, |t| t.injection_cues(media_fps, &cfg.telemetry))
}

/// Adds the challenge's and the telemetry's reasons and folds them into the liveness judgement.
pub(super) fn apply(
    result: Option<&ChallengeResult>,
    cues: &[InjectionCue],
    cfg: &ChallengeConfig,
    codes: &mut Vec<Reason>,
    liveness: Option<&mut Liveness>,
) {
    let failed = result.is_some_and(|r| !r.passed);
    if let (true, Some(r)) = (failed, result) {
        codes.push(reason(
            ReasonCode::ChallengeFailed,
            Severity::Error,
            match r.kind {
                challenge::ChallengeKind::Colour => "colour_challenge_correlation",
                challenge::ChallengeKind::HeadTurn => "head_turn_steps_answered",
            },
            r.score,
            cfg.pass_threshold(r.kind),
            None,
        ));
    }
    let live = liveness.as_ref().is_some_and(|l| l.is_live) && !failed;
    // Beside a failed judgement the cues name the attack and are errors; alone they warn.
    let severity = if live {
        Severity::Warning
    } else {
        Severity::Error
    };
    for c in cues {
        codes.push(reason(
            ReasonCode::InjectionSuspected,
            severity,
            c.measure,
            c.value,
            c.threshold,
            None,
        ));
    }
    let Some(l) = liveness else {
        return;
    };
    if failed {
        l.is_live = false;
    }
    if !cues.is_empty() {
        l.need_to_review = true;
    }
    if !l.is_live {
        l.attack_type = Some(match l.attack_type {
            Some(AttackType::Deepfake) => AttackType::Deepfake,
            Some(AttackType::Injection) => AttackType::Injection,
            _ if !cues.is_empty() => AttackType::Injection,
            // A challenge the video did not answer, nothing digital seen: a replay or a
            // pre-recorded video shown to the camera.
            _ if failed => AttackType::Presentation,
            other => other.unwrap_or(AttackType::Unsure),
        });
    }
}
