//! Face templates for 1:N search, always through a [`TenantStore`] for writes and per-tenant
//! reads; [`Store::gallery_changes`] feeds every replica's in-memory index (all tenants, by an
//! `updated_at` cursor).
//!
//! At rest a template is its little-endian f32 values envelope-encrypted with the artefact
//! keyring (the same format, keys and rotation as artefacts), bound to the tenant and the row id,
//! stored as base64 text. Rows of probes and enrolments share the session's retention
//! (`result_ttl_secs`); blocklist entries stay until deleted. Deletion leaves a tombstone (no
//! template) for `TOMBSTONE_KEEP_MS` so replicas polling the cursor remove the entry too.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Store;
use crate::config::StoreConfig;
use crate::crypto::{b64, new_id, unb64};
use crate::error::{BackendOp, Result, StoreError};
use crate::objects::RewrapReport;
use crate::tenants::TenantStore;

/// How long a deleted row's tombstone stays readable by the change cursor (replicas that have
/// not polled for longer reload their whole index).
pub const TOMBSTONE_KEEP_MS: i64 = 24 * 3600 * 1000;

/// Longest external reference accepted (characters).
pub const MAX_EXTERNAL_REF: usize = 128;

/// Which list a stored template is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GalleryList {
    /// A screened session's template, not searched (kept for a review's enrolment or a block).
    Probe,
    /// Enrolled under the tenant's external reference: searched for duplicates.
    Enrolled,
    /// On the tenant's blocklist.
    Blocked,
}

impl GalleryList {
    pub fn as_str(self) -> &'static str {
        match self {
            GalleryList::Probe => "probe",
            GalleryList::Enrolled => "enrolled",
            GalleryList::Blocked => "blocked",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "probe" => GalleryList::Probe,
            "enrolled" => GalleryList::Enrolled,
            "blocked" => GalleryList::Blocked,
            other => return Err(StoreError::corrupt(format!("gallery list {other:?}"))),
        })
    }
}

/// What to store.
#[derive(Clone, Debug)]
pub struct NewTemplate {
    pub list: GalleryList,
    /// The tenant's reference for the person (required to enrol).
    pub external_ref: Option<String>,
    /// The session the template came from, when known.
    pub session_id: Option<String>,
    /// Name of the embedder that made it (templates of two embedders are not comparable).
    pub embedder: String,
    pub embedding: Vec<f32>,
}

/// A stored template's row (the template decrypted; `None` once deleted).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredTemplate {
    pub id: String,
    pub tenant_id: String,
    pub list: GalleryList,
    pub external_ref: Option<String>,
    pub session_id: Option<String>,
    pub embedder: String,
    pub operator: Option<String>,
    pub reason: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub retain_until_ms: Option<i64>,
    pub deleted_at_ms: Option<i64>,
    #[serde(skip)]
    pub embedding: Option<Vec<f32>>,
}

/// One page of [`Store::gallery_changes`], with the cursor to continue from.
#[derive(Clone, Debug)]
pub struct GalleryChange {
    pub rows: Vec<StoredTemplate>,
    /// `(updated_at, id)` of the last row, to pass back; unchanged when no row came.
    pub cursor: (i64, String),
}

fn object_key(tenant: &str, id: &str) -> String {
    format!("t/{tenant}/gallery/{id}")
}

pub(crate) fn check_external_ref(r: &str) -> Result<()> {
    if r.is_empty() || r.chars().count() > MAX_EXTERNAL_REF || r.chars().any(char::is_control) {
        return Err(StoreError::invalid(
            "external reference",
            format!("1-{MAX_EXTERNAL_REF} printable characters"),
        ));
    }
    Ok(())
}

macro_rules! select_templates {
    ($filter:literal) => {
        concat!(
            "SELECT id, tenant_id, list, external_ref, session_id, embedder, sealed, operator, reason, \
             created_at, updated_at, retain_until, deleted_at FROM gallery_templates ",
            $filter
        )
    };
}

impl Store {
    fn seal_template(&self, tenant: &str, id: &str, embedding: &[f32]) -> Result<String> {
        let plain: Vec<u8> = embedding.iter().flat_map(|v| v.to_le_bytes()).collect();
        Ok(b64(&self
            .objects()
            .keyring()
            .seal(&object_key(tenant, id), &plain)?))
    }

