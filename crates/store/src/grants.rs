//! Single-use grants: server-issued challenges and browser capture tokens.
//!
//! Both are rows a tenant creates and one later request uses exactly once, before they expire:
//! - a **challenge** holds the engine's challenge spec (stored as JSON; the store does not read it)
//!   and may be attached to an ADVANCE capture session (its `signatureId`);
//! - a **capture token** lets a browser upload to one flow's endpoint without the tenant's key. Only
//!   its SHA-256 is stored; it may be bound to an ADVANCE `signatureId` and to a challenge.
//!
//! Use is a conditional `UPDATE ... WHERE used_at IS NULL AND expires_at > now`, so of concurrent
//! users (two replicas, say) exactly one succeeds. [`TenantStore::use_grants`] uses a token and a
//! challenge in one transaction: either both are spent or neither is.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use crate::Store;
use crate::clock::duration_ms;
use crate::crypto::{new_id, new_token, sha256_hex};
use crate::error::{BackendOp, Result, StoreError};
use crate::sessions::{Api, SessionStatus};
use crate::tenants::TenantStore;

/// Prefix of every capture token (so a leaked one is recognisable in logs and scanners).
pub const CAPTURE_TOKEN_PREFIX: &str = "fct_";
/// Prefix of challenge ids.
pub const CHALLENGE_ID_PREFIX: &str = "chl_";

/// What to issue as a challenge.
#[derive(Clone, Debug)]
pub struct NewChallenge {
    /// Short label of the kind (`colour`, `head_turn`): 1-32 of `[a-z0-9_]`.
    pub kind: String,
    /// The spec the engine verifies against, as JSON (kept as given).
    pub spec: serde_json::Value,
    /// Lifetime; the challenge cannot be used from `now + ttl`.
    pub ttl: Duration,
    /// The ADVANCE capture session (`signatureId`) the challenge is attached to.
    pub signature_id: Option<String>,
}

/// A stored challenge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Challenge {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub spec: serde_json::Value,
    pub signature_id: Option<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
}

/// What to issue as a capture token.
#[derive(Clone, Debug)]
pub struct NewCaptureToken {
    /// The only API whose upload endpoint accepts the token.
    pub flow: Api,
    /// ADVANCE only: the pending capture session the upload must fill.
    pub signature_id: Option<String>,
    /// A challenge of this tenant the upload is judged against.
    pub challenge_id: Option<String>,
    /// Lifetime.
    pub ttl: Duration,
}

/// A capture token's row (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaptureGrant {
    /// Row id (for logs; it does not authenticate anything).
    pub id: String,
    pub tenant_id: String,
    pub flow: Api,
    pub signature_id: Option<String>,
    pub challenge_id: Option<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
}

/// A new capture token: the secret (shown once; `Debug` redacts it) and its row.
pub struct IssuedCaptureToken {
    pub token: Zeroizing<String>,
    pub grant: CaptureGrant,
}

impl std::fmt::Debug for IssuedCaptureToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCaptureToken")
            .field("token", &"<redacted>")
            .field("grant", &self.grant)
            .finish()
    }
}

fn check_kind(kind: &str) -> Result<()> {
    let ok = !kind.is_empty()
        && kind.len() <= 32
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "challenge kind",
            format!("{kind:?}: 1-32 of [a-z0-9_]"),
        ))
    }
}

fn check_ttl(ttl: Duration, what: &'static str) -> Result<i64> {
    let ms = duration_ms(ttl);
    if ms <= 0 {
        return Err(StoreError::invalid(what, "the lifetime must be positive"));
    }
    Ok(ms)
}

macro_rules! select_challenges {
    ($filter:literal) => {
        concat!(
            "SELECT id, tenant_id, kind, spec, signature_id, created_at, expires_at, used_at \
             FROM challenges ",
            $filter
        )
    };
}

macro_rules! select_tokens {
    ($filter:literal) => {
        concat!(
            "SELECT id, tenant_id, flow, signature_id, challenge_id, created_at, expires_at, used_at \
             FROM capture_tokens ",
            $filter
        )
    };
}

