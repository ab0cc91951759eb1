//! What every handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use faceproof_engine::check::Engine;
use faceproof_store::Store;

use crate::config::ServerConfig;
use crate::gate::BodyBudget;
use crate::metrics::Metrics;
use crate::pool::CheckPool;

/// The engine, the store and the configuration, plus the service's own bookkeeping.
pub struct AppState {
    pub engine: Arc<Engine>,
    pub store: Store,
    pub cfg: ServerConfig,
    pub(crate) checks: CheckPool,
    /// Request body bytes in flight, service-wide (`max_inflight_body_bytes`).
    pub(crate) bodies: BodyBudget,
    pub(crate) metrics: Metrics,
    /// Cleared when shutdown starts, so `/readyz` takes the instance out of rotation first.
    pub(crate) accepting: AtomicBool,
}

/// The handle handlers receive.
pub type Shared = Arc<AppState>;

impl AppState {
    pub fn new(engine: Arc<Engine>, store: Store, cfg: ServerConfig) -> Shared {
        let checks = CheckPool::new(
            cfg.max_concurrent_checks,
            cfg.max_queued_checks,
            cfg.queue_timeout(),
        )
        .with_max_wait(cfg.max_queue_wait());
        let bodies = BodyBudget::new(cfg.max_inflight_body_bytes);
        Arc::new(AppState {
            engine,
            store,
            cfg,
            checks,
            bodies,
            metrics: Metrics::default(),
            accepting: AtomicBool::new(true),
        })
    }

    /// Marks the instance as draining (`/readyz` answers 503 from now on).
    pub fn begin_shutdown(&self) {
        self.accepting.store(false, Ordering::SeqCst);
    }

    pub(crate) fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }
}
