//! `POST /openapi/liveness/v3/signature-id`: reserves a pending, single-use capture session for
//! the capture SDK (its alias is the `signatureId`).
//!
//! Extension: the body may be `{"challengeKind": "colour" | "head_turn"}`; a challenge is then
//! attached to the session and answered (also when the tenant requires one: a colour challenge).

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use faceproof_engine::challenge::ChallengeKind;
use faceproof_store::{Api, NewSession};
use serde::Deserialize;
use serde_json::{Value, json};

use super::CAPTURE_KIND;
use super::refusal::AdvanceRefusal;
use super::reply::AdvanceReply;
use super::token::authenticate;
use crate::capture::issue_challenge;
use crate::capture::wire::challenge_json;
use crate::refused::Refused;
use crate::request_id::{RequestId, new_id};
use crate::state::Shared;

/// The optional body of `signature-id` (an extension; the vendor's call has none).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignatureRequest {
    /// Extension: `colour` or `head_turn`.
    #[schema(value_type = Option<String>)]
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
    match reserve(&state, &headers, &body).await {
        Ok(data) => AdvanceReply::success(data, &rid)
            .free()
            .into_response_with(StatusCode::OK),
        Err(refused) => AdvanceRefusal::new(refused, &rid).into_response(),
    }
}

async fn reserve(state: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Value, Refused> {
    let tenant = authenticate(state, headers).await?;
    let req: SignatureRequest = if body.iter().all(u8::is_ascii_whitespace) {
        SignatureRequest::default()
    } else {
        serde_json::from_slice(body).map_err(|e| Refused::Malformed(format!("JSON: {e}")))?
    };
    let kind = match req.challenge_kind {
        Some(k) => Some(k),
        None => tenant
            .settings()
            .await?
            .require_challenge
            .then_some(ChallengeKind::Colour),
    };
    let signature = new_id();
    let spec = NewSession::new(Api::Advance, CAPTURE_KIND)
        .with_alias(&signature)
        .with_ttl(state.cfg.capture_session_ttl());
    let session = tenant.create_session(spec).await?;
    let mut data = json!({"signatureId": signature, "expiredTime": session.expires_at_ms});
    if let Some(kind) = kind {
        let ttl = state
            .cfg
            .capture_session_ttl()
            .min(std::time::Duration::from_secs(
                state.cfg.challenge_ttl_secs.max(1),
            ));
        let (c, spec) = issue_challenge(&tenant, kind, ttl, Some(&signature)).await?;
        data["challenge"] = challenge_json(&c, &spec);
    }
    Ok(data)
}
