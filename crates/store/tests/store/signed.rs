//! Signed artefact URLs: valid, expired (410), forged (403).

use std::time::Duration;

use faceproof_store::{
    Api, MasterKeyConfig, NewSession, SessionStatus, SignedUrl, Store, StoreError,
};

use crate::common::{T0, blob, harness};

fn forbidden<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::Forbidden { .. })),
        "expected Forbidden, got {r:?}"
    );
}

#[tokio::test]
async fn signed_urls_valid_expired_forged() {
    let h = harness().await;
    let (_, t) = h.tenant("urls").await;
    let far = blob(11, 3000);
    let mut up = t
        .begin_session(NewSession::new(Api::Advance, "capture"))
        .await
        .unwrap();
    up.put("far.jpg", "image/jpeg", far.clone()).await.unwrap();
    up.put("near.jpg", "image/jpeg", blob(12, 3000))
        .await
        .unwrap();
    let s = up.commit(SessionStatus::Complete, None).await.unwrap();

    // Valid: through the request form the server will see.
    let url = t.sign_artefact(&s.id, "far.jpg", None).await.unwrap();
    assert_eq!(url.expires_at_ms, T0 + 24 * 3600 * 1000, "default 24 h");
    let pq = url.path_and_query();
    let (path, query) = pq.split_once('?').unwrap();
    let mut expires = "";
    let mut signature = "";
    for kv in query.split('&') {
        match kv.split_once('=').unwrap() {
            ("expires", v) => expires = v,
            ("signature", v) => signature = v,
            other => panic!("unexpected query {other:?}"),
        }
    }
    let parsed = SignedUrl::from_request(path, expires, signature).unwrap();
    assert_eq!(parsed, url);
    let (meta, bytes) = h.store.open_signed_url(&parsed).await.unwrap();
    assert_eq!(&bytes[..], &far[..]);
    assert_eq!(meta.name, "far.jpg");

    // Expired: a short URL one millisecond past its end; a default one after 24 h.
    let short = t
        .sign_artefact(&s.id, "near.jpg", Some(Duration::from_secs(60)))
        .await
        .unwrap();
    h.clock.advance(Duration::from_millis(59_999));
    h.store.open_signed_url(&short).await.unwrap();
    h.clock.advance(Duration::from_millis(1));
    assert!(matches!(
        h.store.open_signed_url(&short).await,
        Err(StoreError::Expired {
            what: "signed URL",
            ..
        })
    ));
    h.store.open_signed_url(&url).await.unwrap();

    // Forged: every field is covered by the tag.
    let mut sig = url.signature.clone().into_bytes();
    sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
    forbidden(h.store.verify_signed_url(&SignedUrl {
        signature: String::from_utf8(sig).unwrap(),
        ..url.clone()
    }));
    forbidden(h.store.verify_signed_url(&SignedUrl {
        expires_at_ms: url.expires_at_ms + 3_600_000,
        ..url.clone()
    }));
    forbidden(h.store.verify_signed_url(&SignedUrl {
        object_key: url.object_key.replace("far.jpg", "near.jpg"),
        ..url.clone()
    }));
    forbidden(h.store.verify_signed_url(&SignedUrl {
        signature: "not base64 at all!".into(),
        ..url.clone()
    }));
    forbidden(h.store.verify_signed_url(&SignedUrl {
        signature: String::new(),
        ..url.clone()
    }));
    forbidden(SignedUrl::from_request("etc/passwd", "1", "x"));
    // A forged URL is refused as forged even once past its expiry (403, not 410).
    h.clock.set(url.expires_at_ms + 1);
    forbidden(h.store.verify_signed_url(&SignedUrl {
        object_key: url.object_key.replace("far.jpg", "near.jpg"),
        ..url.clone()
    }));
    assert!(matches!(
        h.store.verify_signed_url(&url),
        Err(StoreError::Expired { .. })
    ));

    // Another server key (another deployment) does not accept our URLs.
    h.clock.set(T0);
    let other = Store::open(faceproof_store::StoreConfig {
        master_key: MasterKeyConfig {
            env: None,
            file: h.dir.path().join("other.key"),
            generate: true,
        },
        ..h.cfg.clone()
    })
    .await
    .unwrap();
    forbidden(other.verify_signed_url(&url));
}

#[tokio::test]
async fn signed_url_never_outlives_its_artefact() {
    let h = harness().await;
    let (_, t) = h.tenant("cap").await;
    let mut up = t
        .begin_session(NewSession::new(Api::Fpt, "liveness"))
        .await
        .unwrap();
    up.put("frame.jpg", "image/jpeg", blob(1, 10))
        .await
        .unwrap();
    let s = up.commit(SessionStatus::Complete, None).await.unwrap();
    h.clock.advance(Duration::from_secs(3600));
    let url = t
        .sign_artefact(&s.id, "frame.jpg", Some(Duration::from_secs(7 * 24 * 3600)))
        .await
        .unwrap();
    assert_eq!(url.expires_at_ms, T0 + 24 * 3600 * 1000);

    // Once purged, a still-valid signature finds nothing.
    let url = t
        .sign_artefact(&s.id, "frame.jpg", Some(Duration::from_secs(60)))
        .await
        .unwrap();
    h.clock.set(T0 + 24 * 3600 * 1000);
    let report = h.store.purge().await.unwrap();
    assert_eq!(report.artefacts, 1);
    h.clock.set(url.expires_at_ms - 1);
    assert!(matches!(
        h.store.open_signed_url(&url).await,
        Err(StoreError::NotFound { .. })
    ));
}
