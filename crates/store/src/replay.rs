//! Replay refusal for sealed requests (the silent API's envelope pairs): the first use of a
//! digest within its window wins, on every replica, because the database decides.

use sqlx::Row;

use crate::crypto::sha256_hex;
use crate::error::{BackendOp, Result, StoreError};
use crate::tenants::TenantStore;

impl TenantStore {
    /// Records the first use of `nonce` (hashed before it is stored) until `expires_at_ms`.
    /// A nonce already recorded and not yet expired is [`StoreError::Consumed`] with the time it
    /// was first seen. Expired records (of every tenant) are purged first.
    pub async fn first_use(&self, nonce: &[u8], expires_at_ms: i64) -> Result<()> {
        let db = self.store.db();
        let now = self.store.now();
        let digest = sha256_hex(nonce);
        sqlx::query("DELETE FROM seen_envelopes WHERE expires_at <= $1")
            .bind(now)
            .execute(db)
            .await
            .op("purge seen envelopes")?;
        let done = sqlx::query(
            "INSERT INTO seen_envelopes (tenant_id, digest, seen_at, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, digest) DO NOTHING",
        )
        .bind(&self.tenant_id)
        .bind(&digest)
        .bind(now)
        .bind(expires_at_ms)
        .execute(db)
        .await
        .op("record envelope")?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let seen: i64 =
            sqlx::query("SELECT seen_at FROM seen_envelopes WHERE tenant_id = $1 AND digest = $2")
                .bind(&self.tenant_id)
                .bind(&digest)
                .fetch_optional(db)
                .await
                .op("read seen envelope")?
                .map_or(Ok(now), |r| r.try_get::<i64, _>("seen_at"))
                .op("read seen envelope")?;
        Err(StoreError::Consumed {
            what: "envelope",
            id: digest,
            consumed_at_ms: seen,
        })
    }
}
