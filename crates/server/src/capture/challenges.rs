//! `POST /v1/challenges`: a fresh random challenge for one of the tenant's captures.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use faceproof_engine::challenge::{ChallengeKind, ChallengeSpec};
use faceproof_store::{Challenge, NewChallenge, StoreError, TenantStore};
use serde::Deserialize;

use super::wire::{Refusal, challenge_json, reply, tenant_and_json};
use crate::config::MAX_GRANT_TTL_SECS;
use crate::state::Shared;

/// A lifetime asked for (`ttl_secs`), or the default: 1 s to [`MAX_GRANT_TTL_SECS`].
pub fn ttl(requested: Option<u64>, default_secs: u64) -> Result<Duration, Refusal> {
    match requested {
        None => Ok(Duration::from_secs(
            default_secs.clamp(1, MAX_GRANT_TTL_SECS),
        )),
        Some(s) if (1..=MAX_GRANT_TTL_SECS).contains(&s) => Ok(Duration::from_secs(s)),
        Some(s) => Err(Refusal::Invalid(format!(
            "ttl_secs {s} is outside 1-{MAX_GRANT_TTL_SECS}"
        ))),
    }
}

/// A random 64-bit seed from the operating system: the engine's generator is deterministic in it.
fn seed() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("operating system random generator failed");
    u64::from_le_bytes(b)
}

/// Generates a challenge of `kind` (the engine's palette and timing rules) and stores it for
/// the tenant, attached to an ADVANCE capture session when `signature_id` is given.
pub async fn issue_challenge(
    tenant: &TenantStore,
    kind: ChallengeKind,
    ttl: Duration,
    signature_id: Option<&str>,
) -> Result<(Challenge, ChallengeSpec), StoreError> {
    let spec = ChallengeSpec::generate(kind, seed());
    let stored = tenant
        .create_challenge(NewChallenge {
            kind: kind.as_str().to_owned(),
            spec: serde_json::to_value(&spec).expect("a challenge spec serialises"),
            ttl,
            signature_id: signature_id.map(str::to_owned),
        })
        .await?;
    Ok((stored, spec))
}

/// A store refusal while issuing: the caller named something unusable, or the store failed.
pub fn store_refusal(e: StoreError) -> Refusal {
    match e {
        StoreError::Forbidden { .. } => Refusal::Unauthorized,
        e if e.is_backend() => {
            tracing::error!(error = %e, "capture grant not issued");
            Refusal::Internal
        }
        e => Refusal::Invalid(e.to_string()),
    }
}

/// `POST /v1/challenges`: the kind (`colour`, `head_turn`) and an optional lifetime.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChallengeRequest {
    #[schema(value_type = String)]
    kind: ChallengeKind,
    ttl_secs: Option<u64>,
}

pub async fn create_challenge(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (tenant, req): (TenantStore, ChallengeRequest) =
        match tenant_and_json(&state, &headers, &body).await {
            Ok(t) => t,
            Err(r) => return r,
        };
    let ttl = match ttl(req.ttl_secs, state.cfg.challenge_ttl_secs) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    match issue_challenge(&tenant, req.kind, ttl, None).await {
        Ok((c, spec)) => reply(StatusCode::CREATED, challenge_json(&c, &spec)),
        Err(e) => store_refusal(e).into_response(),
    }
}