fn challenge_from_row(row: &AnyRow) -> Result<Challenge> {
    let d = "decode challenge";
    let spec: String = row.try_get("spec").op(d)?;
    Ok(Challenge {
        id: row.try_get("id").op(d)?,
        tenant_id: row.try_get("tenant_id").op(d)?,
        kind: row.try_get("kind").op(d)?,
        spec: serde_json::from_str(&spec)
            .map_err(|e| StoreError::corrupt(format!("challenge spec: {e}")))?,
        signature_id: row.try_get("signature_id").op(d)?,
        created_at_ms: row.try_get("created_at").op(d)?,
        expires_at_ms: row.try_get("expires_at").op(d)?,
        used_at_ms: row.try_get("used_at").op(d)?,
    })
}

fn grant_from_row(row: &AnyRow) -> Result<CaptureGrant> {
    let d = "decode capture token";
    Ok(CaptureGrant {
        id: row.try_get("id").op(d)?,
        tenant_id: row.try_get("tenant_id").op(d)?,
        flow: Api::parse(&row.try_get::<String, _>("flow").op(d)?)?,
        signature_id: row.try_get("signature_id").op(d)?,
        challenge_id: row.try_get("challenge_id").op(d)?,
        created_at_ms: row.try_get("created_at").op(d)?,
        expires_at_ms: row.try_get("expires_at").op(d)?,
        used_at_ms: row.try_get("used_at").op(d)?,
    })
}

/// Why a single-use row cannot be used now (`None`: it can).
fn unusable(
    what: &'static str,
    id: &str,
    used_at: Option<i64>,
    expires_at: i64,
    now: i64,
) -> Option<StoreError> {
    if let Some(at) = used_at {
        return Some(StoreError::Consumed {
            what,
            id: id.to_owned(),
            consumed_at_ms: at,
        });
    }
    (now >= expires_at).then(|| StoreError::Expired {
        what,
        id: id.to_owned(),
        expired_at_ms: expires_at,
        now_ms: now,
    })
}

