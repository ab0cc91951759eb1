//! One OpenAPI operation per route of [`crate::routes`]. The functions are never called: utoipa
//! reads their attributes. Bodies and answers name the handlers' own types; multipart forms
//! (read field by field by `form.rs`, so without a struct of their own) are described by
//! [`FptForm`] and [`CaptureForm`].
#![allow(dead_code)]

use crate::advance::AdvanceReply;
use crate::fpt::response::FptResponse;
use crate::silent::response::SilentResponse;
use crate::silent::{CompareRequest, SilentError};

/// `POST /vision/ekyc/liveness` (multipart/form-data).
#[derive(utoipa::ToSchema)]
pub struct FptForm {
    /// The selfie video (mp4, mov, webm, mkv, avi).
    #[schema(value_type = String, format = Binary)]
    video: Vec<u8>,
    /// Optional ID photo (JPEG, PNG, WebP) to match the face against.
    #[schema(value_type = Option<String>, format = Binary)]
    cmnd: Option<Vec<u8>>,
    /// Extension: a server-issued challenge the video answers.
    challenge_id: Option<String>,
    /// Extension: the capture SDK's telemetry (JSON text).
    client_telemetry: Option<String>,
}

/// `POST /openapi/liveness/v3/capture` (multipart/form-data).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CaptureForm {
    /// The far still (JPEG, PNG, WebP).
    #[schema(value_type = String, format = Binary)]
    far: Vec<u8>,
    /// The near still.
    #[schema(value_type = String, format = Binary)]
    near: Vec<u8>,
    /// When the far still was taken, Unix ms.
    far_image_time: Option<i64>,
    near_image_time: Option<i64>,
    /// Optional short clip between the stills.
    #[schema(value_type = Option<String>, format = Binary)]
    clip: Option<Vec<u8>>,
    /// The reserved session to fill (from `signature-id`).
    signature_id: Option<String>,
    /// Extension: a server-issued challenge.
    challenge_id: Option<String>,
    /// Extension: the capture SDK's telemetry (JSON text).
    client_telemetry: Option<String>,
}

/// The `x-faceproof-device` header of the three upload routes the capture SDK posts to (the
/// lockout figures are `[server.rate_limit]`'s defaults).
const DEVICE_HEADER_DOC: &str = "The capture SDK's device id (16-128 of A-Z a-z 0-9 - _): a judged check that does not pass is a strike against it, and 5 within 3 minutes lock it out (429 with Retry-After) wherever it connects from (docs/api.md)";

#[utoipa::path(post, path = "/vision/ekyc/liveness", tag = "fpt",
    summary = "Liveness of a selfie video, and face match against an ID photo",
    params(("v2_format" = Option<String>, Query, description = "`1` or `true`: the flat v2 layout"),
        ("x-faceproof-device" = Option<String>, Header, description = DEVICE_HEADER_DOC)),
    request_body(content = FptForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Judged: `code` 200, or the first failing stage's code (301, 303, 410, ...)", body = FptResponse),
        (status = 400, description = "Refused upload (409 and ours), every value N/A", body = FptResponse),
        (status = 401, description = "Unknown key or capture token", body = FptResponse),
        (status = 413, description = "Body or field over its limit", body = FptResponse),
        (status = 429, description = "Too many checks waiting, a rate limit, or the client or device locked out after failed attempts (Retry-After)", body = FptResponse),
        (status = 503, description = "No check slot in time", body = FptResponse),
    ),
    security(("ApiKey" = []), ("CaptureToken" = [])))]
pub fn fpt_liveness() {}

#[utoipa::path(post, path = "/v1/silent/video-compare", tag = "silent",
    summary = "Silent liveness of a video and its match against a photo (HPKE envelope pair)",
    params(("x-faceproof-device" = Option<String>, Header, description = DEVICE_HEADER_DOC)),
    request_body(content = CompareRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Judged (code 1000)", body = SilentResponse),
        (status = 400, description = "1200, 2003, 2004, 2005, 4000, 4004, 4007", body = SilentError),
        (status = 401, description = "Unknown key or capture token (1401)", body = SilentError),
        (status = 411, description = "No Content-Length (2004)", body = SilentError),
        (status = 413, description = "Body or media over its limit (2004)", body = SilentError),
        (status = 429, description = "Too many checks waiting, a rate limit, or the client or device locked out after failed attempts (1429, Retry-After)", body = SilentError),
        (status = 503, description = "No check slot in time (1503)", body = SilentError),
    ),
    security(("ApiKey" = []), ("CaptureToken" = [])))]
pub fn silent_video_compare() {}

#[utoipa::path(get, path = "/v1/silent/public-key", tag = "silent",
    summary = "The tenant's HPKE public key, the suite and the envelope format",
    responses((status = 200, description = "Key, suite ids, info, AAD layout, window"),
        (status = 401, description = "Unknown key", body = SilentError)),
    security(("ApiKey" = [])))]
