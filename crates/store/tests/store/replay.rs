//! Replay records (`seen_envelopes`): the first use of a nonce wins, per tenant, until it expires;
//! of concurrent first uses exactly one succeeds.

use std::time::Duration;

use faceproof_store::StoreError;

use crate::common::{T0, harness};

#[tokio::test]
async fn a_nonce_is_used_once_per_tenant_until_it_expires() {
    let h = harness().await;
    let (_, a) = h.tenant("a").await;
    let (_, b) = h.tenant("b").await;
    let nonce = [7u8; 32];
    a.first_use(&nonce, T0 + 60_000).await.unwrap();
    h.clock.advance(Duration::from_secs(10));
    match a.first_use(&nonce, T0 + 60_000).await {
        Err(StoreError::Consumed {
            what: "envelope",
            consumed_at_ms,
            ..
        }) => assert_eq!(consumed_at_ms, T0),
        other => panic!("{other:?}"),
    }
    // Another tenant's nonce space is its own.
    b.first_use(&nonce, T0 + 60_000).await.unwrap();
    // Past its expiry the record is purged and the nonce is new again.
    h.clock.advance(Duration::from_secs(60));
    a.first_use(&nonce, T0 + 200_000).await.unwrap();

    // Concurrent first uses of one nonce: exactly one wins.
    let fresh = [9u8; 32];
    let tries = (0..8).map(|_| {
        let a = a.clone();
        tokio::spawn(async move { a.first_use(&fresh, T0 + 500_000).await })
    });
    let mut won = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Consumed { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1);
}
