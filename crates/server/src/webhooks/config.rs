//! `[webhooks]`: how the delivery worker of every replica sends the outbox.

use std::time::Duration;

use serde::Deserialize;

/// The delivery worker's settings. Retries back off exponentially with full jitter between
/// `initial_backoff_secs` and `max_backoff_secs`; a delivery is dead-lettered after
/// `max_attempts` attempts or once `max_age_secs` have passed since its event, whichever first
/// (the defaults keep retrying for 24 hours).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Run the delivery worker in this replica. Events are queued either way (a replica with the
    /// worker off still writes them; any replica with it on delivers them).
    pub enabled: bool,
    /// Seconds between polls of the outbox when the last poll found nothing due.
    pub poll_interval_secs: f64,
    /// Deliveries claimed per poll (and sent concurrently).
    pub batch: usize,
    /// Seconds a claim is held: a worker that dies mid-delivery loses its claims after this and
    /// another replica sends them again. Must exceed `timeout_secs` (raised to it plus 5 s).
    pub lease_secs: f64,
    /// Longest one attempt may take, connection and answer included, seconds.
    pub timeout_secs: f64,
    /// Longest the TCP and TLS connection may take, seconds.
    pub connect_timeout_secs: f64,
    /// Most bytes of an endpoint's answer read (kept in the delivery log, truncated); the rest
    /// is never read.
    pub max_response_bytes: usize,
    /// First retry delay, seconds (doubling on each failure, up to `max_backoff_secs`).
    pub initial_backoff_secs: f64,
    /// Longest retry delay, seconds.
    pub max_backoff_secs: f64,
    /// Attempts before a delivery is dead-lettered.
    pub max_attempts: u32,
    /// Seconds after its event beyond which a delivery is dead-lettered instead of retried.
    pub max_age_secs: u64,
    /// Allow endpoints whose address is loopback, private, link-local, unique-local or otherwise
    /// not public. Off: such targets are refused after name resolution (and the resolved address
    /// is the one connected to), so a tenant cannot make the service call its own network.
    pub allow_private_targets: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            enabled: true,
            poll_interval_secs: 1.0,
            batch: 16,
            lease_secs: 60.0,
            timeout_secs: 10.0,
            connect_timeout_secs: 5.0,
            max_response_bytes: 4096,
            initial_backoff_secs: 10.0,
            max_backoff_secs: 3600.0,
            max_attempts: 42,
            max_age_secs: 24 * 3600,
            allow_private_targets: false,
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

impl WebhookConfig {
    pub fn poll_interval(&self) -> Duration {
        secs(self.poll_interval_secs).max(Duration::from_millis(10))
    }

    pub fn timeout(&self) -> Duration {
        secs(self.timeout_secs).max(Duration::from_millis(100))
    }

    pub fn connect_timeout(&self) -> Duration {
        secs(self.connect_timeout_secs)
            .max(Duration::from_millis(100))
            .min(self.timeout())
    }

    /// The claim's lifetime: never shorter than one whole attempt.
    pub fn lease(&self) -> Duration {
        secs(self.lease_secs).max(self.timeout() + Duration::from_secs(5))
    }

    /// Delay before attempt `attempts + 1` after `attempts` failures: with `ceiling =
    /// min(max, initial x 2^(attempts-1))`, a uniformly random value in [ceiling / 2, ceiling]
    /// ("equal jitter"), at least 10 ms, so deliveries failing together do not retry in lockstep.
    pub fn backoff(&self, attempts: u32, unit_random: f64) -> Duration {
        let exp = attempts.saturating_sub(1).min(62) as i32;
        let ceiling = (self.initial_backoff_secs * 2f64.powi(exp)).min(self.max_backoff_secs);
        secs(ceiling * (0.5 + 0.5 * unit_random.clamp(0.0, 1.0))).max(Duration::from_millis(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps_with_jitter() {
        let c = WebhookConfig::default();
        assert_eq!(c.backoff(1, 1.0), Duration::from_secs(10));
        assert_eq!(c.backoff(2, 1.0), Duration::from_secs(20));
        assert_eq!(c.backoff(4, 1.0), Duration::from_secs(80));
        assert_eq!(c.backoff(30, 1.0), Duration::from_secs(3600));
        assert_eq!(c.backoff(3, 0.0), Duration::from_secs(20));
        assert_eq!(c.backoff(3, 0.5), Duration::from_secs(30));
        // On average the default schedule keeps retrying for a day (max_age_secs) before it
        // runs out of attempts.
        let total: f64 = (1..c.max_attempts)
            .map(|a| c.backoff(a, 0.5).as_secs_f64())
            .sum();
        assert!(total > c.max_age_secs as f64, "{total}");
        assert!(c.lease() > c.timeout());
    }
}
