//! Retention: artefacts after `artefact_ttl_secs`, sessions and their results after
//! `result_ttl_secs`, unfilled pending sessions at their expiry, and uploads that never committed
//! after `upload_grace_secs`, challenges and capture tokens at their expiry. Logs carry ids and
//! counts only.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sqlx::Row;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::Store;
use crate::config::StoreConfig;
use crate::db::Dialect;
use crate::error::{BackendOp, Result};
use crate::sessions::SessionStatus;

/// What one purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Artefact rows deleted (their retention passed, or their session was purged).
    pub artefacts: u64,
    /// Objects deleted from the artefact store (artefacts and swept uploads).
    pub objects: u64,
    /// Sessions deleted with their result JSON.
    pub sessions: u64,
    /// Uncommitted uploads swept (crash or error leftovers).
    pub uploads: u64,
    /// Challenges and capture tokens deleted past their expiry (used or not).
    pub grants: u64,
    /// Webhook outbox rows (the delivery log) deleted once as old as the result retention.
    pub webhooks: u64,
    /// Items skipped because the backend failed; they are retried by the next purge.
    pub failures: u64,
}

/// Advisory lock id of the retention purge on PostgreSQL (any constant unique to this use).
const PURGE_LOCK_KEY: i64 = 0x6661_6365_7072_6f01;

impl Store {
    /// Runs every retention rule once, in batches, until nothing due is left.
    ///
    /// On PostgreSQL one replica purges at a time: the run holds a transaction-scoped advisory
    /// lock, and a replica that cannot take it skips this run (the holder is doing the work), so
    /// several replicas never delete, and count, the same object twice.
    pub async fn purge(&self) -> Result<PurgeReport> {
        let mut r = PurgeReport::default();
        let lock = match self.dialect() {
            Dialect::Sqlite => None,
            Dialect::Postgres => {
                let mut tx = self.db().begin().await.op("begin purge lock")?;
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                    .bind(PURGE_LOCK_KEY)
                    .fetch_one(&mut *tx)
                    .await
                    .op("take purge lock")?;
                if !got {
                    tracing::debug!("retention purge skipped: another replica is purging");
                    return Ok(r);
                }
                Some(tx)
            }
        };
        let run = async {
            self.purge_artefacts(&mut r).await?;
            self.purge_sessions(&mut r).await?;
            self.sweep_uploads(&mut r).await?;
            self.purge_grants(&mut r).await?;
            // Gallery templates share the sessions' retention (their own counts are logged).
            let (expired, dropped) = self.purge_gallery().await?;
            if expired + dropped > 0 {
                tracing::info!(expired, dropped, "gallery templates purged");
            }
            self.purge_webhooks(&mut r).await
        }
        .await;
        if let Some(tx) = lock {
            // Ends the transaction, which releases the lock.
            tx.rollback().await.op("release purge lock")?;
        }
        run?;
        if r != PurgeReport::default() {
            tracing::info!(
                artefacts = r.artefacts,
                objects = r.objects,
                sessions = r.sessions,
                uploads = r.uploads,
                grants = r.grants,
                webhooks = r.webhooks,
                failures = r.failures,
                "retention purge"
            );
        }
        Ok(r)
    }

    fn batch(&self) -> i64 {
        i64::from(self.config().purge_batch.max(1))
    }

