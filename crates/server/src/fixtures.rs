//! Hand-built verdicts for the adapters' tests (unit and integration): the engine's output
//! shapes, so each vendor mapping can be checked situation by situation without a model.

use faceproof_engine::check::{
    BestFrame, Deepfake, FaceMatch, FarAtScore, Liveness, MediaFacts, Reason, ReasonCode, Severity,
    StageTimes, Verdict,
};

pub fn reason(code: ReasonCode, severity: Severity) -> Reason {
    Reason {
        code,
        severity,
        measure: "test_measure",
        value: 0.0,
        threshold: 1.0,
        at_seconds: None,
        hint: code.hint(),
    }
}

/// A live, usable capture without an ID photo.
pub fn live() -> Verdict {
    Verdict {
        codes: vec![],
        liveness: Some(Liveness {
            score: 0.9985,
            spoof_prob: 0.0015,
            is_live: true,
            threshold: 0.5,
            need_to_review: false,
            attack_type: None,
            signals: vec![],
        }),
        deepfake: Some(Deepfake {
            prob: 0.0,
            is_deepfake: false,
            threshold: 0.5,
            signals: vec![],
            model_prob: None,
        }),
        best_frame: Some(BestFrame {
            timestamp: 1.5,
            // Structurally a JPEG (SOI, start of scan, EOI): the store parses images to strip metadata.
            jpeg: vec![0xff, 0xd8, 0xff, 0xda, 0, 2, 1, 2, 3, 0xff, 0xd9],
            face_jpeg: vec![0xff, 0xd8, 0xff, 0xda, 0, 2, 4, 5, 0xff, 0xd9],
            face_box: [10.0, 20.0, 100.0, 120.0],
            yaw: 1.0,
            pitch: -2.0,
            sharpness: 300.0,
            eye_openness: Some(0.3),
            score: 0.9,
        }),
        face_match: None,
        media: MediaFacts {
            width: 720,
            height: 1280,
            duration_seconds: 5.5,
            fps: 30.0,
            frames_analysed: 80,
            frames_with_face: 80,
            ..MediaFacts::default()
        },
        capture: None,
        challenge: None,
        timings: StageTimes::default(),
        template: None,
        identity: None,
    }
}

pub fn with_match(mut v: Verdict, cosine: f64, threshold: f64) -> Verdict {
    let is_match = cosine >= threshold;
    v.face_match = Some(FaceMatch {
        similarity: 100.0 * cosine.clamp(0.0, 1.0),
        cosine,
        is_match,
        threshold,
        verification_score: if is_match { 0.83 } else { 0.12 },
        far: FarAtScore {
            far: 1e-5,
            method: "empirical",
            upper_bound: 2e-5,
        },
    });
    if !is_match {
        v.codes
            .push(reason(ReasonCode::FaceMismatch, Severity::Error));
    }
    v
}

/// A presentation attack: fused attack probability over the threshold.
pub fn spoof() -> Verdict {
    let mut v = live();
    let l = v.liveness.as_mut().unwrap();
    l.spoof_prob = 0.91;
    l.score = 0.09;
    l.is_live = false;
    l.attack_type = Some(faceproof_engine::check::AttackType::Presentation);
    v.codes.push(reason(ReasonCode::Spoof, Severity::Error));
    v
}

/// A still picture re-encoded as video.
pub fn still() -> Verdict {
    let mut v = spoof();
    v.codes = vec![reason(ReasonCode::StillImage, Severity::Error)];
    v
}

/// A capture error that leaves nothing to judge.
pub fn unusable(code: ReasonCode) -> Verdict {
    let mut v = live();
    v.liveness = None;
    v.deepfake = None;
    v.best_frame = None;
    v.codes = vec![reason(code, Severity::Error)];
    v
}
