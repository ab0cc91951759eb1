//! The webhook outbox: events exist exactly when the session they report was committed, claims
//! are exclusive across workers, a dead worker's claim expires and is taken again, failures
//! are only recorded by the claim's owner, removed endpoints dead-letter, retention purges.

use std::collections::BTreeSet;
use std::time::Duration;

use faceproof_store::{Api, NewSession, SessionStatus, Settlement, StoreError};
use serde_json::json;

use crate::common::{T0, harness};

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn events_are_committed_with_their_session_or_not_at_all() {
    let h = harness().await;
    let (issued, t) = h.tenant("hooks").await;
    let (_, quiet) = h.tenant("quiet").await;
    let a = h
        .store
        .add_webhook_endpoint("hooks", "https://a.example/hook")
        .await
        .unwrap();
    h.store
        .add_webhook_endpoint(&issued.tenant_id, "https://b.example/hook")
        .await
        .unwrap();
    let gone = h
        .store
        .add_webhook_endpoint("hooks", "https://c.example/hook")
        .await
        .unwrap();
    h.store
        .remove_webhook_endpoint("hooks", &gone.endpoint_id)
        .await
        .unwrap();

    // Committed: one row per active endpoint, one event id, the payload as given.
    let mut up = t
        .begin_session(NewSession::new(Api::Fpt, "liveness"))
        .await
        .unwrap();
    let sid = up.session_id().to_owned();
    up.enqueue_event(
        "session.completed",
        json!({"session_id": sid, "outcome": "passed", "codes": []}),
    )
    .unwrap();
    up.commit(SessionStatus::Complete, Some(&json!({"ok": true})))
        .await
        .unwrap();
    let log = h.store.webhook_log("hooks", 10).await.unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].event_id, log[1].event_id);
    let endpoints: BTreeSet<_> = log.iter().map(|d| d.endpoint_id.clone()).collect();
    assert!(endpoints.contains(&a.endpoint_id) && !endpoints.contains(&gone.endpoint_id));
    let claimed = h.store.claim_webhooks("w", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let body: serde_json::Value = serde_json::from_str(&claimed[0].body).unwrap();
    assert_eq!(body["id"], log[0].event_id.as_str());
    assert_eq!(body["type"], "session.completed");
    assert_eq!(body["tenant_id"], issued.tenant_id.as_str());
    assert_eq!(body["data"]["session_id"], sid.as_str());
    assert_eq!(body["created_at_ms"], T0);
    assert!(claimed[0].secret.starts_with("whsec_"));

    // A commit that fails after the event rows were written leaves neither session nor event.
    let mut up = t
        .begin_session(NewSession::new(Api::Fpt, "liveness"))
        .await
        .unwrap();
    let failed = up.session_id().to_owned();
    up.enqueue_event("session.completed", json!({"session_id": failed}))
        .unwrap();
    up.inject_commit_failure_after_rows(0);
    assert!(up.commit(SessionStatus::Complete, None).await.is_err());
    assert!(matches!(
        t.session(&failed).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(h.store.webhook_log("hooks", 10).await.unwrap().len(), 2);

    // No endpoint, no row; biometric payloads are refused like session results.
    assert_eq!(
        h.store
            .enqueue_event(quiet.tenant_id(), "review.decided", json!({"x": 1}))
            .await
            .unwrap(),
        0
    );
    let e = h
        .store
        .enqueue_event(
            t.tenant_id(),
            "session.completed",
            json!({"embedding": [0.1]}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Invalid {
                field: "result",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        h.store
            .enqueue_event(t.tenant_id(), "Bad Type", json!({}))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn claims_are_exclusive_and_expire_with_their_lease() {
    let h = harness().await;
    let (_, t) = h.tenant("race").await;
    h.store
        .add_webhook_endpoint("race", "https://a.example/hook")
        .await
        .unwrap();
    for i in 0..20 {
        let n = h
            .store
            .enqueue_event(t.tenant_id(), "review.decided", json!({"i": i}))
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    // Two workers at once: every row goes to exactly one.
    let (a, b) = tokio::join!(
        h.store.claim_webhooks("a", 20, LEASE),
        h.store.claim_webhooks("b", 20, LEASE)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let ids_a: BTreeSet<_> = a.iter().map(|c| c.event_id.clone()).collect();
    let ids_b: BTreeSet<_> = b.iter().map(|c| c.event_id.clone()).collect();
    assert_eq!(
        ids_a.len() + ids_b.len(),
        20,
        "a {} b {}",
        ids_a.len(),
        ids_b.len()
    );
    assert!(ids_a.is_disjoint(&ids_b));
    assert!(a.iter().chain(&b).all(|c| c.attempts == 1));

    // Half are delivered; the other half fail and retry in 10 s (settled by whoever claimed them).
    let all: Vec<_> = a.iter().chain(&b).collect();
    let (ok, failing) = all.split_at(10);
    let ids_a: BTreeSet<_> = ok.iter().map(|c| c.event_id.clone()).collect();
    let ids_b: BTreeSet<_> = failing.iter().map(|c| c.event_id.clone()).collect();
    for c in ok {
        h.store
            .settle_webhook(c, &Settlement::Delivered { status: 204 })
            .await
            .unwrap();
    }
    for c in failing {
        let retry = Settlement::Retry {
            status: Some(500),
            error: "HTTP 500".into(),
            retry_at_ms: T0 + 10_000,
        };
        h.store.settle_webhook(c, &retry).await.unwrap();
    }
    assert!(
        h.store
            .claim_webhooks("c", 20, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        h.store.webhooks_pending().await.unwrap(),
        ids_b.len() as i64
    );

    // Due again; claimed by c, whose process then dies (nothing settled).
    h.clock.set(T0 + 10_000);
    let c = h.store.claim_webhooks("c", 20, LEASE).await.unwrap();
    assert_eq!(c.len(), ids_b.len());
    assert!(c.iter().all(|x| x.attempts == 2));
    assert!(
        h.store
            .claim_webhooks("d", 20, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    // The lease runs out: d takes them over; c, late, can no longer record a failure.
    h.clock.set(T0 + 10_000 + 60_000);
    let d = h.store.claim_webhooks("d", 20, LEASE).await.unwrap();
    assert_eq!(d.len(), ids_b.len());
    let stale = Settlement::Retry {
        status: None,
        error: "late".into(),
        retry_at_ms: T0,
    };
    h.store.settle_webhook(&c[0], &stale).await.unwrap();
    let log = h.store.webhook_log("race", 50).await.unwrap();
    let row = log.iter().find(|r| r.event_id == c[0].event_id).unwrap();
    assert_eq!(row.attempts, 3);
    assert_ne!(row.last_error.as_deref(), Some("late"));
    // d gives up on all of them: dead letters are never claimed again.
    for x in &d {
        let dead = Settlement::Dead {
            status: Some(500),
            error: "gave up".into(),
        };
        h.store.settle_webhook(x, &dead).await.unwrap();
    }
    h.clock.set(T0 + 10 * 86_400_000);
    assert!(
        h.store
            .claim_webhooks("e", 20, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let log = h.store.webhook_log("race", 50).await.unwrap();
    assert_eq!(
        log.iter().filter(|r| r.delivered_at_ms.is_some()).count(),
        ids_a.len()
    );
    assert_eq!(
        log.iter().filter(|r| r.dead_at_ms.is_some()).count(),
        ids_b.len()
    );
    assert_eq!(h.store.webhooks_pending().await.unwrap(), 0);

    // Retention: rows as old as the result retention are purged.
    h.clock.set(T0 + 31 * 86_400_000);
    let purged = h.store.purge().await.unwrap();
    assert_eq!(purged.webhooks, 20);
    assert!(h.store.webhook_log("race", 50).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_removed_endpoint_dead_letters_its_pending_rows() {
    let h = harness().await;
    let (_, t) = h.tenant("gone").await;
    let e = h
        .store
        .add_webhook_endpoint("gone", "https://a.example/hook")
        .await
        .unwrap();
    h.store
        .enqueue_event(t.tenant_id(), "review.decided", json!({}))
        .await
        .unwrap();
    h.store
        .remove_webhook_endpoint("gone", &e.endpoint_id)
        .await
        .unwrap();
    assert!(
        h.store
            .claim_webhooks("w", 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let log = h.store.webhook_log("gone", 10).await.unwrap();
    assert!(log[0].dead_at_ms.is_some(), "{log:?}");
    assert_eq!(log[0].last_error.as_deref(), Some("endpoint removed"));
    // Unknown endpoint or tenant: typed errors.
    assert!(matches!(
        h.store.remove_webhook_endpoint("gone", "nope").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        h.store.add_webhook_endpoint("nobody", "https://x/").await,
        Err(StoreError::NotFound { .. })
    ));
}
