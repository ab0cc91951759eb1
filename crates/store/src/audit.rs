//! The console's audit log: append-only and hash-chained per tenant.
//!
//! Entry `n` stores `prev_hash` = hash of entry `n - 1` (64 zeros for the first) and `hash` =
//! SHA-256 over the canonical encoding of its fields: each field as an 8-byte big-endian length
//! followed by its UTF-8 bytes, in the order `"faceproof-audit-v1"`, tenant id, seq, at (decimal
//! milliseconds), actor, action, subject, detail (the stored JSON text), prev_hash. Editing,
//! deleting or inserting a row therefore breaks the chain at that row, and
//! [`Store::verify_audit`] names the first one. The chain proves integrity against edits to the
//! rows, not against someone who rewrites the whole tail with fresh hashes: export the latest
//! hash elsewhere (a ticket, a log shipper) to anchor it.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::Store;
use crate::crypto::hex;
use crate::error::{BackendOp, Result, StoreError};
use crate::tenants::TenantStore;

/// `prev_hash` of a tenant's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub tenant_id: String,
    pub seq: i64,
    pub at_ms: i64,
    /// Who: an operator id, or `cli` / `system`.
    pub actor: String,
    /// What: `session.viewed`, `review.decided`, `login`, `login.failed`, ...
    pub action: String,
    /// On what: a session id, an operator email.
    pub subject: String,
    /// JSON text with the particulars.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What [`Store::verify_audit`] found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditReport {
    pub tenant_id: String,
    pub entries: u64,
    /// Hash of the last entry (the value to anchor elsewhere).
    pub head: String,
    pub ok: bool,
    /// The first entry that does not fit the chain, and why.
    pub first_broken: Option<BrokenEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BrokenEntry {
    pub seq: i64,
    pub reason: String,
}

/// SHA-256 of an entry's canonical encoding (see the module documentation).
pub fn entry_hash(e: &AuditEntry) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let seq = e.seq.to_string();
    let at = e.at_ms.to_string();
    for f in [
        "faceproof-audit-v1",
        &e.tenant_id,
        &seq,
        &at,
        &e.actor,
        &e.action,
        &e.subject,
        &e.detail,
        &e.prev_hash,
    ] {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex(&h.finalize())
}

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry> {
    let d = "decode audit entry";
    Ok(AuditEntry {
        tenant_id: row.try_get("tenant_id").op(d)?,
        seq: row.try_get("seq").op(d)?,
        at_ms: row.try_get("at").op(d)?,
        actor: row.try_get("actor").op(d)?,
        action: row.try_get("action").op(d)?,
        subject: row.try_get("subject").op(d)?,
        detail: row.try_get("detail").op(d)?,
        prev_hash: row.try_get("prev_hash").op(d)?,
        hash: row.try_get("hash").op(d)?,
    })
}

/// `SELECT <every audit column> FROM audit_log <filter>` as one literal.
macro_rules! select_audit {
    ($filter:literal) => {
        concat!(
            "SELECT tenant_id, seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ",
            $filter
        )
    };
}

/// What to append.
#[derive(Clone, Debug)]
pub struct AuditEvent<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: serde_json::Value,
}

/// Whether an error is a primary-key collision (another writer took this `seq`).
fn is_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Backend { source: crate::error::BackendError::Database(sqlx::Error::Database(d)), .. }
        if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Appends inside `tx`: reads the tenant's last entry and inserts the next. A concurrent writer
/// that took the same `seq` makes the insert fail with a unique violation: the caller retries
/// the whole transaction.
pub(crate) async fn append_in(
    tx: &mut Transaction<'static, Any>,
    tenant_id: &str,
    at_ms: i64,
    ev: &AuditEvent<'_>,
) -> Result<AuditEntry> {
    let last = sqlx::query(
        "SELECT seq, hash FROM audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(tenant_id)
    .fetch_optional(&mut **tx)
    .await
    .op("load audit head")?;
    let (seq, prev) = match last {
        Some(r) => (
            r.try_get::<i64, _>("seq").op("decode audit head")? + 1,
            r.try_get::<String, _>("hash").op("decode audit head")?,
        ),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let mut e = AuditEntry {
        tenant_id: tenant_id.to_owned(),
        seq,
        at_ms,
        actor: ev.actor.to_owned(),
        action: ev.action.to_owned(),
        subject: ev.subject.to_owned(),
        detail: ev.detail.to_string(),
        prev_hash: prev,
        hash: String::new(),
    };
    e.hash = entry_hash(&e);
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, seq, at, actor, action, subject, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&e.tenant_id)
    .bind(e.seq)
    .bind(e.at_ms)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.subject)
    .bind(&e.detail)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .execute(&mut **tx)
    .await
    .op("append audit entry")?;
    Ok(e)
}

