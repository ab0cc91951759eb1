//! faceproof's HTTP service: three vendor-compatible APIs over one engine.
//!
//! - FPT.AI Liveness v3 ([`fpt`]): `POST /vision/ekyc/liveness`.
//! - Silent video + photo compare ([`silent`]): `POST /v1/silent/video-compare`, HPKE envelopes.
//! - ADVANCE.AI Liveness v3 ([`advance`]): token, capture session, detection result, signed URLs.
//! - Browser capture ([`capture`]): capture tokens, server-issued challenges, the capture context;
//!   the web SDK and its demo ([`static_files`]).
//! - The operator console ([`console`]): `/console/` and its JSON API under `/console/api/`.
//!
//! Adapters only translate the engine's [`faceproof_engine::check::Verdict`] (or its typed
//! refusal) into each vendor's JSON; they never compute a score. See `docs/api.md`.

pub mod advance;
pub mod analysis;
pub mod auth;
pub mod body_budget;
pub mod capture;
pub mod committed;
pub mod config;
pub mod console;
pub mod cors;
pub mod events;
#[doc(hidden)]
pub mod fixtures;
pub mod form;
pub mod fpt;
pub mod gallery;
pub mod gate;
mod health;
mod listen;
pub mod lockouts;
pub mod log;
pub mod metrics;
mod metrics_route;
pub mod openapi;
pub mod pool;
pub mod ratelimit;
pub mod refused;
pub mod replicas;
pub mod request_id;
mod shutdown;
pub mod silent;
pub mod state;
pub mod static_files;
#[cfg(test)]
mod testutil;
pub mod webhooks;

use std::convert::Infallible;
use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{MethodRouter, delete, get, post};

use gate::Gate;

pub use config::ServerConfig;
pub use shutdown::shutdown_signal;
pub use state::{AppState, Shared};

/// One route: its method and path (axum syntax) and the handler with its own layers.
pub struct Route {
    pub method: Method,
    pub path: String,
    pub handler: MethodRouter<Shared>,
}

fn route(method: Method, path: impl Into<String>, handler: MethodRouter<Shared>) -> Route {
    Route {
        method,
        path: path.into(),
        handler,
    }
}

