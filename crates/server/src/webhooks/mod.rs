//! Webhooks: the `[webhooks]` settings, the target guard (SSRF) and the delivery worker. Events
//! are written by the store into its outbox ([`faceproof_store::Store::enqueue_event`], or in a
//! session's commit through [`crate::events`]); `docs/webhooks.md` is the integrator's side.

pub mod config;
pub mod target;
pub mod worker;

pub use config::WebhookConfig;
pub use worker::{
    ATTEMPT_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, WebhookCounters, Worker,
    WorkerError,
};

use crate::state::Shared;

/// Starts this replica's delivery worker (unless `enabled = false`), counting into the service's
/// metrics. The task runs until the runtime stops; rows it held are redelivered by any replica
/// once their lease expires.
pub fn spawn(
    state: &Shared,
    cfg: WebhookConfig,
) -> Result<Option<tokio::task::JoinHandle<()>>, WorkerError> {
    if !cfg.enabled {
        tracing::info!("webhook worker disabled in this replica");
        return Ok(None);
    }
    let counters = state.metrics.webhooks.clone();
    Ok(Some(
        Worker::new(state.store.clone(), cfg, counters)?.spawn(),
    ))
}
