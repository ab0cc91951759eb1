//! Shared by the engine's integration tests: the engine with the default pack, and cuts of the
//! shared clips. Each test binary uses part of it, hence the dead-code allowance.
#![allow(dead_code)]

use faceproof_engine::{Engine, EngineConfig};
use faceproof_media::Limits;
use faceproof_testkit::{Clip, shared_file};
use faceproof_vision::VisionConfig;
use std::process::Command;
use std::sync::OnceLock;

/// The engine at its defaults, loaded once per test binary.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::load(
            EngineConfig::default(),
            &VisionConfig::default(),
            Limits::default(),
        )
        .expect("models installed (faceproof models fetch)")
    })
}

/// The first `seconds` of a shared clip, stream-copied by the ffmpeg CLI.
pub fn cut(relative: &str, seconds: f64) -> Vec<u8> {
    let clip = Clip::new("cut.mp4");
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(shared_file(relative))
        .args(["-t", &seconds.to_string(), "-c", "copy", "-an"])
        .arg(&clip.path)
        .status()
        .expect("ffmpeg CLI")
        .success();
    assert!(ok, "ffmpeg could not cut {relative}");
    clip.bytes()
}
