//! faceproof's HTTP service: three vendor-compatible APIs over one engine.
//!
//! - FPT.AI Liveness v3 ([`fpt`]): `POST /vision/ekyc/liveness`.
//! - Silent video + photo compare ([`silent`]): `POST /v1/silent/video-compare`, HPKE envelopes.
//! - ADVANCE.AI Liveness v3 ([`advance`]): token, capture session, detection result, signed URLs.
//! - Browser capture ([`capture`]): capture tokens, server-issued challenges, the capture context;
//!   the web SDK and its demo ([`static_files`]).
//!
//! Adapters only translate the engine's [`faceproof_engine::check::Verdict`] (or its typed
//! refusal) into each vendor's JSON; they never compute a score. See `docs/api.md`.

pub mod advance;
pub mod analysis;
pub mod auth;
pub mod capture;
pub mod config;
pub mod cors;
#[doc(hidden)]
pub mod fixtures;
pub mod form;
pub mod fpt;
pub mod gate;
mod health;
mod listen;
pub mod log;
pub mod metrics;
pub mod openapi;
pub mod pool;
pub mod refused;
pub mod request_id;
mod shutdown;
pub mod silent;
pub mod state;
pub mod static_files;
#[cfg(test)]
mod testutil;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};

use gate::Gate;

pub use config::ServerConfig;
pub use shutdown::shutdown_signal;
pub use state::{AppState, Shared};

/// Every route, with its body limit, the request-id and metrics layers.
pub fn router(state: Shared) -> Router {
    let cfg = &state.cfg;
    // Authenticate from the headers and reserve body budget before any body byte is read.
    let gated = |g: Gate| from_fn_with_state((state.clone(), g), gate::guard);
    let fpt = Router::new()
        .route(
            "/vision/ekyc/liveness",
            post(fpt::liveness)
                .layer(gated(Gate::Fpt))
                .layer(from_fn(cors::middleware)),
        )
        .layer(DefaultBodyLimit::max(cfg.fpt_body_limit()));
    let silent = Router::new()
        .route(
            "/v1/silent/video-compare",
            post(silent::video_compare)
                .layer(gated(Gate::Silent))
                .layer(from_fn(cors::middleware)),
        )
        .layer(DefaultBodyLimit::max(cfg.silent_body_limit()))
        .route("/v1/silent/public-key", get(silent::public_key))
        .route("/v1/silent/thresholds", get(silent::thresholds));
    let advance = Router::new()
        .route(
            "/openapi/liveness/v3/capture",
            post(advance::capture)
                .layer::<_, std::convert::Infallible>(gated(Gate::AdvanceUpload))
                .layer(DefaultBodyLimit::max(cfg.capture_body_limit()))
                .layer(from_fn(cors::middleware)),
        )
        .route(
            "/openapi/auth/ticket/v1/generate-token",
            post(advance::generate_token).layer(gated(Gate::AdvanceOpen)),
        )
        .route(
            "/openapi/liveness/v3/signature-id",
            post(advance::signature_id).layer(gated(Gate::AdvanceToken)),
        )
        .route(
            "/openapi/liveness/v3/detection-result",
            post(advance::detection_result).layer(gated(Gate::AdvanceToken)),
        )
        .route(
            "/{region}/openapi/face-identity/v1/liveness-detection",
            post(advance::detection_result).layer(gated(Gate::AdvanceToken)),
        )
        .route(
            &format!("{}{{*key}}", advance::FILES_PREFIX),
            get(advance::file),
        );
    let capture = Router::new()
        .route(
            "/v1/capture-tokens",
            post(capture::create_capture_token).layer(gated(Gate::Tenant)),
        )
        .route(
            "/v1/challenges",
            post(capture::create_challenge).layer(gated(Gate::Tenant)),
        )
        .route(
            "/v1/capture/context",
            get(capture::context).layer(from_fn(cors::middleware)),
        )
        .layer(DefaultBodyLimit::max(gate::CAPTURE_JSON_LIMIT));
    let web = Router::new()
        .route(
            "/sdk/{*path}",
            get(static_files::sdk).layer(from_fn(cors::middleware)),
        )
        .route("/demo", get(static_files::demo_redirect))
        .route("/demo/", get(static_files::demo_index))
        .route("/demo/{*path}", get(static_files::demo));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::handler))
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::page))
        .merge(fpt)
        .merge(silent)
        .merge(advance)
        .merge(capture)
        .merge(web)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::middleware,
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