    fn open_template(&self, tenant: &str, id: &str, sealed: &str) -> Result<Vec<f32>> {
        let raw = unb64(sealed)
            .ok_or_else(|| StoreError::corrupt(format!("gallery template {id}: not base64")))?;
        let plain = self
            .objects()
            .keyring()
            .open(&object_key(tenant, id), &raw)?;
        if plain.len() % 4 != 0 {
            return Err(StoreError::corrupt(format!(
                "gallery template {id}: {} bytes",
                plain.len()
            )));
        }
        Ok(plain
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }

    fn template_from_row(&self, row: &AnyRow) -> Result<StoredTemplate> {
        let d = "decode gallery template";
        let id: String = row.try_get("id").op(d)?;
        let tenant_id: String = row.try_get("tenant_id").op(d)?;
        let sealed: Option<String> = row.try_get("sealed").op(d)?;
        let embedding = match &sealed {
            Some(s) => Some(self.open_template(&tenant_id, &id, s)?),
            None => None,
        };
        Ok(StoredTemplate {
            list: GalleryList::parse(&row.try_get::<String, _>("list").op(d)?)?,
            external_ref: row.try_get("external_ref").op(d)?,
            session_id: row.try_get("session_id").op(d)?,
            embedder: row.try_get("embedder").op(d)?,
            operator: row.try_get("operator").op(d)?,
            reason: row.try_get("reason").op(d)?,
            created_at_ms: row.try_get("created_at").op(d)?,
            updated_at_ms: row.try_get("updated_at").op(d)?,
            retain_until_ms: row.try_get("retain_until").op(d)?,
            deleted_at_ms: row.try_get("deleted_at").op(d)?,
            embedding,
            id,
            tenant_id,
        })
    }

    /// Rows of every tenant changed at or after `since.0` (ties broken by id), oldest first, at
    /// most `limit`. A replica polls this with the cursor of its last page and re-reads a margin
    /// before it (rows committed late with an earlier `updated_at`); applying a row twice is
    /// harmless.
    pub async fn gallery_changes(&self, since: (i64, &str), limit: u32) -> Result<GalleryChange> {
        let rows = sqlx::query(select_templates!(
            "WHERE updated_at > $1 OR (updated_at = $1 AND id > $2) ORDER BY updated_at, id LIMIT $3"
        ))
        .bind(since.0)
        .bind(since.1)
        .bind(i64::from(limit.max(1)))
        .fetch_all(self.db())
        .await
        .op("read gallery changes")?;
        let rows = rows
            .iter()
            .map(|r| self.template_from_row(r))
            .collect::<Result<Vec<_>>>()?;
        let cursor = rows.last().map_or((since.0, since.1.to_owned()), |r| {
            (r.updated_at_ms, r.id.clone())
        });
        Ok(GalleryChange { rows, cursor })
    }

    /// Re-seals the data key of every stored template not under the current artefact key id, as
    /// [`Store::rewrap_artefacts`] does for objects (the template bytes are not re-encrypted).
    /// Rows are walked by id in pages; a row changed or deleted meanwhile is left alone (the
    /// update matches the sealed value it read). `updated_at` is not touched: the template is the
    /// same, so replicas have nothing to reload.
    pub async fn rewrap_templates(&self) -> Result<RewrapReport> {
        const PAGE: i64 = 500;
        let mut report = RewrapReport::default();
        let mut after = String::new();
        loop {
            let rows = sqlx::query(
                "SELECT id, tenant_id, sealed FROM gallery_templates \
                 WHERE id > $1 AND sealed IS NOT NULL ORDER BY id LIMIT $2",
            )
            .bind(&after)
            .bind(PAGE)
            .fetch_all(self.db())
            .await
            .op("read gallery templates to rewrap")?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("id").op("decode gallery template id")?;
            for row in &rows {
                let d = "decode gallery template";
                let id: String = row.try_get("id").op(d)?;
                let tenant: String = row.try_get("tenant_id").op(d)?;
                let sealed: String = row.try_get("sealed").op(d)?;
                report.examined += 1;
                let raw = unb64(&sealed).ok_or_else(|| {
                    StoreError::corrupt(format!("gallery template {id}: not base64"))
                })?;
                let Some(new) = self
                    .objects()
                    .keyring()
                    .rewrap(&object_key(&tenant, &id), &raw)?
                else {
                    continue;
                };
                let done = sqlx::query(
                    "UPDATE gallery_templates SET sealed = $1 WHERE id = $2 AND sealed = $3",
                )
                .bind(b64(&new))
                .bind(&id)
                .bind(&sealed)
                .execute(self.db())
                .await
                .op("rewrap gallery template")?;
                match done.rows_affected() {
                    0 => report.vanished += 1,
                    _ => report.rewrapped += 1,
                }
            }
        }
        report.log("gallery templates");
        Ok(report)
    }

    /// Retention of templates: probes and enrolments past `retain_until` become tombstones, and
    /// tombstones older than [`TOMBSTONE_KEEP_MS`] go. Returns (tombstoned, dropped).
    pub async fn purge_gallery(&self) -> Result<(u64, u64)> {
        let now = self.now();
        let expired = sqlx::query(
            "UPDATE gallery_templates SET sealed = NULL, deleted_at = $1, updated_at = $1 \
             WHERE retain_until <= $1 AND deleted_at IS NULL",
        )
        .bind(now)
        .execute(self.db())
        .await
        .op("expire gallery templates")?;
        let dropped = sqlx::query("DELETE FROM gallery_templates WHERE deleted_at <= $1")
            .bind(now.saturating_sub(TOMBSTONE_KEEP_MS))
            .execute(self.db())
            .await
            .op("drop gallery tombstones")?;
        Ok((expired.rows_affected(), dropped.rows_affected()))
    }
}

impl TenantStore {
    /// Stores a template (sealed) for this tenant. Probes and enrolments get the session's
    /// retention; blocklist entries stay until deleted. Enrolling needs an external reference.
    pub async fn store_template(&self, t: NewTemplate) -> Result<StoredTemplate> {
        if let Some(r) = &t.external_ref {
            check_external_ref(r)?;
        }
        if t.list == GalleryList::Enrolled && t.external_ref.is_none() {
            return Err(StoreError::invalid(
                "external reference",
                "enrolment needs the tenant's external reference",
            ));
        }
        if t.embedding.is_empty() || t.embedding.iter().any(|v| !v.is_finite()) {
            return Err(StoreError::invalid("template", "empty or not finite"));
        }
        let s = &self.store;
        s.check_active(&self.tenant_id).await?;
        let now = s.now();
        let id = new_id();
        let sealed = s.seal_template(&self.tenant_id, &id, &t.embedding)?;
        let retain = (t.list != GalleryList::Blocked)
            .then(|| now.saturating_add(StoreConfig::ms(s.config().result_ttl_secs)));
        sqlx::query(
            "INSERT INTO gallery_templates (id, tenant_id, list, external_ref, session_id, embedder, sealed, \
             operator, reason, created_at, updated_at, retain_until, deleted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8, $8, $9, NULL)",
        )
        .bind(&id)
        .bind(&self.tenant_id)
        .bind(t.list.as_str())
        .bind(t.external_ref.clone())
        .bind(t.session_id.clone())
        .bind(&t.embedder)
        .bind(sealed)
        .bind(now)
        .bind(retain)
        .execute(s.db())
        .await
        .op("insert gallery template")?;
        self.template(&id).await
    }

