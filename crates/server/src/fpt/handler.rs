//! The FPT request: `api-key` (or `api_key`) header, multipart `video` and optional `cmnd`.
//! Extensions: an `x-capture-token` header instead of the key (a browser), multipart
//! `challenge_id` (a server-issued challenge) and `client_telemetry` (the SDK's JSON).

use std::collections::HashMap;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use faceproof_engine::check::CheckError;
use faceproof_store::{Api, NewSession, SessionStatus};
use serde_json::json;

use super::codes::{
    BUSY, INTERNAL, INVALID_CHALLENGE, INVALID_IMAGE, INVALID_TELEMETRY, INVALID_VIDEO, NO_VIDEO,
    UNAUTHORIZED, UNAVAILABLE,
};
use super::response::FptResponse;
use super::v2::FptV2Response;
use crate::auth::{AuthFailure, uploader_by_api_key};
use crate::capture::upload::{MAX_TELEMETRY_BYTES, telemetry_from_text};
use crate::capture::{PrepareError, SpendError, UploadChallenge, prepare};
use crate::checks::RunError;
use crate::form::{FormError, SHORT_TEXT, read_form};
use crate::judge::{JudgeError, VideoJob, check_video};
use crate::metrics::Outcome;
use crate::state::Shared;

const API: &str = "fpt";

pub(crate) fn reply(status: StatusCode, body: &FptResponse, v2: bool) -> Response {
    let mut resp = if v2 {
        (status, Json(FptV2Response::from(body))).into_response()
    } else {
        (status, Json(body)).into_response()
    };
    resp.extensions_mut()
        .insert(Outcome::new(API, body.code.clone()));
    resp
}

/// A failure answer in FPT's shape (`?v2_format=1` honoured); used by the body gate too.
pub(crate) fn refuse(cm: (&str, &str), v2: bool) -> Response {
    reply(failure_status(cm.0), &FptResponse::failure(cm), v2)
}

/// HTTP status of a failure: the body's code says what happened, the status says whose fault.
fn failure_status(code: &str) -> StatusCode {
    match code {
        "401" => StatusCode::UNAUTHORIZED,
        "429" => StatusCode::TOO_MANY_REQUESTS,
        "503" => StatusCode::SERVICE_UNAVAILABLE,
        "500" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn judge_failure(e: &JudgeError) -> (&'static str, &'static str) {
    match e {
        JudgeError::Check(c) if c.is_input_error() => match c {
            CheckError::IdPhoto(_) => INVALID_IMAGE,
            CheckError::Video(faceproof_media::MediaError::TooShort { .. }) => {
                ("409", "Video is too short")
            }
            _ => INVALID_VIDEO,
        },
        JudgeError::Check(_) => INTERNAL,
        JudgeError::Pool(RunError::Busy { .. } | RunError::WaitTooLong { .. }) => BUSY,
        JudgeError::Pool(RunError::QueueTimeout { .. }) => UNAVAILABLE,
        JudgeError::Pool(RunError::TaskFailed(_)) => INTERNAL,
        JudgeError::Spend(SpendError::Token(_)) => UNAUTHORIZED,
        JudgeError::Spend(SpendError::Challenge(_)) => INVALID_CHALLENGE,
        JudgeError::Spend(SpendError::Backend(_)) => INTERNAL,
    }
}

pub async fn liveness(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let v2 = query
        .get("v2_format")
        .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    let fail = |cm: (&str, &str)| reply(failure_status(cm.0), &FptResponse::failure(cm), v2);

    // Authenticate before reading the body: an unknown caller does not get us to buffer 15 MB.
    let uploader = match uploader_by_api_key(&state.store, &headers, Api::Fpt).await {
        Ok(t) => t,
        Err(AuthFailure::Backend(e)) => {
            tracing::error!(error = %e, "api key lookup failed");
            return fail(INTERNAL);
        }
        Err(AuthFailure::Refused) => return fail(UNAUTHORIZED),
    };

    let Ok(multipart) = multipart else {
        return fail(NO_VIDEO);
    };
    let cfg = &state.cfg;
    let limit = cfg.fpt_body_limit();
    let form = match read_form(
        multipart,
        &[
            ("video", cfg.max_video_bytes),
            ("cmnd", cfg.max_image_bytes),
        ],
        &[
            ("challenge_id", SHORT_TEXT),
            ("client_telemetry", MAX_TELEMETRY_BYTES),
        ],
        limit,
    )
    .await
    {
        Ok(f) => f,
        Err(FormError::BadText { field }) if field == "client_telemetry" => {
            return fail(INVALID_TELEMETRY);
        }
        Err(FormError::BadText { field }) if field == "challenge_id" => {
            return fail(INVALID_CHALLENGE);
        }
        Err(e @ (FormError::BodyTooLarge { .. } | FormError::FieldTooLarge { .. })) => {
            let cm = match &e {
                FormError::FieldTooLarge { field, .. } if field == "cmnd" => INVALID_IMAGE,
                _ => INVALID_VIDEO,
            };
            return reply(StatusCode::PAYLOAD_TOO_LARGE, &FptResponse::failure(cm), v2);
        }
        Err(_) => return fail(INVALID_VIDEO),
    };
    let mut files = form.files;
    let Some(video) = files.remove("video") else {
        return fail(NO_VIDEO);
    };
    let id_photo = files.remove("cmnd");
    let with_document = id_photo.is_some();
    let telemetry = match form
        .texts
        .get("client_telemetry")
        .map(|t| telemetry_from_text(t))
    {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            tracing::debug!(error = %e, "fpt telemetry refused");
            return fail(INVALID_TELEMETRY);
        }
    };
    let named = UploadChallenge {
        field: form.texts.get("challenge_id").map(|s| s.trim()),
        ..UploadChallenge::default()
    };
    let evidence = match prepare(&uploader, named, telemetry).await {
        Ok(e) => e,
        Err(PrepareError::Invalid(e)) => {
            tracing::debug!(error = %e, "fpt challenge refused");
            return fail(INVALID_CHALLENGE);
        }
        Err(PrepareError::Backend(e)) => {
            tracing::error!(error = %e, "fpt challenge lookup failed");
            return fail(INTERNAL);
        }
    };
    let tenant = uploader.tenant;

    let job = VideoJob {
        video,
        id_photo,
        // FPT always honours the photo's EXIF orientation.
        id_auto_rotate: true,
        encode_best_frame: false,
        evidence,
    };
    let verdict = match check_video(&state, job).await {
        Ok(v) => v,
        Err(e) => {
            if !matches!(&e, JudgeError::Check(c) if c.is_input_error()) {
                tracing::error!(error = %e, "fpt check failed");
            }
            return fail(judge_failure(&e));
        }
    };
    let body = FptResponse::from_verdict(&verdict, with_document);
    state.metrics.record_verdict(
        API,
        if body.is_success() {
            "passed"
        } else {
            "refused"
        },
    );

    // Persist the outcome (codes and scores only; the media is not kept for this API).
    let result = json!({"response": &body, "verdict": &verdict});
    let stored = async {
        let mut upload = tenant
            .begin_session(NewSession::new(Api::Fpt, "liveness"))
            .await?;
        crate::events::session_completed(&mut upload, Api::Fpt, Some(&verdict));
        upload.set_index(crate::console::index_of(Some(&verdict)));
        upload.commit(SessionStatus::Complete, Some(&result)).await
    }
    .await;
    if let Err(e) = stored {
        tracing::error!(error = %e, "fpt result not stored");
        return fail(INTERNAL);
    }
    reply(StatusCode::OK, &body, v2)
}
