//! The events the service emits to webhooks, built from the engine's verdict. Payloads are the
//! API-neutral summary only (session id, API, outcome, reason codes): never images, crops,
//! embeddings or scores that could identify a face. The store writes them in the outbox within
//! the same transaction as the session they report.

use faceproof_engine::check::{Severity, Verdict};
use faceproof_store::{Api, Upload};
use serde_json::json;

/// A session was judged and committed.
pub const SESSION_COMPLETED: &str = "session.completed";
/// A committed session the engine was unsure about (`Liveness.need_to_review`: its spoof
/// probability within `engine.liveness.review_band` of the threshold): work for the console.
pub const SESSION_NEEDS_REVIEW: &str = "session.needs_review";

/// The `session.completed` payload: `outcome` is `passed`, `failed` (judged, not passed) or
/// `unusable` (no verdict: the capture could not be judged).
pub fn session_completed_payload(
    session_id: &str,
    api: Api,
    verdict: Option<&Verdict>,
) -> serde_json::Value {
    let outcome = match verdict {
        Some(v) if v.passed() => "passed",
        Some(_) => "failed",
        None => "unusable",
    };
    let codes: Vec<_> = verdict
        .map(|v| {
            v.codes
                .iter()
                .map(|r| {
                    json!({
                        "code": r.code.as_str(),
                        "severity": match r.severity {
                            Severity::Error => "error",
                            Severity::Warning => "warning",
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "session_id": session_id,
        "api": api.as_str(),
        "outcome": outcome,
        "codes": codes,
    })
}

/// Queues `session.completed` on an upload, and `session.needs_review` (same payload) when the
/// engine asked for a human review; both are written by its commit. A payload the store refuses
/// is logged and dropped: the session itself must still be stored.
pub fn session_completed(upload: &mut Upload, api: Api, verdict: Option<&Verdict>) {
    let payload = session_completed_payload(upload.session_id(), api, verdict);
    let review = verdict
        .and_then(|v| v.liveness.as_ref())
        .is_some_and(|l| l.need_to_review);
    if review && let Err(e) = upload.enqueue_event(SESSION_NEEDS_REVIEW, payload.clone()) {
        tracing::error!(error = %e, "session.needs_review event not queued");
    }
    if let Err(e) = upload.enqueue_event(SESSION_COMPLETED, payload) {
        tracing::error!(error = %e, "session.completed event not queued");
    }
}