pub fn silent_public_key() {}

#[utoipa::path(get, path = "/v1/silent/thresholds", tag = "silent",
    summary = "verification_score thresholds and the false-accept rates measured there",
    responses((status = 200, description = "The seed's table with our cosine and measured FAR")))]
pub fn silent_thresholds() {}

#[utoipa::path(post, path = "/openapi/auth/ticket/v1/generate-token", tag = "advance",
    summary = "ADVANCE access token from the access key and a signed timestamp",
    request_body(content = crate::advance::TokenRequest, content_type = "application/json"),
    responses((status = 200, description = "`data.token`, `data.expiredTime`", body = AdvanceReply),
        (status = 400, description = "PARAMETER_ERROR", body = AdvanceReply),
        (status = 401, description = "IAM_FAILED", body = AdvanceReply)))]
pub fn advance_generate_token() {}

#[utoipa::path(post, path = "/openapi/liveness/v3/signature-id", tag = "advance",
    summary = "Reserve a single-use capture session (its signatureId)",
    request_body(content = crate::advance::SignatureRequest, content_type = "application/json"),
    responses((status = 200, description = "`data.signatureId`, `data.expiredTime`, `data.challenge` when asked", body = AdvanceReply),
        (status = 401, description = "IAM_FAILED", body = AdvanceReply)),
    security(("AccessToken" = [])))]
pub fn advance_signature_id() {}

#[utoipa::path(post, path = "/openapi/liveness/v3/capture", tag = "advance",
    summary = "Upload a far / near capture (capture SDK)",
    params(("x-faceproof-device" = Option<String>, Header, description = DEVICE_HEADER_DOC)),
    request_body(content = CaptureForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "`data.livenessId`, `data.signatureId`", body = AdvanceReply),
        (status = 400, description = "PARAMETER_ERROR (also a used or expired signatureId)", body = AdvanceReply),
        (status = 401, description = "IAM_FAILED", body = AdvanceReply),
        (status = 413, description = "PARAMETER_ERROR: body or field over its limit", body = AdvanceReply),
        (status = 429, description = "TOO_MANY_REQUESTS (also a client or device locked out after failed attempts, Retry-After)", body = AdvanceReply)),
    security(("AccessToken" = []), ("CaptureToken" = [])))]
pub fn advance_capture() {}

#[utoipa::path(post, path = "/openapi/liveness/v3/detection-result", tag = "advance",
    summary = "Liveness detection result (single read of a capture session)",
    request_body(content = crate::advance::ResultRequest, content_type = "application/json"),
    responses((status = 200, description = "SUCCESS with `data` (score, attack type, images)", body = AdvanceReply),
        (status = 400, description = "PARAMETER_ERROR, LIVENESS_ID_NOT_EXISTED, RESULT_NOT_FOUND", body = AdvanceReply),
        (status = 401, description = "IAM_FAILED", body = AdvanceReply)),
    security(("AccessToken" = [])))]
pub fn advance_detection_result() {}

#[utoipa::path(post, path = "/{region}/openapi/face-identity/v1/liveness-detection", tag = "advance",
    summary = "Liveness detection result (the vendor's regional path; same answer)",
    params(("region" = String, Path, description = "Accepted and ignored: one deployment serves one region")),
    request_body(content = crate::advance::ResultRequest, content_type = "application/json"),
    responses((status = 200, description = "As detection-result", body = AdvanceReply)),
    security(("AccessToken" = [])))]
pub fn advance_liveness_detection() {}

#[utoipa::path(get, path = "/v1/files/{key}", tag = "advance",
    summary = "A signed artefact (image or audit zip) of a detection result",
    params(("key" = String, Path, description = "The signed key from a detection-result URL")),
    responses((status = 200, description = "The artefact's bytes"),
        (status = 403, description = "Bad or expired signature"),
        (status = 404, description = "No such artefact")))]
pub fn files() {}

#[utoipa::path(post, path = "/v1/capture-tokens", tag = "capture",
    summary = "Mint a single-use browser capture token (extension)",
    request_body(content = crate::capture::MintRequest, content_type = "application/json"),
    responses((status = 200, description = "`capture_token`, `expires_at_ms`, the bound ids"),
        (status = 400, description = "INVALID_ARGUMENT"), (status = 401, description = "UNAUTHORIZED")),
    security(("ApiKey" = []), ("AccessToken" = [])))]
pub fn capture_tokens() {}

