//! The delivery worker: claims due outbox rows, POSTs each signed body, records the outcome.
//! One per replica; the store's claim makes replicas share the outbox without double delivery in
//! normal operation (a crash mid-delivery means the row is sent again after its lease expires).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use faceproof_store::{ClaimedWebhook, Settlement, Store, StoreError, webhook_signature};
use reqwest::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use tokio::task::{JoinHandle, JoinSet};

use super::config::WebhookConfig;
use super::target::{GuardedResolver, TargetRefused, check_url};

/// Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
pub const SIGNATURE_HEADER: &str = "faceproof-signature";
/// Header carrying the event id (the same on every retry: dedupe on it).
pub const EVENT_ID_HEADER: &str = "faceproof-event-id";
/// Header carrying the event type.
pub const EVENT_TYPE_HEADER: &str = "faceproof-event-type";
/// Header carrying the attempt number, 1 on the first.
pub const ATTEMPT_HEADER: &str = "faceproof-delivery-attempt";

/// What the worker did, for `/metrics` (`faceproof_webhook_*`).
#[derive(Debug, Default)]
pub struct WebhookCounters {
    /// Deliveries answered 2xx.
    pub delivered: AtomicU64,
    /// Failed attempts that will be retried.
    pub retried: AtomicU64,
    /// Deliveries given up (dead letters).
    pub dead: AtomicU64,
    /// Attempts refused before sending because the target is not public (SSRF guard).
    pub refused_target: AtomicU64,
    /// Outbox rows neither delivered nor dead, as of the last idle poll.
    pub pending: AtomicI64,
}

/// The sender of one replica.
pub struct Worker {
    store: Store,
    cfg: WebhookConfig,
    client: reqwest::Client,
    owner: String,
    counters: Arc<WebhookCounters>,
}

/// Why the worker could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the webhook HTTP client: {0}")]
pub struct WorkerError(#[from] reqwest::Error);

fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("operating system random generator failed");
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
}

/// The error text with its sources (reqwest hides the resolver's refusal in the chain).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Whether the resolver's SSRF guard refused the target: its typed refusal somewhere in the
/// error's chain (reqwest and hyper wrap what the resolver returned).
fn refused_by_guard(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if matches!(
            c.downcast_ref::<TargetRefused>(),
            Some(TargetRefused::Private(_))
        ) {
            return true;
        }
        cur = c.source();
    }
    false
}

/// Why one attempt failed.
struct Failure {
    status: Option<u16>,
    error: String,
    refused_target: bool,
}

