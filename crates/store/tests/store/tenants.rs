//! Tenants, credentials, isolation and revocation.

use std::time::Duration;

use faceproof_store::{
    Api, CredentialKind, MasterKeyConfig, NewSession, SessionStatus, SignedUrl, Store, StoreError,
    TenantSettings, TenantStore,
};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::common::{blob, harness};

fn hmac_tag(secret: &[u8], message: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap();
    m.update(message);
    m.finalize().into_bytes().to_vec()
}

/// A committed session with two artefacts; returns (session id, alias).
async fn committed(scope: &TenantStore, i: u32) -> (String, String) {
    let alias = format!("sig-{}-{i}", scope.tenant_id());
    let mut up = scope
        .begin_session(NewSession::new(Api::Advance, "capture").with_alias(&alias))
        .await
        .unwrap();
    up.put("far.jpg", "image/jpeg", blob(i, 700)).await.unwrap();
    up.put("near.jpg", "image/jpeg", blob(i + 1000, 900))
        .await
        .unwrap();
    let s = up
        .commit(
            SessionStatus::Complete,
            Some(&serde_json::json!({"livenessScore": 97.5})),
        )
        .await
        .unwrap();
    (s.id, alias)
}

#[tokio::test]
async fn tenant_a_reads_zero_of_n_of_tenant_b() {
    let h = harness().await;
    let (a_creds, _) = h.tenant("tenant-a").await;
    let (_, b) = h.tenant("tenant-b").await;
    const N: u32 = 12;
    let mut b_sessions = Vec::new();
    let mut b_pending = Vec::new();
    for i in 0..N {
        b_sessions.push(committed(&b, i).await);
        b_pending.push(
            b.create_session(NewSession::new(Api::Advance, "capture"))
                .await
                .unwrap()
                .id,
        );
    }

    // Tenant A through each of its doors: API key, access key + HMAC, access token.
    let by_key = h
        .store
        .authenticate_api_key(&a_creds.fpt_api_key)
        .await
        .unwrap();
    let msg = b"1780000000000";
    let by_hmac = h
        .store
        .authenticate_access_hmac(
            &a_creds.advance_access_key,
            msg,
            &hmac_tag(a_creds.advance_secret_key.as_bytes(), msg),
        )
        .await
        .unwrap();
    let token = by_hmac.issue_access_token(None).unwrap();
    let by_token = h.store.authenticate_token(&token.token).await.unwrap();

    for a in [&by_key, &by_hmac, &by_token] {
        let mut seen = 0;
        let mut attempts = 0;
        for ((id, alias), pending) in b_sessions.iter().zip(&b_pending) {
            attempts += 8;
            seen += usize::from(a.session(id).await.is_ok());
            seen += usize::from(a.session_by_alias(alias).await.is_ok());
            seen += a.artefacts(id).await.unwrap().len().min(1);
            seen += usize::from(a.artefact(id, "far.jpg").await.is_ok());
            seen += usize::from(a.read_artefact(id, "near.jpg").await.is_ok());
            seen += usize::from(a.sign_artefact(id, "far.jpg", None).await.is_ok());
            seen += usize::from(a.consume(pending).await.is_ok());
            seen += usize::from(a.begin_fill(pending).await.is_ok());
            // Refusals look exactly like unknown ids: nothing to probe.
            assert!(matches!(
                a.session(id).await,
                Err(StoreError::NotFound { .. })
            ));
        }
        assert_eq!(
            seen, 0,
            "tenant A saw {seen} of {attempts} reads of tenant B"
        );
    }

    // Positive control: B sees all of its own, and A's attempts consumed nothing of B's.
    let mut own = 0;
    for ((id, alias), pending) in b_sessions.iter().zip(&b_pending) {
        let s = b.session(id).await.unwrap();
        assert_eq!(&b.session_by_alias(alias).await.unwrap().id, id);
        assert_eq!(b.artefacts(id).await.unwrap().len(), 2);
        let (meta, bytes) = b.read_artefact(id, "near.jpg").await.unwrap();
        assert_eq!(meta.size as usize, bytes.len());
        b.consume(pending).await.unwrap();
        own += usize::from(s.tenant_id == b.tenant_id());
    }
    assert_eq!(own, N as usize);

    // A signed URL of B's relabelled for A (or A's signature on B's key) is a forgery.
    let (b_id, _) = &b_sessions[0];
    let b_url = b.sign_artefact(b_id, "far.jpg", None).await.unwrap();
    let relabelled = SignedUrl {
        tenant_id: by_key.tenant_id().to_owned(),
        ..b_url.clone()
    };
    assert!(matches!(
        h.store.open_signed_url(&relabelled).await,
        Err(StoreError::Forbidden { .. })
    ));
    let a_session = committed(&by_key, 99).await.0;
    let a_url = by_key
        .sign_artefact(&a_session, "far.jpg", None)
        .await
        .unwrap();
    let spliced = SignedUrl {
        signature: a_url.signature.clone(),
        ..b_url.clone()
    };
    assert!(matches!(
        h.store.open_signed_url(&spliced).await,
        Err(StoreError::Forbidden { .. })
    ));
    h.store.open_signed_url(&b_url).await.unwrap();
}

