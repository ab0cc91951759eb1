//! Loading models: sha256 checks, role contracts, operator replacements, clear errors.

mod common;

use faceproof_vision::pack::{self, Role};
use faceproof_vision::{ModelSpec, Runtime, Vision, VisionConfig, VisionError};

fn runtime() -> Runtime {
    let cfg = VisionConfig::default();
    Runtime::init(&cfg.resolved_runtime_library(), 1).unwrap_or_else(|e| {
        panic!("{e}: run scripts/fetch-models.sh (or set FACEPROOF_HOME)");
    })
}

fn pack_path(role: Role) -> std::path::PathBuf {
    VisionConfig::default()
        .resolved_models_dir()
        .join(role.file())
}

#[test]
fn a_model_whose_sha256_differs_is_refused() {
    let rt = runtime();
    let mut cfg = VisionConfig::default();
    cfg.models.blazeface_short = Some(ModelSpec {
        path: pack_path(Role::DetectorShort),
        sha256: Some("0".repeat(64)),
    });
    match Vision::with_runtime(&rt, &cfg) {
        Err(VisionError::Checksum {
            role,
            expected,
            actual,
            ..
        }) => {
            assert_eq!(role, "blazeface_short");
            assert_eq!(expected, "0".repeat(64));
            assert_eq!(actual.len(), 64);
            assert_ne!(actual, expected);
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
}

#[test]
fn the_pack_manifest_hashes_are_checked_by_default() {
    let cfg = VisionConfig::default();
    let hashes = pack::manifest_hashes(&cfg.resolved_models_dir()).unwrap();
    for role in Role::ALL {
        let spec = pack::model_spec(&cfg, role).unwrap();
        assert_eq!(
            spec.sha256.as_deref(),
            hashes.get(role.file()).map(String::as_str),
            "{}",
            role.name()
        );
        assert!(
            spec.sha256.is_some(),
            "pack.json has no sha256 for {}",
            role.file()
        );
    }
}

#[test]
fn a_model_breaking_its_role_contract_is_refused() {
    let rt = runtime();
    let mut cfg = VisionConfig::default();
    // the iris model where the short-range detector should be: wrong input size and outputs
    cfg.models.blazeface_short = Some(ModelSpec {
        path: pack_path(Role::Iris),
        sha256: None,
    });
    match Vision::with_runtime(&rt, &cfg) {
        Err(VisionError::Contract { role, detail, .. }) => {
            assert_eq!(role, "blazeface_short");
            println!("contract error as expected: {detail}");
        }
        other => panic!("expected a contract error, got {other:?}"),
    }
}

#[test]
fn an_operator_model_replaces_the_pack_one() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("my_embedder.onnx");
    // The override replaces the selected embedder (SFace by default).
    std::fs::copy(pack_path(Role::SFace), &own).unwrap();
    let sha = pack::manifest_hashes(&VisionConfig::default().resolved_models_dir())
        .unwrap()
        .remove(Role::SFace.file())
        .expect("pack.json lists the embedder");
    let mut cfg = VisionConfig::default();
    cfg.models.embedder = Some(ModelSpec {
        path: own.clone(),
        sha256: Some(sha.to_uppercase()),
    });
    let v = Vision::with_runtime(&rt, &cfg).unwrap();
    assert_eq!(v.embedder().model().path(), own);
    assert_eq!(v.embedder().dim(), 128);
    // MobileFaceNet stays selectable, from the pack.
    cfg.models.embedder = None;
    cfg.embedder = faceproof_vision::EmbedderKind::Mobilefacenet;
    let v = Vision::with_runtime(&rt, &cfg).unwrap();
    assert_eq!(v.embedder().model().path(), pack_path(Role::MobileFaceNet));
    assert_eq!(v.embedder().dim(), 192);
}

#[test]
fn a_missing_model_names_the_fix() {
    let rt = runtime();
    let empty = tempfile::tempdir().unwrap();
    let cfg = VisionConfig {
        models_dir: Some(empty.path().to_path_buf()),
        ..VisionConfig::default()
    };
    let err = Vision::with_runtime(&rt, &cfg).unwrap_err();
    assert!(matches!(err, VisionError::ModelMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("fetch-models.sh"), "{err}");
}

#[test]
fn raw_runs_check_their_input_size() {
    let rt = runtime();
    let spec = pack::model_spec(&VisionConfig::default(), Role::Iris).unwrap();
    let m = faceproof_vision::Model::load(&rt, Role::Iris, &spec).unwrap();
    assert_eq!(m.inputs()[0].shape, vec![1, 3, 64, 64]);
    assert!(matches!(
        m.run_raw([1, 3, 64, 64], &[0.0; 10]),
        Err(VisionError::InvalidInput(_))
    ));
    let out = m.run_raw([1, 3, 64, 64], &vec![0.5; 3 * 64 * 64]).unwrap();
    assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), vec![213, 15]);
}

#[test]
fn the_config_reads_partially_and_validates() {
    let cfg: VisionConfig = serde_json::from_str(
        r#"{"threads": 1, "mesh": {"roi_scale": 1.7}, "embedder": "mobilefacenet"}"#,
    )
    .unwrap();
    assert_eq!(cfg.threads, 1);
    assert_eq!(cfg.mesh.roi_scale, 1.7);
    assert_eq!(cfg.embedder, faceproof_vision::EmbedderKind::Mobilefacenet);
    // The match threshold is the engine's (one owner): a vision `matching` section is refused.
    assert!(serde_json::from_str::<VisionConfig>(r#"{"matching": {"threshold": 0.7}}"#).is_err());
    assert_eq!(cfg.detector, VisionConfig::default().detector);
    cfg.validate().unwrap();
    let bad = VisionConfig {
        threads: 0,
        ..VisionConfig::default()
    };
    assert!(matches!(bad.validate(), Err(VisionError::Config(_))));
    assert!(serde_json::from_str::<VisionConfig>(r#"{"treads": 1}"#).is_err());
    // The match threshold is the engine's: a `[vision.matching]` section is refused.
    assert!(serde_json::from_str::<VisionConfig>(r#"{"matching": {"threshold": 0.7}}"#).is_err());
}
