//! Challenges and capture tokens: tenant-bound, single use under concurrency, exact expiry, the
//! token never stored in clear, token + challenge spent together or not at all.

use std::time::Duration;

use faceproof_store::{
    Api, CaptureGrant, NewCaptureToken, NewChallenge, NewSession, StoreError, TenantStore,
};
use serde_json::json;
use sqlx::Row;

use crate::common::{T0, harness};

fn colour(ttl_secs: u64) -> NewChallenge {
    NewChallenge {
        kind: "colour".into(),
        spec: json!({"kind": "colour", "steps": [{"type": "colour", "rgb": [255, 0, 0], "duration_ms": 400}]}),
        ttl: Duration::from_secs(ttl_secs),
        signature_id: None,
    }
}

fn token(flow: Api) -> NewCaptureToken {
    NewCaptureToken {
        flow,
        signature_id: None,
        challenge_id: None,
        ttl: Duration::from_secs(600),
    }
}

async fn pending_signature(t: &TenantStore, alias: &str) {
    t.create_session(NewSession::new(Api::Advance, "capture").with_alias(alias))
        .await
        .unwrap();
}

#[tokio::test]
async fn challenges_are_tenant_bound_single_use_and_expire_to_the_millisecond() {
    let h = harness().await;
    let (_, a) = h.tenant("chal-a").await;
    let (_, b) = h.tenant("chal-b").await;

    let c = a.create_challenge(colour(180)).await.unwrap();
    assert!(c.id.starts_with("chl_"), "{}", c.id);
    assert_eq!(c.kind, "colour");
    assert_eq!(c.expires_at_ms, T0 + 180_000);
    assert_eq!(c.used_at_ms, None);
    assert_eq!(c.spec["steps"][0]["rgb"], json!([255, 0, 0]));
    assert_eq!(a.usable_challenge(&c.id).await.unwrap(), c);

    // Another tenant cannot read, use or bind it: it reads as unknown.
    assert!(matches!(
        b.challenge(&c.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        b.use_grants(None, Some(&c.id)).await,
        Err(StoreError::NotFound { .. })
    ));
    let bind_foreign = NewCaptureToken {
        challenge_id: Some(c.id.clone()),
        ..token(Api::Fpt)
    };
    assert!(matches!(
        b.issue_capture_token(bind_foreign).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(a.challenge(&c.id).await.unwrap().used_at_ms, None);

    // Eight concurrent users: exactly one wins, the others see it used.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let a = a.clone();
        let id = c.id.clone();
        tasks.push(tokio::spawn(
            async move { a.use_grants(None, Some(&id)).await },
        ));
    }
    let (mut ok, mut used) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(Some(c)) => {
                assert_eq!(c.used_at_ms, Some(T0));
                ok += 1;
            }
            Err(StoreError::Consumed { what, .. }) => {
                assert_eq!(what, "challenge");
                used += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((ok, used), (1, 7));
    assert!(matches!(
        a.usable_challenge(&c.id).await,
        Err(StoreError::Consumed {
            consumed_at_ms: T0,
            ..
        })
    ));

    // Expiry: usable 1 ms before, refused at the instant.
    let d = a.create_challenge(colour(10)).await.unwrap();
    h.clock.set(T0 + 9_999);
    a.usable_challenge(&d.id).await.unwrap();
    h.clock.set(T0 + 10_000);
    assert!(matches!(
        a.usable_challenge(&d.id).await,
        Err(StoreError::Expired {
            expired_at_ms,
            now_ms,
            ..
        }) if expired_at_ms == T0 + 10_000 && now_ms == T0 + 10_000
    ));
    assert!(matches!(
        a.use_grants(None, Some(&d.id)).await,
        Err(StoreError::Expired { .. })
    ));

    // Kinds are short labels; a zero lifetime is refused.
    let mut bad = colour(10);
    bad.kind = "Colour; DROP".into();
    assert!(matches!(
        a.create_challenge(bad).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        a.create_challenge(colour(0)).await,
        Err(StoreError::Invalid { .. })
    ));
}

#[tokio::test]
async fn a_challenge_attaches_only_to_a_pending_capture_session_of_its_tenant() {
    let h = harness().await;
    let (_, a) = h.tenant("attach-a").await;
    let (_, b) = h.tenant("attach-b").await;
    pending_signature(&a, "sig-a").await;
    pending_signature(&b, "sig-b").await;

    let attached = NewChallenge {
        signature_id: Some("sig-a".into()),
        ..colour(180)
    };
    let c = a.create_challenge(attached).await.unwrap();
    assert_eq!(c.signature_id.as_deref(), Some("sig-a"));
    assert_eq!(a.challenge_for_signature("sig-a").await.unwrap(), Some(c));
    assert_eq!(b.challenge_for_signature("sig-a").await.unwrap(), None);
    assert_eq!(a.challenge_for_signature("sig-b").await.unwrap(), None);

    for sig in ["sig-b", "no-such-signature"] {
        let foreign = NewChallenge {
            signature_id: Some(sig.into()),
            ..colour(180)
        };
        assert!(matches!(
            a.create_challenge(foreign).await,
            Err(StoreError::NotFound { .. })
        ));
    }
}

#[tokio::test]
async fn capture_tokens_are_stored_hashed_single_use_and_expire() {
    let h = harness().await;
    let (_, a) = h.tenant("tok-a").await;

    let issued = a.issue_capture_token(token(Api::Fpt)).await.unwrap();
    let secret = issued.token.to_string();
    assert!(secret.starts_with("fct_") && secret.len() > 40, "{secret}");
    assert!(!format!("{issued:?}").contains(&secret));
    assert_eq!(issued.grant.flow, Api::Fpt);
    assert_eq!(issued.grant.expires_at_ms, T0 + 600_000);

    // The database holds the SHA-256 of the token, never the token.
    let raw = h.raw_db().await;
    let rows = sqlx::query("SELECT * FROM capture_tokens")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let hash: String = rows[0].try_get("token_hash").unwrap();
    assert_eq!(hash.len(), 64);
    for col in [
        "id",
        "token_hash",
        "tenant_id",
        "flow",
        "signature_id",
        "challenge_id",
    ] {
        let v: Option<String> = rows[0].try_get(col).unwrap();
        assert!(
            !v.unwrap_or_default().contains(&secret[4..]),
            "{col} holds the token"
        );
    }
    raw.close().await;
    if h.cfg.database_url.starts_with("sqlite") {
        for f in ["faceproof.db", "faceproof.db-wal"] {
            let bytes = std::fs::read(h.dir.path().join(f)).unwrap_or_default();
            let needle = secret.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{f} holds the token"
            );
        }
    }

    // Verified without being used; then used once.
    let (scope, grant) = h.store.authenticate_capture_token(&secret).await.unwrap();
    assert_eq!(scope.tenant_id(), a.tenant_id());
    assert_eq!(grant, issued.grant);
    h.store.authenticate_capture_token(&secret).await.unwrap();
    scope.use_grants(Some(&grant), None).await.unwrap();
    assert!(matches!(
        h.store.authenticate_capture_token(&secret).await,
        Err(StoreError::Consumed {
            what: "capture token",
            consumed_at_ms: T0,
            ..
        })
    ));
    assert!(matches!(
        scope.use_grants(Some(&grant), None).await,
        Err(StoreError::Consumed { .. })
    ));

    // Unknown and malformed tokens read as forbidden, like an unknown API key.
    for bad in [
        "fct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "",
        "fpk_x",
    ] {
        assert!(matches!(
            h.store.authenticate_capture_token(bad).await,
            Err(StoreError::Forbidden { .. })
        ));
    }

    // Expiry at the exact millisecond.
    let short = NewCaptureToken {
        ttl: Duration::from_millis(1500),
        ..token(Api::Silent)
    };
    let issued = a.issue_capture_token(short).await.unwrap();
    h.clock.set(T0 + 1499);
    let (scope, grant) = h
        .store
        .authenticate_capture_token(&issued.token)
        .await
        .unwrap();
    h.clock.set(T0 + 1500);
    assert!(matches!(
        h.store.authenticate_capture_token(&issued.token).await,
        Err(StoreError::Expired { .. })
    ));
    // A token verified just before its expiry cannot be spent after it.
    assert!(matches!(
        scope.use_grants(Some(&grant), None).await,
        Err(StoreError::Expired { .. })
    ));

    // A revoked tenant's token is refused at once.
    let issued = a.issue_capture_token(token(Api::Advance)).await.unwrap();
    let (scope, grant) = h
        .store
        .authenticate_capture_token(&issued.token)
        .await
        .unwrap();
    h.store.revoke_tenant("tok-a").await.unwrap();
    assert!(matches!(
        h.store.authenticate_capture_token(&issued.token).await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        scope.use_grants(Some(&grant), None).await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        a.issue_capture_token(token(Api::Fpt)).await,
        Err(StoreError::Forbidden { .. })
    ));
}

#[tokio::test]
async fn a_token_and_its_challenge_are_spent_together_or_not_at_all() {
    let h = harness().await;
    let (_, a) = h.tenant("both").await;
    let c = a.create_challenge(colour(180)).await.unwrap();
    let bound = NewCaptureToken {
        challenge_id: Some(c.id.clone()),
        ..token(Api::Fpt)
    };
    let issued = a.issue_capture_token(bound).await.unwrap();
    assert_eq!(issued.grant.challenge_id.as_deref(), Some(c.id.as_str()));
    let (scope, grant) = h
        .store
        .authenticate_capture_token(&issued.token)
        .await
        .unwrap();

    // The challenge is spent elsewhere first: the upload's use fails and leaves the token unused.
    a.use_grants(None, Some(&c.id)).await.unwrap();
    assert!(matches!(
        scope.use_grants(Some(&grant), Some(&c.id)).await,
        Err(StoreError::Consumed {
            what: "challenge",
            ..
        })
    ));
    let (_, again) = h
        .store
        .authenticate_capture_token(&issued.token)
        .await
        .unwrap();
    assert_eq!(again.used_at_ms, None);

    // Eight concurrent uploads with one token and one fresh challenge: one wins, both are spent.
    let c2 = a.create_challenge(colour(180)).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let scope = scope.clone();
        let g: CaptureGrant = grant.clone();
        let id = c2.id.clone();
        tasks.push(tokio::spawn(async move {
            scope.use_grants(Some(&g), Some(&id)).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Some(_)) => ok += 1,
            Err(StoreError::Consumed { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert!(a.challenge(&c2.id).await.unwrap().used_at_ms.is_some());
    assert!(
        a.capture_grant(&grant.id)
            .await
            .unwrap()
            .used_at_ms
            .is_some()
    );
}

#[tokio::test]
async fn advance_tokens_bind_only_this_tenants_pending_session() {
    let h = harness().await;
    let (_, a) = h.tenant("adv-a").await;
    let (_, b) = h.tenant("adv-b").await;
    pending_signature(&a, "sig-a").await;
    pending_signature(&b, "sig-b").await;

    let ok = NewCaptureToken {
        signature_id: Some("sig-a".into()),
        ..token(Api::Advance)
    };
    let issued = a.issue_capture_token(ok).await.unwrap();
    assert_eq!(issued.grant.signature_id.as_deref(), Some("sig-a"));

    let foreign = NewCaptureToken {
        signature_id: Some("sig-b".into()),
        ..token(Api::Advance)
    };
    assert!(matches!(
        a.issue_capture_token(foreign).await,
        Err(StoreError::NotFound { .. })
    ));
    let wrong_flow = NewCaptureToken {
        signature_id: Some("sig-a".into()),
        ..token(Api::Fpt)
    };
    assert!(matches!(
        a.issue_capture_token(wrong_flow).await,
        Err(StoreError::Invalid { .. })
    ));
    // A used session cannot be bound any more.
    let s = a.session_by_alias("sig-a").await.unwrap();
    a.consume(&s.id).await.unwrap();
    let used = NewCaptureToken {
        signature_id: Some("sig-a".into()),
        ..token(Api::Advance)
    };
    assert!(matches!(
        a.issue_capture_token(used).await,
        Err(StoreError::Consumed { .. })
    ));
}

#[tokio::test]
async fn purge_deletes_expired_challenges_and_tokens() {
    let h = harness().await;
    let (_, a) = h.tenant("purge-grants").await;
    a.create_challenge(colour(180)).await.unwrap();
    let used = a.create_challenge(colour(600)).await.unwrap();
    a.use_grants(None, Some(&used.id)).await.unwrap();
    a.issue_capture_token(token(Api::Fpt)).await.unwrap();
    let long = NewCaptureToken {
        ttl: Duration::from_secs(3600),
        ..token(Api::Fpt)
    };
    let kept = a.issue_capture_token(long).await.unwrap();

    assert_eq!(h.store.purge().await.unwrap().grants, 0);
    h.clock.set(T0 + 600_000);
    // The 180 s and 600 s challenges and the 600 s token are due; the 1 h token is not.
    assert_eq!(h.store.purge().await.unwrap().grants, 3);
    assert!(matches!(
        a.challenge(&used.id).await,
        Err(StoreError::NotFound { .. })
    ));
    a.capture_grant(&kept.grant.id).await.unwrap();
    assert_eq!(h.store.purge().await.unwrap().grants, 0);
}
