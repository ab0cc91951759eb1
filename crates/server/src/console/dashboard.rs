//! The dashboard's aggregates and the audit log (admins).

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::auth::Authed;
use super::error::{ApiError, ok};
use crate::state::Shared;

const DAY_MS: i64 = 86_400_000;

#[derive(Deserialize)]
pub struct DashboardQuery {
    days: Option<u32>,
}

/// `GET /console/api/dashboard?days=N` (default 30, at most 366): whole UTC days up to today.
pub async fn dashboard(
    State(state): State<Shared>,
    auth: Authed,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, ApiError> {
    auth.ready()?;
    let days = i64::from(q.days.unwrap_or(30).clamp(1, 366));
    let now = state.store.clock().now_ms();
    let to = (now.div_euclid(DAY_MS) + 1) * DAY_MS;
    let from = to - days * DAY_MS;
    let d = auth.session.tenant.dashboard(from, to).await?;
    Ok(ok(json!({"now_ms": now, "dashboard": d})))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

/// `GET /console/api/audit?before=SEQ`: newest entries first (admins), each with the acting
/// operator's email when the actor is one of the tenant's operators.
pub async fn audit(
    State(state): State<Shared>,
    auth: Authed,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    auth.require_admin()?;
    let t = &auth.session.tenant;
    let entries = t.audit_entries(q.before, q.limit.unwrap_or(50)).await?;
    let operators = state.store.list_operators(t.tenant_id()).await?;
    let entries: Vec<serde_json::Value> = entries
        .into_iter()
        .map(|e| {
            let email = operators
                .iter()
                .find(|o| o.id == e.actor)
                .map(|o| o.email.clone());
            let mut v = json!(e);
            v["actor_email"] = json!(email);
            v
        })
        .collect();
    Ok(ok(json!({"entries": entries})))
}

/// `GET /console/api/audit/verify`: walks the tenant's chain (admins).
pub async fn verify(State(state): State<Shared>, auth: Authed) -> Result<Response, ApiError> {
    auth.require_admin()?;
    let report = state
        .store
        .verify_audit(auth.session.tenant.tenant_id())
        .await?;
    Ok(ok(json!(report)))
}
