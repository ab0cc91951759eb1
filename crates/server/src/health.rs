//! `/healthz` (the process answers) and `/readyz` (the database answers and we are not draining).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use faceproof_store::StoreError;
use serde_json::json;

use crate::state::Shared;

pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

pub async fn readyz(State(state): State<Shared>) -> Response {
    if !state.is_accepting() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "draining"})),
        )
            .into_response();
    }
    // A lookup of a name no tenant can have: NotFound proves the database answers.
    match state.store.tenant("readyz probe").await {
        Err(e) if e.is_backend() => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "database unavailable"})),
        )
            .into_response(),
        Ok(_) | Err(StoreError::NotFound { .. }) | Err(_) => Json(json!({
            "status": "ok",
            "checks_running": state.checks.running(),
            "checks_queued": state.checks.queued(),
        }))
        .into_response(),
    }
}
