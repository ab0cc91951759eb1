//! One owner per threshold: with `engine.liveness.threshold` moved away from its default, FPT,
//! silent and ADVANCE answer what the engine decided. The adapters only translate the verdict; a
//! threshold of their own (ADVANCE's former "livenessScore >= 50") would disagree here.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Harness, multipart, shared};
use faceproof_engine::check::{
    CheckRequest, Engine, EngineConfig, FarNearRequest, ReasonCode, Severity, Stage, Verdict,
};
use faceproof_media::Limits;
use faceproof_server::ServerConfig;
use faceproof_server::silent::envelope;
use faceproof_vision::VisionConfig;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The engine's liveness decision, and that no other capture or liveness rule failed (so every
/// adapter's liveness answer is that decision alone; the face match is judged apart).
fn decision(v: &Verdict) -> bool {
    let live = v.liveness.as_ref().expect("judged").is_live;
    let other_errors: Vec<_> = v
        .codes
        .iter()
        .filter(|r| r.severity == Severity::Error)
        .filter(|r| r.code != ReasonCode::Spoof && r.code.stage() != Stage::Match)
        .collect();
    assert!(other_errors.is_empty(), "{other_errors:?}");
    live
}

/// A threshold on the other side of `spoof_prob` from the default's decision: the moved engine
/// must decide the opposite of the default one.
fn flipping_threshold(spoof_prob: f64) -> f64 {
    let default = EngineConfig::default().liveness.threshold;
    if spoof_prob < default {
        spoof_prob / 2.0
    } else {
        (spoof_prob + 1.0) / 2.0
    }
}

fn engine_with(cfg: EngineConfig) -> Arc<Engine> {
    Arc::new(Engine::load(cfg, &VisionConfig::default(), Limits::default()).unwrap())
}

fn with_threshold(mut cfg: EngineConfig, threshold: f64) -> EngineConfig {
    cfg.liveness.threshold = threshold;
    cfg
}

fn capture_request<'a>(far: &'a [u8], near: &'a [u8]) -> FarNearRequest<'a> {
    FarNearRequest {
        far,
        near,
        far_time_ms: Some(1_713_247_589_908),
        near_time_ms: Some(1_713_247_590_908),
        clip: None,
        encode_best_frame: true,
        challenge: None,
        telemetry: None,
        want_template: false,
    }
}

/// FPT and silent on a live clip, with the threshold moved below its spoof probability.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fpt_and_silent_follow_the_engines_threshold() {
    let video = shared("videos/live_talking_720x1280.mp4");
    let photo = shared("faces/obama/1.jpg");
    let request = CheckRequest::video(&video).with_id_photo(&photo);
    let default = common::engine().check(&request).unwrap();
    let p = default.liveness.as_ref().unwrap().spoof_prob;
    let engine = engine_with(with_threshold(
        EngineConfig::default(),
        flipping_threshold(p),
    ));
    let moved = engine.check(&request).unwrap();
    let live = decision(&moved);
    assert_ne!(
        live,
        decision(&default),
        "the moved threshold flips the decision"
    );

    let h = Harness::with_engine(ServerConfig::default(), engine).await;
    let t = h.tenant("a").await;
    let (ct, body) = multipart(&[("video", "v.mp4", &video), ("cmnd", "id.jpg", &photo)]);
    let req = Request::post("/vision/ekyc/liveness")
        .header("content-type", ct)
        .header("api-key", t.fpt_api_key.as_str())
        .body(Body::from(body))
        .unwrap();
    let (s, _, j) = h.send(req).await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    assert_eq!(j["liveness"]["is_live"], live.to_string(), "{j:#}");

    let req = Request::get("/v1/silent/public-key")
        .header("api-key", t.fpt_api_key.as_str())
        .body(Body::empty())
        .unwrap();
    let (_, _, k) = h.send(req).await;
    let pk: [u8; 32] = STANDARD
        .decode(k["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let (sealed_video, sealed_image) = envelope::seal_pair(&pk, h.clock.now_ms(), &video, &photo);
    let body = serde_json::to_vec(&json!({
        "encrypted_video": STANDARD.encode(sealed_video),
        "encrypted_image": STANDARD.encode(sealed_image),
    }))
    .unwrap();
    let req = Request::post("/v1/silent/video-compare")
        .header("api-key", t.fpt_api_key.as_str())
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap();
    let (s, _, j) = h.send(req).await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    assert_eq!(j["passed"], live, "{j:#}");
}

fn json_post(path: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut b = Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("X-ACCESS-TOKEN", t);
    }
    b.body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

/// ADVANCE on a far / near pair, with the threshold moved across its spoof probability:
/// `attackType` is null and `livenessScore` is at least the seed's 50 exactly when the engine says
/// live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advance_follows_the_engines_threshold() {
    let far = shared("faces/obama/1.jpg");
    let near = shared("faces/obama/2.jpg");
    let request = capture_request(&far, &near);
    // The two shared photos are 1.16x apart in face size: below the SDK's 1.2x rule, which would
    // fail the capture whatever the liveness; 1.1 lets liveness alone decide.
    let mut cfg = EngineConfig::default();
    cfg.capture_pair.min_near_far_scale = 1.1;
    let default = engine_with(cfg.clone()).check_far_near(&request).unwrap();
    let p = default.liveness.as_ref().unwrap().spoof_prob;
    let engine = engine_with(with_threshold(cfg, flipping_threshold(p)));
    let moved = engine.check_far_near(&request).unwrap();
    let live = decision(&moved);
    assert_ne!(
        live,
        decision(&default),
        "the moved threshold flips the decision"
    );

    let h = Harness::with_engine(ServerConfig::default(), engine).await;
    let c = h.tenant("a").await;
    let ts = h.clock.now_ms();
    let signature: String = Sha256::digest(
        format!(
            "{}{}{ts}",
            c.advance_access_key,
            c.advance_secret_key.as_str()
        )
        .as_bytes(),
    )
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    let (_, _, j) = h
        .send(json_post(
            "/openapi/auth/ticket/v1/generate-token",
            None,
            &json!({"accessKey": c.advance_access_key, "timestamp": ts, "signature": signature}),
        ))
        .await;
    let token = j["data"]["token"].as_str().unwrap().to_owned();
    let (ct, body) = multipart(&[
        ("far", "far.jpg", &far),
        ("near", "near.jpg", &near),
        ("farImageTime", "", b"1713247589908"),
        ("nearImageTime", "", b"1713247590908"),
    ]);
    let req = Request::post("/openapi/liveness/v3/capture")
        .header("content-type", ct)
        .header("X-ACCESS-TOKEN", &token)
        .body(Body::from(body))
        .unwrap();
    let (s, _, j) = h.send(req).await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    let id = j["data"]["livenessId"].as_str().unwrap();
    let (_, _, r) = h
        .send(json_post(
            "/openapi/liveness/v3/detection-result",
            Some(&token),
            &json!({"livenessId": id}),
        ))
        .await;
    assert_eq!(r["code"], "SUCCESS", "{r:#}");
    assert_eq!(r["data"]["attackType"].is_null(), live, "{r:#}");
    let score = r["data"]["livenessScore"].as_f64().unwrap();
    assert_eq!(score >= 50.0, live, "{r:#}");
}
