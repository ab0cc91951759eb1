//! `POST /openapi/liveness/v3/capture` (multipart): `far`, `near` (images), `farImageTime`,
//! `nearImageTime` (Unix ms), optional `clip` (video) and `signatureId` -> engine -> a stored
//! session with its images and audit bundle (`persist.rs`).
//!
//! Extensions: an `x-capture-token` header instead of `X-ACCESS-TOKEN`, and multipart
//! `challengeId` and `clientTelemetry` (the SDK's JSON). Everything that can refuse the request
//! without analysis (credentials, form, signatureId, challenge, telemetry) is checked before a
//! check slot is taken.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Extension, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use faceproof_store::{Api, Session, SessionStatus, StoreError, TenantStore};
use serde_json::json;

use super::persist::persist_capture;
use super::refusal::AdvanceRefusal;
use super::reply::AdvanceReply;
use super::token::authenticate;
use crate::analysis::{CaptureInputs, check_far_near};
use crate::auth::{AuthFailure, Uploader, capture_token, capture_uploader};
use crate::capture::upload::{MAX_TELEMETRY_BYTES, telemetry_from_text};
use crate::capture::{UploadChallenge, prepare};
use crate::form::{SHORT_TEXT, read_form};
use crate::refused::{Input, Refused};
use crate::request_id::RequestId;
use crate::state::{AppState, Shared};
use faceproof_engine::check::Shot;

fn parse_time(field: &str, text: Option<&String>) -> Result<Option<i64>, Refused> {
    match text.map(|t| t.trim()) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .map(Some)
            .map_err(|_| Refused::Invalid(format!("{field}: {t:?} is not Unix milliseconds"))),
    }
}

/// Who uploads a capture: a browser's capture token of the advance flow, or a backend's access
/// token. Also run by the body gate before the body is read.
pub(crate) async fn upload_uploader(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Uploader, Refused> {
    match capture_token(headers) {
        Some(token) => match capture_uploader(&state.store, token, Api::Advance).await {
            Ok(u) => Ok(u),
            Err(AuthFailure::Refused) => Err(Refused::Unauthorized {
                detail: Some(
                    "the capture token is unknown, used, expired or not for this API".into(),
                ),
            }),
            Err(e) => Err(e.into()),
        },
        None => Ok(Uploader {
            tenant: authenticate(state, headers).await?,
            grant: None,
            external_ref: crate::gallery::external_ref(headers),
        }),
    }
}

/// The reserved session a capture fills: this tenant's, an ADVANCE one, still pending (never
/// filled), unconsumed and unexpired. Checked before any analysis: a used `signatureId` is the
/// seed's parameter error at once, not a 500 after the engine ran.
async fn pending_session(
    tenant: &TenantStore,
    signature: &str,
    now_ms: i64,
) -> Result<Session, Refused> {
    match tenant.session_by_alias(signature).await {
        Ok(s)
            if s.api == Api::Advance
                && s.status == SessionStatus::Pending
                && s.consumed_at_ms.is_none()
                && !s.is_expired(now_ms) =>
        {
            Ok(s)
        }
        Ok(_) => Err(used_signature()),
        Err(StoreError::NotFound { .. }) => Err(Refused::Signature("unknown signatureId".into())),
        Err(e) => Err(e.into()),
    }
}

fn used_signature() -> Refused {
    Refused::Signature("the signatureId was already used or has expired".into())
}

pub async fn capture(
    State(state): State<Shared>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    match judge(&state, &headers, multipart).await {
        Ok(s) => AdvanceReply::success(json!({"livenessId": s.id, "signatureId": s.alias}), &rid)
            .free()
            .into_response_with(StatusCode::OK),
        Err(refused) => AdvanceRefusal::new(refused, &rid).into_response(),
    }
}

fn form_input(field: &str) -> Option<Input> {
    match field {
        "far" => Some(Input::Still(Shot::Far)),
        "near" => Some(Input::Still(Shot::Near)),
        "clip" => Some(Input::Clip),
        _ => None,
    }
}

async fn judge(
    state: &Shared,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Session, Refused> {
    let uploader = upload_uploader(state, headers).await?;
    let tenant = uploader.tenant.clone();
    let multipart = multipart
        .map_err(|_| Refused::Malformed("a multipart/form-data body is required".into()))?;
    let uploads = state.uploads();
    let form = read_form(
        multipart,
        &[
            (Shot::Far.name(), uploads.image),
            (Shot::Near.name(), uploads.image),
            ("clip", uploads.video),
        ],
        &[
            ("farImageTime", SHORT_TEXT),
            ("nearImageTime", SHORT_TEXT),
            ("signatureId", SHORT_TEXT),
            ("challengeId", SHORT_TEXT),
            ("clientTelemetry", MAX_TELEMETRY_BYTES),
        ],
        uploads.capture_body(),
    )
    .await
    .map_err(|e| Refused::from_form(e, form_input))?;
    let mut files = form.files;
    let (Some(far), Some(near)) = (
        files.remove(Shot::Far.name()),
        files.remove(Shot::Near.name()),
    ) else {
        return Err(Refused::Invalid("far and near images are required".into()));
    };
    let far_time_ms = parse_time("farImageTime", form.texts.get("farImageTime"))?;
    let near_time_ms = parse_time("nearImageTime", form.texts.get("nearImageTime"))?;
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
            return Err(Refused::Signature(
                "the signatureId is not the one the capture token was issued for".into(),
            ));
        }
        (f, b) => f.or(b),
    };
    let now_ms = state.store.clock().now_ms();
    let pending = match signature {
        Some(sig) => Some(pending_session(&tenant, sig, now_ms).await?),
        None => None,
    };
    let telemetry = form
        .texts
        .get("clientTelemetry")
        .map(|t| telemetry_from_text(t))
        .transpose()
        .map_err(|e| Refused::Telemetry(format!("clientTelemetry: {e}")))?;
    let attached = match &pending {
        Some(s) => {
            tenant
                .challenge_for_signature(s.alias.as_deref().unwrap_or(""))
                .await?
        }
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
    let evidence = prepare(&uploader, named, telemetry)
        .await
        .map_err(challenge_field)?;
    let media = CaptureInputs {
        far,
        near,
        far_time_ms,
        near_time_ms,
        clip: files.remove("clip"),
    };
    let (verdict, media) = check_far_near(state, media, evidence)
        .await
        .map_err(challenge_field)?;
    persist_capture(&tenant, pending.as_ref(), media, &verdict)
        .await
        .map_err(|e| match e {
            // Filled by a concurrent request meanwhile: exactly one fill commits.
            StoreError::Consumed { .. }
            | StoreError::Expired { .. }
            | StoreError::Conflict { .. } => used_signature(),
            e => e.into(),
        })
}

/// A challenge refusal names ADVANCE's field.
fn challenge_field(e: impl Into<Refused>) -> Refused {
    match e.into() {
        Refused::Challenge(d) => Refused::Challenge(format!("challengeId: {d}")),
        other => other,
    }
}
