//! The replicas serving now (`[server.rate_limit] shared_rates`): each says it is alive every
//! few seconds and reads how many others did, and splits its request rates by that count.

use sqlx::Row;

use crate::Store;
use crate::error::{BackendOp, Result};

impl Store {
    /// Records that replica `id` is alive now, drops replicas silent for `stale_after_ms` (a
    /// replica killed without a goodbye falls out of the count within that time) and returns how
    /// many are alive, this one included.
    pub async fn replica_heartbeat(&self, id: &str, stale_after_ms: i64) -> Result<u32> {
        let db = self.db();
        let now = self.now();
        sqlx::query(
            "INSERT INTO replicas (id, seen_ms) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET seen_ms = excluded.seen_ms",
        )
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .op("record replica heartbeat")?;
        sqlx::query("DELETE FROM replicas WHERE seen_ms < $1")
            .bind(now.saturating_sub(stale_after_ms))
            .execute(db)
            .await
            .op("drop silent replicas")?;
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM replicas")
            .fetch_one(db)
            .await
            .op("count replicas")?
            .try_get("n")
            .op("count replicas")?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX).max(1))
    }

    /// Removes replica `id` from the count (a clean shutdown): the others take its share at
    /// their next heartbeat.
    pub async fn replica_goodbye(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM replicas WHERE id = $1")
            .bind(id)
            .execute(self.db())
            .await
            .op("remove replica")?;
        Ok(())
    }
}