    /// One of this tenant's templates (deleted ones read as not found).
    pub async fn template(&self, id: &str) -> Result<StoredTemplate> {
        let row = sqlx::query(select_templates!(
            "WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL"
        ))
        .bind(id)
        .bind(&self.tenant_id)
        .fetch_optional(self.store.db())
        .await
        .op("load gallery template")?
        .ok_or_else(|| StoreError::not_found("gallery template", id))?;
        self.store.template_from_row(&row)
    }

    /// Moves a template to the enrolled list under `external_ref` (or the one it has): an
    /// approved review's enrolment. A blocklisted template is refused.
    pub async fn enrol_template(
        &self,
        id: &str,
        external_ref: Option<&str>,
    ) -> Result<StoredTemplate> {
        let current = self.template(id).await?;
        if current.list == GalleryList::Blocked {
            return Err(StoreError::Conflict {
                what: "gallery template",
                id: id.to_owned(),
                reason: "on the blocklist",
            });
        }
        let r = external_ref
            .map(str::to_owned)
            .or(current.external_ref)
            .ok_or_else(|| {
                StoreError::invalid(
                    "external reference",
                    "enrolment needs the tenant's external reference",
                )
            })?;
        check_external_ref(&r)?;
        self.move_template(id, GalleryList::Enrolled, Some(&r), None, None, true)
            .await
    }