#[tokio::test]
async fn secrets_are_not_stored_in_plain_text() {
    let h = harness().await;
    let (creds, scope) = h.tenant("acme").await;
    let pair = scope.hpke_key_pair().await.unwrap();
    let private_hex: String = pair
        .private_key
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = creds.advance_secret_key.to_string();
    let api_key = creds.fpt_api_key.to_string();
    let forbidden = [
        api_key.clone(),
        api_key["fpk_".len()..].to_owned(),
        secret.clone(),
        secret["fps_".len()..].to_owned(),
        private_hex,
    ];

    let raw = h.raw_db().await;
    let rows = sqlx::query(
        "SELECT c.id, c.kind, c.lookup, c.public_value, c.sealed_secret, t.name, t.settings \
         FROM credentials c JOIN tenants t ON t.id = c.tenant_id",
    )
    .fetch_all(&raw)
    .await
    .unwrap();
    assert_eq!(rows.len(), 3);
    let mut stored = String::new();
    for row in &rows {
        for col in [
            "id",
            "kind",
            "lookup",
            "public_value",
            "sealed_secret",
            "name",
            "settings",
        ] {
            if let Some(v) = row.try_get::<Option<String>, _>(col).unwrap() {
                stored.push_str(&v);
                stored.push('\n');
            }
        }
        let kind: String = row.get("kind");
        let lookup: String = row.get("lookup");
        let sealed: Option<String> = row.get("sealed_secret");
        match kind.as_str() {
            "fpt_api_key" => {
                let digest: String = Sha256::digest(api_key.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                assert_eq!(lookup, digest, "API key stored as its SHA-256");
                assert!(sealed.is_none());
            }
            "advance_access_key" | "hpke_x25519" => {
                let sealed = sealed.expect("secret sealed");
                assert!(sealed.starts_with("v1."), "{sealed}");
                assert!(sealed.len() > 60);
            }
            other => panic!("unexpected credential kind {other}"),
        }
    }
    for secret in &forbidden {
        assert!(
            !stored.contains(secret.as_str()),
            "a secret is stored in clear"
        );
    }
    // On SQLite, not even the database files (main + write-ahead log) hold the secrets.
    if h.cfg.database_url.starts_with("sqlite") {
        let db = h.dir.path().join("faceproof.db");
        let mut bytes = std::fs::read(&db).unwrap();
        if let Ok(wal) = std::fs::read(db.with_extension("db-wal")) {
            bytes.extend(wal);
        }
        for secret in &forbidden {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret is in the database file"
            );
        }
    }

    // The sealed secret opens only under the same master key.
    let other_key = h.dir.path().join("other.key");
    let other = Store::open(faceproof_store::StoreConfig {
        master_key: MasterKeyConfig {
            env: None,
            file: other_key,
            generate: true,
        },
        ..h.cfg.clone()
    })
    .await
    .unwrap();
    let err = other
        .authenticate_access_key(&creds.advance_access_key, |_| true)
        .await
        .unwrap_err();
    assert!(err.is_backend(), "{err}");
    assert!(other.authenticate_api_key(&api_key).await.is_ok());
}

