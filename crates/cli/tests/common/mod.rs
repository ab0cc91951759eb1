//! What the CLI's integration tests share: running the binary, a store in a temporary folder.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Runs `faceproof ARGS --config CONFIG`: whether it succeeded, and its JSON output.
pub fn faceproof(config: &Path, args: &[&str]) -> (bool, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_faceproof"))
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("faceproof runs");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.success(), json)
}

/// A `[store]` section (SQLite, local artefacts, a generated master key file) under `dir`.
pub fn store_toml(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "[store]\ndatabase_url = \"sqlite://{d}/fp.db\"\nartefacts = \"{d}/artefacts\"\n\n\
         [store.master_key]\nenv = \"\"\nfile = \"{d}/master.key\"\n"
    )
}
