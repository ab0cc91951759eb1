//! `GET /v1/files/{object_key}?expires=&signature=`: signed artefact URLs. Forged or malformed:
//! 403; valid but past its time: 410; purged: 404.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use faceproof_store::{SignedUrl, StoreError};

use crate::metrics::Outcome;
use crate::state::Shared;

/// Browsers must take the declared type as it is: an uploaded "image" that is really HTML or
/// script is never rendered as such from our origin.
fn no_sniff(r: &mut Response) {
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
}

fn status_reply(status: StatusCode, text: &'static str) -> Response {
    let mut r = (status, text).into_response();
    no_sniff(&mut r);
    r.extensions_mut()
        .insert(Outcome::new("files", status.as_u16().to_string()));
    r
}

pub async fn file(
    State(state): State<Shared>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (Some(expires), Some(signature)) = (q.get("expires"), q.get("signature")) else {
        return status_reply(StatusCode::FORBIDDEN, "signature required");
    };
    let opened = match SignedUrl::from_request(&key, expires, signature) {
        Ok(url) => state.store.open_signed_url(&url).await,
        Err(e) => Err(e),
    };
    match opened {
        Ok((artefact, bytes)) => {
            let mut r = Response::new(Body::from(bytes));
            let h = r.headers_mut();
            // The type recorded at write time; one that is not a valid header value is served
            // as opaque bytes rather than left for the browser to guess.
            let ct = artefact
                .content_type
                .parse()
                .unwrap_or_else(|_| header::HeaderValue::from_static("application/octet-stream"));
            h.insert(header::CONTENT_TYPE, ct);
            // Faces: never in a shared cache.
            h.insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("private, no-store"),
            );
            no_sniff(&mut r);
            r.extensions_mut().insert(Outcome::new("files", "200"));
            r
        }
        Err(StoreError::Forbidden { .. }) => status_reply(StatusCode::FORBIDDEN, "forbidden"),
        Err(StoreError::Expired { .. }) => status_reply(StatusCode::GONE, "expired"),
        Err(StoreError::NotFound { .. }) => status_reply(StatusCode::NOT_FOUND, "not found"),
        Err(e) => {
            tracing::error!(error = %e, "signed file read failed");
            status_reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}
