//! The silent compare request: JSON with base64 envelopes (or plain base64 when the tenant
//! allows it), answered with the seed's fields. Extensions: an `x-capture-token` header instead of
//! the key (a browser), `challenge_id` (a server-issued challenge) and `client_telemetry` (the
//! SDK's JSON object).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use faceproof_engine::check::CheckError;
use faceproof_media::MediaError;
use faceproof_store::{Api, NewSession, SessionStatus, TenantStore};
use serde::Deserialize;
use serde_json::Value;
use serde_json::json;

use super::codes::{
    BUSY, INTERNAL, INVALID_ARGUMENT, LENGTH_REQUIRED, PAYLOAD_TOO_LARGE, SilentCode, UNAUTHORIZED,
    UNAVAILABLE, media_code,
};
use super::envelope::{self, EnvelopeError, Field};
use super::response::{SilentResponse, Switches, from_verdict, short_time};
use crate::auth::{AuthFailure, Uploader, tenant_by_api_key, uploader_by_api_key};
use crate::capture::upload::telemetry_from_value;
use crate::capture::{PrepareError, SpendError, UploadChallenge, prepare};
use crate::checks::RunError;
use crate::judge::{JudgeError, VideoJob, check_video};
use crate::metrics::Outcome;
use crate::request_id::RequestId;
use crate::state::Shared;

const API: &str = "silent";

#[derive(Debug, Deserialize)]
struct CompareRequest {
    encrypted_video: Option<String>,
    encrypted_image: Option<String>,
    /// Plain base64, accepted only when the tenant's `silent_accept_plain` is set.
    video: Option<String>,
    image: Option<String>,
    #[serde(default)]
    auto_rotate: bool,
    #[serde(default)]
    check_quality: bool,
    #[serde(default)]
    return_image: bool,
    #[serde(default)]
    return_face_image: bool,
    #[serde(default)]
    return_status: bool,
    /// Extension: a server-issued challenge the video answers.
    challenge_id: Option<String>,
    /// Extension: the capture SDK's telemetry (an object).
    client_telemetry: Option<Value>,
}

/// An error answer: `code`, `message` (with what was wrong), `request_id`.
pub(crate) fn error(c: SilentCode, detail: Option<&str>, request_id: &str) -> Response {
    let message = match detail {
        Some(d) => format!("{}: {d}", c.message),
        None => c.message.to_owned(),
    };
    let mut resp = (
        c.status,
        Json(json!({"code": c.code, "message": message, "request_id": request_id})),
    )
        .into_response();
    resp.extensions_mut()
        .insert(Outcome::new(API, c.code.to_string()));
    resp
}

fn success(body: &SilentResponse) -> Response {
    let mut resp = (StatusCode::OK, Json(body)).into_response();
    resp.extensions_mut()
        .insert(Outcome::new(API, body.code.to_string()));
    resp
}

fn auth_code(e: AuthFailure) -> SilentCode {
    match e {
        AuthFailure::Refused => UNAUTHORIZED,
        AuthFailure::Backend(e) => {
            tracing::error!(error = %e, "api key lookup failed");
            INTERNAL
        }
    }
}

async fn authenticate(state: &Shared, headers: &HeaderMap) -> Result<TenantStore, SilentCode> {
    tenant_by_api_key(&state.store, headers)
        .await
        .map_err(auth_code)
}

/// The upload: a capture token of the silent flow, or the API key.
async fn authenticate_upload(state: &Shared, headers: &HeaderMap) -> Result<Uploader, SilentCode> {
    uploader_by_api_key(&state.store, headers, Api::Silent)
        .await
        .map_err(auth_code)
}

