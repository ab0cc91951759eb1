//! Sessions, artefacts and atomic uploads, always through a [`TenantStore`].
//!
//! Atomicity: an [`Upload`] first records a write-ahead intent row (`uploads`), then writes each
//! object under its final key in a prefix private to that upload, and publishes everything with one
//! database transaction that deletes the intent and inserts (or fills) the session and its artefact
//! rows. Readers only find objects through committed rows, so a failure or crash at any point
//! leaves nothing visible; the objects it left behind are deleted at once on error or drop, and by
//! the retention purge (which finds them through the intent row) after a crash.

use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Store;
use crate::clock::duration_ms;
use crate::config::{ResultLimits, StoreConfig};
use crate::console::SessionIndex;
use crate::crypto::{new_id, sha256_hex};
use crate::error::{BackendError, BackendOp, Result, StoreError};
use crate::metadata::strip as strip_metadata;
use crate::objects::{check_content_type, check_name, upload_prefix};
use crate::signed::SignedUrl;
use crate::tenants::TenantStore;

/// Which vendor-compatible API a session belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// FPT.AI Liveness v3.
    Fpt,
    /// Silent video + photo compare.
    Silent,
    /// ADVANCE.AI Liveness v3.
    Advance,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Fpt => "fpt",
            Api::Silent => "silent",
            Api::Advance => "advance",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "fpt" => Api::Fpt,
            "silent" => Api::Silent,
            "advance" => Api::Advance,
            other => return Err(StoreError::corrupt(format!("session api {other:?}"))),
        })
    }
}

/// Life cycle of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Created ahead of a capture ([`TenantStore::create_session`]); awaiting its single fill.
    Pending,
    /// Scored; `result` holds the verdict.
    Complete,
    /// Refused or failed; `result` holds the reason.
    Failed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Complete => "complete",
            SessionStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => SessionStatus::Pending,
            "complete" => SessionStatus::Complete,
            "failed" => SessionStatus::Failed,
            other => return Err(StoreError::corrupt(format!("session status {other:?}"))),
        })
    }
}

/// What to create.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub api: Api,
    /// Short free-form label of the operation (`liveness`, `video_compare`, `capture`...):
    /// 1-32 of `[a-z0-9_-]`.
    pub kind: String,
    /// Optional second id, unique per tenant (ADVANCE `signatureId`).
    pub alias: Option<String>,
    /// Window for the single fill / consume; `None`: the configured session TTL.
    pub ttl: Option<Duration>,
}

impl NewSession {
    pub fn new(api: Api, kind: &str) -> Self {
        NewSession {
            api,
            kind: kind.to_owned(),
            alias: None,
            ttl: None,
        }
    }

    pub fn with_alias(mut self, alias: &str) -> Self {
        self.alias = Some(alias.to_owned());
        self
    }

    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    fn check(&self) -> Result<()> {
        let k = &self.kind;
        if k.is_empty()
            || k.len() > 32
            || !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            return Err(StoreError::invalid(
                "session kind",
                format!("{k:?}: 1-32 of [a-z0-9_-]"),
            ));
        }
        if let Some(a) = &self.alias
            && (a.is_empty() || a.len() > 128 || a.chars().any(|c| c.is_control()))
        {
            return Err(StoreError::invalid(
                "session alias",
                "1-128 printable characters",
            ));
        }
        Ok(())
    }
}

/// A committed session.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Session {
    pub id: String,
    pub tenant_id: String,
    pub alias: Option<String>,
    pub api: Api,
    pub kind: String,
    pub status: SessionStatus,
    pub created_at_ms: i64,
    /// End of the window for the single fill / consume.
    pub expires_at_ms: i64,
    /// When the single use happened.
    pub consumed_at_ms: Option<i64>,
    /// When retention deletes the session and its result.
    pub retain_until_ms: i64,
    /// Verdict JSON (no biometric data).
    pub result: Option<serde_json::Value>,
}

impl Session {
    /// True once the fill / consume window has passed.
    pub fn is_expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_at_ms
    }
}

