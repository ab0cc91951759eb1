//! ONNX Runtime missing: an error naming the fix, never a panic. (Its own test binary: the runtime
//! library is loaded at most once per process.)

use faceproof_vision::{Runtime, Vision, VisionConfig, VisionError};

#[test]
fn a_missing_runtime_library_is_an_error_then_the_real_one_loads() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = VisionConfig {
        models_dir: Some(dir.path().to_path_buf()),
        ..VisionConfig::default()
    };
    let err = Vision::load(&cfg).unwrap_err();
    assert!(matches!(err, VisionError::Runtime { .. }), "{err:?}");
    assert!(err.to_string().contains("fetch-models.sh"), "{err}");
    // a file that is not a shared library
    let fake = dir.path().join("libonnxruntime.so");
    std::fs::write(&fake, b"not a library").unwrap();
    let err = Runtime::init(&fake, 1).unwrap_err();
    assert!(matches!(err, VisionError::Runtime { .. }), "{err:?}");
    // the process is not poisoned: the real library still loads
    let real = VisionConfig::default().resolved_runtime_library();
    Runtime::init(&real, 1)
        .unwrap_or_else(|e| panic!("{e}: run scripts/fetch-models.sh (or set FACEPROOF_HOME)"));
}
