//! The capture SDK's side: `POST /openapi/liveness/v3/signature-id` (a pending, single-use
//! session) and `POST /openapi/liveness/v3/capture` (far / near stills, their times, an optional
//! clip -> engine -> stored session with its images and audit bundle).
//!
//! Extensions: `signature-id` accepts `{"challengeKind": "colour" | "head_turn"}` and then answers
//! a challenge attached to the session (also when the tenant requires one); `capture` accepts an
//! `x-capture-token` header instead of `X-ACCESS-TOKEN`, and multipart `challengeId` and
//! `clientTelemetry` (the SDK's JSON).

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Extension, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use faceproof_engine::challenge::ChallengeKind;
use faceproof_engine::check::{CheckError, Verdict};
use faceproof_store::{Api, NewSession, Session, SessionStatus, StoreError, TenantStore};
use serde::Deserialize;
use serde_json::json;

use super::reply::{AdvanceCode, AdvanceReply, fail, parse_json};
use super::summary::summarise;
use super::token::authenticate;
use super::zip;
use crate::auth::{AuthFailure, Uploader, capture_token, capture_uploader};
use crate::capture::upload::{MAX_TELEMETRY_BYTES, telemetry_from_text};
use crate::capture::wire::challenge_json;
use crate::capture::{PrepareError, SpendError, UploadChallenge, issue_challenge, prepare};
use crate::checks::RunError;
use crate::form::{FormError, SHORT_TEXT, read_form};
use crate::judge::{CaptureJob, JudgeError, check_capture};
use crate::request_id::{RequestId, new_id};
use crate::state::{AppState, Shared};

/// Session kind in the store of an ADVANCE capture.
pub const CAPTURE_KIND: &str = "capture";

/// The optional body of `signature-id` (an extension; the vendor's call has none).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SignatureRequest {
    challenge_kind: Option<ChallengeKind>,
}

/// `POST /openapi/liveness/v3/signature-id`: reserves a capture session for the SDK, with a
/// challenge attached when asked for (or when the tenant requires one: a colour challenge).
pub async fn signature_id(
    State(state): State<Shared>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tenant = match authenticate(&state, &headers, &rid).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let req: SignatureRequest = if body.iter().all(u8::is_ascii_whitespace) {
        SignatureRequest::default()
    } else {
        match parse_json(&body, &rid) {
            Ok(r) => r,
            Err(reply) => return reply,
        }
    };
    let kind = match req.challenge_kind {
        Some(k) => Some(k),
        None => match tenant.settings().await {
            Ok(s) => s.require_challenge.then_some(ChallengeKind::Colour),
            Err(e) => {
                tracing::error!(error = %e, "tenant settings");
                return fail(AdvanceCode::Error, None, &rid);
            }
        },
    };
    let signature = new_id();
    let spec = NewSession::new(Api::Advance, CAPTURE_KIND)
        .with_alias(&signature)
        .with_ttl(state.cfg.capture_session_ttl());
    let session = match tenant.create_session(spec).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "capture session not created");
            return fail(AdvanceCode::Error, None, &rid);
        }
    };
    let mut data = json!({"signatureId": signature, "expiredTime": session.expires_at_ms});
    if let Some(kind) = kind {
        let ttl = state
            .cfg
            .capture_session_ttl()
            .min(std::time::Duration::from_secs(
                state.cfg.challenge_ttl_secs.max(1),
            ));
        match issue_challenge(&tenant, kind, ttl, Some(&signature)).await {
            Ok((c, spec)) => data["challenge"] = challenge_json(&c, &spec),
            Err(e) => {
                tracing::error!(error = %e, "challenge not issued");
                return fail(AdvanceCode::Error, None, &rid);
            }
        }
    }
    AdvanceReply::success(data, &rid)
        .free()
        .into_response_with(StatusCode::OK)
}

/// A capture's media, as received.
pub struct CaptureInputs {
    pub far: Vec<u8>,
    pub near: Vec<u8>,
    pub far_time_ms: Option<i64>,
    pub near_time_ms: Option<i64>,
    pub clip: Option<Vec<u8>>,
}

fn image_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xff, 0xd8]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.len() > 12 && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

