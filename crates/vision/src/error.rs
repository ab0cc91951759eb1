//! One error type for the crate: every variant says what was expected and what was found.

use std::path::PathBuf;

/// Errors of the vision crate.
#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    /// The ONNX Runtime shared library could not be loaded or initialised.
    #[error("ONNX Runtime library {path}: {reason}")]
    Runtime { path: PathBuf, reason: String },

    /// A model file is not where the configuration says.
    #[error(
        "{role} model missing at {path} (run scripts/fetch-models.sh, or set its path in the config)"
    )]
    ModelMissing { role: &'static str, path: PathBuf },

    /// A model file's sha256 differs from the expected one.
    #[error("{role} model {path}: sha256 {actual} does not match the expected {expected}")]
    Checksum {
        role: &'static str,
        path: PathBuf,
        expected: String,
        actual: String,
    },

    /// A model's inputs or outputs do not follow the contract of its role.
    #[error("{role} model {path} does not follow the {role} contract: {detail}")]
    Contract {
        role: &'static str,
        path: PathBuf,
        detail: String,
    },

    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// ONNX Runtime refused a session or a run.
    #[error("{role}: ONNX Runtime: {message}")]
    Inference { role: &'static str, message: String },

    /// The caller passed something unusable (an empty image, a batch of mismatched sizes, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The configuration is inconsistent (a threshold out of range, zero threads, ...).
    #[error("invalid vision config: {0}")]
    Config(String),
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, VisionError>;
