//! Storing a judged ADVANCE capture: the stills, the detection image, the clip and an audit zip
//! as artefacts of its session, and the summary `detection-result` answers.

use faceproof_engine::check::Verdict;
use faceproof_media::ImageFormat;
use faceproof_store::{Api, NewSession, Session, SessionStatus, StoreError, TenantStore};
use serde_json::json;

use super::CAPTURE_KIND;
use super::summary::summarise;
use super::zip;
use crate::analysis::CaptureInputs;
use crate::request_id::new_id;
use faceproof_engine::check::Shot;

/// The stored MIME type: the media layer names the image format from its signature.
fn image_type(bytes: &[u8]) -> &'static str {
    ImageFormat::of(bytes).map_or("application/octet-stream", ImageFormat::mime_type)
}

/// Stores a judged capture: fills the pending session `pending` (its single use) or creates a
/// new one with a fresh signatureId. Artefacts: `far`, `near`, `detection` (the engine's best
/// frame, else the near still), `clip` when sent, `audit.zip` with all of them and the verdict.
pub async fn persist_capture(
    tenant: &TenantStore,
    pending: Option<&Session>,
    inputs: CaptureInputs,
    verdict: &Verdict,
) -> Result<Session, StoreError> {
    let mut upload = match pending {
        Some(s) => tenant.begin_fill(&s.id).await?,
        None => {
            let alias = new_id();
            tenant
                .begin_session(NewSession::new(Api::Advance, CAPTURE_KIND).with_alias(&alias))
                .await?
        }
    };
    let best = verdict
        .best_frame
        .as_ref()
        .map(|b| b.jpeg.as_slice())
        .filter(|j| !j.is_empty());
    let detection = best.unwrap_or(&inputs.near).to_vec();
    let verdict_json = serde_json::to_vec_pretty(verdict).unwrap_or_default();
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("far.jpg", &inputs.far),
        ("near.jpg", &inputs.near),
        ("detection.jpg", &detection),
        ("verdict.json", &verdict_json),
    ];
    if let Some(clip) = &inputs.clip {
        entries.push(("clip.mp4", clip));
    }
    let audit = zip::build(&entries);
    let summary = summarise(
        verdict,
        inputs.far_time_ms,
        inputs.near_time_ms,
        "detection",
        inputs.clip.is_some(),
    );
    // The media move into the store: nothing is copied but the detection image.
    upload
        .put(Shot::Far.name(), image_type(&inputs.far), inputs.far)
        .await?;
    upload
        .put(Shot::Near.name(), image_type(&inputs.near), inputs.near)
        .await?;
    upload
        .put("detection", image_type(&detection), detection)
        .await?;
    if let Some(clip) = inputs.clip {
        upload.put("clip", "application/octet-stream", clip).await?;
    }
    upload.put("audit.zip", "application/zip", audit).await?;
    let result = json!({"summary": summary, "verdict": verdict});
    crate::committed::annotate(&mut upload, Api::Advance, verdict);
    upload.commit(SessionStatus::Complete, Some(&result)).await
}