    async fn purge_artefacts(&self, r: &mut PurgeReport) -> Result<()> {
        let now = self.now();
        loop {
            let rows = sqlx::query(
                "SELECT session_id, name, object_key FROM artefacts WHERE expires_at <= $1 \
                 ORDER BY expires_at, object_key LIMIT $2",
            )
            .bind(now)
            .bind(self.batch())
            .fetch_all(self.db())
            .await
            .op("select expired artefacts")?;
            let mut failed = 0;
            for row in &rows {
                let session: String = row.try_get("session_id").op("decode artefact")?;
                let name: String = row.try_get("name").op("decode artefact")?;
                let key: String = row.try_get("object_key").op("decode artefact")?;
                match self.objects().delete(&key).await {
                    Ok(gone) => r.objects += u64::from(gone),
                    Err(e) => {
                        tracing::warn!(session = %session, artefact = %name, error = %e,
                            "artefact object not deleted; retrying next purge");
                        failed += 1;
                        continue;
                    }
                }
                sqlx::query("DELETE FROM artefacts WHERE session_id = $1 AND name = $2")
                    .bind(&session)
                    .bind(&name)
                    .execute(self.db())
                    .await
                    .op("delete artefact row")?;
                r.artefacts += 1;
                tracing::debug!(session = %session, artefact = %name, "artefact purged");
            }
            r.failures += failed;
            if (rows.len() as i64) < self.batch() || failed > 0 {
                return Ok(());
            }
        }
    }