/// Every route the service answers, in one list: [`router`] registers exactly these, and the
/// OpenAPI test checks each is described in `/openapi.json` (and nothing else is). Uploads are
/// gated (credentials from the headers and body budget before any body byte is read) and carry
/// their own body limit.
pub fn routes(state: &Shared) -> Vec<Route> {
    let uploads = state.uploads();
    let gated = |g: Gate| from_fn_with_state((state.clone(), g), gate::guard);
    let cors = || from_fn(cors::middleware);
    let json_limit = || DefaultBodyLimit::max(gate::CAPTURE_JSON_LIMIT);
    vec![
        // FPT.AI Liveness v3
        route(
            Method::POST,
            "/vision/ekyc/liveness",
            post(fpt::liveness)
                .layer::<_, Infallible>(gated(Gate::Fpt))
                .layer::<_, Infallible>(DefaultBodyLimit::max(uploads.fpt_body()))
                .layer::<_, Infallible>(cors()),
        ),
        // Silent compare
        route(
            Method::POST,
            "/v1/silent/video-compare",
            post(silent::video_compare)
                .layer::<_, Infallible>(gated(Gate::Silent))
                .layer::<_, Infallible>(DefaultBodyLimit::max(uploads.silent_body()))
                .layer::<_, Infallible>(cors()),
        ),
        route(
            Method::GET,
            "/v1/silent/public-key",
            get(silent::public_key),
        ),
        route(
            Method::GET,
            "/v1/silent/thresholds",
            get(silent::thresholds),
        ),
        // ADVANCE.AI Liveness v3
        route(
            Method::POST,
            "/openapi/liveness/v3/capture",
            post(advance::capture)
                .layer::<_, Infallible>(gated(Gate::AdvanceUpload))
                .layer::<_, Infallible>(DefaultBodyLimit::max(uploads.capture_body()))
                .layer::<_, Infallible>(cors()),
        ),
        route(
            Method::POST,
            "/openapi/auth/ticket/v1/generate-token",
            post(advance::generate_token).layer::<_, Infallible>(gated(Gate::AdvanceOpen)),
        ),
        route(
            Method::POST,
            "/openapi/liveness/v3/signature-id",
            post(advance::signature_id).layer::<_, Infallible>(gated(Gate::AdvanceToken)),
        ),
        route(
            Method::POST,
            "/openapi/liveness/v3/detection-result",
            post(advance::detection_result).layer::<_, Infallible>(gated(Gate::AdvanceToken)),
        ),
        route(
            Method::POST,
            "/{region}/openapi/face-identity/v1/liveness-detection",
            post(advance::detection_result).layer::<_, Infallible>(gated(Gate::AdvanceToken)),
        ),
        route(
            Method::GET,
            format!("{}{{*key}}", advance::FILES_PREFIX),
            get(advance::file),
        ),
        // Browser capture
        route(
            Method::POST,
            "/v1/capture-tokens",
            post(capture::create_capture_token)
                .layer::<_, Infallible>(gated(Gate::Tenant))
                .layer::<_, Infallible>(json_limit()),
        ),
        route(
            Method::POST,
            "/v1/challenges",
            post(capture::create_challenge)
                .layer::<_, Infallible>(gated(Gate::Tenant))
                .layer::<_, Infallible>(json_limit()),
        ),
        route(
            Method::GET,
            "/v1/capture/context",
            get(capture::context)
                .layer::<_, Infallible>(cors())
                .layer::<_, Infallible>(json_limit()),
        ),
        // 1:N gallery (docs/gallery.md)
        route(
            Method::POST,
            "/v1/gallery/blocklist",
            post(gallery::routes::block)
                .layer::<_, Infallible>(gated(Gate::Tenant))
                .layer::<_, Infallible>(json_limit()),
        ),
        route(
            Method::DELETE,
            "/v1/gallery/blocklist/{entry_id}",
            delete(gallery::routes::unblock),
        ),
        route(
            Method::DELETE,
            "/v1/gallery/{external_ref}",
            delete(gallery::routes::delete_ref),
        ),
        route(
            Method::GET,
            "/sdk/{*path}",
            get(static_files::sdk).layer::<_, Infallible>(cors()),
        ),
        route(Method::GET, "/demo", get(static_files::demo_redirect)),
        route(Method::GET, "/demo/", get(static_files::demo_index)),
        route(Method::GET, "/demo/{*path}", get(static_files::demo)),
        // Operations
        route(Method::GET, "/healthz", get(health::healthz)),
        route(Method::GET, "/readyz", get(health::readyz)),
        route(Method::GET, "/metrics", get(metrics_route::handler)),
        route(Method::GET, "/openapi.json", get(openapi::document)),
        route(Method::GET, "/docs", get(static_files::docs)),
        route(Method::GET, "/docs/{*path}", get(static_files::docs_file)),
    ]
}

/// Every route of [`routes`] and the operator console's (its own cookie-authenticated API under
/// `/console/`, not part of the vendor description), with the request-id, metrics and timeout
/// layers.
pub fn router(state: Shared) -> Router {
    let mut app = Router::new();
    for r in routes(&state) {
        app = app.route(&r.path, r.handler);
    }
    app.merge(console::router(&state))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics_route::middleware,
        ))
        .layer(axum::middleware::from_fn(request_id::middleware))
        .with_state(state)
}

/// Answers 408 when a request (its body upload included) outlives `request_timeout_secs`.
async fn request_timeout(
    axum::extract::State(state): axum::extract::State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = state.cfg.request_timeout();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            axum::Json(serde_json::json!({
                "code": "REQUEST_TIMEOUT",
                "message": format!("the request took longer than {} s", limit.as_secs()),
            })),
        )
            .into_response(),
    }
}

/// Unknown routes: 404 with a JSON body (and the request id, like every answer).
async fn not_found() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"code": "NOT_FOUND", "message": "no such endpoint"})),
    )
        .into_response()
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (bounded by
/// `shutdown_grace_secs`). Connections are capped and slow headers or stalled bodies are cut
/// (`max_connections`, `header_read_timeout_secs`, `idle_timeout_secs`; see `listen.rs`).
pub async fn serve(
    state: Shared,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = std::time::Duration::from_secs(state.cfg.shutdown_grace_secs);
    let app = router(state.clone());
    let draining = state.clone();
    let delay = std::time::Duration::from_secs(state.cfg.drain_delay_secs);
    let signal = async move {
        shutdown.await;
        draining.begin_shutdown();
        tracing::info!(
            drain_delay_secs = delay.as_secs(),
            "shutdown signal: out of rotation, draining in-flight requests"
        );
        // Still accepting: the load balancer sees `/readyz` fail before connections are refused.
        tokio::time::sleep(delay).await;
    };
    listen::accept_loop(app, listener, &state.cfg, grace, signal).await
}