impl Challenge {
    /// `Ok` while unused and unexpired; else why not.
    pub fn check_usable(&self, now_ms: i64) -> Result<()> {
        match unusable(
            "challenge",
            &self.id,
            self.used_at_ms,
            self.expires_at_ms,
            now_ms,
        ) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl CaptureGrant {
    /// `Ok` while unused and unexpired; else why not.
    pub fn check_usable(&self, now_ms: i64) -> Result<()> {
        match unusable(
            "capture token",
            &self.id,
            self.used_at_ms,
            self.expires_at_ms,
            now_ms,
        ) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl TenantStore {
    /// Issues a challenge (unused, expiring at `now + ttl`). A `signature_id` must name one of this
    /// tenant's pending ADVANCE sessions that can still be filled.
    pub async fn create_challenge(&self, new: NewChallenge) -> Result<Challenge> {
        check_kind(&new.kind)?;
        let ttl = check_ttl(new.ttl, "challenge ttl")?;
        if let Some(sig) = &new.signature_id {
            self.fillable_capture_session(sig).await?;
        }
        let s = &self.store;
        let now = s.now();
        let id = format!("{CHALLENGE_ID_PREFIX}{}", new_id().replace('-', ""));
        let done = sqlx::query(
            "INSERT INTO challenges (id, tenant_id, kind, spec, signature_id, created_at, expires_at, used_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, NULL WHERE EXISTS \
             (SELECT 1 FROM tenants WHERE id = $2 AND revoked_at IS NULL)",
        )
        .bind(&id)
        .bind(&self.tenant_id)
        .bind(&new.kind)
        .bind(new.spec.to_string())
        .bind(new.signature_id.clone())
        .bind(now)
        .bind(now.saturating_add(ttl))
        .execute(s.db())
        .await
        .op("insert challenge")?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Forbidden {
                reason: "tenant is revoked",
            });
        }
        self.challenge(&id).await
    }

    /// One of this tenant's challenges, in any state (another tenant's reads as not found).
    pub async fn challenge(&self, id: &str) -> Result<Challenge> {
        let row = sqlx::query(select_challenges!("WHERE id = $1 AND tenant_id = $2"))
            .bind(id)
            .bind(&self.tenant_id)
            .fetch_optional(self.store.db())
            .await
            .op("load challenge")?
            .ok_or_else(|| StoreError::not_found("challenge", id))?;
        challenge_from_row(&row)
    }

    /// One of this tenant's challenges that can be used now: [`StoreError::NotFound`],
    /// [`StoreError::Consumed`] or [`StoreError::Expired`] otherwise. Does not use it.
    pub async fn usable_challenge(&self, id: &str) -> Result<Challenge> {
        let c = self.challenge(id).await?;
        c.check_usable(self.store.now())?;
        Ok(c)
    }

    /// The newest challenge attached to one of this tenant's ADVANCE sessions, in any state.
    pub async fn challenge_for_signature(&self, signature_id: &str) -> Result<Option<Challenge>> {
        let row = sqlx::query(select_challenges!(
            "WHERE tenant_id = $1 AND signature_id = $2 ORDER BY created_at DESC, id LIMIT 1"
        ))
        .bind(&self.tenant_id)
        .bind(signature_id)
        .fetch_optional(self.store.db())
        .await
        .op("load session challenge")?;
        row.as_ref().map(challenge_from_row).transpose()
    }

    /// Issues a capture token for one flow. A `challenge_id` must be this tenant's and usable; a
    /// `signature_id` (ADVANCE only) must be one of this tenant's pending capture sessions.
    pub async fn issue_capture_token(&self, new: NewCaptureToken) -> Result<IssuedCaptureToken> {
        let ttl = check_ttl(new.ttl, "capture token ttl")?;
        if let Some(sig) = &new.signature_id {
            if new.flow != Api::Advance {
                return Err(StoreError::invalid(
                    "signature_id",
                    "only an ADVANCE capture token is bound to a signatureId",
                ));
            }
            self.fillable_capture_session(sig).await?;
        }
        if let Some(c) = &new.challenge_id {
            self.usable_challenge(c).await?;
        }
        let s = &self.store;
        let now = s.now();
        let id = new_id();
        let token = new_token(CAPTURE_TOKEN_PREFIX, 32);
        let done = sqlx::query(
            "INSERT INTO capture_tokens (id, token_hash, tenant_id, flow, signature_id, challenge_id, created_at, expires_at, used_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, NULL WHERE EXISTS \
             (SELECT 1 FROM tenants WHERE id = $3 AND revoked_at IS NULL)",
        )
        .bind(&id)
        .bind(sha256_hex(token.as_bytes()))
        .bind(&self.tenant_id)
        .bind(new.flow.as_str())
        .bind(new.signature_id.clone())
        .bind(new.challenge_id.clone())
        .bind(now)
        .bind(now.saturating_add(ttl))
        .execute(s.db())
        .await
        .op("insert capture token")?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Forbidden {
                reason: "tenant is revoked",
            });
        }
        let grant = self.capture_grant(&id).await?;
        tracing::debug!(tenant = %self.tenant_id, token = %id, flow = new.flow.as_str(), "capture token issued");
        Ok(IssuedCaptureToken { token, grant })
    }

    /// A capture token's row by its id (not by the token).
    pub async fn capture_grant(&self, id: &str) -> Result<CaptureGrant> {
        let row = sqlx::query(select_tokens!("WHERE id = $1 AND tenant_id = $2"))
            .bind(id)
            .bind(&self.tenant_id)
            .fetch_optional(self.store.db())
            .await
            .op("load capture token")?
            .ok_or_else(|| StoreError::not_found("capture token", id))?;
        grant_from_row(&row)
    }