/// Stores a judged capture: fills the pending session `pending` (its single use) or creates a
/// new one with a fresh signatureId. Artefacts: `far`, `near`, `detection` (the engine's best
/// frame, else the near still), `clip` when sent, `audit.zip` with all of them and the verdict.
pub async fn persist_capture(
    tenant: &TenantStore,
    pending: Option<&Session>,
    inputs: &CaptureInputs,
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
    let detection = best.unwrap_or(&inputs.near);
    upload
        .put("far", image_type(&inputs.far), inputs.far.clone())
        .await?;
    upload
        .put("near", image_type(&inputs.near), inputs.near.clone())
        .await?;
    upload
        .put("detection", image_type(detection), detection.to_vec())
        .await?;
    let verdict_json = serde_json::to_vec_pretty(verdict).unwrap_or_default();
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("far.jpg", &inputs.far),
        ("near.jpg", &inputs.near),
        ("detection.jpg", detection),
        ("verdict.json", &verdict_json),
    ];
    if let Some(clip) = &inputs.clip {
        upload
            .put("clip", "application/octet-stream", clip.clone())
            .await?;
        entries.push(("clip.mp4", clip));
    }
    upload
        .put("audit.zip", "application/zip", zip::build(&entries))
        .await?;
    let summary = summarise(
        verdict,
        inputs.far_time_ms,
        inputs.near_time_ms,
        "detection",
        inputs.clip.is_some(),
    );
    let result = json!({"summary": summary, "verdict": verdict});
    crate::events::session_completed(&mut upload, Api::Advance, Some(verdict));
    upload.set_index(crate::console::index_of(Some(verdict)));
    upload.commit(SessionStatus::Complete, Some(&result)).await
}

fn parse_time(text: Option<&String>) -> Result<Option<i64>, String> {
    match text.map(|t| t.trim()) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("{t:?} is not Unix milliseconds")),
    }
}

/// Who uploads a capture: a browser's capture token of the advance flow, or a backend's access
/// token; the refusal is the ADVANCE answer. Also run by the body gate before the body is read.
pub(crate) async fn upload_uploader(
    state: &AppState,
    headers: &HeaderMap,
    rid: &str,
) -> Result<Uploader, Response> {
    // A browser sends a capture token of the advance flow; a backend its access token.
    match capture_token(headers) {
        Some(token) => match capture_uploader(&state.store, token, Api::Advance).await {
            Ok(u) => Ok(u),
            Err(AuthFailure::Refused) => Err(fail(
                AdvanceCode::IamFailed,
                Some("the capture token is unknown, used, expired or not for this API".into()),
                rid,
            )),
            Err(AuthFailure::Backend(e)) => {
                tracing::error!(error = %e, "capture token lookup failed");
                Err(fail(AdvanceCode::Error, None, rid))
            }
        },
        None => match authenticate(state, headers, rid).await {
            Ok(tenant) => Ok(Uploader {
                tenant,
                grant: None,
                external_ref: crate::gallery::external_ref(headers),
            }),
            Err(r) => Err(r),
        },
    }
}

