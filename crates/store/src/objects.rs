//! Artefact bytes: a local directory or an S3-compatible bucket behind one `object_store` handle.
//!
//! Keys are `t/{tenant}/{session}/{upload}/{name}`: the tenant comes first so a key names its owner,
//! and each upload attempt has its own prefix so a failed attempt is deleted without touching any
//! other.

use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::{S3Config, StoreConfig};
use crate::envelope::Keyring;
use crate::error::{BackendOp, Result, StoreError};

/// Where the artefacts of a configuration live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArtefactLocation {
    /// A local directory.
    Local(std::path::PathBuf),
    /// An S3 bucket and key prefix (possibly empty).
    S3 { bucket: String, prefix: String },
}

impl ArtefactLocation {
    /// Parses the `artefacts` setting.
    pub fn parse(value: &str) -> Result<Self> {
        if let Some(rest) = value.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::Config {
                    reason: format!("artefacts URL {value:?} names no bucket"),
                });
            }
            return Ok(ArtefactLocation::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
            });
        }
        if value.contains("://") {
            return Err(StoreError::Config {
                reason: format!(
                    "artefacts location {value:?}: only a directory or s3://bucket/prefix is supported"
                ),
            });
        }
        if value.is_empty() {
            return Err(StoreError::Config {
                reason: "artefacts location is empty".into(),
            });
        }
        Ok(ArtefactLocation::Local(value.into()))
    }
}

/// What [`crate::Store::rewrap_artefacts`] (objects) or [`crate::Store::rewrap_templates`]
/// (1:N face templates) did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RewrapReport {
    /// Objects (rows) found.
    pub examined: u64,
    /// Those whose data key was re-sealed under the current key id.
    pub rewrapped: u64,
    /// Those that vanished (purged, deleted or changed) between reading and rewriting.
    pub vanished: u64,
}

impl RewrapReport {
    /// Logs the counts, `what` naming what was rewrapped.
    pub(crate) fn log(&self, what: &'static str) {
        tracing::info!(
            examined = self.examined,
            rewrapped = self.rewrapped,
            vanished = self.vanished,
            "{what} rewrapped"
        );
    }
}

/// The artefact store. Every object is sealed on the way in and opened on the way out
/// ([`Keyring`]): nothing in the directory or bucket is plaintext.
#[derive(Clone)]
pub(crate) struct Objects {
    inner: Arc<dyn ObjectStore>,
    keyring: Arc<Keyring>,
    /// The directory of a local store, whose files and folders get owner-only modes.
    local_root: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Objects({})", self.inner)
    }
}

impl Objects {
    pub(crate) fn open(cfg: &StoreConfig, keyring: Keyring) -> Result<Self> {
        let mut local_root = None;
        let inner: Arc<dyn ObjectStore> = match ArtefactLocation::parse(&cfg.artefacts)? {
            ArtefactLocation::Local(dir) => {
                std::fs::create_dir_all(&dir).op("create artefacts directory")?;
                set_mode(&dir, 0o700)?;
                local_root = Some(dir.clone());
                let fs = LocalFileSystem::new_with_prefix(&dir)
                    .op("open artefacts directory")?
                    // Objects must be durable before the database row that publishes them commits.
                    .with_fsync(true)
                    .with_automatic_cleanup(true);
                Arc::new(fs)
            }
            ArtefactLocation::S3 { bucket, prefix } => {
                let s3 = s3_builder(&cfg.s3, &bucket)
                    .build()
                    .op("configure S3 store")?;
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(PrefixStore::new(s3, prefix.as_str()))
                }
            }
        };
        Ok(Objects {
            inner,
            keyring: Arc::new(keyring),
            local_root,
        })
    }

    /// The artefact keyring (gallery templates are sealed with it too).
    pub(crate) fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Seals `bytes` for `key` and writes the result.
    pub(crate) async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        let sealed = self.keyring.seal(key, &bytes)?;
        self.put_raw(key, sealed.into()).await
    }

    async fn put_raw(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.inner
            .put(&path(key)?, PutPayload::from_bytes(bytes))
            .await
            .op("write artefact")?;
        if let Some(root) = &self.local_root {
            // Owner-only, whatever the umask: the file, then each folder below the root.
            let mut p = root.join(key);
            set_mode(&p, 0o600)?;
            while p.pop() && p.starts_with(root) && p != *root {
                set_mode(&p, 0o700)?;
            }
        }
        Ok(())
    }

    /// Reads and opens the object under `key`.
    pub(crate) async fn get(&self, key: &str) -> Result<Bytes> {
        let sealed = self.get_raw(key).await?;
        Ok(self.keyring.open(key, &sealed)?.into())
    }

    async fn get_raw(&self, key: &str) -> Result<Bytes> {
        let result = match self.inner.get(&path(key)?).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::not_found("artefact object", key));
            }
            Err(e) => return Err(StoreError::backend("read artefact", e)),
        };
        result.bytes().await.op("read artefact")
    }

    /// Deletes one object; `Ok(false)` when it was already gone.
    pub(crate) async fn delete(&self, key: &str) -> Result<bool> {
        match self.inner.delete(&path(key)?).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(StoreError::backend("delete artefact", e)),
        }
    }

    /// Keys directly under `prefix` (upload prefixes are flat: names contain no `/`).
    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let p = path(prefix.trim_end_matches('/'))?;
        match self.inner.list_with_delimiter(Some(&p)).await {
            Ok(l) => Ok(l
                .objects
                .into_iter()
                .map(|m| m.location.to_string())
                .collect()),
            Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(StoreError::backend("list artefacts", e)),
        }
    }

    /// Re-seals the data key of every object not under the current key id; payloads are copied
    /// as they are. Objects are walked by listing, tenant by tenant.
    pub(crate) async fn rewrap_all(&self) -> Result<RewrapReport> {
        let mut report = RewrapReport::default();
        let mut todo: Vec<Option<ObjectPath>> = vec![None];
        while let Some(prefix) = todo.pop() {
            let listing = self
                .inner
                .list_with_delimiter(prefix.as_ref())
                .await
                .op("list artefacts")?;
            todo.extend(listing.common_prefixes.into_iter().map(Some));
            for meta in listing.objects {
                let key = meta.location.to_string();
                report.examined += 1;
                let sealed = match self.get_raw(&key).await {
                    Ok(b) => b,
                    Err(StoreError::NotFound { .. }) => {
                        report.vanished += 1;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                if let Some(new) = self.keyring.rewrap(&key, &sealed)? {
                    // Purged meanwhile: do not bring it back.
                    if matches!(
                        self.inner.head(&meta.location).await,
                        Err(object_store::Error::NotFound { .. })
                    ) {
                        report.vanished += 1;
                        continue;
                    }
                    self.put_raw(&key, new.into()).await?;
                    report.rewrapped += 1;
                }
            }
        }
        Ok(report)
    }

    /// Deletes every object under `prefix`; returns how many were deleted.
    pub(crate) async fn delete_prefix(&self, prefix: &str) -> Result<u64> {
        let mut n = 0;
        for key in self.list(prefix).await? {
            n += u64::from(self.delete(&key).await?);
        }
        Ok(n)
    }
}

fn s3_builder(cfg: &S3Config, bucket: &str) -> AmazonS3Builder {
    let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(e) = &cfg.endpoint {
        b = b.with_endpoint(e);
    }
    let region = cfg
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| "us-east-1".to_owned());
    b = b.with_region(region);
    if let Some(k) = &cfg.access_key_id {
        b = b.with_access_key_id(k);
    }
    if let Some(s) = &cfg.secret_access_key {
        b = b.with_secret_access_key(s);
    }
    b.with_allow_http(cfg.allow_http)
        .with_virtual_hosted_style_request(cfg.virtual_hosted_style)
}

