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

/// Every labelled single-face photo as (identity, path), sorted: `faces/<identity>/*` and
/// `faces/single/<identity>.*` (the group photos of `multi/` and the cut-off faces of
/// `partial/` are not labelled). Panics unless all 29 are there.
pub fn labelled_photos() -> Vec<(String, PathBuf)> {
    let faces = shared_dir().join("data/faces");
    let sorted = |dir: &Path| {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        paths.sort();
        paths
    };
    let mut out = Vec::new();
    for dir in sorted(&faces).into_iter().filter(|p| p.is_dir()) {
        let folder = dir.file_name().unwrap().to_string_lossy().into_owned();
        if folder == "multi" || folder == "partial" {
            continue;
        }
        for photo in sorted(&dir).into_iter().filter(|p| is_image(p)) {
            let who = if folder == "single" {
                photo.file_stem().unwrap().to_string_lossy().into_owned()
            } else {
                folder.clone()
            };
            out.push((who, photo));
        }
    }
    assert!(
        out.len() >= 29,
        "expected the 29 labelled photos, found {}",
        out.len()
    );
    out
}

fn is_image(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("jpg" | "jpeg" | "png" | "webp")
    )
}
