//! `POST /openapi/liveness/v3/detection-result` and `/{region}/openapi/face-identity/v1/
//! liveness-detection`: a stored capture's result, images as signed URLs (or base64).

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use faceproof_store::{Api, Session, SessionStatus, StoreError, TenantStore};
use serde::Deserialize;
use serde_json::{Value, json};

use super::FILES_PREFIX;
use super::refusal::AdvanceRefusal;
use super::reply::AdvanceReply;
use super::summary::CaptureSummary;
use super::token::authenticate;
use crate::refused::Refused;
use crate::request_id::RequestId;
use crate::state::{AppState, Shared};

/// `detection-result`: one of the two ids, and how images are returned.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResultRequest {
    liveness_id: Option<String>,
    signature_id: Option<String>,
    result_type: Option<String>,
    /// Accepted and ignored: one deployment serves one region.
    #[allow(dead_code)]
    region: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ResultType {
    Url,
    Base64,
}

/// `scheme://host` the signed URLs start with; `None` for a `Host` that is not allowed.
fn base_url(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST).map(|h| h.to_str().unwrap_or(""));
    state.cfg.signed_url_base(host)
}

async fn find(tenant: &TenantStore, req: &ResultRequest) -> Result<Session, StoreError> {
    let non_empty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let s = match (non_empty(&req.signature_id), non_empty(&req.liveness_id)) {
        (Some(sig), lid) => {
            let s = tenant.session_by_alias(&sig).await?;
            // Both given: they must name the same session.
            if lid.is_some_and(|l| l != s.id) {
                return Err(StoreError::NotFound {
                    what: "session",
                    id: sig,
                });
            }
            s
        }
        (None, Some(lid)) => tenant.session(&lid).await?,
        (None, None) => unreachable!("checked by the caller"),
    };
    if s.api != Api::Advance {
        return Err(StoreError::NotFound {
            what: "session",
            id: s.id,
        });
    }
    Ok(s)
}

pub async fn detection_result(
    State(state): State<Shared>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&state, &rid, &headers, &body).await {
        Ok(reply) => reply.into_response_with(StatusCode::OK),
        Err(refused) => AdvanceRefusal::new(refused, &rid).into_response(),
    }
}

/// A store error reading a session's images: gone with retention, or ours.
fn artefact_gone(e: StoreError) -> Refused {
    match e {
        StoreError::NotFound { .. } | StoreError::Expired { .. } => {
            Refused::NoResult("the images were deleted at the end of their retention".into())
        }
        e => e.into(),
    }
}

async fn answer(
    state: &Shared,
    rid: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<AdvanceReply, Refused> {
    let tenant = authenticate(state, headers).await?;
    let req: ResultRequest =
        serde_json::from_slice(body).map_err(|e| Refused::Malformed(format!("JSON: {e}")))?;
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    if blank(&req.liveness_id) && blank(&req.signature_id) {
        return Err(Refused::Invalid(
            "Parameter should not be empty: livenessId or signatureId".into(),
        ));
    }
    let result_type = match req.result_type.as_deref() {
        None | Some("") | Some("IMAGE_URL") => ResultType::Url,
        Some("IMAGE_BASE64") => ResultType::Base64,
        Some(other) => {
            return Err(Refused::Invalid(format!(
                "resultType {other:?}: IMAGE_URL or IMAGE_BASE64"
            )));
        }
    };
    let session = find(&tenant, &req).await.map_err(|e| match e {
        StoreError::NotFound { .. } => Refused::UnknownSession,
        e => e.into(),
    })?;
    if session.status == SessionStatus::Pending {
        return Err(Refused::NoResult(
            "the capture has not been uploaded yet".into(),
        ));
    }
    let summary = session
        .result
        .as_ref()
        .and_then(|r| r.get("summary"))
        .and_then(|s| serde_json::from_value::<CaptureSummary>(s.clone()).ok())
        .ok_or_else(|| Refused::NoResult("no result is stored for this session".into()))?;
    let base = base_url(state, headers).ok_or_else(|| {
        Refused::Invalid("the Host header is not an allowed host (server.allowed_hosts)".into())
    })?;
    let ttl = Some(state.cfg.signed_url_ttl());
    let mut urls = Vec::new();
    for name in [
        summary.detection_artefact.as_str(),
        "far",
        "near",
        "audit.zip",
    ] {
        let u = tenant
            .sign_artefact(&session.id, name, ttl)
            .await
            .map_err(artefact_gone)?;
        urls.push(Value::String(format!(
            "{base}{FILES_PREFIX}{}",
            u.path_and_query()
        )));
    }
    let detection = match result_type {
        ResultType::Url => urls[0].clone(),
        ResultType::Base64 => {
            let (_, bytes) = tenant
                .read_artefact(&session.id, &summary.detection_artefact)
                .await
                .map_err(artefact_gone)?;
            Value::String(STANDARD.encode(&bytes))
        }
    };
    let mut data = json!({
        "detectionResult": detection,
        "livenessScore": summary.liveness_score,
        "auditImageUrl": urls[3],
        "imageFarUrl": urls[1],
        "farImageTime": summary.far_image_time,
        "imageNearUrl": urls[2],
        "nearImageTime": summary.near_image_time,
        "attackType": summary.attack_type,
        "attackSubType": Value::Null,
    });
    if let Some(c) = summary.challenge {
        data["challenge"] = c;
    }
    let mut reply = AdvanceReply::success(data, rid);
    reply.extra = summary.hint.map_or(Value::Null, Value::String);
    Ok(reply)
}
