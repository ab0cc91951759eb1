//! The HTTP side of the service's counters: the middleware that times every request into
//! [`Metrics`](crate::metrics::Metrics) and logs it, and `GET /metrics`, which renders them.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics::Outcome;
use crate::state::Shared;

/// Times every request and counts it under the outcome its handler reported (or its HTTP status).
pub async fn middleware(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let id = req
        .extensions()
        .get::<crate::request_id::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let resp = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let (api, code) = match resp.extensions().get::<Outcome>() {
        Some(o) => (o.api, o.code.clone()),
        None => ("other", resp.status().as_u16().to_string()),
    };
    state.metrics.record_request(api, &code, secs);
    // Route and code only: bodies, keys and ids of people never reach the log.
    let route = if api == "other" { "-" } else { path.as_str() };
    tracing::info!(request_id = %id, %method, route, api, code, status = resp.status().as_u16(),
        ms = (secs * 1000.0).round(), "request");
    resp
}

/// `GET /metrics`; with `server.metrics_token` set, only for `Authorization: Bearer <token>`.
pub async fn handler(State(state): State<Shared>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &state.cfg.metrics_token {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !same_secret(given.trim(), token) {
            return Response::builder()
                .status(axum::http::StatusCode::UNAUTHORIZED)
                .header("www-authenticate", "Bearer")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    r#"{"code":"UNAUTHORIZED","message":"/metrics needs Authorization: Bearer <server.metrics_token>"}"#,
                ))
                .expect("static response");
        }
    }
    let mut text = state
        .metrics
        .render(state.checks.running(), state.checks.queued());
    text.push_str(&state.gallery.metrics.render());
    Response::builder()
        .header("content-type", "text/plain; version=0.0.4")
        .body(axum::body::Body::from(text))
        .expect("static response")
}

/// Compares the SHA-256 digests of both in constant time: neither the token's length nor the
/// position of the first difference shows in the timing.
fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
