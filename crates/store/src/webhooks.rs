//! Webhook endpoints and the durable outbox (see `docs/webhooks.md`).
//!
//! - An endpoint is a tenant's URL and signing secret; the secret is shown once and kept sealed
//!   (ChaCha20-Poly1305 under the master key's secret-sealing key, bound to tenant and endpoint).
//! - An event is one JSON body with a fresh id, written as one outbox row per active endpoint of
//!   its tenant. [`Store::enqueue_event`] writes it in its own transaction; [`Upload::enqueue_event`]
//!   queues it for the session commit's transaction, so the event exists if and only if the
//!   session does (a crash before the commit leaves neither).
//! - Workers (one per replica) take due rows with [`Store::claim_webhooks`]: a conditional UPDATE
//!   that sets a lease, so of several replicas racing for a row exactly one wins, on SQLite and
//!   PostgreSQL alike. A worker that dies holding a lease loses it when the lease expires and the
//!   row is delivered again: delivery is at least once, and receivers dedupe on the event id.
//! - [`Store::settle_webhook`] records the outcome. When to retry and when to give up is the
//!   caller's policy (the server's `[webhooks]` section); the store only records it.
//!
//! Payloads pass the same guard as session results: no images, crops or embeddings.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use crate::Store;
use crate::clock::duration_ms;
use crate::crypto::{self, new_id, new_token};
use crate::error::{BackendOp, Result, StoreError};
use crate::sessions::{Upload, check_result};

/// The condition of a row due for a claim at `$1` (one literal, so queries stay static text).
macro_rules! due {
    () => {
        "delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $1 \
         AND (lease_until IS NULL OR lease_until <= $1)"
    };
}

/// One undelivered row by `$1` (event) and `$2` (endpoint).
macro_rules! settle_key {
    () => {
        "event_id = $1 AND endpoint_id = $2 AND delivered_at IS NULL"
    };
}

/// Longest accepted endpoint URL.
const MAX_URL: usize = 2048;

/// An event waiting for the transaction that reports it.
#[derive(Clone, Debug)]
pub(crate) struct PendingEvent {
    pub(crate) event_type: String,
    pub(crate) payload: serde_json::Value,
}

/// A new endpoint and its signing secret, returned exactly once. `Debug` redacts the secret.
pub struct IssuedWebhook {
    pub endpoint_id: String,
    pub tenant_id: String,
    pub url: String,
    /// `whsec_` + 43 characters; the HMAC key is this string's bytes.
    pub secret: Zeroizing<String>,
}

impl std::fmt::Debug for IssuedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedWebhook")
            .field("endpoint_id", &self.endpoint_id)
            .field("tenant_id", &self.tenant_id)
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// An endpoint as listed: never its secret.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// Where one outbox row stands (the delivery log).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub event_id: String,
    pub endpoint_id: String,
    pub event_type: String,
    pub created_at_ms: i64,
    /// Attempts started (a claim counts as an attempt, also when its worker died).
    pub attempts: i64,
    pub next_attempt_at_ms: i64,
    pub delivered_at_ms: Option<i64>,
    /// Set when the sender gave up (dead letter).
    pub dead_at_ms: Option<i64>,
    /// HTTP status of the last answer, when there was one.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

/// One row claimed for delivery by one worker until `lease_until_ms`. `Debug` redacts the secret.
pub struct ClaimedWebhook {
    pub event_id: String,
    pub endpoint_id: String,
    pub tenant_id: String,
    pub event_type: String,
    pub url: String,
    /// The JSON body to POST, byte for byte.
    pub body: String,
    /// The endpoint's signing secret (the HMAC key is its bytes).
    pub secret: Zeroizing<String>,
    /// Attempts including this one.
    pub attempts: i64,
    pub created_at_ms: i64,
    pub lease_owner: String,
    pub lease_until_ms: i64,
}