#[cfg(unix)]
#[tokio::test]
async fn master_key_is_generated_private_and_reused() {
    use std::os::unix::fs::PermissionsExt;
    let h = harness().await;
    let (creds, _) = h.tenant("keyed").await;
    let file = &h.cfg.master_key.file;
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        std::fs::metadata(file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A second start reads the same key: sealed secrets still open.
    let again = Store::open(h.cfg.clone()).await.unwrap();
    let mut seen = None;
    again
        .authenticate_access_key(&creds.advance_access_key, |s| {
            seen = Some(s.to_vec());
            true
        })
        .await
        .unwrap();
    assert_eq!(seen.unwrap(), creds.advance_secret_key.as_bytes());
    assert_eq!(std::fs::read_to_string(file).unwrap(), text);

    // A key file readable by others is refused.
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Store::open(h.cfg.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err}");

    // Missing and generation disabled: refused, nothing created.
    let mut cfg = h.cfg.clone();
    cfg.master_key.file = h.dir.path().join("absent.key");
    cfg.master_key.generate = false;
    assert!(matches!(
        Store::open(cfg.clone()).await,
        Err(StoreError::Config { .. })
    ));
    assert!(!cfg.master_key.file.exists());
}

#[tokio::test]
async fn revocation_is_immediate() {
    let h = harness().await;
    let (creds, scope) = h.tenant("leaving").await;
    let (_, other) = h.tenant("staying").await;
    let (id, _) = committed(&scope, 1).await;
    let url = scope.sign_artefact(&id, "far.jpg", None).await.unwrap();
    let token_scope = h
        .store
        .authenticate_access_key(&creds.advance_access_key, |s| {
            s == creds.advance_secret_key.as_bytes()
        })
        .await
        .unwrap();
    let token = token_scope.issue_access_token(None).unwrap();
    let mut in_flight = scope
        .begin_session(NewSession::new(Api::Fpt, "liveness"))
        .await
        .unwrap();
    in_flight
        .put("frame.jpg", "image/jpeg", blob(5, 100))
        .await
        .unwrap();

    let info = h.store.revoke_tenant("leaving").await.unwrap();
    assert_eq!(info.revoked_at_ms, Some(crate::common::T0));

    let forbidden = |r: Result<TenantStore, StoreError>| {
        assert!(
            matches!(r, Err(StoreError::Forbidden { .. })),
            "expected Forbidden, got {:?}",
            r.map(|s| s.tenant_id().to_owned())
        )
    };
    forbidden(h.store.authenticate_api_key(&creds.fpt_api_key).await);
    forbidden(
        h.store
            .authenticate_access_key(&creds.advance_access_key, |_| true)
            .await,
    );
    forbidden(h.store.authenticate_token(&token.token).await);
    forbidden(h.store.tenant_scope(scope.tenant_id()).await);
    assert!(matches!(
        h.store.open_signed_url(&url).await,
        Err(StoreError::Forbidden { .. })
    ));
    // Handles obtained before the revocation cannot write any more.
    assert!(matches!(
        scope
            .begin_session(NewSession::new(Api::Fpt, "liveness"))
            .await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        scope
            .create_session(NewSession::new(Api::Advance, "capture"))
            .await,
        Err(StoreError::Forbidden { .. })
    ));
    let sid = in_flight.session_id().to_owned();
    assert!(matches!(
        in_flight.commit(SessionStatus::Complete, None).await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        scope.session(&sid).await,
        Err(StoreError::NotFound { .. })
    ));

    // The other tenant is untouched; revoking twice is harmless.
    committed(&other, 2).await;
    assert_eq!(
        h.store
            .revoke_tenant(scope.tenant_id())
            .await
            .unwrap()
            .revoked_at_ms,
        Some(crate::common::T0)
    );
    let list = h.store.list_tenants().await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .any(|t| t.name == "leaving" && t.revoked_at_ms.is_some())
    );
    assert!(
        list.iter()
            .any(|t| t.name == "staying" && t.revoked_at_ms.is_none())
    );
}

