//! An operator's deepfake detector (`[vision.models] deepfake`), through synthetic graphs whose
//! output is known in closed form (`models/testnets.py`, written at test time): the crop, channel
//! order and normalisation `[vision.deepfake]` documents, both output forms, and contract errors
//! that name what is wrong.

use faceproof_testkit::onnx::synthetic_model;
use faceproof_vision::image::{Rgb, RgbImage};
use faceproof_vision::pack::Role;
use faceproof_vision::{
    ChannelOrder, DeepfakeNet, DeepfakeNetConfig, Detection, Model, ModelSpec, Point, Range, Rect,
    Runtime, Vision, VisionConfig, VisionError,
};
use std::path::Path;

fn runtime() -> Runtime {
    let cfg = VisionConfig::default();
    Runtime::init(&cfg.resolved_runtime_library(), 1).expect("model pack installed")
}

fn load(rt: &Runtime, path: &Path, cfg: DeepfakeNetConfig) -> Result<DeepfakeNet, VisionError> {
    let spec = ModelSpec {
        path: path.to_path_buf(),
        sha256: None,
    };
    DeepfakeNet::new(Model::load(rt, Role::Deepfake, &spec)?, cfg)
}

fn detection(x: f32, y: f32, side: f32) -> Detection {
    Detection {
        rect: Rect {
            x,
            y,
            w: side,
            h: side,
        },
        score: 0.9,
        keypoints: [Point::default(); 6],
        range: Range::Short,
    }
}

const FACE: [f32; 3] = [200.0, 100.0, 50.0];
const BACKGROUND: [f32; 3] = [20.0, 60.0, 180.0];

/// 200 x 200: a 40 x 40 square of `FACE` at (80, 80) on `BACKGROUND`.
fn picture() -> RgbImage {
    RgbImage::from_fn(200, 200, |x, y| {
        let c = if (80..120).contains(&x) && (80..120).contains(&y) {
            FACE
        } else {
            BACKGROUND
        };
        Rgb(c.map(|v| v as u8))
    })
}

/// What the channel-means graph answers for a crop whose mean pixel is `px`: softmax of the
/// normalised channel means, class `fake_index`.
fn expected(px: [f32; 3], cfg: &DeepfakeNetConfig) -> f32 {
    let order = cfg.channels.indices();
    let z: Vec<f32> = (0..3)
        .map(|c| (px[order[c]] / 255.0 - cfg.mean[c]) / cfg.std[c])
        .collect();
    let sum: f32 = z.iter().map(|v| v.exp()).sum();
    z[cfg.fake_index].exp() / sum
}

#[test]
fn the_crop_channels_and_normalisation_are_the_documented_ones() {
    let rt = runtime();
    let graph = synthetic_model("channel-means", &["32"]);
    let img = picture();
    let face = detection(80.0, 80.0, 40.0);
    let tight = DeepfakeNetConfig {
        crop_scale: 1.0,
        ..DeepfakeNetConfig::default()
    };
    let rgb = load(&rt, &graph.path, tight.clone())
        .unwrap()
        .score(&img, &face)
        .unwrap();
    assert!((rgb - expected(FACE, &tight)).abs() < 1e-3, "{rgb}");
    let bgr_cfg = DeepfakeNetConfig {
        channels: ChannelOrder::Bgr,
        ..tight.clone()
    };
    let bgr = load(&rt, &graph.path, bgr_cfg.clone())
        .unwrap()
        .score(&img, &face)
        .unwrap();
    assert!((bgr - expected(FACE, &bgr_cfg)).abs() < 1e-3, "{bgr}");
    assert!(
        (rgb - bgr).abs() > 0.02,
        "channel order must matter: {rgb} vs {bgr}"
    );
    // Three times the box: 1/9 of the crop is the face, the rest background (the bilinear
    // resize keeps the mean to within its edge rounding).
    let wide = DeepfakeNetConfig {
        crop_scale: 3.0,
        ..tight.clone()
    };
    let mixed: [f32; 3] = std::array::from_fn(|c| (FACE[c] + 8.0 * BACKGROUND[c]) / 9.0);
    let p = load(&rt, &graph.path, wide.clone())
        .unwrap()
        .score(&img, &face)
        .unwrap();
    assert!(
        (p - expected(mixed, &wide)).abs() < 0.01,
        "{p} vs {}",
        expected(mixed, &wide)
    );
    assert!(
        (p - rgb).abs() > 0.02,
        "the crop must follow crop_scale: {p} vs {rgb}"
    );
}

#[test]
fn one_output_is_a_logit_of_fake() {
    let rt = runtime();
    for (logit, want) in [(4.0f32, 0.982_f32), (-4.0, 0.018)] {
        let graph = synthetic_model("constant", &["32", &logit.to_string()]);
        let net = load(&rt, &graph.path, DeepfakeNetConfig::default()).unwrap();
        let p = net.score(&picture(), &detection(80.0, 80.0, 40.0)).unwrap();
        assert!((p - want).abs() < 1e-3, "logit {logit}: {p}");
    }
}

#[test]
fn a_model_off_its_contract_is_refused_by_name() {
    let rt = runtime();
    let wide = synthetic_model("wide", &["48", "32"]);
    match load(&rt, &wide.path, DeepfakeNetConfig::default()) {
        Err(VisionError::Contract { role, detail, .. }) => {
            assert_eq!(role, "deepfake");
            assert!(detail.contains("square"), "{detail}");
        }
        other => panic!("expected a contract error, got {other:?}"),
    }
    let means = synthetic_model("channel-means", &["32"]);
    let cfg = DeepfakeNetConfig {
        fake_index: 3,
        ..DeepfakeNetConfig::default()
    };
    match load(&rt, &means.path, cfg) {
        Err(VisionError::Contract { detail, .. }) => {
            assert!(detail.contains("fake_index 3"), "{detail}")
        }
        other => panic!("expected a contract error, got {other:?}"),
    }
}

#[test]
fn the_slot_is_empty_unless_configured_and_never_part_of_the_pack() {
    let rt = runtime();
    assert!(!Role::ALL.contains(&Role::Deepfake));
    let plain = Vision::with_runtime(&rt, &VisionConfig::default()).unwrap();
    assert!(plain.deepfake().is_none());
    let graph = synthetic_model("constant", &["64", "1"]);
    let mut cfg = VisionConfig::default();
    cfg.models.deepfake = Some(ModelSpec {
        path: graph.path.clone(),
        sha256: Some("0".repeat(64)),
    });
    // Its sha256 is checked like any operator model's.
    assert!(matches!(
        Vision::with_runtime(&rt, &cfg),
        Err(VisionError::Checksum {
            role: "deepfake",
            ..
        })
    ));
    cfg.models.deepfake.as_mut().unwrap().sha256 = None;
    let with = Vision::with_runtime(&rt, &cfg).unwrap();
    assert!(with.deepfake().is_some());
    assert!(with.models().iter().any(|m| m.role() == Role::Deepfake));
}
