//! The gallery step of a request, and the later actions on a session's template.

use std::time::Instant;

use faceproof_engine::calibrate::far::FarModel;
use faceproof_engine::check::{
    Engine, IdentityHit, IdentityList, IdentitySearch, Severity, Verdict,
};
use faceproof_gallery::{Template, far};
use faceproof_store::{
    GalleryList, GallerySettings, NewTemplate, StoreError, StoredTemplate, TenantStore,
};

use super::replica::entry_text;
use crate::state::AppState;

/// Who a judged request is about: the tenant, and its reference for the person when the
/// tenant's backend sent one (`x-external-ref`).
#[derive(Debug, Clone)]
pub struct Probe {
    pub tenant: TenantStore,
    pub external_ref: Option<String>,
}

/// Why the gallery step or a gallery action failed.
#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blocking search task panicked or was cancelled.
    #[error("the 1:N search task failed: {0}")]
    Task(String),
    /// The session has no stored template (1:N was off for it, or it had no usable face).
    #[error("session {session_id:?} has no stored face template")]
    NoTemplate { session_id: String },
}

/// Cosine threshold of a list of `n` entries: the cosine at which the engine's FAR model puts
/// one comparison at `1 - (1 - target_far)^(1/n)`, never below the engine's 1:1 threshold.
pub fn thresholds(engine: &Engine, target_far: f64, n: usize) -> f64 {
    threshold_on(engine.far_model(), engine.match_threshold(), target_far, n)
}

/// [`thresholds`] from its parts: a FAR model and the 1:1 threshold as the floor.
pub fn threshold_on(far_model: &FarModel, floor: f64, target_far: f64, n: usize) -> f64 {
    let per = far::per_comparison(target_far, n.max(1));
    far_model.threshold_for_far(per).max(floor)
}

/// The probe when its tenant searches its gallery (one settings read), else `None`. Decided before
/// the check, so the engine embeds the best frame for 1:N only when a search will read it.
pub async fn active(
    probe: Option<Probe>,
) -> Result<Option<(Probe, GallerySettings)>, GalleryError> {
    let Some(probe) = probe else {
        return Ok(None);
    };
    let settings = probe.tenant.settings().await?.gallery;
    Ok(settings.enabled.then_some((probe, settings)))
}

/// Searches the tenant's gallery with the verdict's template (when the tenant opted in and a
/// face was seen), records the outcome on the verdict, and stores the template: enrolled under
/// the external reference when the verdict passed with no hit, else as a probe.
pub async fn screen(
    state: &AppState,
    probe: &Probe,
    verdict: &mut Verdict,
) -> Result<(), GalleryError> {
    match active(Some(probe.clone())).await? {
        Some((_, settings)) => screen_active(state, probe, &settings, verdict).await,
        None => Ok(()),
    }
}