#[tokio::test]
async fn admin_list_shows_no_secrets() {
    let h = harness().await;
    let one = h
        .store
        .create_tenant(
            "one",
            TenantSettings {
                silent_accept_plain: true,
                ..TenantSettings::default()
            },
        )
        .await
        .unwrap();
    let two = h
        .store
        .create_tenant("two", TenantSettings::default())
        .await
        .unwrap();
    assert!(matches!(
        h.store
            .create_tenant("one", TenantSettings::default())
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        h.store
            .create_tenant("bad name", TenantSettings::default())
            .await,
        Err(StoreError::Invalid { .. })
    ));

    let list = h.store.list_tenants().await.unwrap();
    assert_eq!(
        list.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["one", "two"]
    );
    assert!(list[0].settings.silent_accept_plain);
    let text = format!(
        "{}{:?}{:?}{:?}",
        serde_json::to_string(&list).unwrap(),
        list,
        one,
        two
    );
    for issued in [&one, &two] {
        assert!(!text.contains(issued.fpt_api_key.as_str()));
        assert!(!text.contains(issued.advance_secret_key.as_str()));
        // Public parts are listed.
        assert!(text.contains(&issued.advance_access_key));
        assert!(text.contains(&issued.fpt_api_key[..12]));
        assert!(text.contains(&issued.hpke_public_key));
    }
    for t in &list {
        let kinds: Vec<_> = t.credentials.iter().map(|c| c.kind).collect();
        assert_eq!(kinds.len(), 3, "one credential of each kind: {kinds:?}");
        for k in [
            CredentialKind::FptApiKey,
            CredentialKind::AdvanceAccessKey,
            CredentialKind::HpkeX25519,
        ] {
            assert!(kinds.contains(&k));
        }
    }
    assert_eq!(h.store.tenant(&one.tenant_id).await.unwrap().name, "one");
    let scope = h.store.tenant_scope(&two.tenant_id).await.unwrap();
    assert!(!scope.settings().await.unwrap().silent_accept_plain);
    h.store
        .set_tenant_settings(
            "two",
            &TenantSettings {
                silent_accept_plain: true,
                ..TenantSettings::default()
            },
        )
        .await
        .unwrap();
    assert!(scope.settings().await.unwrap().silent_accept_plain);
    assert!(matches!(
        h.store.tenant("nobody").await,
        Err(StoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn access_keys_tokens_and_rotation() {
    let h = harness().await;
    let (creds, by_api_key) = h.tenant("adv").await;
    let msg = b"accessKey+timestamp";
    let good = hmac_tag(creds.advance_secret_key.as_bytes(), msg);
    let scope = h
        .store
        .authenticate_access_hmac(&creds.advance_access_key, msg, &good)
        .await
        .unwrap();
    assert_eq!(scope.tenant_id(), creds.tenant_id);
    assert_eq!(
        scope.authenticated_by(),
        Some(CredentialKind::AdvanceAccessKey)
    );
    let mut bad = good.clone();
    bad[0] ^= 1;
    for r in [
        h.store
            .authenticate_access_hmac(&creds.advance_access_key, msg, &bad)
            .await,
        h.store
            .authenticate_access_hmac(&creds.advance_access_key, b"other", &good)
            .await,
        h.store
            .authenticate_access_hmac("fpa_unknown", msg, &good)
            .await,
        h.store.authenticate_api_key("fpk_unknown").await,
        h.store
            .authenticate_api_key(&creds.advance_secret_key)
            .await,
    ] {
        assert!(matches!(r, Err(StoreError::Forbidden { .. })));
    }

    // Tokens: only from an access key; valid until their expiry, then Expired; tampering is Forbidden.
    assert!(matches!(
        by_api_key.issue_access_token(None),
        Err(StoreError::Forbidden { .. })
    ));
    let token = scope.issue_access_token(None).unwrap();
    assert_eq!(token.expires_at_ms, crate::common::T0 + 3_600_000);
    let again = h.store.authenticate_token(&token.token).await.unwrap();
    assert_eq!(again.tenant_id(), creds.tenant_id);
    let short = scope
        .issue_access_token(Some(Duration::from_secs(60)))
        .unwrap();
    let mut tampered = token.token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let longer = token.token.replace(
        &token.expires_at_ms.to_string(),
        &(token.expires_at_ms + 86_400_000).to_string(),
    );
    for t in [
        tampered.as_str(),
        longer.as_str(),
        "fpat1.x.y.z",
        "",
        "garbage",
    ] {
        assert!(
            matches!(
                h.store.authenticate_token(t).await,
                Err(StoreError::Forbidden { .. })
            ),
            "{t}"
        );
    }
    h.clock.advance(Duration::from_secs(60));
    assert!(matches!(
        h.store.authenticate_token(&short.token).await,
        Err(StoreError::Expired { .. })
    ));
    h.store.authenticate_token(&token.token).await.unwrap();

    // Rotation: the old API key, access key and tokens stop working at once; the new ones work.
    let new = h.store.rotate_credentials("adv").await.unwrap();
    assert_eq!(new.tenant_id, creds.tenant_id);
    assert!(matches!(
        h.store.authenticate_api_key(&creds.fpt_api_key).await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        h.store.authenticate_token(&token.token).await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        h.store
            .authenticate_access_hmac(&creds.advance_access_key, msg, &good)
            .await,
        Err(StoreError::Forbidden { .. })
    ));
    let rotated = h
        .store
        .authenticate_api_key(&new.fpt_api_key)
        .await
        .unwrap();
    assert_eq!(
        rotated.hpke_public_key().await.unwrap().key_id,
        new.hpke_key_id
    );
}

#[tokio::test]
async fn hpke_key_pairs_are_per_tenant_and_consistent() {
    let h = harness().await;
    let (c1, s1) = h.tenant("h1").await;
    let (c2, s2) = h.tenant("h2").await;
    let p1 = s1.hpke_public_key().await.unwrap();
    let k1 = s1.hpke_key_pair().await.unwrap();
    let k2 = s2.hpke_key_pair().await.unwrap();
    assert_eq!(p1.key_id, c1.hpke_key_id);
    assert_eq!(k1.public_key, p1.public_key);
    assert_eq!(k2.key_id, c2.hpke_key_id);
    assert_ne!(k1.public_key, k2.public_key);
    assert_ne!(*k1.private_key, *k2.private_key);
    // The private key really belongs to the public one: X25519(private, 9) == public.
    let derived = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*k1.private_key));
    assert_eq!(derived.to_bytes(), k1.public_key);
    assert!(!format!("{k1:?}").contains(&format!("{:?}", *k1.private_key)));
}

/// A tenant named with another tenant's id used to be created, and `revoke <id>` then revoked
/// both (`id = $1 OR name = $1`). Names shaped like ids are refused; lookups are by id or by name,
/// never both.
#[tokio::test]
async fn tenant_ids_and_names_never_collide() {
    let h = harness().await;
    let (victim, _) = h.tenant("victim").await;
    for name in [
        victim.tenant_id.clone(),
        victim.tenant_id.to_uppercase(),
        "00000000-0000-4000-8000-000000000000".to_owned(),
    ] {
        let r = h
            .store
            .create_tenant(&name, TenantSettings::default())
            .await;
        assert!(
            matches!(r, Err(StoreError::Invalid { .. })),
            "a name shaped like an id was accepted: {name}"
        );
    }
    let (other, _) = h.tenant("other").await;
    // A name that only resembles an id is still a name.
    let (near, _) = h.tenant("0000000-not-an-id").await;
    assert_eq!(
        h.store.tenant("0000000-not-an-id").await.unwrap().id,
        near.tenant_id
    );

    let info = h.store.revoke_tenant(&victim.tenant_id).await.unwrap();
    assert_eq!(info.id, victim.tenant_id);
    let list = h.store.list_tenants().await.unwrap();
    let revoked: Vec<&str> = list
        .iter()
        .filter(|t| t.revoked_at_ms.is_some())
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(revoked, [victim.tenant_id.as_str()]);
    // Rotation by id and by name acts on that tenant only.
    let rotated = h.store.rotate_credentials(&other.tenant_id).await.unwrap();
    assert_eq!(rotated.tenant_id, other.tenant_id);
    let rotated = h.store.rotate_credentials("other").await.unwrap();
    assert_eq!(rotated.tenant_id, other.tenant_id);
    assert!(matches!(
        h.store.rotate_credentials("victim").await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        h.store.tenant("no-such-tenant").await,
        Err(StoreError::NotFound { .. })
    ));
}