    async fn purge_sessions(&self, r: &mut PurgeReport) -> Result<()> {
        let now = self.now();
        loop {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM sessions WHERE retain_until <= $1 OR (status = $2 AND expires_at <= $1) \
                 ORDER BY created_at, id LIMIT $3",
            )
            .bind(now)
            .bind(SessionStatus::Pending.as_str())
            .bind(self.batch())
            .fetch_all(self.db())
            .await
            .op("select sessions to purge")?;
            let mut failed = 0;
            for id in &ids {
                match self.purge_session(id, r).await {
                    Ok(()) => r.sessions += 1,
                    Err(e) if e.is_backend() => {
                        tracing::warn!(session = %id, error = %e, "session not purged; retrying next purge");
                        failed += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
            r.failures += failed;
            if (ids.len() as i64) < self.batch() || failed > 0 {
                return Ok(());
            }
        }
    }

    async fn purge_session(&self, id: &str, r: &mut PurgeReport) -> Result<()> {
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT object_key FROM artefacts WHERE session_id = $1")
                .bind(id)
                .fetch_all(self.db())
                .await
                .op("select session artefacts")?;
        for key in &keys {
            r.objects += u64::from(self.objects().delete(key).await?);
        }
        let mut tx = self.db().begin().await.op("begin purge session")?;
        let gone = sqlx::query("DELETE FROM artefacts WHERE session_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .op("delete session artefacts")?;
        // The console's rows of the session go with it (the audit log keeps its trace).
        for sql in [
            "DELETE FROM session_codes WHERE session_id = $1",
            "DELETE FROM reviews WHERE session_id = $1",
        ] {
            sqlx::query(sql)
                .bind(id)
                .execute(&mut *tx)
                .await
                .op("delete session console rows")?;
        }
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .op("delete session")?;
        tx.commit().await.op("commit purge session")?;
        r.artefacts += gone.rows_affected();
        tracing::debug!(session = %id, artefacts = gone.rows_affected(), "session purged");
        Ok(())
    }

    /// Uploads older than the grace period (or already marked) are dead: mark them so that a late
    /// commit is refused, delete their objects, then their intent row.
    async fn sweep_uploads(&self, r: &mut PurgeReport) -> Result<()> {
        let now = self.now();
        let cutoff = now.saturating_sub(StoreConfig::ms(self.config().upload_grace_secs));
        loop {
            let rows = sqlx::query(
                "SELECT id, prefix FROM uploads WHERE started_at <= $1 OR abandoned_at IS NOT NULL \
                 ORDER BY started_at, id LIMIT $2",
            )
            .bind(cutoff)
            .bind(self.batch())
            .fetch_all(self.db())
            .await
            .op("select dead uploads")?;
            let mut failed = 0;
            for row in &rows {
                let id: String = row.try_get("id").op("decode upload")?;
                let prefix: String = row.try_get("prefix").op("decode upload")?;
                // Serialises with the commit transaction, which deletes the row only while it is
                // not abandoned: exactly one of the two wins.
                let marked = sqlx::query(
                    "UPDATE uploads SET abandoned_at = COALESCE(abandoned_at, $1) WHERE id = $2",
                )
                .bind(now)
                .bind(&id)
                .execute(self.db())
                .await
                .op("mark upload abandoned")?;
                if marked.rows_affected() == 0 {
                    continue; // committed meanwhile
                }
                match self.objects().delete_prefix(&prefix).await {
                    Ok(n) => r.objects += n,
                    Err(e) => {
                        tracing::warn!(upload = %id, error = %e, "upload objects not deleted; retrying next purge");
                        failed += 1;
                        continue;
                    }
                }
                sqlx::query("DELETE FROM uploads WHERE id = $1")
                    .bind(&id)
                    .execute(self.db())
                    .await
                    .op("delete upload intent")?;
                r.uploads += 1;
                tracing::debug!(upload = %id, "dead upload swept");
            }
            r.failures += failed;
            if (rows.len() as i64) < self.batch() || failed > 0 {
                return Ok(());
            }
        }
    }

    /// Challenges and capture tokens past their expiry can never be used again: their rows go.
    async fn purge_grants(&self, r: &mut PurgeReport) -> Result<()> {
        let now = self.now();
        for sql in [
            "DELETE FROM challenges WHERE expires_at <= $1",
            "DELETE FROM capture_tokens WHERE expires_at <= $1",
        ] {
            let done = sqlx::query(sql)
                .bind(now)
                .execute(self.db())
                .await
                .op("delete expired grants")?;
            r.grants += done.rows_affected();
        }
        // Expired console logins (not counted: they are not grants of the API).
        sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.db())
            .await
            .op("delete expired console sessions")?;
        Ok(())
    }

    /// Outbox rows carry session ids and verdicts: they go with the results they report, whether
    /// delivered, dead-lettered or (past every retry) still pending.
    async fn purge_webhooks(&self, r: &mut PurgeReport) -> Result<()> {
        let cutoff = self
            .now()
            .saturating_sub(StoreConfig::ms(self.config().result_ttl_secs));
        let done = sqlx::query("DELETE FROM webhook_outbox WHERE created_at <= $1")
            .bind(cutoff)
            .execute(self.db())
            .await
            .op("delete old webhook rows")?;
        r.webhooks += done.rows_affected();
        Ok(())
    }

    /// Runs [`Store::purge`] every `interval` on the current Tokio runtime until stopped.
    pub fn spawn_retention(&self, interval: Duration) -> RetentionTask {
        let store = self.clone();
        let stop = Arc::new(Notify::new());
        let (tx, rx) = watch::channel(None);
        let stop_rx = stop.clone();
        let handle = tokio::spawn(async move {
            loop {
                match store.purge().await {
                    Ok(report) => {
                        let _ = tx.send(Some(report));
                    }
                    Err(e) => tracing::warn!(error = %e, "retention purge failed"),
                }
                if tokio::time::timeout(interval, stop_rx.notified())
                    .await
                    .is_ok()
                {
                    break;
                }
            }
        });
        RetentionTask {
            handle,
            stop,
            reports: rx,
        }
    }
}

/// The background retention task.
#[derive(Debug)]
pub struct RetentionTask {
    handle: JoinHandle<()>,
    stop: Arc<Notify>,
    reports: watch::Receiver<Option<PurgeReport>>,
}

impl RetentionTask {
    /// The report of the latest completed purge.
    pub fn last_report(&self) -> Option<PurgeReport> {
        *self.reports.borrow()
    }

    /// Waits for the next purge to complete and returns its report (`None` if the task ended).
    pub async fn next_report(&mut self) -> Option<PurgeReport> {
        self.reports.changed().await.ok()?;
        *self.reports.borrow_and_update()
    }

    /// Stops the task after the purge in progress, if any, and waits for it.
    pub async fn stop(self) {
        self.stop.notify_one();
        let _ = self.handle.await;
    }
}