    /// Moves a template to the blocklist (kept until deleted), recording who and why.
    pub async fn block_template(
        &self,
        id: &str,
        operator: Option<&str>,
        reason: &str,
    ) -> Result<StoredTemplate> {
        let current = self.template(id).await?;
        self.move_template(
            id,
            GalleryList::Blocked,
            current.external_ref.as_deref(),
            operator,
            Some(reason),
            false,
        )
        .await
    }

    async fn move_template(
        &self,
        id: &str,
        list: GalleryList,
        external_ref: Option<&str>,
        operator: Option<&str>,
        reason: Option<&str>,
        keep_retention: bool,
    ) -> Result<StoredTemplate> {
        let s = &self.store;
        let now = s.now();
        let sql = if keep_retention {
            "UPDATE gallery_templates SET list = $1, external_ref = $2, operator = $3, reason = $4, updated_at = $5 \
             WHERE id = $6 AND tenant_id = $7 AND deleted_at IS NULL"
        } else {
            "UPDATE gallery_templates SET list = $1, external_ref = $2, operator = $3, reason = $4, updated_at = $5, \
             retain_until = NULL WHERE id = $6 AND tenant_id = $7 AND deleted_at IS NULL"
        };
        let done = sqlx::query(sql)
            .bind(list.as_str())
            .bind(external_ref)
            .bind(operator)
            .bind(reason)
            .bind(now)
            .bind(id)
            .bind(&self.tenant_id)
            .execute(s.db())
            .await
            .op("move gallery template")?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("gallery template", id));
        }
        self.template(id).await
    }

    /// The template stored for one of this tenant's sessions.
    pub async fn template_of_session(&self, session_id: &str) -> Result<StoredTemplate> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM gallery_templates WHERE tenant_id = $1 AND session_id = $2 \
             AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 1",
        )
        .bind(&self.tenant_id)
        .bind(session_id)
        .fetch_optional(self.store.db())
        .await
        .op("find session template")?;
        match id {
            Some(id) => self.template(&id).await,
            None => Err(StoreError::not_found(
                "gallery template of session",
                session_id,
            )),
        }
    }

    /// Links a stored template to the session it came from (once the session is committed).
    pub async fn link_template(&self, id: &str, session_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE gallery_templates SET session_id = $1 WHERE id = $2 AND tenant_id = $3",
        )
        .bind(session_id)
        .bind(id)
        .bind(&self.tenant_id)
        .execute(self.store.db())
        .await
        .op("link gallery template")?;
        Ok(())
    }

    /// Deletes every template filed under `external_ref` (probes, enrolments and blocklist
    /// entries): a data-subject request. Returns the ids deleted.
    pub async fn delete_templates_by_ref(&self, external_ref: &str) -> Result<Vec<String>> {
        check_external_ref(external_ref)?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM gallery_templates WHERE tenant_id = $1 AND external_ref = $2 AND deleted_at IS NULL",
        )
        .bind(&self.tenant_id)
        .bind(external_ref)
        .fetch_all(self.store.db())
        .await
        .op("find templates by reference")?;
        for id in &ids {
            self.delete_template(id).await?;
        }
        Ok(ids)
    }

    /// Deletes one template (its sealed value goes at once; a tombstone stays for the replicas).
    pub async fn delete_template(&self, id: &str) -> Result<bool> {
        let now = self.store.now();
        let done = sqlx::query(
            "UPDATE gallery_templates SET sealed = NULL, deleted_at = $1, updated_at = $1 \
             WHERE id = $2 AND tenant_id = $3 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(&self.tenant_id)
        .execute(self.store.db())
        .await
        .op("delete gallery template")?;
        Ok(done.rows_affected() == 1)
    }
}
