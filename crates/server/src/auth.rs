//! Authentication shared by the APIs: the tenant's API key (FPT, silent), the API key or an ADVANCE
//! access token (faceproof's own capture endpoints), and browser capture tokens (uploads only).

use axum::http::HeaderMap;
use faceproof_store::{Api, CaptureGrant, Store, StoreError, TenantStore};

/// Header carrying a capture token from a browser.
pub const CAPTURE_TOKEN_HEADER: &str = "x-capture-token";

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

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The `x-capture-token` header, when sent (an upload then authenticates with it alone).
pub fn capture_token(headers: &HeaderMap) -> Option<&str> {
    header(headers, CAPTURE_TOKEN_HEADER)
}

/// Why a caller was not let in.
#[derive(Debug)]
pub enum AuthFailure {
    /// No key, an unknown or revoked one, or a capture token not valid here (answer 401).
    Refused,
    /// The store failed (answer 500).
    Backend(StoreError),
}

fn refused_unless_backend(e: StoreError) -> AuthFailure {
    if e.is_backend() {
        AuthFailure::Backend(e)
    } else {
        AuthFailure::Refused
    }
}

pub async fn tenant_by_api_key(
    store: &Store,
    headers: &HeaderMap,
) -> Result<TenantStore, AuthFailure> {
    let key = api_key(headers).ok_or(AuthFailure::Refused)?;
    store
        .authenticate_api_key(key)
        .await
        .map_err(refused_unless_backend)
}

/// A tenant's backend on faceproof's own endpoints (capture tokens, challenges): the API key, or
/// an ADVANCE `X-ACCESS-TOKEN`. A capture token is never accepted here.
pub async fn tenant_by_key_or_access_token(
    store: &Store,
    headers: &HeaderMap,
) -> Result<TenantStore, AuthFailure> {
    if api_key(headers).is_some() {
        return tenant_by_api_key(store, headers).await;
    }
    let token = header(headers, "x-access-token").ok_or(AuthFailure::Refused)?;
    store
        .authenticate_token(token)
        .await
        .map_err(refused_unless_backend)
}

/// Who uploads: the tenant, and the capture token when a browser sent one (spent, with the
/// challenge, when the upload is admitted for analysis).
#[derive(Debug, Clone)]
pub struct Uploader {
    pub tenant: TenantStore,
    pub grant: Option<CaptureGrant>,
    /// The tenant's reference for the person (`x-external-ref`, 1:N); never taken from a
    /// request authenticated by a browser's capture token.
    pub external_ref: Option<String>,
}

/// A capture token for `flow`'s upload endpoint: known, its tenant active, unused, unexpired, and
/// minted for this flow. Any other case is [`AuthFailure::Refused`], so a token cannot be probed.
pub async fn capture_uploader(
    store: &Store,
    token: &str,
    flow: Api,
) -> Result<Uploader, AuthFailure> {
    let (tenant, grant) = store
        .authenticate_capture_token(token)
        .await
        .map_err(refused_unless_backend)?;
    if grant.flow != flow {
        return Err(AuthFailure::Refused);
    }
    Ok(Uploader {
        tenant,
        grant: Some(grant),
        external_ref: None,
    })
}

/// The FPT and silent upload endpoints: a capture token of `flow` when `x-capture-token` is sent
/// (then nothing else is looked at), else the tenant's API key.
pub async fn uploader_by_api_key(
    store: &Store,
    headers: &HeaderMap,
    flow: Api,
) -> Result<Uploader, AuthFailure> {
    match capture_token(headers) {
        Some(token) => capture_uploader(store, token, flow).await,
        None => Ok(Uploader {
            tenant: tenant_by_api_key(store, headers).await?,
            grant: None,
            external_ref: crate::gallery::external_ref(headers),
        }),
    }
}