impl std::fmt::Debug for ClaimedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedWebhook")
            .field("event_id", &self.event_id)
            .field("endpoint_id", &self.endpoint_id)
            .field("event_type", &self.event_type)
            .field("url", &self.url)
            .field("attempts", &self.attempts)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What became of one attempt.
#[derive(Clone, Debug)]
pub enum Settlement {
    /// The endpoint answered 2xx.
    Delivered { status: u16 },
    /// Failed; try again at `retry_at_ms`.
    Retry {
        status: Option<u16>,
        error: String,
        retry_at_ms: i64,
    },
    /// Failed for the last time: dead letter.
    Dead { status: Option<u16>, error: String },
}

fn secret_aad(tenant: &str, endpoint: &str) -> Vec<u8> {
    let mut aad = Vec::new();
    for f in [
        "faceproof/webhook-secret".as_bytes(),
        tenant.as_bytes(),
        endpoint.as_bytes(),
    ] {
        aad.extend_from_slice(&(f.len() as u32).to_be_bytes());
        aad.extend_from_slice(f);
    }
    aad
}

/// An `http://` or `https://` URL with a host, no credentials, no whitespace. Where it may point
/// (private addresses) is the sender's decision at delivery time, after resolving the name.
fn check_url(url: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(StoreError::invalid(
            "webhook url",
            format!("{url:?}: {why}"),
        ))
    };
    if url.len() > MAX_URL {
        return bad("longer than 2048 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("contains whitespace or control characters");
    }
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return bad("must start with https:// or http://");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return bad("has no host");
    }
    if authority.contains('@') {
        return bad("must not carry credentials");
    }
    Ok(())
}

/// `a-z`, digits, `.` and `_`, 1-64 characters (`session.completed`, `review.decided`).
fn check_event_type(t: &str) -> Result<()> {
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "event type",
            format!("{t:?}: 1-64 of [a-z0-9._]"),
        ))
    }
}

/// Inserts one outbox row per active endpoint of `tenant`; returns the rows written.
async fn insert_event(
    conn: &mut sqlx::AnyConnection,
    store: &Store,
    tenant: &str,
    event: &PendingEvent,
) -> Result<u64> {
    check_event_type(&event.event_type)?;
    check_result(&event.payload, &store.config().result_limits)?;
    let now = store.now();
    let id = new_id();
    let body = serde_json::json!({
        "id": id,
        "type": event.event_type,
        "created_at_ms": now,
        "tenant_id": tenant,
        "data": event.payload,
    })
    .to_string();
    let done = sqlx::query(
        "INSERT INTO webhook_outbox (event_id, endpoint_id, tenant_id, event_type, body, created_at, attempts, next_attempt_at) \
         SELECT $1, id, tenant_id, $2, $3, $4, 0, $4 FROM webhook_endpoints WHERE tenant_id = $5 AND revoked_at IS NULL",
    )
    .bind(&id)
    .bind(&event.event_type)
    .bind(&body)
    .bind(now)
    .bind(tenant)
    .execute(conn)
    .await
    .op("insert webhook event")?;
    Ok(done.rows_affected())
}

impl Upload {
    /// Queues an event to be written in the commit's transaction (nothing is written if the
    /// commit fails). Checked now: an invalid type or a payload the result guard refuses is an
    /// error here, not at commit.
    pub fn enqueue_event(&mut self, event_type: &str, payload: serde_json::Value) -> Result<()> {
        check_event_type(event_type)?;
        check_result(&payload, &self.scope.store.config().result_limits)?;
        self.events.push(PendingEvent {
            event_type: event_type.to_owned(),
            payload,
        });
        Ok(())
    }
}

/// Writes an upload's queued events inside its commit transaction.
pub(crate) async fn insert_pending(
    conn: &mut sqlx::AnyConnection,
    store: &Store,
    tenant: &str,
    events: &[PendingEvent],
) -> Result<()> {
    for e in events {
        insert_event(&mut *conn, store, tenant, e).await?;
    }
    Ok(())
}