    /// Spends a capture token and / or a challenge in one transaction: both or neither. Each is
    /// refused ([`StoreError::Consumed`], [`StoreError::Expired`], [`StoreError::NotFound`]) unless
    /// this tenant's, unused and unexpired at this instant; of concurrent callers exactly one wins.
    /// Returns the challenge as used.
    pub async fn use_grants(
        &self,
        token: Option<&CaptureGrant>,
        challenge_id: Option<&str>,
    ) -> Result<Option<Challenge>> {
        let s = &self.store;
        let now = s.now();
        let mut tx = s.db().begin().await.op("begin use grants")?;
        if let Some(g) = token {
            let done = sqlx::query(
                "UPDATE capture_tokens SET used_at = $1 \
                 WHERE id = $2 AND tenant_id = $3 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(now)
            .bind(&g.id)
            .bind(&self.tenant_id)
            .execute(&mut *tx)
            .await
            .op("use capture token")?;
            if done.rows_affected() != 1 {
                tx.rollback().await.op("roll back use grants")?;
                let current = self.capture_grant(&g.id).await?;
                return Err(current
                    .check_usable(now)
                    .err()
                    .unwrap_or(StoreError::Conflict {
                        what: "capture token",
                        id: g.id.clone(),
                        reason: "changed concurrently",
                    }));
            }
        }
        if let Some(c) = challenge_id {
            let done = sqlx::query(
                "UPDATE challenges SET used_at = $1 \
                 WHERE id = $2 AND tenant_id = $3 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(now)
            .bind(c)
            .bind(&self.tenant_id)
            .execute(&mut *tx)
            .await
            .op("use challenge")?;
            if done.rows_affected() != 1 {
                tx.rollback().await.op("roll back use grants")?;
                let current = self.challenge(c).await?;
                return Err(current
                    .check_usable(now)
                    .err()
                    .unwrap_or(StoreError::Conflict {
                        what: "challenge",
                        id: c.to_owned(),
                        reason: "changed concurrently",
                    }));
            }
        }
        let revoked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM tenants WHERE id = $1")
                .bind(&self.tenant_id)
                .fetch_optional(&mut *tx)
                .await
                .op("check tenant")?;
        if !matches!(revoked, Some(None)) {
            tx.rollback().await.op("roll back use grants")?;
            return Err(StoreError::Forbidden {
                reason: "tenant is revoked",
            });
        }
        tx.commit().await.op("commit use grants")?;
        match challenge_id {
            Some(c) => self.challenge(c).await.map(Some),
            None => Ok(None),
        }
    }

    /// Refuses anything but this tenant's pending ADVANCE capture session that can still be filled.
    async fn fillable_capture_session(&self, signature_id: &str) -> Result<()> {
        let s = self.session_by_alias(signature_id).await?;
        if s.api != Api::Advance {
            return Err(StoreError::not_found("session", signature_id));
        }
        if let Some(at) = s.consumed_at_ms {
            return Err(StoreError::Consumed {
                what: "session",
                id: signature_id.to_owned(),
                consumed_at_ms: at,
            });
        }
        let now = self.store.now();
        if s.is_expired(now) {
            return Err(StoreError::Expired {
                what: "session",
                id: signature_id.to_owned(),
                expired_at_ms: s.expires_at_ms,
                now_ms: now,
            });
        }
        if s.status != SessionStatus::Pending {
            return Err(StoreError::Conflict {
                what: "session",
                id: signature_id.to_owned(),
                reason: "not pending",
            });
        }
        Ok(())
    }
}

impl Store {
    /// Verifies a capture token: known, its tenant active, unused and unexpired. Does not use it
    /// ([`TenantStore::use_grants`] does, when the upload is accepted). An unknown token is
    /// [`StoreError::Forbidden`], like an unknown API key.
    pub async fn authenticate_capture_token(
        &self,
        token: &str,
    ) -> Result<(TenantStore, CaptureGrant)> {
        let unknown = StoreError::Forbidden {
            reason: "unknown capture token",
        };
        if !token.starts_with(CAPTURE_TOKEN_PREFIX) {
            return Err(unknown);
        }
        let row = sqlx::query(select_tokens!("WHERE token_hash = $1"))
            .bind(sha256_hex(token.as_bytes()))
            .fetch_optional(self.db())
            .await
            .op("authenticate capture token")?
            .ok_or(unknown)?;
        let grant = grant_from_row(&row)?;
        self.check_active(&grant.tenant_id).await?;
        grant.check_usable(self.now())?;
        let scope = TenantStore {
            store: self.clone(),
            tenant_id: grant.tenant_id.clone(),
            credential_id: None,
            via: None,
        };
        Ok((scope, grant))
    }
}
