//! Synthetic ONNX graphs for the operator model slots' tests, written at test time by
//! `models/testnets.py` with the set-up's Python (`$PYTHON`, else `$FACEPROOF_HOME/venv/bin/python`,
//! else `~/.cache/faceproof/venv/bin/python`): tiny graphs whose output is known in closed form.

use crate::video::Clip;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python that has `onnx` (the model set-up's venv).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("FACEPROOF_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").unwrap_or_else(|| ".".into()))
                .join(".cache/faceproof")
        });
    home.join("venv/bin/python")
}

/// Writes `models/testnets.py KIND ARGS...` into a fresh temporary file and returns it.
pub fn synthetic_model(kind: &str, args: &[&str]) -> Clip {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/testnets.py");
    let out = Clip::new(&format!("{kind}.onnx"));
    let py = python();
    let status = Command::new(&py)
        .arg(&script)
        .arg(kind)
        .args(args)
        .arg(&out.path)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {} (make models sets it up): {e}", py.display()));
    assert!(status.success(), "testnets.py {kind} {args:?} failed");
    out
}
