//! Hooks the console fires for other features. Webhooks are another branch's: until they are
//! merged, `review_decided` only logs; the merge wires it to the store's event queue
//! (`enqueue_event(tenant, "review.decided", payload)`).

use faceproof_store::Review;
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

/// A review was stored (and audited). No-op until webhooks exist on this branch.
pub async fn review_decided(_state: &AppState, tenant_id: &str, review: &Review) {
    tracing::debug!(tenant = %tenant_id, payload = %review_payload(review),
        "review.decided (webhooks not wired on this build)");
}
