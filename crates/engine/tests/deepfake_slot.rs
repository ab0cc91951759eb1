//! An operator's deepfake detector in the verdict (`[vision.models] deepfake`): its median P(fake)
//! over the analysed best frames raises the deepfake probability, never lowers it, and a deepfake
//! it decides names it. The detectors are synthetic graphs with a fixed answer
//! (`models/testnets.py`, written at test time) run on a real live clip.

mod common;

use common::{cut, engine};
use faceproof_engine::check::{AttackType, CheckRequest, ReasonCode, Verdict};
use faceproof_engine::{Engine, EngineConfig};
use faceproof_media::Limits;
use faceproof_testkit::onnx::synthetic_model;
use faceproof_vision::{ModelSpec, VisionConfig};

fn with_detector(logit: f32) -> Engine {
    let graph = synthetic_model("constant", &["64", &logit.to_string()]);
    let mut vision = VisionConfig::default();
    vision.models.deepfake = Some(ModelSpec {
        path: graph.path.clone(),
        sha256: None,
    });
    // The session holds the graph once loaded; the temporary file may go.
    Engine::load(EngineConfig::default(), &vision, Limits::default()).expect("engine loads")
}

fn judge(engine: &Engine, video: &[u8]) -> Verdict {
    let mut req = CheckRequest::video(video);
    req.encode_best_frame = false;
    engine.check(&req).expect("judged")
}

#[test]
fn a_detector_that_says_fake_makes_a_live_clip_a_deepfake_and_says_so() {
    let video = cut("videos/live_talking_720x1280.mp4", 6.0);
    let plain = judge(engine(), &video);
    let plain_df = plain.deepfake.as_ref().unwrap();
    assert!(
        !plain_df.is_deepfake && plain_df.model_prob.is_none(),
        "{plain_df:?}"
    );
    assert!(
        plain.liveness.as_ref().unwrap().is_live,
        "{:?}",
        plain.codes
    );

    let v = judge(&with_detector(4.0), &video);
    let df = v.deepfake.as_ref().unwrap();
    let model = df.model_prob.expect("the detector ran on the best frames");
    assert!((model - 0.982).abs() < 1e-3, "{model}");
    assert!(df.is_deepfake && (df.prob - model).abs() < 1e-12, "{df:?}");
    let reason = v
        .codes
        .iter()
        .find(|r| r.code == ReasonCode::Deepfake)
        .expect("a deepfake code");
    assert_eq!(reason.measure, "deepfake_model_median");
    let live = v.liveness.as_ref().unwrap();
    assert!(!live.is_live);
    assert_eq!(live.attack_type, Some(AttackType::Deepfake));
    // Everything else is the plain engine's.
    assert_eq!(live.spoof_prob, plain.liveness.as_ref().unwrap().spoof_prob);
}

#[test]
fn a_detector_that_says_real_cannot_lower_what_the_cues_say() {
    let video = cut("videos/live_talking_720x1280.mp4", 6.0);
    let plain = judge(engine(), &video);
    let v = judge(&with_detector(-4.0), &video);
    let (df, plain_df) = (v.deepfake.unwrap(), plain.deepfake.unwrap());
    assert!((df.model_prob.unwrap() - 0.018).abs() < 1e-3);
    assert_eq!(df.prob, plain_df.prob, "the fused probability stands");
    assert_eq!(df.is_deepfake, plain_df.is_deepfake);
    assert_eq!(v.codes, plain.codes);
}
