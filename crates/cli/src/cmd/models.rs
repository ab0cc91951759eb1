//! `faceproof models fetch|list`: the model pack described by `models/pack.toml`.
//!
//! The pack's set-up scripts are embedded in the binary, so an installed `faceproof` can fetch and
//! verify its own pack without the source tree: they are written to `$FACEPROOF_HOME/pack-src`
//! and run with python3 (set-up time only; the service never runs Python).

use crate::output::Output;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The pack's files, embedded at build time: (file name, contents).
const PACK_FILES: [(&str, &str); 6] = [
    ("pack.toml", include_str!("../../../../models/pack.toml")),
    (
        "requirements.txt",
        include_str!("../../../../models/requirements.txt"),
    ),
    ("fetch.py", include_str!("../../../../models/fetch.py")),
    ("convert.py", include_str!("../../../../models/convert.py")),
    ("tflconv.py", include_str!("../../../../models/tflconv.py")),
    ("verify.py", include_str!("../../../../models/verify.py")),
];

#[derive(clap::Subcommand)]
pub enum Command {
    /// Download, convert and verify the model pack into the models directory.
    Fetch {
        #[command(flatten)]
        dir: ModelsDir,
        /// Rebuild even when the installed pack checks.
        #[arg(long)]
        force: bool,
        /// Skip the numerical check against TFLite (needs the shared test photos).
        #[arg(long)]
        no_verify: bool,
        /// Folder with the shared test data used by the numerical check (`data/faces`, ...).
        #[arg(long, env = "FACEPROOF_SHARED")]
        shared: Option<PathBuf>,
    },
    /// List the pack's models: role, source package, licence, input contract, sha256, installed.
    List {
        #[command(flatten)]
        dir: ModelsDir,
    },
}

#[derive(clap::Args)]
pub struct ModelsDir {
    /// Models directory [default: $FACEPROOF_HOME/models, FACEPROOF_HOME defaults to ~/.cache/faceproof].
    #[arg(long)]
    pub models: Option<PathBuf>,
}

impl ModelsDir {
    pub fn resolve(&self) -> PathBuf {
        self.models
            .clone()
            .unwrap_or_else(|| faceproof_home().join("models"))
    }
}

/// `$FACEPROOF_HOME`, or `~/.cache/faceproof`.
pub fn faceproof_home() -> PathBuf {
    if let Some(home) = std::env::var_os("FACEPROOF_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    let user_home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    Path::new(&user_home).join(".cache").join("faceproof")
}

pub fn run(command: Command, out: &Output) -> ExitCode {
    match command {
        Command::Fetch {
            dir,
            force,
            no_verify,
            shared,
        } => fetch(&dir.resolve(), force, no_verify, shared, out),
        Command::List { dir } => list(&dir.resolve(), out),
    }
}

fn fetch(
    dest: &Path,
    force: bool,
    no_verify: bool,
    shared: Option<PathBuf>,
    out: &Output,
) -> ExitCode {
    let src = faceproof_home().join("pack-src");
    if let Err(e) = write_pack_sources(&src) {
        return out.error(
            "io",
            &format!("cannot write the pack scripts to {}: {e}", src.display()),
        );
    }
    let mut cmd =
        std::process::Command::new(std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into()));
    cmd.arg(src.join("fetch.py")).arg(dest);
    if force {
        cmd.arg("--force");
    }
    if no_verify {
        cmd.arg("--no-verify");
    }
    if let Some(shared) = shared {
        cmd.env("FACEPROOF_SHARED", shared);
    }
    match cmd.status() {
        Ok(status) if status.success() => list(dest, out),
        Ok(status) => out.error(
            "fetch_failed",
            &format!("fetch.py exited with {status} (its log is above, on stderr)"),
        ),
        Err(e) => out.error(
            "python_missing",
            &format!("cannot run python3 (set PYTHON to override): {e}"),
        ),
    }
}

/// Rewrites the embedded scripts only when they differ, so a concurrent fetch is not disturbed.
fn write_pack_sources(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, contents) in PACK_FILES {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(contents) {
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, contents)?;
            std::fs::rename(&tmp, &path)?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Listing {
    dir: PathBuf,
    /// Whether `pack.json` exists there (written last by a complete, checked install).
    installed: bool,
    pack_version: toml::Value,
    models: Vec<toml::Value>,
    runtime: toml::Value,
    sources: Vec<toml::Value>,
}

fn list(dir: &Path, out: &Output) -> ExitCode {
    let manifest: toml::Table = match PACK_FILES[0].1.parse() {
        Ok(m) => m,
        Err(e) => {
            return out.error(
                "internal",
                &format!("embedded pack.toml does not parse: {e}"),
            );
        }
    };
    let array = |key: &str| {
        manifest
            .get(key)
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let listing = Listing {
        dir: dir.to_path_buf(),
        installed: dir.join("pack.json").is_file(),
        pack_version: manifest
            .get("pack")
            .and_then(|p| p.get("version"))
            .cloned()
            .unwrap_or(toml::Value::from("?")),
        models: array("model"),
        runtime: manifest
            .get("runtime")
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default())),
        sources: array("source"),
    };
    out.json(&listing)
}
