//! `GET /v1/capture/context`: what the browser needs to run a capture, read with the capture
//! token itself (`x-capture-token`) without spending it.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use faceproof_store::{Api, Challenge, StoreError, TenantStore};
use serde_json::{Value, json};

use super::tokens::upload_url;
use super::wire::{Refusal, challenge_json, reply, spec_of};
use crate::auth::capture_token;
use crate::state::Shared;

fn capture_refused() -> Response {
    reply(
        StatusCode::UNAUTHORIZED,
        json!({"code": "UNAUTHORIZED", "message": "a valid, unused capture token is required in x-capture-token"}),
    )
}

async fn challenge_of(
    tenant: &TenantStore,
    id: Option<&str>,
    signature_id: Option<&str>,
) -> Result<Option<Challenge>, StoreError> {
    match (id, signature_id) {
        (Some(id), _) => tenant.challenge(id).await.map(Some),
        (None, Some(sig)) => tenant.challenge_for_signature(sig).await,
        (None, None) => Ok(None),
    }
}

pub async fn context(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let Some(token) = capture_token(&headers) else {
        return capture_refused();
    };
    let (tenant, grant) = match state.store.authenticate_capture_token(token).await {
        Ok(t) => t,
        Err(e) if e.is_backend() => {
            tracing::error!(error = %e, "capture token lookup failed");
            return Refusal::Internal.into_response();
        }
        Err(_) => return capture_refused(),
    };
    let challenge = match challenge_of(
        &tenant,
        grant.challenge_id.as_deref(),
        grant.signature_id.as_deref(),
    )
    .await
    {
        Ok(Some(c)) => match spec_of(&c) {
            Ok(spec) => challenge_json(&c, &spec),
            Err(e) => {
                tracing::error!(error = %e, "stored challenge spec does not parse");
                return Refusal::Internal.into_response();
            }
        },
        Ok(None) => Value::Null,
        Err(e) => {
            tracing::error!(error = %e, "challenge lookup failed");
            return Refusal::Internal.into_response();
        }
    };
    let hpke_public_key = if grant.flow == Api::Silent {
        match tenant.hpke_public_key().await {
            Ok(k) => Value::String(STANDARD.encode(k.public_key)),
            Err(e) => {
                tracing::error!(error = %e, "tenant hpke key");
                return Refusal::Internal.into_response();
            }
        }
    } else {
        Value::Null
    };
    let mut resp = reply(
        StatusCode::OK,
        json!({
            "flow": grant.flow.as_str(),
            "expires_at_ms": grant.expires_at_ms,
            "upload_url": upload_url(grant.flow),
            "signature_id": grant.signature_id,
            "challenge": challenge,
            "hpke_public_key": hpke_public_key,
        }),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
