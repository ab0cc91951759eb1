//! `POST /openapi/auth/ticket/v1/generate-token`: access key + timestamp + signature ->
//! `X-ACCESS-TOKEN`, modelled on the vendor's token authentication.
//!
//! `signature` = lowercase hex SHA-256 of `accessKey + secretKey + timestamp` (the vendor's
//! scheme, so existing clients work unchanged); `timestamp` is Unix milliseconds and must be
//! within `token_timestamp_skew_secs` of our clock, so a captured request cannot be replayed
//! later. `periodSecond` (optional) shortens the token's lifetime below the configured TTL.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use faceproof_store::{AccessToken, StoreError, TenantStore};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::refusal::AdvanceRefusal;
use super::reply::AdvanceReply;
use crate::refused::Refused;
use crate::request_id::RequestId;
use crate::state::{AppState, Shared};

/// `generate-token`: the access key, Unix ms, and sha256_hex(accessKey + secretKey + timestamp).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenRequest {
    access_key: String,
    signature: String,
    /// Unix milliseconds, a number or a string of digits.
    #[schema(value_type = i64)]
    timestamp: Value,
    period_second: Option<u64>,
}

/// Constant-time comparison of two hex strings (case-insensitive).
fn same_hex(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| {
            acc | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
        }) == 0
}

pub async fn generate_token(
    State(state): State<Shared>,
    Extension(RequestId(rid)): Extension<RequestId>,
    body: Bytes,
) -> Response {
    match issue(&state, &body).await {
        Ok(t) => AdvanceReply::success(
            json!({"token": t.token, "expiredTime": t.expires_at_ms}),
            &rid,
        )
        .free()
        .into_response_with(StatusCode::OK),
        Err(refused) => AdvanceRefusal::new(refused, &rid).into_response(),
    }
}

/// Checks the request (shape, timestamp window, signature) and issues the tenant's token.
async fn issue(state: &AppState, body: &[u8]) -> Result<AccessToken, Refused> {
    let req: TokenRequest =
        serde_json::from_slice(body).map_err(|e| Refused::Malformed(format!("JSON: {e}")))?;
    // Clients send the timestamp as a number or as a string of digits.
    let timestamp = match &req.timestamp {
        Value::Number(n) => n.as_i64().map(|n| n.to_string()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(s.clone())
        }
        _ => None,
    }
    .ok_or_else(|| Refused::Invalid("timestamp must be Unix milliseconds".into()))?;
    let ts: i64 = timestamp.parse().unwrap_or(i64::MAX);
    let now = state.store.clock().now_ms();
    let skew_ms =
        i64::try_from(state.cfg.token_timestamp_skew_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    if (now - ts).abs() > skew_ms {
        return Err(Refused::Unauthorized {
            detail: Some(format!(
                "timestamp is {} s away from the server's clock (limit {} s)",
                (now - ts).abs() / 1000,
                state.cfg.token_timestamp_skew_secs
            )),
        });
    }
    let (access_key, signature) = (req.access_key.clone(), req.signature.clone());
    let tenant = state
        .store
        .authenticate_access_key(&req.access_key, move |secret| {
            let mut h = Sha256::new();
            h.update(access_key.as_bytes());
            h.update(secret);
            h.update(timestamp.as_bytes());
            same_hex(&hex::encode(h.finalize()), &signature)
        })
        .await
        .map_err(|e| match e.is_backend() {
            true => Refused::Internal(format!("access key lookup: {e}")),
            false => Refused::Unauthorized { detail: None },
        })?;
    let ttl = req
        .period_second
        .filter(|p| *p > 0)
        .map_or(state.cfg.token_ttl_secs, |p| {
            p.min(state.cfg.token_ttl_secs)
        });
    tenant
        .issue_access_token(Some(Duration::from_secs(ttl)))
        .map_err(|e| Refused::Internal(format!("token not issued: {e}")))
}

/// The tenant of the request's `X-ACCESS-TOKEN`, or why it is refused.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<TenantStore, Refused> {
    let unauthorized = |d: &str| Refused::Unauthorized {
        detail: Some(d.to_owned()),
    };
    let token = headers
        .get("x-access-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("X-ACCESS-TOKEN is required"))?;
    match state.store.authenticate_token(token).await {
        Ok(t) => Ok(t),
        Err(StoreError::Expired { .. }) => Err(unauthorized("the access token has expired")),
        Err(e) if e.is_backend() => Err(Refused::Internal(format!("token check: {e}"))),
        Err(_) => Err(Refused::Unauthorized { detail: None }),
    }
}
