//! Hooks the console fires for other features: a decided review queues a `review.decided` webhook
//! event (docs/webhooks.md) and, when approved on a tenant with 1:N on, enrols the session's face
//! (docs/gallery.md).

use faceproof_store::{Review, TenantStore};
use serde_json::json;

use crate::state::AppState;

/// The payload of a `review.decided` event.
pub fn review_payload(review: &Review) -> serde_json::Value {
    json!({
        "session_id": review.session_id,
        "review_id": review.id,
        "decision": review.decision,
        "reason": review.reason,
        "note": review.note,
        "operator_id": review.operator_id,
        "decided_at_ms": review.created_at_ms,
    })
}

/// A review was stored (and audited). The event is queued in its own transaction after the review
/// (a failure is logged, not returned: the decision stands); an approved session's face is
/// enrolled in the tenant's gallery when 1:N is on for it and the session kept a template.
pub async fn review_decided(state: &AppState, tenant: &TenantStore, review: &Review) {
    let tenant_id = tenant.tenant_id();
    if let Err(e) = state
        .store
        .enqueue_event(tenant_id, "review.decided", review_payload(review))
        .await
    {
        tracing::warn!(tenant = %tenant_id, review = %review.id, error = %e,
            "review.decided event not queued");
    }
    if review.decision != faceproof_store::Decision::Approved {
        return;
    }
    let on = tenant.settings().await.is_ok_and(|s| s.gallery.enabled);
    if !on {
        return;
    }
    match crate::gallery::enrol_session(state, tenant, &review.session_id, None).await {
        Ok(_) | Err(crate::gallery::GalleryError::NoTemplate { .. }) => {}
        Err(e) => tracing::warn!(tenant = %tenant_id, session = %review.session_id, error = %e,
            "approved session not enrolled in the gallery"),
    }
}
