//! `GET /openapi.json` (hand-written, checked against the router by a test) and `GET /docs`.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}

pub async fn page() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>faceproof API</title></head><body>",
        "<h1>faceproof</h1><p>Face liveness and face match behind three vendor-compatible APIs.</p>",
        "<ul><li><code>POST /vision/ekyc/liveness</code>: FPT.AI Liveness v3 (multipart video, cmnd)</li>",
        "<li><code>POST /v1/silent/video-compare</code>: silent video + photo compare (HPKE envelopes; ",
        "key at <code>GET /v1/silent/public-key</code>)</li>",
        "<li><code>POST /openapi/auth/ticket/v1/generate-token</code>, <code>/openapi/liveness/v3/signature-id</code>, ",
        "<code>/openapi/liveness/v3/capture</code>, <code>/openapi/liveness/v3/detection-result</code>: ADVANCE.AI Liveness v3</li>",
        "<li><code>GET /healthz</code>, <code>/readyz</code>, <code>/metrics</code></li></ul>",
        "<p>The full description: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3). ",
        "Every choice the vendor documents leave open is in the repository's docs/api.md.</p></body></html>"
    ))
}
