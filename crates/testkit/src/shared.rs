//! Where the shared test data lives.

use std::path::{Path, PathBuf};

/// The shared data folder: `$FACEPROOF_SHARED`, or `shared/` beside the repository root.
/// Panics with a clear message when it is missing: tests on real faces must not pass silently.
pub fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("FACEPROOF_SHARED").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        // crates/testkit -> repository root -> its parent
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    assert!(
        dir.join("data").is_dir(),
        "shared test data not found at {} (set FACEPROOF_SHARED to the folder that holds data/)",
        dir.display()
    );
    dir
}

/// A file under `shared/data`, e.g. `shared_file("videos/live_blink_640x360.mp4")`.
pub fn shared_file(relative: &str) -> PathBuf {
    let path = shared_dir().join("data").join(relative);
    assert!(
        path.is_file(),
        "missing shared test file {}",
        path.display()
    );
    path
}
