//! What every handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use faceproof_engine::check::Engine;
use faceproof_store::Store;

use crate::body_budget::BodyBudget;
use crate::config::{ServerConfig, UploadLimits};
use crate::gallery::{GalleryConfig, Replica};
use crate::metrics::Metrics;
use crate::pool::CheckPool;
use crate::ratelimit::Limiter;

/// The engine, the store and the configuration, plus the service's own bookkeeping.
pub struct AppState {
    pub engine: Arc<Engine>,
    pub store: Store,
    pub cfg: ServerConfig,
    /// This replica's 1:N index (empty until [`Replica::refresh`]; see `docs/gallery.md`).
    pub gallery: Replica,
    pub(crate) checks: CheckPool,
    /// Request body bytes in flight, service-wide (`max_inflight_body_bytes`).
    pub(crate) bodies: BodyBudget,
    pub(crate) metrics: Metrics,
    /// Per-tenant and per-client rate limits and lockouts (`[server.rate_limit]`).
    pub(crate) limiter: Limiter,
    /// Cleared when shutdown starts, so `/readyz` takes the instance out of rotation first.
    pub(crate) accepting: AtomicBool,
}

/// The handle handlers receive.
pub type Shared = Arc<AppState>;

impl AppState {
    pub fn new(engine: Arc<Engine>, store: Store, cfg: ServerConfig) -> Shared {
        AppState::with_gallery(engine, store, cfg, GalleryConfig::default())
    }

    /// [`AppState::new`] with the `[gallery]` settings.
    pub fn with_gallery(
        engine: Arc<Engine>,
        store: Store,
        cfg: ServerConfig,
        gallery: GalleryConfig,
    ) -> Shared {
        let gallery = Replica::new(gallery, engine.vision().embedder().kind().name());
        let checks = CheckPool::new(
            cfg.max_concurrent_checks,
            cfg.max_queued_checks,
            cfg.queue_timeout(),
        )
        .with_max_wait(cfg.max_queue_wait());
        let bodies = BodyBudget::new(cfg.max_inflight_body_bytes);
        let limiter = Limiter::new(cfg.rate_limit.clone());
        Arc::new(AppState {
            engine,
            store,
            cfg,
            gallery,
            checks,
            bodies,
            metrics: Metrics::default(),
            limiter,
            accepting: AtomicBool::new(true),
        })
    }

    /// Upload and body limits: the engine's media limits plus the API framing.
    pub fn uploads(&self) -> UploadLimits {
        UploadLimits::new(self.engine.limits(), &self.cfg)
    }

    /// Marks the instance as draining (`/readyz` answers 503 from now on).
    pub fn begin_shutdown(&self) {
        self.accepting.store(false, Ordering::SeqCst);
    }

    pub(crate) fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }
}