/// Metadata of a stored artefact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Artefact {
    pub session_id: String,
    pub name: String,
    pub object_key: String,
    pub content_type: String,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    pub created_at_ms: i64,
    /// When the bytes are refused and purged.
    pub expires_at_ms: i64,
}

/// `SELECT <every session column> FROM sessions <filter>` as one literal.
macro_rules! select_sessions {
    ($filter:literal) => {
        concat!(
            "SELECT id, tenant_id, alias, api, kind, status, created_at, expires_at, consumed_at, \
             retain_until, result FROM sessions ",
            $filter
        )
    };
}

/// `SELECT <every artefact column> FROM artefacts <filter>` as one literal.
macro_rules! select_artefacts {
    ($filter:literal) => {
        concat!(
            "SELECT session_id, name, object_key, content_type, sha256, size, created_at, expires_at \
             FROM artefacts ",
            $filter
        )
    };
}

fn session_from_row(row: &AnyRow) -> Result<Session> {
    let d = "decode session";
    let result: Option<String> = row.try_get("result").op(d)?;
    Ok(Session {
        id: row.try_get("id").op(d)?,
        tenant_id: row.try_get("tenant_id").op(d)?,
        alias: row.try_get("alias").op(d)?,
        api: Api::parse(&row.try_get::<String, _>("api").op(d)?)?,
        kind: row.try_get("kind").op(d)?,
        status: SessionStatus::parse(&row.try_get::<String, _>("status").op(d)?)?,
        created_at_ms: row.try_get("created_at").op(d)?,
        expires_at_ms: row.try_get("expires_at").op(d)?,
        consumed_at_ms: row.try_get("consumed_at").op(d)?,
        retain_until_ms: row.try_get("retain_until").op(d)?,
        result: match result {
            Some(text) => Some(
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::corrupt(format!("session result: {e}")))?,
            ),
            None => None,
        },
    })
}

pub(crate) fn artefact_from_row(row: &AnyRow) -> Result<Artefact> {
    let d = "decode artefact";
    Ok(Artefact {
        session_id: row.try_get("session_id").op(d)?,
        name: row.try_get("name").op(d)?,
        object_key: row.try_get("object_key").op(d)?,
        content_type: row.try_get("content_type").op(d)?,
        sha256: row.try_get("sha256").op(d)?,
        size: u64::try_from(row.try_get::<i64, _>("size").op(d)?)
            .map_err(|_| StoreError::corrupt("negative artefact size"))?,
        created_at_ms: row.try_get("created_at").op(d)?,
        expires_at_ms: row.try_get("expires_at").op(d)?,
    })
}

