//! Sessions in the console: the filtered list, the detail (audited), decrypted artefacts (never
//! cached), review decisions and the blocklist button.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use faceproof_store::{Api, AuditEvent, Cursor, Decision, Outcome, Session, SessionFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Authed;
use super::error::{API, ApiError, ok};
use super::{events, reasons};
use crate::metrics;
use crate::state::Shared;

/// Query of `GET /console/api/sessions` (dates are Unix milliseconds).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    api: Option<String>,
    outcome: Option<String>,
    code: Option<String>,
    need_review: Option<bool>,
    unreviewed: Option<bool>,
    from: Option<i64>,
    to: Option<i64>,
    reference: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

fn empty_none(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl ListQuery {
    fn filter(self) -> Result<(SessionFilter, Option<Cursor>, u32), ApiError> {
        let api = match empty_none(self.api).as_deref() {
            None => None,
            Some("fpt") => Some(Api::Fpt),
            Some("silent") => Some(Api::Silent),
            Some("advance") => Some(Api::Advance),
            Some(o) => return Err(ApiError::bad_request(format!("api {o:?}"))),
        };
        let outcome = match empty_none(self.outcome) {
            None => None,
            Some(o) => Some(
                Outcome::parse(&o)
                    .ok_or_else(|| ApiError::bad_request(format!("outcome {o:?}")))?,
            ),
        };
        let reference = empty_none(self.reference);
        if reference.as_ref().is_some_and(|r| r.len() > 128) {
            return Err(ApiError::bad_request("reference longer than 128"));
        }
        let after = empty_none(self.after)
            .map(|a| Cursor::decode(&a))
            .transpose()?;
        Ok((
            SessionFilter {
                api,
                outcome,
                code: empty_none(self.code),
                need_review: self.need_review,
                unreviewed: self.unreviewed.unwrap_or(false),
                from_ms: self.from,
                to_ms: self.to,
                reference,
            },
            after,
            self.limit.unwrap_or(50).clamp(1, 200),
        ))
    }
}

/// `GET /console/api/sessions`.
pub async fn list(
    State(_state): State<Shared>,
    auth: Authed,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    auth.ready()?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (filter, after, limit) = q.filter()?;
    let page = auth
        .session
        .tenant
        .list_sessions(&filter, after.as_ref(), limit)
        .await?;
    Ok(ok(json!(page)))
}

fn check_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no such session",
        ));
    }
    Ok(())
}

/// What the vendor API answered, as stored: FPT keeps its response body as sent; silent keeps
/// the body without its images (codes and scores only); ADVANCE keeps the summary its
/// `detection-result` answer is built from.
fn vendor_response(s: &Session) -> Value {
    let r = s.result.as_ref();
    match (s.api, r) {
        (Api::Fpt, Some(r)) if r.get("response").is_some() => {
            json!({"kind": "as_sent", "body": r["response"]})
        }
        (Api::Silent, Some(r)) if r.get("response").is_some() => {
            json!({"kind": "as_sent_without_images", "body": r["response"]})
        }
        (Api::Advance, Some(r)) if r.get("summary").is_some() => {
            json!({"kind": "summary", "body": r["summary"]})
        }
        _ => json!({"kind": "none", "body": null}),
    }
}

/// `GET /console/api/sessions/{id}`: the session, its verdict, artefacts and reviews. Audited
/// as `session.viewed` before it answers.
pub async fn detail(
    State(_state): State<Shared>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.ready()?;
    check_id(&id)?;
    let t = &auth.session.tenant;
    let s = t.session(&id).await?;
    t.audit(AuditEvent {
        actor: auth.operator_id(),
        action: "session.viewed",
        subject: &s.id,
        detail: json!({}),
    })
    .await?;
    let now = _state.store.clock().now_ms();
    let artefacts: Vec<Value> = t
        .artefacts(&s.id)
        .await?
        .into_iter()
        .map(|a| {
            json!({"name": a.name, "content_type": a.content_type, "size": a.size,
                   "available": a.expires_at_ms > now})
        })
        .collect();
    let reviews = t.reviews(&s.id).await?;
    let verdict = s.result.as_ref().and_then(|r| r.get("verdict")).cloned();
    Ok(ok(json!({
        "session": {
            "id": s.id, "reference": s.alias, "api": s.api, "kind": s.kind, "status": s.status,
            "created_at_ms": s.created_at_ms, "retain_until_ms": s.retain_until_ms,
        },
        "verdict": verdict,
        "vendor_response": vendor_response(&s),
        "artefacts": artefacts,
        "reviews": reviews,
        "reasons": {"approved": reasons::APPROVE, "rejected": reasons::REJECT},
    })))
}

