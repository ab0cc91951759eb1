//! Cross-origin access for the browser-facing routes (the capture context, the three upload
//! endpoints, the SDK files), so the SDK works on an integrator's own pages.
//!
//! Any origin is allowed and no cookie is ever read: the only credential a browser may send
//! cross-origin is a capture token in `x-capture-token`. The preflight allows it and
//! `x-faceproof-device` (the SDK's device id, no credential: `ratelimit.rs`) as non-simple
//! headers; a tenant key in `api-key` / `Authorization` is not allowed cross-origin, so a page
//! cannot be made to send one.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// Answers preflights, and marks every other answer readable from any origin.
pub async fn middleware(req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NO_CONTENT;
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "content-type, x-capture-token, x-faceproof-device, x-request-id",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return resp;
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    // Retry-After: a page on another origin tells its user how long a 429 (a lockout) lasts.
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("x-request-id, retry-after"),
    );
    resp
}