/// Refuses result JSON that looks like it carries biometric data.
pub(crate) fn check_result(value: &serde_json::Value, limits: &ResultLimits) -> Result<String> {
    fn walk(v: &serde_json::Value, limits: &ResultLimits, path: &mut String) -> Result<()> {
        match v {
            serde_json::Value::String(s) if s.chars().count() > limits.max_string_len => {
                Err(StoreError::invalid(
                    "result",
                    format!(
                        "string at {path} has {} characters (limit {}): images and crops go in artefacts",
                        s.chars().count(),
                        limits.max_string_len
                    ),
                ))
            }
            serde_json::Value::Array(a) => {
                let numeric = a.iter().filter(|x| x.is_number()).count();
                if numeric > limits.max_numeric_array {
                    return Err(StoreError::invalid(
                        "result",
                        format!(
                            "array at {path} holds {numeric} numbers (limit {}): embeddings are not stored",
                            limits.max_numeric_array
                        ),
                    ));
                }
                for (i, x) in a.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(x, limits, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    if limits
                        .forbidden_keys
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(k))
                    {
                        return Err(StoreError::invalid(
                            "result",
                            format!("key {path}.{k} is reserved for biometric data"),
                        ));
                    }
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    walk(x, limits, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, limits, &mut String::from("$"))?;
    let text = value.to_string();
    if text.len() > limits.max_bytes {
        return Err(StoreError::invalid(
            "result",
            format!(
                "{} bytes serialised (limit {})",
                text.len(),
                limits.max_bytes
            ),
        ));
    }
    Ok(text)
}

impl TenantStore {
    /// Creates a pending session now (ADVANCE capture flow): visible at once, filled exactly once
    /// by [`TenantStore::begin_fill`] before it expires.
    pub async fn create_session(&self, spec: NewSession) -> Result<Session> {
        spec.check()?;
        let s = self.store.clone();
        let now = s.now();
        let id = new_id();
        let ttl = spec
            .ttl
            .map(duration_ms)
            .unwrap_or(StoreConfig::ms(s.config().session_ttl_secs));
        let retain = now.saturating_add(StoreConfig::ms(s.config().result_ttl_secs));
        let done = sqlx::query(
            "INSERT INTO sessions (id, tenant_id, alias, api, kind, status, created_at, expires_at, consumed_at, retain_until, result) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, NULL WHERE EXISTS \
             (SELECT 1 FROM tenants WHERE id = $2 AND revoked_at IS NULL)",
        )
        .bind(&id)
        .bind(&self.tenant_id)
        .bind(spec.alias.clone())
        .bind(spec.api.as_str())
        .bind(&spec.kind)
        .bind(SessionStatus::Pending.as_str())
        .bind(now)
        .bind(now.saturating_add(ttl))
        .bind(retain)
        .execute(s.db())
        .await;
        match done {
            Ok(r) if r.rows_affected() == 1 => {}
            Ok(_) => {
                return Err(StoreError::Forbidden {
                    reason: "tenant is revoked",
                });
            }
            Err(e) => return Err(alias_conflict(e, spec.alias.as_deref(), "create session")),
        }
        self.session(&id).await
    }

    /// Starts an upload that creates a new session on commit (FPT, silent compare, or an ADVANCE
    /// capture sent in one request). Nothing is visible until [`Upload::commit`].
    pub async fn begin_session(&self, spec: NewSession) -> Result<Upload> {
        spec.check()?;
        if let Some(alias) = &spec.alias
            && self.session_by_alias(alias).await.is_ok()
        {
            return Err(StoreError::Conflict {
                what: "session alias",
                id: alias.clone(),
                reason: "already used by another session",
            });
        }
        let session_id = new_id();
        self.start_upload(session_id, Target::New(spec)).await
    }

    /// Starts the single fill of a pending session. Refused when the session is not pending,
    /// already consumed or expired; checked again atomically at commit, so of two concurrent fills
    /// exactly one commits.
    pub async fn begin_fill(&self, session_id: &str) -> Result<Upload> {
        let s = self.session(session_id).await?;
        self.check_fillable(&s, self.store.now())?;
        self.start_upload(s.id.clone(), Target::Existing).await
    }

    fn check_fillable(&self, s: &Session, now: i64) -> Result<()> {
        if let Some(at) = s.consumed_at_ms {
            return Err(StoreError::Consumed {
                what: "session",
                id: s.id.clone(),
                consumed_at_ms: at,
            });
        }
        if s.is_expired(now) {
            return Err(StoreError::Expired {
                what: "session",
                id: s.id.clone(),
                expired_at_ms: s.expires_at_ms,
                now_ms: now,
            });
        }
        if s.status != SessionStatus::Pending {
            return Err(StoreError::Conflict {
                what: "session",
                id: s.id.clone(),
                reason: "not pending",
            });
        }
        Ok(())
    }

    async fn start_upload(&self, session_id: String, target: Target) -> Result<Upload> {
        let s = &self.store;
        s.check_active(&self.tenant_id).await?;
        let upload_id = new_id();
        let prefix = upload_prefix(&self.tenant_id, &session_id, &upload_id);
        sqlx::query(
            "INSERT INTO uploads (id, tenant_id, session_id, prefix, started_at, abandoned_at) VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(&upload_id)
        .bind(&self.tenant_id)
        .bind(&session_id)
        .bind(&prefix)
        .bind(s.now())
        .execute(s.db())
        .await
        .op("record upload intent")?;
        Ok(Upload {
            scope: self.clone(),
            session_id,
            upload_id,
            prefix,
            target,
            artefacts: Vec::new(),
            finished: false,
            fail_after_rows: None,
            events: Vec::new(),
            index: None,
        })
    }

    /// A session of this tenant by id.
    pub async fn session(&self, id: &str) -> Result<Session> {
        let row = sqlx::query(select_sessions!("WHERE id = $1 AND tenant_id = $2"))
            .bind(id)
            .bind(&self.tenant_id)
            .fetch_optional(self.store.db())
            .await
            .op("load session")?
            .ok_or_else(|| StoreError::not_found("session", id))?;
        session_from_row(&row)
    }

    /// A session of this tenant by alias (ADVANCE `signatureId`).
    pub async fn session_by_alias(&self, alias: &str) -> Result<Session> {
        let row = sqlx::query(select_sessions!("WHERE alias = $1 AND tenant_id = $2"))
            .bind(alias)
            .bind(&self.tenant_id)
            .fetch_optional(self.store.db())
            .await
            .op("load session")?
            .ok_or_else(|| StoreError::not_found("session", alias))?;
        session_from_row(&row)
    }

    /// Uses a session once: succeeds for exactly one caller, before it expires. Later calls get
    /// [`StoreError::Consumed`], calls after the TTL [`StoreError::Expired`].
    pub async fn consume(&self, id: &str) -> Result<Session> {
        let now = self.store.now();
        let done = sqlx::query(
            "UPDATE sessions SET consumed_at = $1 WHERE id = $2 AND tenant_id = $3 AND consumed_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(id)
        .bind(&self.tenant_id)
        .execute(self.store.db())
        .await
        .op("consume session")?;
        let s = self.session(id).await?;
        if done.rows_affected() == 1 {
            return Ok(s);
        }
        Err(self.refusal(&s, now))
    }

    /// Why a conditional update on a session matched nothing.
    fn refusal(&self, s: &Session, now: i64) -> StoreError {
        match self.check_fillable(s, now) {
            Err(e) => e,
            Ok(()) => StoreError::Conflict {
                what: "session",
                id: s.id.clone(),
                reason: "changed concurrently",
            },
        }
    }

    /// The artefacts of one of this tenant's sessions, by name (expired ones included until the
    /// purge removes them; reading them is refused).
    pub async fn artefacts(&self, session_id: &str) -> Result<Vec<Artefact>> {
        let rows = sqlx::query(select_artefacts!(
            "WHERE session_id = $1 AND tenant_id = $2 ORDER BY name"
        ))
        .bind(session_id)
        .bind(&self.tenant_id)
        .fetch_all(self.store.db())
        .await
        .op("list artefacts")?;
        rows.iter().map(artefact_from_row).collect()
    }

    /// One artefact's metadata; [`StoreError::Expired`] once its retention time has passed.
    pub async fn artefact(&self, session_id: &str, name: &str) -> Result<Artefact> {
        let row = sqlx::query(select_artefacts!(
            "WHERE session_id = $1 AND name = $2 AND tenant_id = $3"
        ))
        .bind(session_id)
        .bind(name)
        .bind(&self.tenant_id)
        .fetch_optional(self.store.db())
        .await
        .op("load artefact")?
        .ok_or_else(|| StoreError::not_found("artefact", format!("{session_id}/{name}")))?;
        let a = artefact_from_row(&row)?;
        let now = self.store.now();
        if now >= a.expires_at_ms {
            return Err(StoreError::Expired {
                what: "artefact",
                id: format!("{session_id}/{name}"),
                expired_at_ms: a.expires_at_ms,
                now_ms: now,
            });
        }
        Ok(a)
    }

    /// An artefact's metadata and bytes.
    pub async fn read_artefact(&self, session_id: &str, name: &str) -> Result<(Artefact, Bytes)> {
        let a = self.artefact(session_id, name).await?;
        let bytes = self.store.objects().get(&a.object_key).await?;
        Ok((a, bytes))
    }

    /// A signed URL for one artefact, valid for `ttl` (default: the configured signed-URL TTL),
    /// never beyond the artefact's own retention.
    pub async fn sign_artefact(
        &self,
        session_id: &str,
        name: &str,
        ttl: Option<Duration>,
    ) -> Result<SignedUrl> {
        let a = self.artefact(session_id, name).await?;
        let ttl = ttl
            .map(duration_ms)
            .unwrap_or(StoreConfig::ms(self.store.config().signed_url_ttl_secs));
        let expires = self.store.now().saturating_add(ttl).min(a.expires_at_ms);
        Ok(self.store.sign_key(&self.tenant_id, &a.object_key, expires))
    }
}

fn alias_conflict(e: sqlx::Error, alias: Option<&str>, op: &'static str) -> StoreError {
    match (&e, alias) {
        (sqlx::Error::Database(d), Some(a))
            if d.kind() == sqlx::error::ErrorKind::UniqueViolation =>
        {
            StoreError::Conflict {
                what: "session alias",
                id: a.to_owned(),
                reason: "already used by another session",
            }
        }
        _ => StoreError::backend(op, e),
    }
}

#[derive(Debug)]
enum Target {
    New(NewSession),
    Existing,
}

/// One request's writes: objects now, database rows at [`Upload::commit`]. Dropping it without
/// committing deletes what it wrote (in the background when a Tokio runtime is available; else
/// the retention purge does it after the grace period).
#[derive(Debug)]
pub struct Upload {
    pub(crate) scope: TenantStore,
    session_id: String,
    upload_id: String,
    prefix: String,
    target: Target,
    artefacts: Vec<Artefact>,
    finished: bool,
    fail_after_rows: Option<usize>,
    /// Events written in the commit's transaction ([`Upload::enqueue_event`]).
    pub(crate) events: Vec<crate::webhooks::PendingEvent>,
    /// The console's filter columns, written by the commit (see `console.rs`).
    index: Option<SessionIndex>,
}

impl Upload {
    /// Sets the console's filter columns (outcome, need_review, codes) the commit writes with
    /// the result, so lists can filter on indexed columns instead of the result JSON.
    pub fn set_index(&mut self, index: SessionIndex) {
        self.index = Some(index);
    }

    /// Id the session will have (or has, for a fill).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Artefacts written so far (not visible to anyone until commit).
    pub fn artefacts(&self) -> &[Artefact] {
        &self.artefacts
    }

    /// Writes one artefact under its final key. Names are unique within the upload. JPEG and PNG
    /// images lose their metadata first (camera, description, GPS, profiles: see `metadata.rs`);
    /// the recorded size and SHA-256 are those of the bytes stored.
    pub async fn put(
        &mut self,
        name: &str,
        content_type: &str,
        bytes: impl Into<Bytes>,
    ) -> Result<Artefact> {
        check_name(name)?;
        check_content_type(content_type)?;
        if self.artefacts.iter().any(|a| a.name == name) {
            return Err(StoreError::Conflict {
                what: "artefact",
                id: name.to_owned(),
                reason: "name already written in this upload",
            });
        }
        let mut bytes: Bytes = bytes.into();
        // Images are stored without the upload's EXIF/XMP/ICC/text metadata.
        if let Some(stripped) = strip_metadata(content_type, &bytes)? {
            bytes = stripped.into();
        }
        let s = &self.scope.store;
        let now = s.now();
        let key = format!("{}{name}", self.prefix);
        s.objects().put(&key, bytes.clone()).await?;
        let a = Artefact {
            session_id: self.session_id.clone(),
            name: name.to_owned(),
            object_key: key,
            content_type: content_type.to_owned(),
            sha256: sha256_hex(&bytes),
            size: bytes.len() as u64,
            created_at_ms: now,
            expires_at_ms: now.saturating_add(StoreConfig::ms(s.config().artefact_ttl_secs)),
        };
        self.artefacts.push(a.clone());
        Ok(a)
    }

    /// Test hook: make the commit transaction fail after inserting `n` artefact rows, as a crash
    /// or a database error at that point would.
    #[doc(hidden)]
    pub fn inject_commit_failure_after_rows(&mut self, n: usize) {
        self.fail_after_rows = Some(n);
    }

    /// Publishes the session, its status and result, and every artefact in one transaction.
    /// On any error nothing is published and the objects are deleted before returning.
    pub async fn commit(
        mut self,
        status: SessionStatus,
        result: Option<&serde_json::Value>,
    ) -> Result<Session> {
        let outcome = self.commit_rows(status, result).await;
        self.finished = true;
        match outcome {
            Ok(()) => {
                tracing::debug!(tenant = %self.scope.tenant_id, session = %self.session_id,
                    artefacts = self.artefacts.len(), "session committed");
                self.scope.session(&self.session_id).await
            }
            Err(e) => {
                if let Err(cleanup) =
                    cleanup(&self.scope.store, &self.upload_id, &self.prefix).await
                {
                    tracing::warn!(upload = %self.upload_id, error = %cleanup,
                        "cleanup after failed commit deferred to the purge");
                }
                Err(e)
            }
        }
    }

    async fn commit_rows(
        &mut self,
        status: SessionStatus,
        result: Option<&serde_json::Value>,
    ) -> Result<()> {
        let s = self.scope.store.clone();
        let tenant = self.scope.tenant_id.clone();
        let result = match result {
            Some(v) => Some(check_result(v, &s.config().result_limits)?),
            None => None,
        };
        let now = s.now();
        let mut tx = s.db().begin().await.op("begin commit")?;

        // The intent row is the upload's claim: if the purge declared it dead, refuse.
        let claimed = sqlx::query(
            "DELETE FROM uploads WHERE id = $1 AND tenant_id = $2 AND abandoned_at IS NULL",
        )
        .bind(&self.upload_id)
        .bind(&tenant)
        .execute(&mut *tx)
        .await
        .op("claim upload")?;
        if claimed.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                what: "upload",
                id: self.upload_id.clone(),
                reason: "abandoned by the purge after the grace period",
            });
        }
        let revoked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM tenants WHERE id = $1")
                .bind(&tenant)
                .fetch_optional(&mut *tx)
                .await
                .op("check tenant")?;
        if !matches!(revoked, Some(None)) {
            return Err(StoreError::Forbidden {
                reason: "tenant is revoked",
            });
        }

        match &self.target {
            Target::New(spec) => {
                let ttl = spec
                    .ttl
                    .map(duration_ms)
                    .unwrap_or(StoreConfig::ms(s.config().session_ttl_secs));
                let retain = now.saturating_add(StoreConfig::ms(s.config().result_ttl_secs));
                sqlx::query(
                    "INSERT INTO sessions (id, tenant_id, alias, api, kind, status, created_at, expires_at, consumed_at, retain_until, result) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10)",
                )
                .bind(&self.session_id)
                .bind(&tenant)
                .bind(spec.alias.clone())
                .bind(spec.api.as_str())
                .bind(&spec.kind)
                .bind(status.as_str())
                .bind(now)
                .bind(now.saturating_add(ttl))
                .bind(retain)
                .bind(result)
                .execute(&mut *tx)
                .await
                .map_err(|e| alias_conflict(e, spec.alias.as_deref(), "insert session"))?;
            }
            Target::Existing => {
                let filled = sqlx::query(
                    "UPDATE sessions SET status = $1, result = $2, consumed_at = $3 \
                     WHERE id = $4 AND tenant_id = $5 AND status = $6 AND consumed_at IS NULL AND expires_at > $3",
                )
                .bind(status.as_str())
                .bind(result)
                .bind(now)
                .bind(&self.session_id)
                .bind(&tenant)
                .bind(SessionStatus::Pending.as_str())
                .execute(&mut *tx)
                .await
                .op("fill session")?;
                if filled.rows_affected() != 1 {
                    tx.rollback().await.op("roll back fill")?;
                    let current = self.scope.session(&self.session_id).await?;
                    return Err(self.scope.refusal(&current, now));
                }
            }
        }

        if let Some(index) = &self.index {
            index.check()?;
            let created: i64 = sqlx::query_scalar(
                "SELECT created_at FROM sessions WHERE id = $1 AND tenant_id = $2",
            )
            .bind(&self.session_id)
            .bind(&tenant)
            .fetch_one(&mut *tx)
            .await
            .op("load session time")?;
            index
                .write(&mut tx, &tenant, &self.session_id, created)
                .await?;
        }

        for (i, a) in self.artefacts.iter().enumerate() {
            if self.fail_after_rows == Some(i) {
                return Err(StoreError::backend(
                    "insert artefact",
                    BackendError::Injected("commit failure injected by a test"),
                ));
            }
            sqlx::query(
                "INSERT INTO artefacts (session_id, tenant_id, name, object_key, content_type, sha256, size, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&a.session_id)
            .bind(&tenant)
            .bind(&a.name)
            .bind(&a.object_key)
            .bind(&a.content_type)
            .bind(&a.sha256)
            .bind(a.size as i64)
            .bind(a.created_at_ms)
            .bind(a.expires_at_ms)
            .execute(&mut *tx)
            .await
            .op("insert artefact")?;
        }
        crate::webhooks::insert_pending(&mut tx, &s, &tenant, &self.events).await?;
        if self.fail_after_rows == Some(self.artefacts.len()) {
            return Err(StoreError::backend(
                "commit",
                BackendError::Injected("commit failure injected by a test"),
            ));
        }
        tx.commit().await.op("commit session")
    }

    /// Gives up: deletes the objects written so far and the intent row.
    pub async fn abort(mut self) -> Result<()> {
        self.finished = true;
        cleanup(&self.scope.store, &self.upload_id, &self.prefix)
            .await
            .map(|_| ())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Dropped mid-request (an error path, a cancelled future): clean up in the background.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let store = self.scope.store.clone();
            let upload = self.upload_id.clone();
            let prefix = self.prefix.clone();
            rt.spawn(async move {
                if let Err(e) = cleanup(&store, &upload, &prefix).await {
                    tracing::warn!(upload = %upload, error = %e,
                        "cleanup of a dropped upload deferred to the purge");
                }
            });
        }
    }
}

/// Deletes an uncommitted upload's objects, then its intent row. Safe to repeat.
///
/// Only while the intent row exists: the commit transaction deletes it, so a missing row means the
/// upload was published (perhaps by a commit whose acknowledgement was lost) or already swept, and
/// its objects must not be touched.
pub(crate) async fn cleanup(store: &Store, upload_id: &str, prefix: &str) -> Result<u64> {
    let pending: Option<String> = sqlx::query_scalar("SELECT id FROM uploads WHERE id = $1")
        .bind(upload_id)
        .fetch_optional(store.db())
        .await
        .op("check upload intent")?;
    if pending.is_none() {
        return Ok(0);
    }
    let deleted = store.objects().delete_prefix(prefix).await?;
    sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(upload_id)
        .execute(store.db())
        .await
        .op("delete upload intent")?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_guard() {
        let l = ResultLimits::default();
        check_result(
            &json!({"liveness": {"code": "200", "spoof_prob": 0.01}, "reasons": ["blink"]}),
            &l,
        )
        .unwrap();
        let long = "A".repeat(5000);
        for bad in [
            json!({"frame": long}),
            json!({"x": {"embedding": [0.1]}}),
            json!({"vec": (0..128).map(|i| i as f64).collect::<Vec<_>>()}),
            json!({"Base64_Image": "abc"}),
        ] {
            let e = check_result(&bad, &l).unwrap_err();
            assert!(
                matches!(
                    e,
                    StoreError::Invalid {
                        field: "result",
                        ..
                    }
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn session_spec_checks() {
        NewSession::new(Api::Advance, "capture").check().unwrap();
        assert!(NewSession::new(Api::Fpt, "Liveness").check().is_err());
        assert!(NewSession::new(Api::Fpt, "").check().is_err());
        assert!(
            NewSession::new(Api::Fpt, "x")
                .with_alias("a\nb")
                .check()
                .is_err()
        );
    }
}