impl Worker {
    pub fn new(
        store: Store,
        cfg: WebhookConfig,
        counters: Arc<WebhookCounters>,
    ) -> Result<Self, WorkerError> {
        let client = reqwest::Client::builder()
            // Never follow: a redirect could point anywhere, the guard checks one URL.
            .redirect(reqwest::redirect::Policy::none())
            // Environment proxies would bypass the resolver's guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: cfg.allow_private_targets,
            }))
            .connect_timeout(cfg.connect_timeout())
            .timeout(cfg.timeout())
            .pool_max_idle_per_host(2)
            .build()?;
        Ok(Worker {
            store,
            cfg,
            client,
            owner: format!("worker-{}", crate::request_id::new_id()),
            counters,
        })
    }

    /// This worker's lease owner name (unique per worker).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims one batch and delivers it; returns how many rows were claimed.
    pub async fn run_once(self: &Arc<Self>) -> Result<usize, StoreError> {
        let claims = self
            .store
            .claim_webhooks(&self.owner, self.cfg.batch.max(1), self.cfg.lease())
            .await?;
        let n = claims.len();
        let mut set = JoinSet::new();
        for claim in claims {
            let me = self.clone();
            set.spawn(async move { me.deliver_and_settle(claim).await });
        }
        while set.join_next().await.is_some() {}
        Ok(n)
    }

    /// Polls until the task is aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        let me = Arc::new(self);
        tokio::spawn(async move {
            tracing::info!(owner = %me.owner, "webhook worker started");
            loop {
                match me.run_once().await {
                    Ok(n) if n >= me.cfg.batch.max(1) => continue,
                    Ok(_) => {
                        if let Ok(p) = me.store.webhooks_pending().await {
                            me.counters.pending.store(p, Ordering::Relaxed);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "webhook outbox poll failed"),
                }
                tokio::time::sleep(me.cfg.poll_interval()).await;
            }
        })
    }

    async fn deliver_and_settle(&self, claim: ClaimedWebhook) {
        let outcome = match self.deliver(&claim).await {
            Ok(status) => {
                self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                tracing::info!(event = %claim.event_id, endpoint = %claim.endpoint_id,
                    attempt = claim.attempts, status, "webhook delivered");
                Settlement::Delivered { status }
            }
            Err(f) => {
                if f.refused_target {
                    self.counters.refused_target.fetch_add(1, Ordering::Relaxed);
                }
                self.after_failure(&claim, f)
            }
        };
        if let Err(e) = self.store.settle_webhook(&claim, &outcome).await {
            // The lease expires and the row is claimed again: at least once still holds.
            tracing::warn!(event = %claim.event_id, error = %e, "webhook outcome not recorded");
        }
    }

    fn after_failure(&self, claim: &ClaimedWebhook, f: Failure) -> Settlement {
        let attempts = u32::try_from(claim.attempts).unwrap_or(u32::MAX);
        let delay = self.cfg.backoff(attempts, random_unit());
        let now = self.store.clock().now_ms();
        let retry_at = now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        let deadline = claim.created_at_ms.saturating_add(
            i64::try_from(self.cfg.max_age_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
        );
        if attempts >= self.cfg.max_attempts || retry_at > deadline {
            self.counters.dead.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(event = %claim.event_id, endpoint = %claim.endpoint_id, attempts,
                error = %f.error, "webhook dead-lettered");
            Settlement::Dead {
                status: f.status,
                error: f.error,
            }
        } else {
            self.counters.retried.fetch_add(1, Ordering::Relaxed);
            tracing::info!(event = %claim.event_id, endpoint = %claim.endpoint_id, attempts,
                retry_in_ms = delay.as_millis() as u64, error = %f.error, "webhook attempt failed");
            Settlement::Retry {
                status: f.status,
                error: f.error,
                retry_at_ms: retry_at,
            }
        }
    }

    /// One POST. `Ok(status)` on 2xx; anything else (3xx included: never followed) fails.
    async fn deliver(&self, claim: &ClaimedWebhook) -> Result<u16, Failure> {
        let url = check_url(&claim.url, self.cfg.allow_private_targets).map_err(|e| Failure {
            status: None,
            refused_target: matches!(e, TargetRefused::Private(_)),
            error: e.to_string(),
        })?;
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let sig = webhook_signature(&claim.secret, ts, claim.body.as_bytes());
        let req = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(
                USER_AGENT,
                concat!("faceproof-webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header(SIGNATURE_HEADER, format!("t={ts},v1={sig}"))
            .header(EVENT_ID_HEADER, &claim.event_id)
            .header(EVENT_TYPE_HEADER, &claim.event_type)
            .header(ATTEMPT_HEADER, claim.attempts.to_string())
            .body(claim.body.clone());
        let limit = self.cfg.max_response_bytes;
        let exchange = async {
            let mut resp = req.send().await?;
            let status = resp.status();
            // Read at most `limit` bytes of the answer; the rest is never read.
            let mut head = Vec::new();
            while head.len() < limit {
                match resp.chunk().await? {
                    Some(c) => head.extend_from_slice(&c[..c.len().min(limit - head.len())]),
                    None => break,
                }
            }
            Ok::<_, reqwest::Error>((status, head))
        };
        // The client's own timeout covers the whole exchange; this one also bounds a body
        // trickled slower than the client's read timer would notice.
        let outcome =
            tokio::time::timeout(self.cfg.timeout() + Duration::from_millis(100), exchange).await;
        match outcome {
            Err(_) => Err(Failure {
                status: None,
                error: format!("no answer within {:?}", self.cfg.timeout()),
                refused_target: false,
            }),
            Ok(Err(e)) => {
                let text = chain(&e);
                Err(Failure {
                    status: None,
                    refused_target: refused_by_guard(&e),
                    error: text,
                })
            }
            Ok(Ok((status, head))) if status.is_success() => {
                drop(head);
                Ok(status.as_u16())
            }
            Ok(Ok((status, head))) => {
                let snippet: String = String::from_utf8_lossy(&head).chars().take(200).collect();
                let what = if status.is_redirection() {
                    "redirect not followed"
                } else {
                    "not a 2xx answer"
                };
                Err(Failure {
                    status: Some(status.as_u16()),
                    error: format!("HTTP {}: {what}: {snippet}", status.as_u16()),
                    refused_target: false,
                })
            }
        }
    }
}