#[utoipa::path(post, path = "/v1/challenges", tag = "capture",
    summary = "Issue a random challenge the video must answer (extension)",
    request_body(content = crate::capture::ChallengeRequest, content_type = "application/json"),
    responses((status = 200, description = "`challenge_id`, kind, steps, expiry"),
        (status = 400, description = "INVALID_ARGUMENT"), (status = 401, description = "UNAUTHORIZED")),
    security(("ApiKey" = []), ("AccessToken" = [])))]
pub fn challenges() {}

#[utoipa::path(get, path = "/v1/capture/context", tag = "capture",
    summary = "What the browser needs for its capture, read with the capture token (not spent)",
    responses((status = 200, description = "Flow, upload URL, challenge, HPKE key"),
        (status = 401, description = "UNAUTHORIZED")),
    security(("CaptureToken" = [])))]
pub fn capture_context() {}

#[utoipa::path(post, path = "/v1/gallery/blocklist", tag = "gallery",
    summary = "Add a session's face to the tenant's blocklist (1:N, docs/gallery.md)",
    request_body(content = String, content_type = "application/json",
        description = "`{\"session_id\": \"...\", \"reason\": \"...\"}`"),
    responses((status = 201, description = "The blocklist entry"),
        (status = 400, description = "INVALID_ARGUMENT"), (status = 401, description = "UNAUTHORIZED"),
        (status = 404, description = "No such session of this tenant"),
        (status = 409, description = "The session kept no face template")),
    security(("ApiKey" = []), ("AccessToken" = [])))]
pub fn gallery_block() {}

#[utoipa::path(delete, path = "/v1/gallery/blocklist/{entry_id}", tag = "gallery",
    summary = "Remove a blocklist entry",
    params(("entry_id" = String, Path, description = "The entry's id")),
    responses((status = 200, description = "Removed"), (status = 401, description = "UNAUTHORIZED"),
        (status = 404, description = "No such entry of this tenant")),
    security(("ApiKey" = []), ("AccessToken" = [])))]
pub fn gallery_unblock() {}

#[utoipa::path(delete, path = "/v1/gallery/{external_ref}", tag = "gallery",
    summary = "Delete every face template stored under a customer reference (data-subject request)",
    params(("external_ref" = String, Path, description = "The tenant's reference (`x-external-ref`)")),
    responses((status = 200, description = "Templates deleted (count)"),
        (status = 401, description = "UNAUTHORIZED")),
    security(("ApiKey" = []), ("AccessToken" = [])))]
pub fn gallery_delete() {}

#[utoipa::path(get, path = "/sdk/{path}", tag = "capture",
    summary = "The web capture SDK's files",
    params(("path" = String, Path, description = "A file under the SDK's dist/")),
    responses((status = 200, description = "The file"), (status = 404, description = "FILE_NOT_FOUND")))]
pub fn sdk() {}

#[utoipa::path(get, path = "/demo", tag = "capture", summary = "Redirect to /demo/",
    responses((status = 308, description = "To /demo/")))]
pub fn demo_redirect() {}

#[utoipa::path(get, path = "/demo/", tag = "capture", summary = "The demo page",
    responses((status = 200, description = "HTML")))]
pub fn demo_index() {}

#[utoipa::path(get, path = "/demo/{path}", tag = "capture", summary = "The demo's files",
    params(("path" = String, Path, description = "A file of the demo")),
    responses((status = 200, description = "The file"), (status = 404, description = "FILE_NOT_FOUND")))]
pub fn demo() {}

#[utoipa::path(get, path = "/healthz", tag = "ops", summary = "Process up",
    responses((status = 200, description = "ok")))]
pub fn healthz() {}

#[utoipa::path(get, path = "/readyz", tag = "ops", summary = "Database answers and not draining",
    responses((status = 200, description = "ready"), (status = 503, description = "not ready")))]
pub fn readyz() {}

#[utoipa::path(get, path = "/metrics", tag = "ops", summary = "Prometheus text exposition",
    responses((status = 200, description = "text/plain; version=0.0.4"),
        (status = 401, description = "`server.metrics_token` set and not sent")),
    security((), ("Bearer" = [])))]
pub fn metrics() {}

#[utoipa::path(get, path = "/openapi.json", tag = "ops", summary = "This document",
    responses((status = 200, description = "OpenAPI 3.1")))]
pub fn openapi_json() {}

#[utoipa::path(get, path = "/docs", tag = "ops", summary = "Interactive reference of this document",
    description = "Swagger UI over this document when the service's apidocs folder is built (scripts/apidocs.sh), else a small page inside the binary.",
    responses((status = 200, description = "HTML")))]
pub fn docs() {}

#[utoipa::path(get, path = "/docs/{path}", tag = "ops", summary = "The interactive reference's files",
    params(("path" = String, Path, description = "A file under the apidocs folder's dist/")),
    responses((status = 200, description = "The file"), (status = 404, description = "FILE_NOT_FOUND")))]
pub fn docs_file() {}