/// `POST /openapi/liveness/v3/capture` (multipart): `far`, `near` (images), `farImageTime`,
/// `nearImageTime` (Unix ms), optional `clip` (video) and `signatureId`.
pub async fn capture(
    State(state): State<Shared>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let uploader = match upload_uploader(&state, &headers, &rid).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let tenant = uploader.tenant.clone();
    let Ok(multipart) = multipart else {
        return fail(
            AdvanceCode::ParameterError,
            Some("a multipart/form-data body is required".into()),
            &rid,
        );
    };
    let cfg = &state.cfg;
    let form = match read_form(
        multipart,
        &[
            ("far", cfg.max_image_bytes),
            ("near", cfg.max_image_bytes),
            ("clip", cfg.max_video_bytes),
        ],
        &[
            ("farImageTime", SHORT_TEXT),
            ("nearImageTime", SHORT_TEXT),
            ("signatureId", SHORT_TEXT),
            ("challengeId", SHORT_TEXT),
            ("clientTelemetry", MAX_TELEMETRY_BYTES),
        ],
        cfg.capture_body_limit(),
    )
    .await
    {
        Ok(f) => f,
        Err(e) => {
            let status = match e {
                FormError::BodyTooLarge { .. } | FormError::FieldTooLarge { .. } => {
                    StatusCode::PAYLOAD_TOO_LARGE
                }
                _ => StatusCode::BAD_REQUEST,
            };
            return AdvanceReply::error(AdvanceCode::ParameterError, Some(e.to_string()), &rid)
                .into_response_with(status);
        }
    };
    let mut files = form.files;
    let (Some(far), Some(near)) = (files.remove("far"), files.remove("near")) else {
        return fail(
            AdvanceCode::ParameterError,
            Some("far and near images are required".into()),
            &rid,
        );
    };
    let times = (
        parse_time(form.texts.get("farImageTime")),
        parse_time(form.texts.get("nearImageTime")),
    );
    let (far_time_ms, near_time_ms) = match times {
        (Ok(f), Ok(n)) => (f, n),
        (Err(e), _) | (_, Err(e)) => return fail(AdvanceCode::ParameterError, Some(e), &rid),
    };
    // A capture token bound to a session fills that session only.
    let field_signature = form
        .texts
        .get("signatureId")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let bound_signature = uploader
        .grant
        .as_ref()
        .and_then(|g| g.signature_id.as_deref());
    let signature = match (field_signature, bound_signature) {
        (Some(f), Some(b)) if f != b => {
            return fail(
                AdvanceCode::ParameterError,
                Some("the signatureId is not the one the capture token was issued for".into()),
                &rid,
            );
        }
        (f, b) => f.or(b),
    };
    // A reserved session must exist, be this tenant's, pending and unexpired before any work.
    let pending = match signature {
        None => None,
        Some(sig) => match tenant.session_by_alias(sig).await {
            Ok(s)
                if s.api == Api::Advance
                    && s.consumed_at_ms.is_none()
                    && !s.is_expired(state.store.clock().now_ms()) =>
            {
                Some(s)
            }
            Ok(_) => {
                return fail(
                    AdvanceCode::ParameterError,
                    Some("the signatureId was already used or has expired".into()),
                    &rid,
                );
            }
            Err(StoreError::NotFound { .. }) => {
                return fail(
                    AdvanceCode::ParameterError,
                    Some("unknown signatureId".into()),
                    &rid,
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "signature lookup failed");
                return fail(AdvanceCode::Error, None, &rid);
            }
        },
    };
    let telemetry = match form
        .texts
        .get("clientTelemetry")
        .map(|t| telemetry_from_text(t))
    {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            return fail(
                AdvanceCode::ParameterError,
                Some(format!("clientTelemetry: {e}")),
                &rid,
            );
        }
    };
    let attached = match &pending {
        Some(s) => match tenant
            .challenge_for_signature(s.alias.as_deref().unwrap_or(""))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "session challenge lookup failed");
                return fail(AdvanceCode::Error, None, &rid);
            }
        },
        None => None,
    };
    let named = UploadChallenge {
        field: form
            .texts
            .get("challengeId")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty()),
        signature_id: pending.as_ref().and_then(|s| s.alias.as_deref()),
        attached,
    };
    let evidence = match prepare(&uploader, named, telemetry).await {
        Ok(e) => e,
        Err(PrepareError::Invalid(d)) => {
            return fail(
                AdvanceCode::ParameterError,
                Some(format!("challengeId: {d}")),
                &rid,
            );
        }
        Err(PrepareError::Backend(d)) => {
            tracing::error!(error = %d, "capture challenge lookup failed");
            return fail(AdvanceCode::Error, None, &rid);
        }
    };
    let inputs = CaptureInputs {
        far,
        near,
        far_time_ms,
        near_time_ms,
        clip: files.remove("clip"),
    };
    let job = CaptureJob {
        far: inputs.far.clone(),
        near: inputs.near.clone(),
        far_time_ms,
        near_time_ms,
        clip: inputs.clip.clone(),
        evidence,
    };
    let verdict = match check_capture(&state, job).await {
        Ok(v) => v,
        Err(JudgeError::Check(e)) if e.is_input_error() => {
            let which = match &e {
                CheckError::CaptureImage { which, .. } => *which,
                _ => "clip",
            };
            return fail(
                AdvanceCode::ParameterError,
                Some(format!(
                    "{which}: {}",
                    e.media_error().map_or(String::new(), |m| m.to_string())
                )),
                &rid,
            );
        }
        Err(JudgeError::Pool(
            RunError::Busy { .. } | RunError::WaitTooLong { .. } | RunError::QueueTimeout { .. },
        )) => {
            return fail(AdvanceCode::TooManyRequests, None, &rid);
        }
        Err(JudgeError::Spend(SpendError::Token(e))) => {
            return fail(AdvanceCode::IamFailed, Some(e.to_string()), &rid);
        }
        Err(JudgeError::Spend(SpendError::Challenge(e))) => {
            return fail(
                AdvanceCode::ParameterError,
                Some(format!("challengeId: {e}")),
                &rid,
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "capture check failed");
            return fail(AdvanceCode::Error, None, &rid);
        }
    };
    match persist_capture(&tenant, pending.as_ref(), &inputs, &verdict).await {
        Ok(s) => AdvanceReply::success(json!({"livenessId": s.id, "signatureId": s.alias}), &rid)
            .free()
            .into_response_with(StatusCode::OK),
        Err(StoreError::Consumed { .. } | StoreError::Expired { .. }) => fail(
            AdvanceCode::ParameterError,
            Some("the signatureId was already used or has expired".into()),
            &rid,
        ),
        Err(e) => {
            tracing::error!(error = %e, "capture not stored");
            fail(AdvanceCode::Error, None, &rid)
        }
    }
}
