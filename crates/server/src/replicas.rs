//! The replica count behind the shared rates (`[server.rate_limit] shared_rates`): each replica
//! says it is alive through the store every `replica_heartbeat_ms`, reads how many replicas did
//! within three of those intervals, and gives its [`Limiter`] that share of the rates.
//!
//! [`Limiter`]: crate::ratelimit::Limiter

use std::time::Duration;

use crate::state::Shared;

/// What a replica's heartbeat task leaves behind: stop it with [`RateShare::stop`], which also
/// takes the replica out of the count at once.
pub struct RateShare {
    task: tokio::task::JoinHandle<()>,
    id: String,
    state: Shared,
}

impl RateShare {
    /// Stops the heartbeats and removes this replica from the count (the others take its share
    /// at their next heartbeat). Errors are logged: a replica left behind drops out when stale.
    pub async fn stop(self) {
        self.task.abort();
        if let Err(e) = self.state.store.replica_goodbye(&self.id).await {
            tracing::error!(error = %e, "replica not removed from the rate count");
        }
    }
}

/// Starts the heartbeats when `shared_rates` is on (and rate limits are); `None` otherwise. The
/// first beat is taken before returning, so the share holds from the first request.
pub async fn spawn_rate_share(state: Shared) -> Option<RateShare> {
    let cfg = state.limiter.config().clone();
    if !(cfg.enabled && cfg.shared_rates) {
        return None;
    }
    // Random per process start: a restarted replica is new, its old entry falls out once silent.
    let id = crate::request_id::new_id();
    let every = Duration::from_millis(cfg.replica_heartbeat_ms.max(10));
    let stale_ms = i64::try_from(every.as_millis().saturating_mul(3)).unwrap_or(i64::MAX);
    beat(&state, &id, stale_ms).await;
    let task = {
        let (state, id) = (state.clone(), id.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is immediate: that beat was taken above
            loop {
                tick.tick().await;
                beat(&state, &id, stale_ms).await;
            }
        })
    };
    Some(RateShare { task, id, state })
}

/// One heartbeat: the count read back becomes the limiter's share. On a store error the last
/// share stays (a replica keeps limiting with what it knew).
async fn beat(state: &Shared, id: &str, stale_ms: i64) {
    match state.store.replica_heartbeat(id, stale_ms).await {
        Ok(n) => {
            state.limiter.share_among(n);
            state.metrics.set_replicas(n);
        }
        Err(e) => tracing::error!(error = %e, "replica heartbeat failed"),
    }
}