/// Attempts made when writers collide on the next `seq`.
pub(crate) const APPEND_ATTEMPTS: usize = 8;

pub(crate) fn retryable(e: &StoreError) -> bool {
    is_conflict(e)
}

impl Store {
    /// A transaction that holds the write lock from its start. SQLite's default (deferred) one
    /// reads the chain's head under a shared lock and then fails at once ("database is locked")
    /// when another writer got there first; `BEGIN IMMEDIATE` waits for the lock instead (up to
    /// the busy timeout). PostgreSQL needs nothing: the primary key settles races.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        match self.dialect() {
            crate::Dialect::Sqlite => self.db().begin_with("BEGIN IMMEDIATE").await,
            crate::Dialect::Postgres => self.db().begin().await,
        }
        .op("begin write")
    }
}

impl TenantStore {
    /// Appends one entry to this tenant's chain (its own transaction; retried on collision).
    pub async fn audit(&self, ev: AuditEvent<'_>) -> Result<AuditEntry> {
        let mut last = None;
        for _ in 0..APPEND_ATTEMPTS {
            let mut tx = self.store.begin_write().await?;
            match append_in(&mut tx, &self.tenant_id, self.store.now(), &ev).await {
                Ok(e) => {
                    tx.commit().await.op("commit audit")?;
                    return Ok(e);
                }
                Err(e) if retryable(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| StoreError::corrupt("audit append")))
    }

    /// Entries newest first, before `before_seq` when given.
    pub async fn audit_entries(
        &self,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(select_audit!(
            "WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        ))
        .bind(&self.tenant_id)
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(i64::from(limit.clamp(1, 500)))
        .fetch_all(self.store.db())
        .await
        .op("list audit entries")?;
        rows.iter().map(entry_from_row).collect()
    }
}

impl Store {
    /// Walks a tenant's (id or name) chain from the first entry: each `seq` follows the previous,
    /// each `prev_hash` is the previous `hash`, each `hash` recomputes. Stops at the first break.
    pub async fn verify_audit(&self, tenant: &str) -> Result<AuditReport> {
        let info = self.tenant(tenant).await?;
        let mut report = AuditReport {
            tenant_id: info.id.clone(),
            entries: 0,
            head: GENESIS_HASH.to_owned(),
            ok: true,
            first_broken: None,
        };
        let mut expect_seq = 1i64;
        let mut prev = GENESIS_HASH.to_owned();
        loop {
            let rows = sqlx::query(select_audit!(
                "WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT 1000"
            ))
            .bind(&info.id)
            .bind(expect_seq)
            .fetch_all(self.db())
            .await
            .op("read audit chain")?;
            let n = rows.len();
            for row in &rows {
                let e = entry_from_row(row)?;
                let broken = if e.seq != expect_seq {
                    Some(format!("entry {expect_seq} is missing (next is {})", e.seq))
                } else if e.prev_hash != prev {
                    Some("prev_hash is not the previous entry's hash".to_owned())
                } else if entry_hash(&e) != e.hash {
                    Some("hash does not match the entry's contents".to_owned())
                } else {
                    None
                };
                if let Some(reason) = broken {
                    report.ok = false;
                    report.first_broken = Some(BrokenEntry {
                        seq: expect_seq.min(e.seq),
                        reason,
                    });
                    return Ok(report);
                }
                report.entries += 1;
                prev = e.hash;
                expect_seq += 1;
            }
            if n < 1000 {
                break;
            }
        }
        report.head = prev;
        Ok(report)
    }
}
