//! The FPT request: `api-key` (or `api_key`) header, multipart `video` and optional `cmnd`.
//! Extensions: an `x-capture-token` header instead of the key (a browser), multipart
//! `challenge_id` (a server-issued challenge) and `client_telemetry` (the SDK's JSON).

use std::collections::HashMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use faceproof_store::{Api, NewSession, SessionStatus};
use serde_json::json;

use super::refusal::FptRefusal;
use super::response::FptResponse;
use crate::analysis::{VideoJob, check_video};
use crate::auth::uploader_by_api_key;
use crate::capture::upload::{MAX_TELEMETRY_BYTES, telemetry_from_text};
use crate::capture::{UploadChallenge, prepare};
use crate::form::{FormError, SHORT_TEXT, read_form};
use crate::refused::{Input, Refused};
use crate::state::Shared;

use super::reply::{API, reply};

/// `?v2_format=1` (or `true`) asks for the flat v2 layout.
pub(crate) fn wants_v2(query: &HashMap<String, String>) -> bool {
    query
        .get("v2_format")
        .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

pub async fn liveness(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let v2 = wants_v2(&query);
    match judge(&state, &headers, multipart).await {
        Ok(body) => reply(StatusCode::OK, &body, v2),
        Err(refused) => FptRefusal { refused, v2 }.into_response(),
    }
}

/// The form's fields and the medium each carries.
fn form_input(field: &str) -> Option<Input> {
    match field {
        "video" => Some(Input::Video),
        "cmnd" => Some(Input::IdPhoto),
        _ => None,
    }
}

async fn judge(
    state: &Shared,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<FptResponse, Refused> {
    // Authenticate before reading the body: an unknown caller does not get us to buffer 15 MB.
    let uploader = uploader_by_api_key(&state.store, headers, Api::Fpt).await?;
    let multipart = multipart.map_err(|_| Refused::Missing { field: "video" })?;
    let uploads = state.uploads();
    let form = read_form(
        multipart,
        &[("video", uploads.video), ("cmnd", uploads.image)],
        &[
            ("challenge_id", SHORT_TEXT),
            ("client_telemetry", MAX_TELEMETRY_BYTES),
        ],
        uploads.fpt_body(),
    )
    .await
    .map_err(|e| match e {
        FormError::BadText { field } if field == "client_telemetry" => {
            Refused::Telemetry(format!("{field} is not a short text"))
        }
        FormError::BadText { field } if field == "challenge_id" => {
            Refused::Challenge(format!("{field} is not a short text"))
        }
        e => Refused::from_form(e, form_input),
    })?;
    let mut files = form.files;
    let video = files
        .remove("video")
        .ok_or(Refused::Missing { field: "video" })?;
    let id_photo = files.remove("cmnd");
    let with_document = id_photo.is_some();
    let telemetry = form
        .texts
        .get("client_telemetry")
        .map(|t| telemetry_from_text(t))
        .transpose()
        .map_err(|e| Refused::Telemetry(e.to_string()))?;
    let named = UploadChallenge {
        field: form.texts.get("challenge_id").map(|s| s.trim()),
        ..UploadChallenge::default()
    };
    let evidence = prepare(&uploader, named, telemetry).await?;
    let tenant = uploader.tenant;

    let job = VideoJob {
        video,
        id_photo,
        // FPT always honours the photo's EXIF orientation.
        id_auto_rotate: true,
        encode_best_frame: false,
        evidence,
    };
    let verdict = check_video(state, job).await?;
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
    let mut upload = tenant
        .begin_session(NewSession::new(Api::Fpt, "liveness"))
        .await?;
    crate::committed::annotate(&mut upload, Api::Fpt, &verdict);
    upload
        .commit(SessionStatus::Complete, Some(&result))
        .await?;
    Ok(body)
}