impl Store {
    /// Adds a webhook endpoint to a tenant (by id or name) and returns its secret (shown once).
    pub async fn add_webhook_endpoint(&self, id_or_name: &str, url: &str) -> Result<IssuedWebhook> {
        check_url(url)?;
        let tenant = self.tenant(id_or_name).await?;
        if tenant.revoked_at_ms.is_some() {
            return Err(StoreError::Forbidden {
                reason: "tenant is revoked",
            });
        }
        let id = new_id();
        let secret = new_token("whsec_", 32);
        let sealed = self
            .keys()
            .seal(secret.as_bytes(), &secret_aad(&tenant.id, &id));
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, sealed_secret, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(&id)
        .bind(&tenant.id)
        .bind(url)
        .bind(sealed)
        .bind(self.now())
        .execute(self.db())
        .await
        .op("insert webhook endpoint")?;
        tracing::info!(tenant = %tenant.id, endpoint = %id, "webhook endpoint added");
        Ok(IssuedWebhook {
            endpoint_id: id,
            tenant_id: tenant.id,
            url: url.to_owned(),
            secret,
        })
    }

    /// A tenant's endpoints, removed ones included, oldest first.
    pub async fn webhook_endpoints(&self, id_or_name: &str) -> Result<Vec<WebhookEndpoint>> {
        let tenant = self.tenant(id_or_name).await?;
        let rows = sqlx::query(
            "SELECT id, url, created_at, revoked_at FROM webhook_endpoints WHERE tenant_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(&tenant.id)
        .fetch_all(self.db())
        .await
        .op("list webhook endpoints")?;
        rows.iter()
            .map(|r| {
                let d = "decode webhook endpoint";
                Ok(WebhookEndpoint {
                    id: r.try_get("id").op(d)?,
                    url: r.try_get("url").op(d)?,
                    created_at_ms: r.try_get("created_at").op(d)?,
                    revoked_at_ms: r.try_get("revoked_at").op(d)?,
                })
            })
            .collect()
    }

    /// Removes an endpoint: no new event is queued for it and its pending rows are dead-lettered
    /// when next claimed. Removing twice is not an error.
    pub async fn remove_webhook_endpoint(&self, id_or_name: &str, endpoint_id: &str) -> Result<()> {
        let tenant = self.tenant(id_or_name).await?;
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND tenant_id = $3",
        )
        .bind(self.now())
        .bind(endpoint_id)
        .bind(&tenant.id)
        .execute(self.db())
        .await
        .op("remove webhook endpoint")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("webhook endpoint", endpoint_id));
        }
        Ok(())
    }

    /// Queues an event for every active endpoint of the tenant, in its own transaction (use
    /// [`Upload::enqueue_event`] to tie it to a session commit). Returns the rows written (0 when
    /// the tenant has no endpoint).
    pub async fn enqueue_event(
        &self,
        tenant_id: &str,
        event_type: &str,
        payload: serde_json::Value,
    ) -> Result<u64> {
        let mut conn = self.db().acquire().await.op("acquire connection")?;
        insert_event(
            &mut conn,
            self,
            tenant_id,
            &PendingEvent {
                event_type: event_type.to_owned(),
                payload,
            },
        )
        .await
    }

    /// Claims up to `limit` due rows for `owner` until now + `lease`. Each claim counts as an
    /// attempt. Rows whose endpoint was removed are dead-lettered instead of returned.
    pub async fn claim_webhooks(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedWebhook>> {
        let now = self.now();
        let candidates = sqlx::query(concat!(
            "SELECT event_id, endpoint_id FROM webhook_outbox WHERE ",
            due!(),
            " ORDER BY next_attempt_at, event_id LIMIT $2"
        ))
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.db())
        .await
        .op("select due webhooks")?;
        let lease_until = now.saturating_add(duration_ms(lease));
        let mut out = Vec::new();
        for c in &candidates {
            let event: String = c.try_get("event_id").op("decode webhook")?;
            let endpoint: String = c.try_get("endpoint_id").op("decode webhook")?;
            // The conditional UPDATE is the claim: a replica that lost the race updates nothing.
            let won = sqlx::query(concat!(
                "UPDATE webhook_outbox SET lease_owner = $2, lease_until = $3, attempts = attempts + 1 \
                 WHERE event_id = $4 AND endpoint_id = $5 AND ",
                due!()
            ))
            .bind(now)
            .bind(owner)
            .bind(lease_until)
            .bind(&event)
            .bind(&endpoint)
            .execute(self.db())
            .await
            .op("claim webhook")?;
            if won.rows_affected() != 1 {
                continue;
            }
            let row = sqlx::query(
                "SELECT o.tenant_id, o.event_type, o.body, o.attempts, o.created_at, e.url, e.sealed_secret, \
                 e.revoked_at FROM webhook_outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id \
                 WHERE o.event_id = $1 AND o.endpoint_id = $2",
            )
            .bind(&event)
            .bind(&endpoint)
            .fetch_one(self.db())
            .await
            .op("load claimed webhook")?;
            let (claim, removed) =
                self.claimed_from_row(&row, event, endpoint, owner, lease_until)?;
            if removed {
                // Settled at once so it is never claimed again.
                let dead = Settlement::Dead {
                    status: None,
                    error: "endpoint removed".into(),
                };
                self.settle_webhook(&claim, &dead).await?;
            } else {
                out.push(claim);
            }
        }
        Ok(out)
    }

    fn claimed_from_row(
        &self,
        row: &AnyRow,
        event_id: String,
        endpoint_id: String,
        owner: &str,
        lease_until_ms: i64,
    ) -> Result<(ClaimedWebhook, bool)> {
        let d = "decode claimed webhook";
        let tenant_id: String = row.try_get("tenant_id").op(d)?;
        let mut claim = ClaimedWebhook {
            event_type: row.try_get("event_type").op(d)?,
            body: row.try_get("body").op(d)?,
            attempts: row.try_get("attempts").op(d)?,
            created_at_ms: row.try_get("created_at").op(d)?,
            url: row.try_get("url").op(d)?,
            secret: Zeroizing::new(String::new()),
            lease_owner: owner.to_owned(),
            lease_until_ms,
            tenant_id,
            event_id,
            endpoint_id,
        };
        let revoked: Option<i64> = row.try_get("revoked_at").op(d)?;
        if revoked.is_some() {
            return Ok((claim, true));
        }
        let sealed: String = row.try_get("sealed_secret").op(d)?;
        let plain = self
            .keys()
            .open(&sealed, &secret_aad(&claim.tenant_id, &claim.endpoint_id))?;
        let text = std::str::from_utf8(&plain)
            .map_err(|_| StoreError::corrupt("webhook secret is not UTF-8"))?;
        claim.secret = Zeroizing::new(text.to_owned());
        Ok((claim, false))
    }

    /// Records an attempt's outcome. `Delivered` is recorded whoever holds the lease now (the
    /// receiver has the event; no one should send it again); a failure only by the lease's owner.
    pub async fn settle_webhook(&self, claim: &ClaimedWebhook, outcome: &Settlement) -> Result<()> {
        let now = self.now();
        let q = match outcome {
            Settlement::Delivered { status } => sqlx::query(concat!(
                "UPDATE webhook_outbox SET delivered_at = $3, last_status = $4, last_error = NULL, \
                 lease_owner = NULL, lease_until = NULL WHERE ",
                settle_key!()
            ))
            .bind(&claim.event_id)
            .bind(&claim.endpoint_id)
            .bind(now)
            .bind(i64::from(*status)),
            Settlement::Retry {
                status,
                error,
                retry_at_ms,
            } => sqlx::query(concat!(
                "UPDATE webhook_outbox SET next_attempt_at = $3, last_status = $4, last_error = $5, \
                 lease_owner = NULL, lease_until = NULL WHERE ",
                settle_key!(),
                " AND lease_owner = $6"
            ))
            .bind(&claim.event_id)
            .bind(&claim.endpoint_id)
            .bind(*retry_at_ms)
            .bind(status.map(i64::from))
            .bind(truncate(error))
            .bind(&claim.lease_owner),
            Settlement::Dead { status, error } => sqlx::query(concat!(
                "UPDATE webhook_outbox SET dead_at = $3, last_status = $4, last_error = $5, \
                 lease_owner = NULL, lease_until = NULL WHERE ",
                settle_key!(),
                " AND lease_owner = $6"
            ))
            .bind(&claim.event_id)
            .bind(&claim.endpoint_id)
            .bind(now)
            .bind(status.map(i64::from))
            .bind(truncate(error))
            .bind(&claim.lease_owner),
        };
        q.execute(self.db()).await.op("settle webhook")?;
        Ok(())
    }

    /// The delivery log of a tenant (by id or name), newest first.
    pub async fn webhook_log(
        &self,
        id_or_name: &str,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>> {
        let tenant = self.tenant(id_or_name).await?;
        let rows = sqlx::query(
            "SELECT event_id, endpoint_id, event_type, created_at, attempts, next_attempt_at, delivered_at, \
             dead_at, last_status, last_error FROM webhook_outbox WHERE tenant_id = $1 \
             ORDER BY created_at DESC, event_id LIMIT $2",
        )
        .bind(&tenant.id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.db())
        .await
        .op("list webhook deliveries")?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// Rows not yet delivered nor dead-lettered, service-wide (a gauge for metrics).
    pub async fn webhooks_pending(&self) -> Result<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_outbox WHERE delivered_at IS NULL AND dead_at IS NULL",
        )
        .fetch_one(self.db())
        .await
        .op("count pending webhooks")
    }
}