/// One media field: an envelope, or plain base64 when allowed. Errors carry the field's name.
fn media_field(
    name: &str,
    encrypted: Option<&str>,
    plain: Option<&str>,
    allow_plain: bool,
    key: Option<&[u8; 32]>,
    field: Field,
    max_bytes: u64,
) -> Result<Vec<u8>, (SilentCode, String)> {
    let envelope_max = max_bytes + (envelope::ENC_LEN + envelope::TAG_LEN) as u64;
    let decode = |text: &str, limit: u64| {
        faceproof_media::decode_base64(text, limit)
            .map_err(|e| (media_code(&e), format!("{name}: {e}")))
    };
    match (encrypted, plain) {
        (Some(_), Some(_)) => Err((
            INVALID_ARGUMENT,
            format!("send either encrypted_{name} or {name}, not both"),
        )),
        (Some(text), None) => {
            let bytes = decode(text, envelope_max)?;
            let key = key.ok_or((INTERNAL, "no key".to_owned()))?;
            envelope::open(key, field, &bytes, max_bytes)
                .map(|z| z.to_vec())
                .map_err(|e| match e {
                    EnvelopeError::TooLarge { .. } => {
                        (PAYLOAD_TOO_LARGE, format!("encrypted_{name}: {e}"))
                    }
                    _ => (INVALID_ARGUMENT, format!("encrypted_{name}: {e}")),
                })
        }
        (None, Some(_)) if !allow_plain => Err((
            INVALID_ARGUMENT,
            format!("plain {name} is not enabled for this tenant: send encrypted_{name}"),
        )),
        (None, Some(text)) => decode(text, max_bytes),
        (None, None) => Err((INVALID_ARGUMENT, format!("encrypted_{name} is required"))),
    }
}

fn judge_failure(e: &JudgeError) -> Option<SilentCode> {
    match e {
        // Too short is an answer, not an error (see `short_time`).
        JudgeError::Check(CheckError::Video(MediaError::TooShort { .. })) => None,
        JudgeError::Check(c) => Some(match c.media_error() {
            Some(m) if c.is_input_error() => media_code(m),
            _ => INTERNAL,
        }),
        JudgeError::Pool(RunError::Busy { .. } | RunError::WaitTooLong { .. }) => Some(BUSY),
        JudgeError::Pool(RunError::QueueTimeout { .. }) => Some(UNAVAILABLE),
        JudgeError::Pool(RunError::TaskFailed(_)) => Some(INTERNAL),
        JudgeError::Spend(SpendError::Token(_)) => Some(UNAUTHORIZED),
        JudgeError::Spend(SpendError::Challenge(_)) => Some(INVALID_ARGUMENT),
        JudgeError::Spend(SpendError::Backend(_)) => Some(INTERNAL),
    }
}

