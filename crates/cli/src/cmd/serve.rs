//! `faceproof serve`: the HTTP service on the embedded default (SQLite file and artefact
//! directory under `$FACEPROOF_HOME`, the model pack), with a demo tenant on first start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use faceproof_engine::check::Engine;
use faceproof_server::AppState;
use faceproof_store::{Store, TenantSettings};
use serde_json::json;

use crate::config::FileConfig;
use crate::output::Output;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default 127.0.0.1:8080, or the config file's `server.bind`).
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    /// `faceproof.toml`: `[server]`, `[store]`, `[engine]`, `[vision]`, `[limits]`, `[webhooks]`
    /// (all optional).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Do not create the demo tenant when the store has no tenant yet.
    #[arg(long)]
    pub no_demo: bool,
}

/// Name of the tenant created on first start.
const DEMO_TENANT: &str = "demo";

pub fn run(args: Args, out: &Output) -> ExitCode {
    let mut cfg = match FileConfig::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return out.error("invalid_config", &e),
    };
    if let Some(bind) = args.bind {
        cfg.server.bind = bind;
    }
    faceproof_server::log::init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return out.error("internal", &format!("cannot start the runtime: {e}")),
    };
    rt.block_on(serve(cfg, !args.no_demo, out))
}

async fn serve(cfg: FileConfig, demo: bool, out: &Output) -> ExitCode {
    let store = match Store::open(cfg.store).await {
        Ok(s) => s,
        Err(e) => return out.error("store_unavailable", &e.to_string()),
    };
    let engine = match Engine::load(cfg.engine, &cfg.vision, cfg.limits) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            return out.error(
                "models_unavailable",
                &format!("{e} (run `faceproof models fetch` first)"),
            );
        }
    };
    let demo_credentials = if demo {
        match ensure_demo_tenant(&store).await {
            Ok(c) => c,
            Err(e) => return out.error("store_unavailable", &e.to_string()),
        }
    } else {
        None
    };
    let listener = match tokio::net::TcpListener::bind(cfg.server.bind).await {
        Ok(l) => l,
        Err(e) => {
            return out.error(
                "bind_failed",
                &format!("cannot listen on {}: {e}", cfg.server.bind),
            );
        }
    };
    let addr = listener.local_addr().map_or(cfg.server.bind, |a| a);
    if let Err(e) = cfg.gallery.check() {
        return out.error("invalid_config", &e);
    }
    let state = AppState::with_gallery(engine, store.clone(), cfg.server, cfg.gallery);
    // The 1:N index is loaded before the first request, then kept fresh from the store.
    if let Err(e) = state.gallery.refresh(&store).await {
        return out.error("store_unavailable", &format!("gallery index: {e}"));
    }
    let gallery_refresh = state.gallery.spawn_refresh(store.clone());
    // Lockouts other replicas recorded (`[server.rate_limit] shared_lockouts`).
    let lockout_sync = faceproof_server::lockouts::spawn_lockout_sync(state.clone());
    // This replica's share of the request rates (`[server.rate_limit] shared_rates`).
    let rate_share = faceproof_server::replicas::spawn_rate_share(state.clone()).await;
    let retention = store.spawn_retention(store.config().purge_interval());
    let webhooks = match faceproof_server::webhooks::spawn(&state, cfg.webhooks) {
        Ok(w) => w,
        Err(e) => return out.error("internal", &e.to_string()),
    };
    // The demo secrets are printed once, on the start that created them (like the store's
    // `create_tenant`, nothing can show them again).
    out.json(&json!({"listening": format!("http://{addr}"), "demo_tenant": demo_credentials}));
    let served =
        faceproof_server::serve(state, listener, faceproof_server::shutdown_signal()).await;
    if let Some(w) = webhooks {
        // Claims it held are redelivered by any replica once their lease expires.
        w.abort();
    }
    retention.stop().await;
    gallery_refresh.abort();
    if let Some(l) = lockout_sync {
        l.abort();
    }
    if let Some(r) = rate_share {
        r.stop().await;
    }
    store.close().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => out.error("serve_failed", &e.to_string()),
    }
}

/// Creates the demo tenant when the store has no tenant at all; returns its secrets then.
async fn ensure_demo_tenant(store: &Store) -> faceproof_store::Result<Option<serde_json::Value>> {
    if !store.list_tenants().await?.is_empty() {
        return Ok(None);
    }
    // The demo accepts plain base64 on the silent API so it can be tried with curl.
    let settings = TenantSettings {
        silent_accept_plain: true,
        ..TenantSettings::default()
    };
    let c = store.create_tenant(DEMO_TENANT, settings).await?;
    Ok(Some(super::tenant::credentials_json(&c)))
}
