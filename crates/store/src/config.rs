//! `[store]` section of the faceproof configuration.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// `$FACEPROOF_HOME`, else `$HOME/.cache/faceproof`, else `./.faceproof`.
pub fn faceproof_home() -> PathBuf {
    if let Some(home) = std::env::var_os("FACEPROOF_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home);
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("faceproof"),
        None => PathBuf::from(".faceproof"),
    }
}

/// Where sessions, credentials and artefacts live, and for how long.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Database URL. `sqlite://PATH` (the file and its directory are created on first start) or
    /// `postgres://USER:PASSWORD@HOST:PORT/DB`; both run the same queries and migrations.
    /// Default: `sqlite://$FACEPROOF_HOME/faceproof.db`.
    pub database_url: String,
    /// Maximum pooled database connections.
    pub max_connections: u32,
    /// Where artefacts (frames, face crops, audit zips) are written: a local directory, or
    /// `s3://BUCKET` / `s3://BUCKET/PREFIX` for any S3-compatible store (see `s3`).
    /// Default: `$FACEPROOF_HOME/artefacts`.
    pub artefacts: String,
    /// Connection settings used when `artefacts` is an `s3://` URL.
    pub s3: S3Config,
    /// Where the 32-byte server master key comes from. It seals tenant secrets at rest and keys
    /// signed URLs and access tokens.
    pub master_key: MasterKeyConfig,
    /// Key-encryption keys for artefacts at rest: which key id seals new objects, and which older
    /// ids stay readable (see `docs/storage.md`, "Encryption at rest").
    pub artefact_keys: ArtefactKeysConfig,
    /// Seconds during which a new session may be filled or consumed (its single use).
    pub session_ttl_secs: u64,
    /// Seconds after which images and other artefacts are refused and purged (default 24 h).
    pub artefact_ttl_secs: u64,
    /// Seconds after which a session and its result JSON are purged (default 30 days).
    pub result_ttl_secs: u64,
    /// Default lifetime of a signed artefact URL in seconds (default 24 h).
    pub signed_url_ttl_secs: u64,
    /// Default lifetime of an access token issued from an access key + secret (default 1 h).
    pub access_token_ttl_secs: u64,
    /// Seconds after its start when an upload that never committed (crash, error, abandoned
    /// client) is considered dead and its objects are deleted by the purge.
    pub upload_grace_secs: u64,
    /// Interval of the background retention task, seconds.
    pub purge_interval_secs: u64,
    /// Rows handled per purge query; a purge loops until nothing is left.
    pub purge_batch: u32,
    /// Limits that keep biometric data out of stored result JSON.
    pub result_limits: ResultLimits,
}

impl Default for StoreConfig {
    fn default() -> Self {
        let home = faceproof_home();
        StoreConfig {
            database_url: format!("sqlite://{}", home.join("faceproof.db").display()),
            max_connections: 8,
            artefacts: home.join("artefacts").display().to_string(),
            s3: S3Config::default(),
            master_key: MasterKeyConfig::default(),
            artefact_keys: ArtefactKeysConfig::default(),
            session_ttl_secs: 15 * 60,
            artefact_ttl_secs: 24 * 3600,
            result_ttl_secs: 30 * 24 * 3600,
            signed_url_ttl_secs: 24 * 3600,
            access_token_ttl_secs: 3600,
            upload_grace_secs: 3600,
            purge_interval_secs: 600,
            purge_batch: 500,
            result_limits: ResultLimits::default(),
        }
    }
}

impl StoreConfig {
    pub(crate) fn ms(secs: u64) -> i64 {
        i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// The background retention interval as a duration.
    pub fn purge_interval(&self) -> Duration {
        Duration::from_secs(self.purge_interval_secs.max(1))
    }
}

/// S3-compatible object store settings. Unset credentials and region fall back to the standard
/// `AWS_*` environment variables.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Endpoint URL for a non-AWS server, e.g. `http://127.0.0.1:9000`. Unset: AWS itself.
    pub endpoint: Option<String>,
    /// Region name; unset: `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1`.
    pub region: Option<String>,
    /// Access key id; unset: `AWS_ACCESS_KEY_ID` or the instance's credential provider.
    pub access_key_id: Option<String>,
    /// Secret access key; unset: `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    /// Allow plain `http://` endpoints (loopback test servers only).
    pub allow_http: bool,
    /// Use `https://BUCKET.HOST` addressing instead of `https://HOST/BUCKET`.
    pub virtual_hosted_style: bool,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_http", &self.allow_http)
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .finish()
    }
}

/// Master key source: the environment variable wins when it is set, else the file, which is
/// generated (32 random bytes, hex, mode 0600) on first start when absent.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MasterKeyConfig {
    /// Name of an environment variable holding the key as 64 hex characters; `None` disables it.
    /// Default: `FACEPROOF_MASTER_KEY`.
    pub env: Option<String>,
    /// Key file (64 hex characters). Must not be readable by group or others.
    /// Default: `$FACEPROOF_HOME/master.key`.
    pub file: PathBuf,
    /// Create `file` when neither the variable nor the file exists.
    pub generate: bool,
}

impl Default for MasterKeyConfig {
    fn default() -> Self {
        MasterKeyConfig {
            env: Some("FACEPROOF_MASTER_KEY".to_owned()),
            file: faceproof_home().join("master.key"),
            generate: true,
        }
    }
}

/// The artefact keyring. Every artefact is sealed under a fresh data key, which is itself sealed
/// under a key-encryption key derived (HKDF-SHA256) from one entry of this keyring and its id; the
/// id is written in the object's header, so any id still in the keyring can be read back.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArtefactKeysConfig {
    /// Key id that seals new artefacts. Default 1: the master key.
    pub current_id: u32,
    /// Whether the master key is in the keyring as id 1. Turn off once every object was rewrapped
    /// to another id and id 1 should no longer open artefacts.
    pub use_master_key: bool,
    /// Further keys (ids 2 and up), each 64 hex characters from an environment variable or a file
    /// that is not readable by group or others.
    pub keys: Vec<ArtefactKeySource>,
}

impl Default for ArtefactKeysConfig {
    fn default() -> Self {
        ArtefactKeysConfig {
            current_id: 1,
            use_master_key: true,
            keys: Vec::new(),
        }
    }
}

/// One extra artefact key: where its 32 bytes come from.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtefactKeySource {
    /// Key id (2 or more; 1 is the master key). Written in each object's header.
    pub id: u32,
    /// Environment variable holding 64 hex characters (wins over `file` when set and non-empty).
    #[serde(default)]
    pub env: Option<String>,
    /// File holding 64 hex characters, mode 0600.
    #[serde(default)]
    pub file: Option<PathBuf>,
}

/// Guards on the result JSON stored with a session: it is for verdicts and codes, never for
/// images, face crops or embeddings.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResultLimits {
    /// Largest serialised result, bytes.
    pub max_bytes: usize,
    /// Longest string value (a base64 image would be far longer), characters.
    pub max_string_len: usize,
    /// Longest array of numbers (an embedding is 128 or more).
    pub max_numeric_array: usize,
    /// Object keys refused anywhere in the result (compared case-insensitively).
    pub forbidden_keys: Vec<String>,
}

impl Default for ResultLimits {
    fn default() -> Self {
        ResultLimits {
            max_bytes: 64 * 1024,
            max_string_len: 1024,
            max_numeric_array: 32,
            forbidden_keys: [
                "embedding",
                "embeddings",
                "image",
                "base64_image",
                "base64_face_image",
                "face_image",
                "landmarks",
                "template",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        }
    }
}