/// [`screen`] for a probe [`active`] already let through, with its tenant's settings (no second
/// settings read).
pub async fn screen_active(
    state: &AppState,
    probe: &Probe,
    settings: &GallerySettings,
    verdict: &mut Verdict,
) -> Result<(), GalleryError> {
    let Some(face) = verdict.template.clone() else {
        return Ok(());
    };
    let replica = state.gallery.clone();
    if face.embedder != replica.embedder() {
        tracing::warn!(
            embedder = face.embedder,
            "template of another embedder than the index's; not searched"
        );
        return Ok(());
    }
    let Ok(template) = Template::quantise(&face.embedding.0) else {
        return Ok(());
    };
    let tenant_id = probe.tenant.tenant_id().to_owned();
    let own = probe.external_ref.clone();
    let started = Instant::now();
    let search =
        tokio::task::spawn_blocking(move || replica.search(&tenant_id, &template, own.as_deref()))
            .await
            .map_err(|e| GalleryError::Task(e.to_string()))?;
    let took = started.elapsed();

    let engine = &state.engine;
    let target = state.gallery.cfg.target_far;
    let mut hits = Vec::new();
    for (list, hit, n) in [
        (
            IdentityList::Enrolled,
            &search.duplicate,
            search.enrolled_size,
        ),
        (
            IdentityList::Blocklist,
            &search.blocked,
            search.blocked_size,
        ),
    ] {
        let Some(h) = hit else { continue };
        let threshold = thresholds(engine, target, n);
        let cosine = f64::from(h.cosine);
        if cosine < threshold {
            continue;
        }
        let far_1 = engine.far_model().far_at(cosine).far;
        hits.push(IdentityHit {
            list,
            external_ref: h.external_ref.clone(),
            entry_id: entry_text(h.id),
            cosine,
            similarity: 100.0 * cosine.clamp(0.0, 1.0),
            far_per_comparison: far_1,
            far_at_gallery: far::at_gallery(far_1, n),
            gallery_size: n,
            threshold,
        });
    }
    state.gallery.metrics.searched(
        took,
        hits.iter().any(|h| h.list == IdentityList::Enrolled),
        hits.iter().any(|h| h.list == IdentityList::Blocklist),
    );
    let severity = if settings.duplicate_is_error {
        Severity::Error
    } else {
        Severity::Warning
    };
    verdict.record_identity(
        IdentitySearch {
            target_far: target,
            enrolled_searched: search.enrolled_size,
            blocklist_searched: search.blocked_size,
            hits,
            template_id: None,
            enrolled: false,
        },
        severity,
    );

    // A face already known under another reference (even as a warning) or blocklisted is kept
    // as a probe: a reviewer who approves it enrols it (`enrol_session`).
    let flagged = verdict
        .identity
        .as_ref()
        .is_some_and(|s| !s.hits.is_empty());
    let enrol = verdict.passed() && !flagged && probe.external_ref.is_some();
    let stored = probe
        .tenant
        .store_template(NewTemplate {
            list: if enrol {
                GalleryList::Enrolled
            } else {
                GalleryList::Probe
            },
            external_ref: probe.external_ref.clone(),
            session_id: None,
            embedder: face.embedder.to_owned(),
            embedding: face.embedding.0.clone(),
        })
        .await?;
    if enrol {
        // This replica finds it at once; the others at their next refresh.
        state.gallery.apply(&stored);
    }
    state.gallery.metrics.stored(enrol);
    verdict.set_identity_storage(Some(stored.id), enrol);
    Ok(())
}

/// The stored template of one of the tenant's sessions: the id its verdict recorded.
async fn session_template(
    tenant: &TenantStore,
    session_id: &str,
) -> Result<StoredTemplate, GalleryError> {
    let session = tenant.session(session_id).await?;
    let id = session
        .result
        .as_ref()
        .and_then(|r| r.pointer("/verdict/identity/template_id"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    match id {
        Some(id) => match tenant.template(&id).await {
            Ok(t) => Ok(t),
            Err(StoreError::NotFound { .. }) => Err(GalleryError::NoTemplate {
                session_id: session_id.to_owned(),
            }),
            Err(e) => Err(e.into()),
        },
        None => match tenant.template_of_session(session_id).await {
            Ok(t) => Ok(t),
            Err(StoreError::NotFound { .. }) => Err(GalleryError::NoTemplate {
                session_id: session_id.to_owned(),
            }),
            Err(e) => Err(e.into()),
        },
    }
}

/// Puts the face of one of the tenant's sessions on the blocklist (the console's button and
/// `POST /v1/gallery/blocklist`). The entry stays until deleted; new sessions matching it get
/// `blocklisted`.
pub async fn block_session(
    state: &AppState,
    tenant: &TenantStore,
    session_id: &str,
    operator: Option<&str>,
    reason: &str,
) -> Result<StoredTemplate, GalleryError> {
    let t = session_template(tenant, session_id).await?;
    let blocked = tenant.block_template(&t.id, operator, reason).await?;
    tenant.link_template(&blocked.id, session_id).await?;
    state.gallery.apply(&blocked);
    state.gallery.metrics.blocked();
    tracing::info!(tenant = %tenant.tenant_id(), session = %session_id, entry = %blocked.id,
        "session's face blocklisted");
    Ok(blocked)
}

/// Enrols the face of one of the tenant's sessions under `external_ref` (or the reference it
/// was checked with): an approved review of a session the engine did not pass.
pub async fn enrol_session(
    state: &AppState,
    tenant: &TenantStore,
    session_id: &str,
    external_ref: Option<&str>,
) -> Result<StoredTemplate, GalleryError> {
    let t = session_template(tenant, session_id).await?;
    let enrolled = tenant.enrol_template(&t.id, external_ref).await?;
    tenant.link_template(&enrolled.id, session_id).await?;
    state.gallery.apply(&enrolled);
    state.gallery.metrics.stored(true);
    Ok(enrolled)
}
