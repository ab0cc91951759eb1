//! One error type for the whole store. Each variant carries what was looked up or measured, so the
//! server maps it to a vendor code by matching the variant, never by reading the message.

use thiserror::Error;

/// Everything the store can refuse or fail with.
#[derive(Debug, Error)]
pub enum StoreError {
    /// No row of that kind with that id exists *for this tenant* (another tenant's row reads as
    /// not found, so ids cannot be probed across tenants).
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },

    /// The thing exists but its time is up (session TTL, artefact retention, signed URL, token).
    #[error("{what} {id:?} expired at {expired_at_ms} (now {now_ms})")]
    Expired {
        what: &'static str,
        id: String,
        expired_at_ms: i64,
        now_ms: i64,
    },

    /// A single-use thing (session, challenge, capture token) was already used.
    #[error("{what} {id:?} already used at {consumed_at_ms}")]
    Consumed {
        what: &'static str,
        id: String,
        consumed_at_ms: i64,
    },

    /// Credentials, a signature or a token were not accepted, or the tenant is revoked.
    #[error("forbidden: {reason}")]
    Forbidden { reason: &'static str },

    /// The write collides with existing state (duplicate name or alias, upload swept meanwhile).
    #[error("conflict on {what} {id:?}: {reason}")]
    Conflict {
        what: &'static str,
        id: String,
        reason: &'static str,
    },

    /// An argument was refused before touching any backend (bad name, oversized or biometric-looking
    /// result JSON, malformed signed URL).
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },

    /// The configuration cannot be used (bad URL, unreadable or weak master key file).
    #[error("configuration: {reason}")]
    Config { reason: String },

    /// The database, the object store or the filesystem failed.
    #[error("backend failure during {op}: {source}")]
    Backend {
        op: &'static str,
        #[source]
        source: BackendError,
    },
}

/// The underlying failure of [`StoreError::Backend`].
#[derive(Debug, Error)]
pub enum BackendError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("object store: {0}")]
    Objects(#[from] object_store::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("injected failure: {0}")]
    Injected(&'static str),
}

/// Result alias used throughout the crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// True for failures of the database, object store or filesystem (the server answers 500).
    pub fn is_backend(&self) -> bool {
        matches!(self, StoreError::Backend { .. })
    }

    pub(crate) fn backend(op: &'static str, source: impl Into<BackendError>) -> Self {
        StoreError::Backend {
            op,
            source: source.into(),
        }
    }

    pub(crate) fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        StoreError::NotFound {
            what,
            id: id.into(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        StoreError::backend("decode", BackendError::Corrupt(what.into()))
    }
}

/// Attach an operation name to a backend error: `query.await.op("load session")?`.
pub(crate) trait BackendOp<T> {
    fn op(self, op: &'static str) -> Result<T>;
}

impl<T, E: Into<BackendError>> BackendOp<T> for std::result::Result<T, E> {
    fn op(self, op: &'static str) -> Result<T> {
        self.map_err(|e| StoreError::backend(op, e))
    }
}
