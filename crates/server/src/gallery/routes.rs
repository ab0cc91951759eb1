//! The tenant's gallery routes (API key or ADVANCE access token; JSON answers):
//!
//! - `DELETE /v1/gallery/{external_ref}`: every template filed under the reference (enrolment,
//!   probes, blocklist entries): a data-subject request. `{"external_ref", "deleted"}`.
//! - `POST /v1/gallery/blocklist` `{"session_id", "reason"}`: blocklists a session's face.
//! - `DELETE /v1/gallery/blocklist/{entry_id}`: removes one blocklist entry.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use faceproof_store::{GalleryList, StoreError, TenantStore};
use serde::Deserialize;
use serde_json::json;

use super::screen::{GalleryError, block_session};
use crate::auth::{AuthFailure, tenant_by_key_or_access_token};
use crate::capture::wire::Refusal;
use crate::state::Shared;

async fn tenant(state: &Shared, headers: &HeaderMap) -> Result<TenantStore, Response> {
    match tenant_by_key_or_access_token(&state.store, headers).await {
        Ok(t) => Ok(t),
        Err(AuthFailure::Refused) => Err(Refusal::Unauthorized.into_response()),
        Err(AuthFailure::Backend(e)) => {
            tracing::error!(error = %e, "tenant lookup failed");
            Err(Refusal::Internal.into_response())
        }
    }
}

fn not_found(message: String) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"code": "NOT_FOUND", "message": message})),
    )
        .into_response()
}

fn failure(e: GalleryError) -> Response {
    match e {
        GalleryError::Store(StoreError::NotFound { what, id }) => {
            not_found(format!("{what} {id:?} not found"))
        }
        GalleryError::NoTemplate { .. } => not_found(e.to_string()),
        GalleryError::Store(e @ StoreError::Invalid { .. }) => {
            Refusal::Invalid(e.to_string()).into_response()
        }
        e => {
            tracing::error!(error = %e, "gallery action failed");
            Refusal::Internal.into_response()
        }
    }
}

/// `DELETE /v1/gallery/{external_ref}`.
pub async fn delete_ref(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(external_ref): Path<String>,
) -> Response {
    let tenant = match tenant(&state, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    match tenant.delete_templates_by_ref(&external_ref).await {
        Ok(ids) => {
            state.gallery.remove(tenant.tenant_id(), &ids);
            state.gallery.metrics.deleted(ids.len());
            tracing::info!(tenant = %tenant.tenant_id(), deleted = ids.len(),
                "gallery templates deleted by reference");
            Json(json!({"external_ref": external_ref, "deleted": ids.len()})).into_response()
        }
        Err(e) => failure(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    pub session_id: String,
    pub reason: String,
}

/// `POST /v1/gallery/blocklist`.
pub async fn block(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let tenant = match tenant(&state, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let req: BlockRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return Refusal::Invalid(format!("JSON: {e}")).into_response(),
    };
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Refusal::Invalid("reason: 1-500 characters".into()).into_response();
    }
    match block_session(&state, &tenant, &req.session_id, None, reason).await {
        Ok(t) => (
            StatusCode::CREATED,
            Json(json!({"entry_id": t.id, "session_id": req.session_id,
                        "external_ref": t.external_ref, "list": "blocklist"})),
        )
            .into_response(),
        Err(e) => failure(e),
    }
}

/// `DELETE /v1/gallery/blocklist/{entry_id}`.
pub async fn unblock(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(entry_id): Path<String>,
) -> Response {
    let tenant = match tenant(&state, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    match tenant.template(&entry_id).await {
        Ok(t) if t.list == GalleryList::Blocked => {}
        Ok(_) | Err(StoreError::NotFound { .. }) => {
            return not_found(format!("blocklist entry {entry_id:?} not found"));
        }
        Err(e) => return failure(e.into()),
    }
    match tenant.delete_template(&entry_id).await {
        Ok(_) => {
            state
                .gallery
                .remove(tenant.tenant_id(), std::slice::from_ref(&entry_id));
            state.gallery.metrics.deleted(1);
            Json(json!({"entry_id": entry_id, "deleted": 1})).into_response()
        }
        Err(e) => failure(e.into()),
    }
}