fn truncate(error: &str) -> String {
    error.chars().take(500).collect()
}

fn delivery_from_row(r: &AnyRow) -> Result<WebhookDelivery> {
    let d = "decode webhook delivery";
    Ok(WebhookDelivery {
        event_id: r.try_get("event_id").op(d)?,
        endpoint_id: r.try_get("endpoint_id").op(d)?,
        event_type: r.try_get("event_type").op(d)?,
        created_at_ms: r.try_get("created_at").op(d)?,
        attempts: r.try_get("attempts").op(d)?,
        next_attempt_at_ms: r.try_get("next_attempt_at").op(d)?,
        delivered_at_ms: r.try_get("delivered_at").op(d)?,
        dead_at_ms: r.try_get("dead_at").op(d)?,
        last_status: r.try_get("last_status").op(d)?,
        last_error: r.try_get("last_error").op(d)?,
    })
}

/// HMAC-SHA256 of `timestamp + "." + body` under the secret's bytes, lower-case hex: the `v1=`
/// value of the `Faceproof-Signature` header. Here so that senders and tests share one definition.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    crypto::hex(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_types() {
        for ok in [
            "https://hooks.example.com/fp",
            "http://127.0.0.1:9000/x?y=1",
            "https://[::1]/",
        ] {
            check_url(ok).unwrap();
        }
        for bad in [
            "ftp://x",
            "https://",
            "https://user:pw@host/",
            "https://a b/",
            "javascript:alert(1)",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        check_event_type("session.completed").unwrap();
        assert!(check_event_type("Session").is_err());
        assert!(check_event_type("").is_err());
    }

    #[test]
    fn signature_is_hmac_over_timestamp_dot_body() {
        // RFC 4231-style cross-check: the same MAC computed over the joined message.
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(b"whsec_k").unwrap();
        mac.update(b"1700000000.{\"a\":1}");
        let want = crypto::hex(&mac.finalize().into_bytes());
        assert_eq!(
            webhook_signature("whsec_k", 1_700_000_000, b"{\"a\":1}"),
            want
        );
        assert_ne!(
            webhook_signature("whsec_k", 1_700_000_001, b"{\"a\":1}"),
            want
        );
    }
}