pub async fn video_compare(
    State(state): State<Shared>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let uploader = match authenticate_upload(&state, &headers).await {
        Ok(u) => u,
        Err(c) => return error(c, None, &rid),
    };
    let tenant = uploader.tenant.clone();
    // The seed lists 411: a body of unknown length is refused before it is read.
    if !headers.contains_key(header::CONTENT_LENGTH) {
        return error(LENGTH_REQUIRED, Some("Content-Length is required"), &rid);
    }
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let limit = state.cfg.silent_body_limit();
            return error(
                PAYLOAD_TOO_LARGE,
                Some(&format!("the body is over {limit} bytes")),
                &rid,
            );
        }
        Err(_) => return error(INVALID_ARGUMENT, Some("unreadable body"), &rid),
    };
    let req: CompareRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            // The parser's message names the line and column, never the content.
            let detail = format!("JSON: {e}");
            return error(INVALID_ARGUMENT, Some(&detail), &rid);
        }
    };
    drop(body);
    let settings = match tenant.settings().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "tenant settings");
            return error(INTERNAL, None, &rid);
        }
    };
    let needs_key = req.encrypted_video.is_some() || req.encrypted_image.is_some();
    let key_pair = if needs_key {
        match tenant.hpke_key_pair().await {
            Ok(k) => Some(k),
            Err(e) => {
                tracing::error!(error = %e, "tenant hpke key");
                return error(INTERNAL, None, &rid);
            }
        }
    } else {
        None
    };
    let key = key_pair.as_ref().map(|k| &*k.private_key);
    let cfg = &state.cfg;
    let allow = settings.silent_accept_plain;
    let video = match media_field(
        "video",
        req.encrypted_video.as_deref(),
        req.video.as_deref(),
        allow,
        key,
        Field::Video,
        cfg.max_video_bytes,
    ) {
        Ok(v) => v,
        Err((c, d)) => return error(c, Some(&d), &rid),
    };
    let image = match media_field(
        "image",
        req.encrypted_image.as_deref(),
        req.image.as_deref(),
        allow,
        key,
        Field::Image,
        cfg.max_image_bytes,
    ) {
        Ok(v) => v,
        Err((c, d)) => return error(c, Some(&d), &rid),
    };
    drop(key_pair);
    let telemetry = match req.client_telemetry.map(telemetry_from_value) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return error(INVALID_ARGUMENT, Some(&e.to_string()), &rid),
    };
    let named = UploadChallenge {
        field: req.challenge_id.as_deref().map(str::trim),
        ..UploadChallenge::default()
    };
    let evidence = match prepare(&uploader, named, telemetry).await {
        Ok(e) => e,
        Err(PrepareError::Invalid(d)) => {
            return error(INVALID_ARGUMENT, Some(&format!("challenge_id: {d}")), &rid);
        }
        Err(PrepareError::Backend(d)) => {
            tracing::error!(error = %d, "silent challenge lookup failed");
            return error(INTERNAL, None, &rid);
        }
    };

    let sw = Switches {
        check_quality: req.check_quality,
        return_image: req.return_image,
        return_face_image: req.return_face_image,
        return_status: req.return_status,
    };
    let job = VideoJob {
        video,
        id_photo: Some(image),
        id_auto_rotate: req.auto_rotate,
        encode_best_frame: sw.return_image || sw.return_face_image,
        evidence,
    };
    let outcome = match check_video(&state, job).await {
        Ok(verdict) => {
            let answer = from_verdict(&verdict, sw, &rid);
            Some((answer, Some(verdict)))
        }
        Err(e) => match judge_failure(&e) {
            None => Some((Ok(short_time(sw, &rid)), None)),
            Some(c) => {
                if c == INTERNAL || c == BUSY || c == UNAVAILABLE {
                    tracing::warn!(error = %e, "silent check not run");
                }
                return error(c, Some(&e.to_string()), &rid);
            }
        },
    };
    let Some((answer, verdict)) = outcome else {
        return error(INTERNAL, None, &rid);
    };
    state.metrics.record_verdict(
        API,
        match &answer {
            Ok(r) if r.passed => "passed",
            Ok(_) => "refused",
            Err(_) => "unusable",
        },
    );

    // Persist codes and scores only: the images in the answer are never stored.
    let (status, summary) = match &answer {
        Ok(r) => (
            SessionStatus::Complete,
            json!({"code": r.code, "passed": r.passed, "liveness_score": r.liveness_score,
                   "verification_score": r.verification_score, "request_id": rid}),
        ),
        Err(c) => (
            SessionStatus::Failed,
            json!({"code": c.code, "message": c.message, "request_id": rid}),
        ),
    };
    let result = json!({"response": summary, "verdict": verdict});
    let stored = async {
        let mut upload = tenant
            .begin_session(NewSession::new(Api::Silent, "video_compare"))
            .await?;
        crate::events::session_completed(&mut upload, Api::Silent, verdict.as_ref());
        upload.set_index(crate::console::index_of(verdict.as_ref()));
        upload.commit(status, Some(&result)).await
    }
    .await;
    if let Err(e) = stored {
        tracing::error!(error = %e, "silent result not stored");
        return error(INTERNAL, None, &rid);
    }
    match answer {
        Ok(body) => success(&body),
        Err(c) => error(c, None, &rid),
    }
}

/// `GET /v1/silent/public-key`: the tenant's HPKE public key and the suite.
pub async fn public_key(
    State(state): State<Shared>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
) -> Response {
    let tenant = match authenticate(&state, &headers).await {
        Ok(t) => t,
        Err(c) => return error(c, None, &rid),
    };
    match tenant.hpke_public_key().await {
        Ok(k) => {
            let (kem, kdf, aead) = envelope::SUITE;
            let mut resp = Json(json!({
                "key_id": k.key_id,
                "public_key": STANDARD.encode(k.public_key),
                "mode": "base",
                "kem": "DHKEM(X25519, HKDF-SHA256)",
                "kem_id": kem,
                "kdf": "HKDF-SHA256",
                "kdf_id": kdf,
                "aead": "ChaCha20-Poly1305",
                "aead_id": aead,
                "info": {
                    "encrypted_video": String::from_utf8_lossy(Field::Video.info()),
                    "encrypted_image": String::from_utf8_lossy(Field::Image.info()),
                },
                "aad": "",
                "format": "base64(enc || ciphertext)",
                "request_id": rid,
            }))
            .into_response();
            resp.extensions_mut().insert(Outcome::new(API, "1000"));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "tenant hpke public key");
            error(INTERNAL, None, &rid)
        }
    }
}
