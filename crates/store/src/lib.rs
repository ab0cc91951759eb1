//! faceproof's storage layer: tenants and their credentials, sessions with their result JSON, and
//! artefacts (frames, face crops, audit zips).
//!
//! - One code path for SQLite (default, a file under `$FACEPROOF_HOME`) and PostgreSQL (by URL), one
//!   set of portable migrations.
//! - Artefact bytes in a local directory (default) or any S3-compatible bucket.
//! - Tenant isolation is in the API's shape: sessions and artefacts are reachable only through a
//!   [`TenantStore`], which exists only after a tenant's credentials (or a token, or a signed URL)
//!   were verified, and every query it runs is filtered by that tenant's id.
//! - Writes are atomic: an [`Upload`] writes objects first and publishes them with one database
//!   transaction (see `docs/storage.md`); nothing of a failed or crashed request is ever visible.
//! - Signed artefact URLs and access tokens are HMAC-SHA256 under keys derived from a master key;
//!   tenant secrets are sealed with ChaCha20-Poly1305 under another derived key; every artefact is
//!   envelope-encrypted (a per-object data key sealed under a key id of the artefact keyring).
//! - Single-use grants: server-issued challenges and browser capture tokens (only their hash is
//!   stored), each used once by a conditional update.
//! - The operator console's accounts, login sessions, reviews, session index and a hash-chained
//!   audit log per tenant (`operators.rs`, `console.rs`, `audit.rs`).
//! - [`Store::purge`] (and [`Store::spawn_retention`]) enforce retention.

mod audit;
mod clock;
mod config;
mod console;
mod crypto;
mod db;
mod envelope;
mod error;
mod gallery;
mod grants;
mod lockouts;
mod metadata;
mod objects;
mod operators;
mod replay;
mod replicas;
mod retention;
mod sessions;
mod signed;
mod tenants;
mod totp;
mod webhooks;

use std::sync::Arc;

use sqlx::AnyPool;
use zeroize::Zeroizing;

pub use audit::{AuditEntry, AuditEvent, AuditReport, BrokenEntry, GENESIS_HASH, entry_hash};
pub use bytes::Bytes;
pub use clock::Clock;
pub use config::{
    ArtefactKeySource, ArtefactKeysConfig, MasterKeyConfig, ResultLimits, S3Config, StoreConfig,
    faceproof_home,
};
pub use console::{
    Backlog, CodeCount, Cursor, Dashboard, DayVolume, Decision, IndexedCode, MAX_NOTE_CHARS,
    Outcome, Review, SessionFilter, SessionIndex, SessionPage, SessionSummary,
};
pub use crypto::uuid_text;
pub use db::{Dialect, migration_count};
pub use envelope::{MASTER_KEY_ID, OVERHEAD as ARTEFACT_ENCRYPTION_OVERHEAD};
pub use error::{BackendError, Result, StoreError};
pub use gallery::{
    GalleryChange, GalleryList, MAX_EXTERNAL_REF, NewTemplate, StoredTemplate, TOMBSTONE_KEEP_MS,
};
pub use grants::{
    CAPTURE_TOKEN_PREFIX, CHALLENGE_ID_PREFIX, CaptureGrant, Challenge, IssuedCaptureToken,
    NewCaptureToken, NewChallenge,
};
pub use lockouts::Lockout;
pub use objects::{ArtefactLocation, RewrapReport};
pub use operators::{
    CONSOLE_TOKEN_PREFIX, ConsoleLogin, ConsoleSession, IssuedOperator, IssuedTotp, LoginOutcome,
    LoginPolicy, MIN_PASSWORD_CHARS, Operator, Role, check_new_password, normalise_email,
};
pub use retention::{PurgeReport, RetentionTask};
pub use sessions::{Api, Artefact, NewSession, Session, SessionStatus, Upload};
pub use signed::{AccessToken, SignedUrl};
pub use tenants::{
    CredentialInfo, CredentialKind, GallerySettings, HpkeKeyPair, HpkePublicKey, IssuedCredentials,
    TenantInfo, TenantSettings, TenantStore,
};
pub use totp::{base32, code_at as totp_code_at, unbase32};
pub use webhooks::{
    ClaimedWebhook, IssuedWebhook, Settlement, WebhookDelivery, WebhookEndpoint, webhook_signature,
};

use crate::crypto::Keys;
use crate::envelope::Keyring;
use crate::objects::Objects;

/// Handle to the database, the artefact store and the key material. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: AnyPool,
    dialect: Dialect,
    objects: Objects,
    keys: Keys,
    cfg: StoreConfig,
    clock: Clock,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.inner.dialect)
            .field("objects", &self.inner.objects)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating when needed) the database, applies pending migrations, opens the artefact
    /// store and loads (or generates) the master key. Uses the system clock.
    pub async fn open(cfg: StoreConfig) -> Result<Store> {
        Store::open_with_clock(cfg, Clock::system()).await
    }

    /// [`Store::open`] with an explicit clock (tests move a [`Clock::manual`] forward).
    pub async fn open_with_clock(cfg: StoreConfig, clock: Clock) -> Result<Store> {
        let (master, generated) = crypto::load_master_key(&cfg.master_key)?;
        if generated {
            tracing::info!(path = %cfg.master_key.file.display(), "generated a new master key");
        }
        let keys = Keys::derive(&master);
        let keyring = Keyring::load(&master, &cfg.artefact_keys)?;
        drop::<Zeroizing<[u8; 32]>>(master);
        let objects = Objects::open(&cfg, keyring)?;
        let (db, dialect) = db::connect(&cfg.database_url, cfg.max_connections).await?;
        db::migrate(&db).await?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                dialect,
                objects,
                keys,
                cfg,
                clock,
            }),
        })
    }

    /// Applies pending migrations again (a no-op when current). [`Store::open`] already did.
    pub async fn migrate(&self) -> Result<()> {
        db::migrate(&self.inner.db).await
    }

    /// The database family in use.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.cfg
    }

    /// The store's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Re-seals every artefact's data key under `artefact_keys.current_id` without re-encrypting
    /// payloads (key rotation, see `docs/storage.md`). Safe to repeat and to interrupt: objects
    /// already under the current id are skipped, each object is replaced whole.
    pub async fn rewrap_artefacts(&self) -> Result<RewrapReport> {
        let r = self.inner.objects.rewrap_all().await?;
        r.log("artefacts");
        Ok(r)
    }

    /// Closes the database pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        self.inner.db.close().await;
    }

    pub(crate) fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub(crate) fn db(&self) -> &AnyPool {
        &self.inner.db
    }

    pub(crate) fn objects(&self) -> &Objects {
        &self.inner.objects
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }
}
