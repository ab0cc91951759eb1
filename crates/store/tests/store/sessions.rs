//! Sessions: round trip, single use, TTL expiry, result guard.

use std::time::Duration;

use faceproof_store::{Api, NewSession, SessionStatus, StoreError};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::{T0, blob, harness};

#[tokio::test]
async fn committed_session_round_trip() {
    let h = harness().await;
    let (_, t) = h.tenant("rt").await;
    let far = blob(1, 4096);
    let near = blob(2, 5000);
    let mut up = t
        .begin_session(NewSession::new(Api::Advance, "capture").with_alias("signature-1"))
        .await
        .unwrap();
    let sid = up.session_id().to_owned();
    up.put("far.jpg", "image/jpeg", far.clone()).await.unwrap();
    up.put("near.jpg", "image/jpeg", near.clone())
        .await
        .unwrap();
    up.put("audit.zip", "application/zip", blob(3, 10))
        .await
        .unwrap();
    assert!(matches!(
        up.put("far.jpg", "image/jpeg", far.clone()).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        up.put("../x", "image/jpeg", far.clone()).await,
        Err(StoreError::Invalid { .. })
    ));
    // Not visible before commit.
    assert!(matches!(
        t.session(&sid).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(t.artefacts(&sid).await.unwrap().is_empty());

    let result =
        json!({"livenessScore": 88.0, "attackType": null, "farImageTime": 1713247589908_i64});
    let s = up
        .commit(SessionStatus::Complete, Some(&result))
        .await
        .unwrap();
    assert_eq!(s.id, sid);
    assert_eq!(s.tenant_id, t.tenant_id());
    assert_eq!(s.api, Api::Advance);
    assert_eq!(s.kind, "capture");
    assert_eq!(s.alias.as_deref(), Some("signature-1"));
    assert_eq!(s.status, SessionStatus::Complete);
    assert_eq!(s.created_at_ms, T0);
    assert_eq!(s.expires_at_ms, T0 + 15 * 60 * 1000);
    assert_eq!(s.retain_until_ms, T0 + 30 * 24 * 3600 * 1000);
    assert_eq!(s.consumed_at_ms, None);
    assert_eq!(s.result.as_ref(), Some(&result));
    assert_eq!(t.session_by_alias("signature-1").await.unwrap(), s);

    let arts = t.artefacts(&sid).await.unwrap();
    assert_eq!(
        arts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["audit.zip", "far.jpg", "near.jpg"]
    );
    let (meta, bytes) = t.read_artefact(&sid, "far.jpg").await.unwrap();
    assert_eq!(&bytes[..], &far[..]);
    assert_eq!(meta.size, far.len() as u64);
    let digest: String = Sha256::digest(&far)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(meta.sha256, digest);
    assert_eq!(meta.content_type, "image/jpeg");
    assert_eq!(meta.expires_at_ms, T0 + 24 * 3600 * 1000);
    assert!(
        meta.object_key
            .starts_with(&format!("t/{}/{sid}/", t.tenant_id()))
    );
    assert_eq!(
        &t.read_artefact(&sid, "near.jpg").await.unwrap().1[..],
        &near[..]
    );
    assert_eq!(h.object_keys().await.len(), 3);

    // The alias is unique per tenant, refused both early and at commit.
    assert!(matches!(
        t.begin_session(NewSession::new(Api::Advance, "capture").with_alias("signature-1"))
            .await,
        Err(StoreError::Conflict { .. })
    ));
    let mut a = t
        .begin_session(NewSession::new(Api::Advance, "capture").with_alias("race"))
        .await
        .unwrap();
    let mut b = t
        .begin_session(NewSession::new(Api::Advance, "capture").with_alias("race"))
        .await
        .unwrap();
    a.put("far.jpg", "image/jpeg", blob(8, 64)).await.unwrap();
    b.put("far.jpg", "image/jpeg", blob(9, 64)).await.unwrap();
    let b_id = b.session_id().to_owned();
    a.commit(SessionStatus::Complete, None).await.unwrap();
    assert!(matches!(
        b.commit(SessionStatus::Complete, None).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        t.session(&b_id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        h.object_keys().await.len(),
        4,
        "the loser's object was deleted"
    );
}

#[tokio::test]
async fn sessions_are_single_use() {
    let h = harness().await;
    let (_, t) = h.tenant("once").await;

    let s = t
        .create_session(NewSession::new(Api::Advance, "capture"))
        .await
        .unwrap();
    assert_eq!(s.status, SessionStatus::Pending);
    let used = t.consume(&s.id).await.unwrap();
    assert_eq!(used.consumed_at_ms, Some(T0));
    assert!(matches!(
        t.consume(&s.id).await,
        Err(StoreError::Consumed {
            consumed_at_ms: T0,
            ..
        })
    ));
    assert!(matches!(
        t.begin_fill(&s.id).await,
        Err(StoreError::Consumed { .. })
    ));

    // Eight concurrent consumers: exactly one wins.
    let s = t
        .create_session(NewSession::new(Api::Advance, "capture"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let t = t.clone();
        let id = s.id.clone();
        tasks.push(tokio::spawn(async move { t.consume(&id).await }));
    }
    let mut ok = 0;
    let mut consumed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Consumed { .. }) => consumed += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok, consumed), (1, 7));

    // Two concurrent fills of one pending session: one commits, the other is refused and its
    // objects are gone.
    let s = t
        .create_session(NewSession::new(Api::Advance, "capture"))
        .await
        .unwrap();
    let mut first = t.begin_fill(&s.id).await.unwrap();
    let mut second = t.begin_fill(&s.id).await.unwrap();
    first
        .put("far.jpg", "image/jpeg", blob(1, 300))
        .await
        .unwrap();
    second
        .put("far.jpg", "image/jpeg", blob(2, 300))
        .await
        .unwrap();
    second
        .put("near.jpg", "image/jpeg", blob(3, 300))
        .await
        .unwrap();
    let verdict = json!({"livenessScore": 91.0});
    let (r1, r2) = tokio::join!(
        first.commit(SessionStatus::Complete, Some(&verdict)),
        second.commit(SessionStatus::Complete, Some(&verdict))
    );
    let (winner, loser) = match (r1, r2) {
        (Ok(s), Err(e)) | (Err(e), Ok(s)) => (s, e),
        other => panic!("exactly one fill must commit: {other:?}"),
    };
    assert!(matches!(loser, StoreError::Consumed { .. }), "{loser}");
    assert_eq!(winner.status, SessionStatus::Complete);
    assert_eq!(winner.consumed_at_ms, Some(T0));
    assert_eq!(winner.result, Some(verdict));
    let names: Vec<_> = t
        .artefacts(&s.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.object_key)
        .collect();
    assert_eq!(
        h.object_keys().await,
        names,
        "only the winner's objects remain"
    );
}

#[tokio::test]
async fn ttl_expiry() {
    let h = harness().await;
    let (_, t) = h.tenant("ttl").await;
    let s = t
        .create_session(NewSession::new(Api::Advance, "capture"))
        .await
        .unwrap();
    let short = t
        .create_session(NewSession::new(Api::Advance, "capture").with_ttl(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(short.expires_at_ms, T0 + 30_000);

    h.clock.advance(Duration::from_millis(29_999));
    let fill = t.begin_fill(&short.id).await.unwrap();
    h.clock.advance(Duration::from_millis(1));
    // The TTL is checked again at commit.
    assert!(matches!(
        fill.commit(SessionStatus::Complete, None).await,
        Err(StoreError::Expired {
            what: "session",
            ..
        })
    ));
    assert!(matches!(
        t.consume(&short.id).await,
        Err(StoreError::Expired { expired_at_ms, now_ms, .. }) if expired_at_ms == T0 + 30_000 && now_ms == T0 + 30_000
    ));

    h.clock.set(T0 + 15 * 60 * 1000 - 1);
    assert!(t.begin_fill(&s.id).await.is_ok());
    h.clock.set(T0 + 15 * 60 * 1000);
    assert!(matches!(
        t.begin_fill(&s.id).await,
        Err(StoreError::Expired { .. })
    ));
    assert!(matches!(
        t.consume(&s.id).await,
        Err(StoreError::Expired { .. })
    ));
    // The expired session is still readable (its row lives until retention).
    assert_eq!(
        t.session(&s.id).await.unwrap().status,
        SessionStatus::Pending
    );

    // Artefacts: readable for 24 h, refused from then on; the result stays.
    h.clock.set(T0);
    let mut up = t
        .begin_session(NewSession::new(Api::Fpt, "liveness"))
        .await
        .unwrap();
    up.put("frame.jpg", "image/jpeg", blob(4, 100))
        .await
        .unwrap();
    let done = up
        .commit(SessionStatus::Complete, Some(&json!({"code": "200"})))
        .await
        .unwrap();
    h.clock.set(T0 + 24 * 3600 * 1000 - 1);
    t.read_artefact(&done.id, "frame.jpg").await.unwrap();
    h.clock.set(T0 + 24 * 3600 * 1000);
    assert!(matches!(
        t.read_artefact(&done.id, "frame.jpg").await,
        Err(StoreError::Expired {
            what: "artefact",
            ..
        })
    ));
    assert!(matches!(
        t.sign_artefact(&done.id, "frame.jpg", None).await,
        Err(StoreError::Expired { .. })
    ));
    assert_eq!(
        t.session(&done.id).await.unwrap().result,
        Some(json!({"code": "200"}))
    );
}

#[tokio::test]
async fn biometric_results_are_refused_and_leave_nothing() {
    let h = harness().await;
    let (_, t) = h.tenant("guard").await;
    let mut up = t
        .begin_session(NewSession::new(Api::Silent, "video_compare"))
        .await
        .unwrap();
    let sid = up.session_id().to_owned();
    up.put("best.jpg", "image/jpeg", blob(1, 200))
        .await
        .unwrap();
    let embedding: Vec<f32> = (0..128).map(|i| i as f32 / 128.0).collect();
    let err = up
        .commit(
            SessionStatus::Complete,
            Some(&json!({"passed": true, "embedding": embedding})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "result",
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        t.session(&sid).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(h.object_keys().await.is_empty());
}
