//! Wires the server-issued challenge and the client telemetry into a verdict: the frame loop's
//! measurements go to [`crate::challenge::verify`], the result and the telemetry's injection cues
//! become reasons and change the liveness judgement.
//!
//! A failed challenge fails liveness (`challenge_failed`, an error). Telemetry cues alone only
//! warn (`injection_suspected`) and ask for review; beside a failed liveness they are errors and
//! name the attack an injection.

use super::config::SamplingConfig;
use super::observation::{FaceObs, FrameObs};
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

/// Seconds after the last step's end a reaction is still read (head turns lag the prompt; screen
/// light reaches the face at once, but the camera's exposure integrates it over a frame).
const REACTION_S: f64 = 0.5;

/// The sampling a request needs: without a challenge the configured one; with one, the analysis
/// window stretched to hold every step and the reaction after the last (at most
/// `max_challenge_window_s`), with the frame cap grown in proportion so the analysis rate stays.
pub(super) fn sampling<'c>(
    base: &'c SamplingConfig,
    evidence: Option<ChallengeEvidence<'_>>,
) -> std::borrow::Cow<'c, SamplingConfig> {
    let Some(end) = evidence.and_then(|e| {
        challenge::step_times(&e)
            .last()
            .map(|&(_, end)| end + REACTION_S)
    }) else {
        return std::borrow::Cow::Borrowed(base);
    };
    let window = end.min(base.max_challenge_window_s);
    if window <= base.analysis_window_s {
        return std::borrow::Cow::Borrowed(base);
    }
    let scale = window / base.analysis_window_s.max(1e-3);
    let mut s = base.clone();
    s.analysis_window_s = window;
    s.max_analysis_frames = (f64::from(base.max_analysis_frames) * scale).ceil() as u32;
    std::borrow::Cow::Owned(s)
}

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
    // Beside a failed challenge or a failed liveness the cues name the attack and are errors;
    // alone (a live capture, or one too poor to judge) they warn.
    let judged_not_live = liveness.as_ref().is_some_and(|l| !l.is_live);
    let severity = if failed || judged_not_live {
        Severity::Error
    } else {
        Severity::Warning
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge::{ChallengeKind, StepResult};

    fn live() -> Liveness {
        Liveness {
            score: 0.9,
            spoof_prob: 0.1,
            is_live: true,
            threshold: 0.5,
            need_to_review: false,
            attack_type: None,
            signals: vec![],
        }
    }

    fn result(passed: bool) -> ChallengeResult {
        ChallengeResult {
            kind: ChallengeKind::Colour,
            passed,
            score: if passed { 0.95 } else { 0.2 },
            lag_ms: 100.0,
            per_step: vec![StepResult {
                index: 0,
                passed,
                score: 0.0,
                at_seconds: None,
            }],
        }
    }

    const CUE: InjectionCue = InjectionCue {
        measure: "camera_label_virtual",
        value: 1.0,
        threshold: 0.0,
    };

    fn run(
        r: Option<ChallengeResult>,
        cues: &[InjectionCue],
        l: Option<Liveness>,
    ) -> (Vec<Reason>, Option<Liveness>) {
        let mut codes = Vec::new();
        let mut l = l;
        apply(
            r.as_ref(),
            cues,
            &ChallengeConfig::default(),
            &mut codes,
            l.as_mut(),
        );
        (codes, l)
    }

    #[test]
    fn a_passed_challenge_changes_nothing() {
        let (codes, l) = run(Some(result(true)), &[], Some(live()));
        assert!(codes.is_empty());
        assert_eq!(l, Some(live()));
    }

    #[test]
    fn a_failed_challenge_fails_liveness_as_a_presentation() {
        let (codes, l) = run(Some(result(false)), &[], Some(live()));
        assert_eq!(codes.len(), 1);
        assert_eq!(codes[0].code, ReasonCode::ChallengeFailed);
        assert_eq!(codes[0].severity, Severity::Error);
        assert_eq!(codes[0].threshold, 0.7);
        let l = l.unwrap();
        assert!(!l.is_live);
        assert_eq!(l.attack_type, Some(AttackType::Presentation));
    }

    #[test]
    fn telemetry_alone_warns_and_asks_for_review() {
        let (codes, l) = run(None, &[CUE], Some(live()));
        assert_eq!(codes[0].code, ReasonCode::InjectionSuspected);
        assert_eq!(codes[0].severity, Severity::Warning);
        let l = l.unwrap();
        assert!(l.is_live && l.need_to_review && l.attack_type.is_none());
        // A capture too poor to judge: still a warning.
        let (codes, _) = run(None, &[CUE], None);
        assert_eq!(codes[0].severity, Severity::Warning);
    }

    #[test]
    fn telemetry_beside_a_failure_is_an_error_and_names_an_injection() {
        let (codes, l) = run(Some(result(false)), &[CUE], Some(live()));
        assert!(codes.iter().all(|r| r.severity == Severity::Error));
        assert_eq!(l.unwrap().attack_type, Some(AttackType::Injection));
        let spoofed = Liveness {
            is_live: false,
            attack_type: Some(AttackType::Unsure),
            ..live()
        };
        let (codes, l) = run(None, &[CUE], Some(spoofed));
        assert_eq!(codes[0].severity, Severity::Error);
        assert_eq!(l.unwrap().attack_type, Some(AttackType::Injection));
        // A deepfake stays a deepfake.
        let fake = Liveness {
            is_live: false,
            attack_type: Some(AttackType::Deepfake),
            ..live()
        };
        let (_, l) = run(Some(result(false)), &[CUE], Some(fake));
        assert_eq!(l.unwrap().attack_type, Some(AttackType::Deepfake));
    }
}
