//! Strikes and lockouts of clients, shared by every replica (`[server.rate_limit]`): each replica
//! records its strikes here and reads the lockouts any replica decided, so a client is counted
//! once however its attempts are spread, and a lockout holds everywhere within one sync interval.

use sqlx::Row;

use crate::Store;
use crate::error::{BackendOp, Result};

/// A lockout as recorded: the client key, until when (Unix ms), and when it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lockout {
    pub client: String,
    pub until_ms: i64,
    pub updated_at_ms: i64,
}

impl Store {
    /// Records a strike against `client` now. When the client's strikes within the last
    /// `window_ms` reach `threshold`, they are cleared and a lockout until now + `lockout_ms` is
    /// recorded for every replica: its end is returned. Strikes older than the window (of every
    /// client) are dropped first.
    pub async fn record_strike(
        &self,
        client: &str,
        window_ms: i64,
        threshold: u32,
        lockout_ms: i64,
    ) -> Result<Option<i64>> {
        let db = self.db();
        let now = self.now();
        sqlx::query("DELETE FROM client_strikes WHERE at <= $1")
            .bind(now.saturating_sub(window_ms))
            .execute(db)
            .await
            .op("purge client strikes")?;
        sqlx::query("INSERT INTO client_strikes (client, at) VALUES ($1, $2)")
            .bind(client)
            .bind(now)
            .execute(db)
            .await
            .op("record client strike")?;
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM client_strikes WHERE client = $1")
            .bind(client)
            .fetch_one(db)
            .await
            .op("count client strikes")?
            .try_get("n")
            .op("count client strikes")?;
        if count < i64::from(threshold.max(1)) {
            return Ok(None);
        }
        sqlx::query("DELETE FROM client_strikes WHERE client = $1")
            .bind(client)
            .execute(db)
            .await
            .op("clear client strikes")?;
        let until = now.saturating_add(lockout_ms);
        sqlx::query(
            "INSERT INTO client_lockouts (client, until_ms, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client) DO UPDATE SET until_ms = excluded.until_ms, \
             updated_at = excluded.updated_at",
        )
        .bind(client)
        .bind(until)
        .bind(now)
        .execute(db)
        .await
        .op("record client lockout")?;
        Ok(Some(until))
    }

    /// Lockouts still running that were written at or after `since_ms` (a replica's cursor);
    /// ended ones are dropped first.
    pub async fn lockouts_since(&self, since_ms: i64) -> Result<Vec<Lockout>> {
        let db = self.db();
        let now = self.now();
        sqlx::query("DELETE FROM client_lockouts WHERE until_ms <= $1")
            .bind(now)
            .execute(db)
            .await
            .op("purge client lockouts")?;
        let rows = sqlx::query(
            "SELECT client, until_ms, updated_at FROM client_lockouts \
             WHERE updated_at >= $1 ORDER BY updated_at",
        )
        .bind(since_ms)
        .fetch_all(db)
        .await
        .op("read client lockouts")?;
        rows.iter()
            .map(|r| {
                let d = "decode client lockout";
                Ok(Lockout {
                    client: r.try_get("client").op(d)?,
                    until_ms: r.try_get("until_ms").op(d)?,
                    updated_at_ms: r.try_get("updated_at").op(d)?,
                })
            })
            .collect()
    }
}
