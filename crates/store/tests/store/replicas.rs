//! The replica count (`replicas`): heartbeats count each replica once, a silent one falls out,
//! a goodbye leaves at once.

use std::time::Duration;

use crate::common::harness;

#[tokio::test]
async fn replicas_are_counted_while_they_beat_and_dropped_when_silent() {
    let h = harness().await;
    let stale = 6_000;
    assert_eq!(h.store.replica_heartbeat("a", stale).await.unwrap(), 1);
    assert_eq!(h.store.replica_heartbeat("b", stale).await.unwrap(), 2);
    // A second beat of the same replica does not count it twice.
    assert_eq!(h.store.replica_heartbeat("a", stale).await.unwrap(), 2);
    h.store.replica_heartbeat("c", stale).await.unwrap();
    // "c" stops beating (killed): past the stale time only "a" and "b" are left.
    h.clock.advance(Duration::from_secs(4));
    h.store.replica_heartbeat("b", stale).await.unwrap();
    h.clock.advance(Duration::from_secs(3));
    assert_eq!(h.store.replica_heartbeat("a", stale).await.unwrap(), 2);
    // "b" leaves cleanly: gone at once.
    h.store.replica_goodbye("b").await.unwrap();
    assert_eq!(h.store.replica_heartbeat("a", stale).await.unwrap(), 1);
}
