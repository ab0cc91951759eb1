//! The operator console: a browser app at `/console/` (built from `console/` into
//! `<[server.console] dir>/dist/`) and its JSON API under `/console/api/`.
//!
//! - `POST /console/api/login`, `POST /console/api/logout`, `GET /console/api/me`,
//!   `POST /console/api/password` ([`auth`]);
//! - `GET /console/api/sessions` (filters, keyset pages), `GET /console/api/sessions/{id}`
//!   (audited), `GET /console/api/sessions/{id}/artefacts/{name}` (decrypted, `no-store`,
//!   audited), `POST /console/api/sessions/{id}/review`, `POST /console/api/sessions/{id}/blocklist`
//!   ([`sessions`]);
//! - `GET /console/api/dashboard`, `GET /console/api/audit`, `GET /console/api/audit/verify`
//!   ([`dashboard`]).
//!
//! Every answer is `no-store`; an operator only ever holds a [`faceproof_store::TenantStore`] of
//! its own tenant, so every query is confined to it. See `docs/console.md`.

pub mod auth;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod index;
pub mod reasons;
pub mod sessions;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub use config::ConsoleConfig;
pub use index::index_of;

use crate::state::Shared;

/// Largest console API request body (logins, reviews).
const BODY_LIMIT: usize = 64 * 1024;

/// The console's routes (empty when `[server.console] enabled = false`).
pub fn router(state: &Shared) -> Router<Shared> {
    if !state.cfg.console.enabled {
        return Router::new();
    }
    let api = Router::new()
        .route("/console/api/login", post(auth::login))
        .route("/console/api/logout", post(auth::logout))
        .route("/console/api/me", get(auth::me))
        .route("/console/api/password", post(auth::password))
        .route("/console/api/sessions", get(sessions::list))
        .route("/console/api/sessions/{id}", get(sessions::detail))
        .route(
            "/console/api/sessions/{id}/artefacts/{name}",
            get(sessions::artefact),
        )
        .route("/console/api/sessions/{id}/review", post(sessions::review))
        .route(
            "/console/api/sessions/{id}/blocklist",
            post(sessions::blocklist),
        )
        .route("/console/api/dashboard", get(dashboard::dashboard))
        .route("/console/api/audit", get(dashboard::audit))
        .route("/console/api/audit/verify", get(dashboard::verify))
        .route(
            "/console/api/{*rest}",
            get(api_not_found).post(api_not_found),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(index))
        .route("/console/{*path}", get(file))
        .merge(api)
}

async fn api_not_found() -> Response {
    error::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such console endpoint",
    )
    .into_response()
}

/// The app's files are served with a strict content policy: only its own scripts, styles,
/// images and media; no framing.
fn harden(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
             media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

fn root(state: &Shared) -> std::path::PathBuf {
    state.cfg.console.dir.join("dist")
}

async fn index(State(state): State<Shared>, headers: HeaderMap) -> Response {
    harden(crate::static_files::serve_file(&root(&state), "", &headers).await)
}

async fn file(
    State(state): State<Shared>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    harden(crate::static_files::serve_file(&root(&state), &path, &headers).await)
}
