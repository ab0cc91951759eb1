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
use faceproof_store::{Api, NewSession, SessionStatus};
use serde::Deserialize;
use serde_json::Value;
use serde_json::json;

use super::envelope;
use super::media;
use super::refusal::SilentRefusal;
use super::reply::{error, success};
use super::response::{Switches, from_verdict};
use crate::analysis::{VideoJob, check_video};
use crate::auth::{tenant_by_api_key, uploader_by_api_key};
use crate::capture::upload::telemetry_from_value;
use crate::capture::{UploadChallenge, prepare};
use crate::metrics::Outcome;
use crate::refused::Refused;
use crate::request_id::RequestId;
use crate::state::Shared;

use super::reply::API;

/// The silent compare request: the seed's fields, and our extensions.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = crate::openapi::examples::silent_request)]
pub(crate) struct CompareRequest {
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
    #[schema(value_type = Option<Object>)]
    client_telemetry: Option<Value>,
}

pub async fn video_compare(
    State(state): State<Shared>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match judge(&state, &rid, &headers, body).await {
        Ok(answer) => answer,
        Err(refused) => SilentRefusal {
            refused,
            request_id: rid,
        }
        .into_response(),
    }
}

async fn judge(
    state: &Shared,
    rid: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refused> {
    let uploader = uploader_by_api_key(&state.store, headers, Api::Silent).await?;
    let tenant = uploader.tenant.clone();
    // The seed lists 411: a body of unknown length is refused before it is read.
    if !headers.contains_key(header::CONTENT_LENGTH) {
        return Err(Refused::LengthRequired);
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refused::TooLarge {
                input: None,
                limit: state.uploads().silent_body() as u64,
            }
        } else {
            Refused::Malformed("unreadable body".into())
        }
    })?;
    // The parser's message names the line and column, never the content.
    let req: CompareRequest =
        serde_json::from_slice(&body).map_err(|e| Refused::Malformed(format!("JSON: {e}")))?;
    drop(body);
    let settings = tenant.settings().await?;
    let needs_key = req.encrypted_video.is_some() || req.encrypted_image.is_some();
    let key_pair = if needs_key {
        Some(tenant.hpke_key_pair().await?)
    } else {
        None
    };
    let uploads = state.uploads();
    let fields = media::Fields {
        encrypted_video: req.encrypted_video.as_deref(),
        encrypted_image: req.encrypted_image.as_deref(),
        video: req.video.as_deref(),
        image: req.image.as_deref(),
    };
    let media = media::open(
        &fields,
        settings.silent_accept_plain,
        key_pair.as_ref().map(|k| &*k.private_key),
        uploads.video,
        uploads.image,
        state.store.clock().now_ms(),
        state.cfg.silent_envelope_window_secs,
    )?;
    drop(key_pair);
    let telemetry = req
        .client_telemetry
        .map(telemetry_from_value)
        .transpose()
        .map_err(|e| Refused::Telemetry(e.to_string()))?;
    let named = UploadChallenge {
        field: req.challenge_id.as_deref().map(str::trim),
        ..UploadChallenge::default()
    };
    let evidence =
        prepare(&uploader, named, telemetry)
            .await
            .map_err(|e| match Refused::from(e) {
                Refused::Challenge(d) => Refused::Challenge(format!("challenge_id: {d}")),
                other => other,
            })?;

    let sw = Switches {
        check_quality: req.check_quality,
        return_image: req.return_image,
        return_face_image: req.return_face_image,
        return_status: req.return_status,
    };
    // Last step before the engine: a sealed pair is judged once.
    media::first_use(&tenant, &media).await?;
    let job = VideoJob {
        video: media.video,
        id_photo: Some(media.image),
        id_auto_rotate: req.auto_rotate,
        encode_best_frame: sw.return_image || sw.return_face_image,
        evidence,
    };
    let verdict = check_video(state, job).await?;
    let answer = from_verdict(&verdict, sw, rid);
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
    let mut upload = tenant
        .begin_session(NewSession::new(Api::Silent, "video_compare"))
        .await?;
    crate::committed::annotate(&mut upload, Api::Silent, &verdict);
    upload.commit(status, Some(&result)).await?;
    Ok(match answer {
        Ok(body) => success(&body),
        Err(c) => error(c, None, rid),
    })
}

/// `GET /v1/silent/public-key`: the tenant's HPKE public key and the suite.
pub async fn public_key(
    State(state): State<Shared>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
) -> Response {
    let tenant = match tenant_by_api_key(&state.store, &headers).await {
        Ok(t) => t,
        Err(e) => {
            return SilentRefusal {
                refused: e.into(),
                request_id: rid,
            }
            .into_response();
        }
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
                "info": String::from_utf8_lossy(envelope::INFO),
                "aad": "0x02 || sealed_at (Unix ms, u64 big-endian): 9 bytes, the start of encrypted_video",
                "format": {
                    "version": envelope::VERSION,
                    "encrypted_video": "base64(aad || enc || seal_0(video))",
                    "encrypted_image": "base64(seal_1(image)), the same HPKE context's second message",
                },
                "window_secs": state.cfg.silent_envelope_window_secs,
                "request_id": rid,
            }))
            .into_response();
            resp.extensions_mut().insert(Outcome::new(API, "1000"));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "tenant hpke public key");
            error(super::codes::INTERNAL, None, &rid)
        }
    }
}
