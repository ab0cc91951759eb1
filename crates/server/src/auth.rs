//! API-key authentication shared by the FPT and silent APIs.

use axum::http::HeaderMap;
use faceproof_store::{Store, StoreError, TenantStore};

/// The key from `api-key`, `api_key` (FPT's table), `x-api-key`, or `Authorization: Bearer`.
pub fn api_key(headers: &HeaderMap) -> Option<&str> {
    let direct = ["api-key", "api_key", "x-api-key"]
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok());
    let bearer = || {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
    };
    direct
        .or_else(bearer)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Why a caller was not let in.
#[derive(Debug)]
pub enum AuthFailure {
    /// No key, an unknown or revoked one (answer 401).
    Refused,
    /// The store failed (answer 500).
    Backend(StoreError),
}

pub async fn tenant_by_api_key(
    store: &Store,
    headers: &HeaderMap,
) -> Result<TenantStore, AuthFailure> {
    let key = api_key(headers).ok_or(AuthFailure::Refused)?;
    match store.authenticate_api_key(key).await {
        Ok(t) => Ok(t),
        Err(e) if e.is_backend() => Err(AuthFailure::Backend(e)),
        Err(_) => Err(AuthFailure::Refused),
    }
}