/// Sets a file's or folder's permission bits exactly (no umask applies to chmod).
pub(crate) fn set_mode(p: &std::path::Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
            .op("set artefact mode")?;
    }
    #[cfg(not(unix))]
    let _ = (p, mode);
    Ok(())
}

fn path(key: &str) -> Result<ObjectPath> {
    ObjectPath::parse(key).map_err(|e| StoreError::invalid("object key", e.to_string()))
}

/// `t/{tenant}/{session}/{upload}/`.
pub(crate) fn upload_prefix(tenant: &str, session: &str, upload: &str) -> String {
    format!("t/{tenant}/{session}/{upload}/")
}

/// The tenant a key belongs to, if it has the store's key layout.
pub(crate) fn key_tenant(key: &str) -> Option<&str> {
    let mut parts = key.split('/');
    match (parts.next(), parts.next()) {
        (Some("t"), Some(t)) if !t.is_empty() => Some(t),
        _ => None,
    }
}

/// Artefact names: 1-64 of `[A-Za-z0-9._-]`, not starting with `.` or `-`.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !name.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "artefact name",
            format!("{name:?}: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-'"),
        ))
    }
}

/// Content types: `type/subtype` with optional parameters, printable ASCII, at most 128 bytes.
pub(crate) fn check_content_type(ct: &str) -> Result<()> {
    let ok = ct.len() <= 128
        && ct.contains('/')
        && ct.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !ct.starts_with('/');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "content type",
            format!("{ct:?} is not a media type"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            ArtefactLocation::parse("s3://b/x/y/").unwrap(),
            ArtefactLocation::S3 {
                bucket: "b".into(),
                prefix: "x/y".into()
            }
        );
        assert_eq!(
            ArtefactLocation::parse("s3://b").unwrap(),
            ArtefactLocation::S3 {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert!(ArtefactLocation::parse("s3://").is_err());
        assert!(ArtefactLocation::parse("gs://b").is_err());
        assert_eq!(
            ArtefactLocation::parse("/var/lib/fp").unwrap(),
            ArtefactLocation::Local("/var/lib/fp".into())
        );
    }

    #[test]
    fn names_and_types() {
        for good in ["far.jpg", "near", "audit.zip", "frame_0001.png", "a-b"] {
            check_name(good).unwrap();
        }
        for bad in ["", ".hidden", "-x", "a/b", "..", "a b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        check_content_type("image/jpeg").unwrap();
        check_content_type("application/zip").unwrap();
        assert!(check_content_type("jpeg").is_err());
        assert!(check_content_type("image/jpeg\n").is_err());
    }

    #[test]
    fn key_layout() {
        let p = upload_prefix("T", "S", "U");
        assert_eq!(p, "t/T/S/U/");
        assert_eq!(key_tenant(&format!("{p}far.jpg")), Some("T"));
        assert_eq!(key_tenant("x/T/S"), None);
        assert_eq!(key_tenant("t//S"), None);
    }
}