/// The content type a stored artefact is served with: its recorded type, or for the clip
/// (stored as octet-stream) the container its first bytes name, so the browser can play it.
fn served_type(recorded: &str, bytes: &[u8]) -> &'static str {
    match recorded {
        "image/jpeg" => "image/jpeg",
        "image/png" => "image/png",
        "image/webp" => "image/webp",
        "application/zip" => "application/zip",
        _ if bytes.len() > 12 && &bytes[4..8] == b"ftyp" => "video/mp4",
        _ if bytes.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) => "video/webm",
        _ => "application/octet-stream",
    }
}

/// `GET /console/api/sessions/{id}/artefacts/{name}`: decrypted on the fly, `no-store`.
pub async fn artefact(
    State(_state): State<Shared>,
    auth: Authed,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    auth.ready()?;
    check_id(&id)?;
    let t = &auth.session.tenant;
    let (a, bytes) = t.read_artefact(&id, &name).await?;
    t.audit(AuditEvent {
        actor: auth.operator_id(),
        action: "artefact.viewed",
        subject: &id,
        detail: json!({"name": a.name}),
    })
    .await?;
    let ctype = served_type(&a.content_type, &bytes);
    let disposition = if ctype == "application/zip" {
        "attachment; filename=\"audit.zip\""
    } else {
        "inline"
    };
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, ctype)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::PRAGMA, "no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CONTENT_DISPOSITION, disposition)
        .body(Body::from(bytes))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    resp.extensions_mut()
        .insert(metrics::Outcome::new(API, "200"));
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    decision: String,
    reason: String,
    #[serde(default)]
    note: String,
}

/// `POST /console/api/sessions/{id}/review`.
pub async fn review(
    State(state): State<Shared>,
    auth: Authed,
    Path(id): Path<String>,
    Json(b): Json<ReviewBody>,
) -> Result<Response, ApiError> {
    auth.ready()?;
    check_id(&id)?;
    let decision = match b.decision.as_str() {
        "approved" | "approve" => Decision::Approved,
        "rejected" | "reject" => Decision::Rejected,
        o => {
            return Err(ApiError::bad_request(format!(
                "decision {o:?}: approved or rejected"
            )));
        }
    };
    if !reasons::allowed(decision, &b.reason) {
        return Err(ApiError::bad_request(format!(
            "reason {:?} is not one of the {} reasons",
            b.reason,
            decision.as_str()
        )));
    }
    let t = &auth.session.tenant;
    let (review, _entry) = t
        .decide(&id, auth.operator_id(), decision, &b.reason, b.note.trim())
        .await?;
    state
        .metrics
        .record_review(decision.as_str(), &review.reason);
    events::review_decided(&state, t, &review).await;
    Ok(ok(json!({"review": review})))
}

#[derive(Deserialize, Default)]
pub struct BlockBody {
    #[serde(default)]
    reason: String,
}

/// `POST /console/api/sessions/{id}/blocklist`: adds the session's face to the tenant's
/// blocklist (`gallery::block_session`); new sessions matching it get `blocklisted`. 409 when
/// the session kept no face template (1:N was off for the tenant when it ran, or no usable face).
pub async fn blocklist(
    State(state): State<Shared>,
    auth: Authed,
    Path(id): Path<String>,
    body: Option<Json<BlockBody>>,
) -> Result<Response, ApiError> {
    auth.ready()?;
    check_id(&id)?;
    let reason = body.map(|b| b.0.reason).unwrap_or_default();
    let t = &auth.session.tenant;
    // Another tenant's session reads as not found, as everywhere else.
    t.session(&id).await?;
    match crate::gallery::block_session(&state, t, &id, Some(auth.operator_id()), reason.trim())
        .await
    {
        Ok(entry) => Ok(ok(json!({"blocklisted": entry.id}))),
        Err(crate::gallery::GalleryError::NoTemplate { .. }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "NO_TEMPLATE",
            "this session kept no face template (1:N was off for the tenant when it ran, or it had no usable face)",
        )),
        Err(crate::gallery::GalleryError::Store(e)) => Err(e.into()),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            e.to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_types_from_bytes() {
        assert_eq!(
            served_type("application/octet-stream", b"\0\0\0\x18ftypmp42xxxx"),
            "video/mp4"
        );
        assert_eq!(
            served_type("application/octet-stream", &[0x1a, 0x45, 0xdf, 0xa3, 0]),
            "video/webm"
        );
        assert_eq!(
            served_type("application/octet-stream", b"hello world!!"),
            "application/octet-stream"
        );
        assert_eq!(served_type("image/jpeg", b""), "image/jpeg");
        assert_eq!(
            served_type("text/html", b"<html>"),
            "application/octet-stream"
        );
    }
}
