//! The installed model pack: fixed file names and the sha256 values its `pack.json` records.

use crate::config::{ModelSpec, VisionConfig};
use crate::error::{Result, VisionError};
use std::collections::HashMap;
use std::path::Path;

/// ONNX Runtime library inside the pack.
pub const RUNTIME_FILE: &str = "libonnxruntime.so";
/// Manifest written last by the pack installer.
pub const MANIFEST_FILE: &str = "pack.json";

/// A model role and its file in the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// BlazeFace short range.
    DetectorShort,
    /// BlazeFace full range.
    DetectorFull,
    /// Face mesh.
    Mesh,
    /// Iris.
    Iris,
    /// Face embedder MobileFaceNet (192-d), selectable by `vision.embedder`.
    MobileFaceNet,
    /// Face embedder SFace (128-d), the default.
    SFace,
    /// Anti-spoofing (FaceAntiSpoofing, Deep Tree Network).
    AntiSpoof,
    /// Anti-spoofing (MiniFASNet-style, P(real)), the second PAD signal.
    MiniFas,
    /// An operator's deepfake detector: never in the pack, loaded only from
    /// `[vision.models] deepfake` (so not in [`Role::ALL`]).
    Deepfake,
}

impl Role {
    /// Every role the pack ships, in pipeline order.
    pub const ALL: [Role; 8] = [
        Role::DetectorShort,
        Role::DetectorFull,
        Role::Mesh,
        Role::Iris,
        Role::MobileFaceNet,
        Role::SFace,
        Role::AntiSpoof,
        Role::MiniFas,
    ];

    /// Stable name (used in errors, benchmarks and JSON).
    pub fn name(self) -> &'static str {
        match self {
            Role::DetectorShort => "blazeface_short",
            Role::DetectorFull => "blazeface_full",
            Role::Mesh => "face_mesh",
            Role::Iris => "iris",
            Role::MobileFaceNet => "mobilefacenet",
            Role::SFace => "sface",
            Role::AntiSpoof => "face_antispoofing",
            Role::MiniFas => "minifasnet",
            Role::Deepfake => "deepfake",
        }
    }

    /// File name in the pack folder.
    pub fn file(self) -> &'static str {
        match self {
            Role::DetectorShort => "blazeface_short.onnx",
            Role::DetectorFull => "blazeface_full.onnx",
            Role::Mesh => "face_mesh.onnx",
            Role::Iris => "iris.onnx",
            Role::MobileFaceNet => "mobilefacenet.onnx",
            Role::SFace => "sface.onnx",
            Role::AntiSpoof => "face_antispoofing.onnx",
            Role::MiniFas => "minifasnet.onnx",
            Role::Deepfake => "deepfake.onnx",
        }
    }
}

/// Resolves the model of a role: the operator's override if configured, else the pack file with the
/// sha256 recorded in the pack's `pack.json` (when the manifest is there). The `embedder` override
/// replaces the embedder `vision.embedder` selects.
pub fn model_spec(cfg: &VisionConfig, role: Role) -> Result<ModelSpec> {
    let o = &cfg.models;
    let none = None;
    let over = match role {
        Role::DetectorShort => &o.blazeface_short,
        Role::DetectorFull => &o.blazeface_full,
        Role::Mesh => &o.face_mesh,
        Role::Iris => &o.iris,
        Role::MobileFaceNet | Role::SFace if cfg.embedder.role() == role => &o.embedder,
        Role::MobileFaceNet | Role::SFace => &none,
        Role::AntiSpoof => &o.antispoof,
        Role::MiniFas => &o.minifasnet,
        Role::Deepfake => &o.deepfake,
    };
    if let Some(spec) = over {
        return Ok(spec.clone());
    }
    let dir = cfg.resolved_models_dir();
    let sha = manifest_hashes(&dir)?.remove(role.file());
    Ok(ModelSpec {
        path: dir.join(role.file()),
        sha256: sha,
    })
}

/// `file name -> sha256` from `<dir>/pack.json`; empty when the manifest is absent.
pub fn manifest_hashes(dir: &Path) -> Result<HashMap<String, String>> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(source) => return Err(VisionError::Io { path, source }),
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| VisionError::Config(format!("{}: not JSON: {e}", path.display())))?;
    let mut out = HashMap::new();
    if let Some(files) = value.get("files").and_then(|f| f.as_object()) {
        for (name, entry) in files {
            if let Some(sha) = entry.get("sha256").and_then(|s| s.as_str()) {
                out.insert(name.clone(), sha.to_owned());
            }
        }
    }
    Ok(out)
}
