//! `POST /v1/capture-tokens` (and `faceproof tenant capture-token`): a short-lived, single-use
//! upload credential for one flow, so no tenant secret ever reaches a browser.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use faceproof_engine::challenge::ChallengeKind;
use faceproof_store::{Api, NewCaptureToken, NewSession, TenantStore};
use serde::Deserialize;
use serde_json::{Value, json};

use super::challenges::{issue_challenge, store_refusal, ttl};
use super::wire::{Refusal, iso8601, reply, tenant_and_json};
use crate::advance::CAPTURE_KIND;
use crate::config::ServerConfig;
use crate::request_id::new_id;
use crate::state::Shared;

/// The mint request (the endpoint's JSON body; the CLI fills it from its flags).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// `advance`, `fpt` or `silent`.
    pub flow: String,
    /// ADVANCE: an existing pending capture session; without it one is reserved.
    pub signature_id: Option<String>,
    /// Issue a fresh challenge of this kind (`colour`, `head_turn`) and bind it.
    #[schema(value_type = Option<String>)]
    pub challenge_kind: Option<ChallengeKind>,
    /// Bind an existing unused challenge of the tenant.
    pub challenge_id: Option<String>,
    /// Lifetime, seconds (default `capture_token_ttl_secs`, at most 3600).
    pub ttl_secs: Option<u64>,
}

/// `advance` | `fpt` | `silent`.
pub fn parse_flow(flow: &str) -> Option<Api> {
    match flow {
        "advance" => Some(Api::Advance),
        "fpt" => Some(Api::Fpt),
        "silent" => Some(Api::Silent),
        _ => None,
    }
}

/// The upload endpoint of a flow.
pub fn upload_url(flow: Api) -> &'static str {
    match flow {
        Api::Fpt => "/vision/ekyc/liveness",
        Api::Silent => "/v1/silent/video-compare",
        Api::Advance => "/openapi/liveness/v3/capture",
    }
}

/// Mints a capture token for `tenant`. ADVANCE without `signature_id` reserves a capture session
/// (like `signature-id`); `challenge_kind` issues a challenge (attached to the ADVANCE session)
/// with the shorter of the token's and the challenge's default lifetime; a tenant with
/// `require_challenge` gets a colour challenge when none is asked for. Answers the JSON of the
/// contract: `capture_token`, `flow`, `expires_at`, `expires_at_ms`, `signature_id`,
/// `challenge_id`.
pub async fn mint(
    tenant: &TenantStore,
    req: MintRequest,
    cfg: &ServerConfig,
) -> Result<Value, Refusal> {
    let flow = parse_flow(&req.flow).ok_or_else(|| {
        Refusal::Invalid(format!(
            "flow {:?} is not one of advance, fpt, silent",
            req.flow
        ))
    })?;
    let token_ttl = ttl(req.ttl_secs, cfg.capture_token_ttl_secs)?;
    if req.signature_id.is_some() && flow != Api::Advance {
        return Err(Refusal::Invalid(
            "signature_id applies to the advance flow only".into(),
        ));
    }
    if req.challenge_kind.is_some() && req.challenge_id.is_some() {
        return Err(Refusal::Invalid(
            "give challenge_kind or challenge_id, not both".into(),
        ));
    }
    let settings = tenant.settings().await.map_err(store_refusal)?;
    let kind = req.challenge_kind.or_else(|| {
        (settings.require_challenge && req.challenge_id.is_none()).then_some(ChallengeKind::Colour)
    });

    let signature_id = match (flow, req.signature_id) {
        (Api::Advance, None) => {
            let alias = new_id();
            tenant
                .create_session(
                    NewSession::new(Api::Advance, CAPTURE_KIND)
                        .with_alias(&alias)
                        .with_ttl(cfg.capture_session_ttl()),
                )
                .await
                .map_err(store_refusal)?;
            Some(alias)
        }
        (_, given) => given,
    };
    let challenge_id = match kind {
        Some(kind) => {
            let challenge_ttl = token_ttl.min(Duration::from_secs(cfg.challenge_ttl_secs.max(1)));
            let attach = signature_id.as_deref().filter(|_| flow == Api::Advance);
            let (c, _) = issue_challenge(tenant, kind, challenge_ttl, attach)
                .await
                .map_err(store_refusal)?;
            Some(c.id)
        }
        None => req.challenge_id,
    };
    let issued = tenant
        .issue_capture_token(NewCaptureToken {
            flow,
            signature_id,
            challenge_id,
            ttl: token_ttl,
        })
        .await
        .map_err(store_refusal)?;
    let g = &issued.grant;
    Ok(json!({
        "capture_token": &*issued.token,
        "flow": flow.as_str(),
        "expires_at": iso8601(g.expires_at_ms),
        "expires_at_ms": g.expires_at_ms,
        "signature_id": g.signature_id,
        "challenge_id": g.challenge_id,
    }))
}

pub async fn create_capture_token(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (tenant, req): (TenantStore, MintRequest) =
        match tenant_and_json(&state, &headers, &body).await {
            Ok(t) => t,
            Err(r) => return r,
        };
    match mint(&tenant, req, &state.cfg).await {
        Ok(body) => {
            let mut resp = reply(StatusCode::CREATED, body);
            resp.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            resp
        }
        Err(r) => r.into_response(),
    }
}
