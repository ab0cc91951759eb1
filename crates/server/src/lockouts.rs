//! Failure lockouts shared by every replica through the store (`[server.rate_limit]
//! shared_lockouts`): a strike is recorded there as well as in this replica's [`Limiter`], and a
//! lockout any replica records is read back by every other. The limiter itself (`ratelimit`)
//! knows nothing of the store.
//!
//! [`Limiter`]: crate::ratelimit::Limiter

use std::time::{Duration, Instant};

use crate::ratelimit::{ClientKey, client_text};
use crate::state::{AppState, Shared};

/// Records a strike against `client` in the store (counted with every replica's); when that
/// starts a lockout, it also holds here at once. Errors are logged: the local count still holds.
pub async fn share_strike(state: &AppState, client: ClientKey) {
    let cfg = state.limiter.config();
    if !(cfg.enabled && cfg.shared_lockouts && cfg.lockout_after_failures > 0) {
        return;
    }
    let secs_ms = |s: u64| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let recorded = state
        .store
        .record_strike(
            &client_text(client),
            secs_ms(cfg.lockout_window_secs),
            cfg.lockout_after_failures,
            secs_ms(cfg.lockout_secs),
        )
        .await;
    match recorded {
        Ok(Some(until_ms)) => {
            let left = until_ms.saturating_sub(state.store.clock().now_ms()).max(0);
            state
                .limiter
                .lock_until(client, Instant::now() + Duration::from_millis(left as u64));
            tracing::warn!(client = %client_text(client), "client locked out after repeated failures on all replicas");
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "strike not shared"),
    }
}

/// Reads, every `lockout_sync_ms`, the lockouts any replica recorded and applies them here. The
/// cursor overlaps by one interval plus 2 s, so a row written with a slightly older clock is not
/// missed (applying a lockout twice changes nothing).
pub fn spawn_lockout_sync(state: Shared) -> Option<tokio::task::JoinHandle<()>> {
    let cfg = state.limiter.config().clone();
    if !(cfg.enabled && cfg.shared_lockouts && cfg.lockout_after_failures > 0) {
        return None;
    }
    let every = Duration::from_millis(cfg.lockout_sync_ms.max(10));
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let overlap = i64::try_from(every.as_millis()).unwrap_or(i64::MAX) + 2000;
        let mut since = i64::MIN;
        loop {
            tick.tick().await;
            let now_ms = state.store.clock().now_ms();
            match state.store.lockouts_since(since).await {
                Ok(rows) => {
                    for l in rows {
                        let Some(client) = ClientKey::parse(&l.client) else {
                            continue;
                        };
                        let left = l.until_ms.saturating_sub(now_ms).max(0) as u64;
                        state
                            .limiter
                            .lock_until(client, Instant::now() + Duration::from_millis(left));
                    }
                    since = now_ms.saturating_sub(overlap);
                }
                Err(e) => tracing::error!(error = %e, "lockouts not read"),
            }
        }
    }))
}
