//! Retention purge counts, the background task, migrations, configuration.

use std::time::Duration;

use faceproof_store::{
    Api, NewSession, PurgeReport, SessionStatus, Store, StoreConfig, StoreError, TenantStore,
    migration_count,
};
use serde_json::json;

use crate::common::{T0, blob, harness, harness_with};

const HOUR: i64 = 3600 * 1000;
const DAY: i64 = 24 * HOUR;

async fn session_with(t: &TenantStore, artefacts: u32) -> String {
    let mut up = t
        .begin_session(NewSession::new(Api::Fpt, "liveness"))
        .await
        .unwrap();
    for i in 0..artefacts {
        up.put(&format!("frame-{i}.jpg"), "image/jpeg", blob(i, 256))
            .await
            .unwrap();
    }
    up.commit(SessionStatus::Complete, Some(&json!({"code": "200"})))
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn purge_counts_follow_the_retention_rules() {
    // A batch of 2 makes every rule loop over several batches.
    let h = harness_with(|c| c.purge_batch = 2).await;
    let (_, t) = h.tenant("retention").await;
    let (_, u) = h.tenant("retention-2").await;

    let mut early = Vec::new();
    for _ in 0..3 {
        early.push(session_with(&t, 2).await);
    }
    early.push(session_with(&u, 1).await);
    h.clock.set(T0 + 12 * HOUR);
    let late = [session_with(&t, 1).await, session_with(&u, 1).await];
    let pending = t
        .create_session(NewSession::new(Api::Advance, "capture"))
        .await
        .unwrap();
    assert_eq!(h.object_keys().await.len(), 9);

    // Nothing due yet.
    assert_eq!(h.store.purge().await.unwrap(), PurgeReport::default());

    // 24 h after the first batch: its 7 images go, the unfilled pending session too.
    h.clock.set(T0 + DAY);
    let r = h.store.purge().await.unwrap();
    assert_eq!(
        r,
        PurgeReport {
            artefacts: 7,
            objects: 7,
            sessions: 1,
            uploads: 0,
            grants: 0,
            webhooks: 0,
            failures: 0
        }
    );
    assert!(matches!(
        t.session(&pending.id).await,
        Err(StoreError::NotFound { .. })
    ));
    for id in &early[..3] {
        assert!(t.artefacts(id).await.unwrap().is_empty());
        assert_eq!(
            t.session(id).await.unwrap().result,
            Some(json!({"code": "200"}))
        );
    }
    t.read_artefact(&late[0], "frame-0.jpg").await.unwrap();
    assert_eq!(h.object_keys().await.len(), 2);
    // A second purge at the same time finds nothing.
    assert_eq!(h.store.purge().await.unwrap(), PurgeReport::default());

    h.clock.set(T0 + 12 * HOUR + DAY);
    let r = h.store.purge().await.unwrap();
    assert_eq!((r.artefacts, r.objects, r.sessions), (2, 2, 0));
    assert!(h.object_keys().await.is_empty());

    // Results: 30 days after creation.
    h.clock.set(T0 + 30 * DAY - 1);
    assert_eq!(h.store.purge().await.unwrap().sessions, 0);
    h.clock.set(T0 + 30 * DAY);
    assert_eq!(h.store.purge().await.unwrap().sessions, 4);
    for id in &early[..3] {
        assert!(matches!(
            t.session(id).await,
            Err(StoreError::NotFound { .. })
        ));
    }
    t.session(&late[0]).await.unwrap();
    h.clock.set(T0 + 12 * HOUR + 30 * DAY);
    assert_eq!(h.store.purge().await.unwrap().sessions, 2);

    let raw = h.raw_db().await;
    for sql in [
        "SELECT COUNT(*) FROM sessions",
        "SELECT COUNT(*) FROM artefacts",
        "SELECT COUNT(*) FROM uploads",
    ] {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&raw).await.unwrap();
        assert_eq!(n, 0, "{sql}");
    }
    // Tenants are not subject to retention.
    assert_eq!(h.store.list_tenants().await.unwrap().len(), 2);
}

#[tokio::test]
async fn session_purge_removes_artefacts_not_yet_expired() {
    // Results kept shorter than images (an operator's choice): the session takes its images along.
    let h = harness_with(|c| {
        c.result_ttl_secs = 3600;
        c.artefact_ttl_secs = 7200;
    })
    .await;
    let (_, t) = h.tenant("short").await;
    let id = session_with(&t, 3).await;
    h.clock.set(T0 + HOUR);
    let r = h.store.purge().await.unwrap();
    assert_eq!((r.sessions, r.artefacts, r.objects), (1, 3, 3));
    assert!(matches!(
        t.session(&id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(h.object_keys().await.is_empty());
}

#[tokio::test]
async fn background_task_purges_on_its_interval() {
    let h = harness().await;
    let (_, t) = h.tenant("bg").await;
    for _ in 0..3 {
        session_with(&t, 2).await;
    }
    let mut task = h.store.spawn_retention(Duration::from_millis(50));
    // First run at start: nothing due.
    assert_eq!(task.next_report().await, Some(PurgeReport::default()));
    h.clock.set(T0 + DAY);
    let mut total = PurgeReport::default();
    for _ in 0..40 {
        let r = tokio::time::timeout(Duration::from_secs(5), task.next_report())
            .await
            .expect("the task keeps running")
            .unwrap();
        total.artefacts += r.artefacts;
        total.objects += r.objects;
        if total.artefacts == 6 {
            break;
        }
    }
    assert_eq!((total.artefacts, total.objects), (6, 6));
    task.stop().await;
    assert!(h.object_keys().await.is_empty());
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let h = harness().await;
    let (creds, t) = h.tenant("persist").await;
    let id = session_with(&t, 1).await;
    h.store.migrate().await.unwrap();
    h.store.migrate().await.unwrap();
    // A second process start on the same database and artefacts.
    let again = Store::open_with_clock(h.cfg.clone(), h.clock.clone())
        .await
        .unwrap();
    let t2 = again
        .authenticate_api_key(&creds.fpt_api_key)
        .await
        .unwrap();
    assert_eq!(t2.session(&id).await.unwrap().id, id);
    t2.read_artefact(&id, "frame-0.jpg").await.unwrap();

    let raw = h.raw_db().await;
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&raw)
            .await
            .unwrap();
    assert_eq!(applied, migration_count() as i64);
    assert_eq!(migration_count(), 8);
}

#[test]
fn config_defaults_and_parsing() {
    let d = StoreConfig::default();
    assert!(d.database_url.starts_with("sqlite://"));
    assert!(d.database_url.ends_with("/faceproof.db"));
    assert!(d.artefacts.ends_with("/artefacts"));
    assert!(d.master_key.file.ends_with("master.key"));
    assert_eq!(d.master_key.env.as_deref(), Some("FACEPROOF_MASTER_KEY"));
    assert_eq!(d.artefact_ttl_secs, 24 * 3600);
    assert_eq!(d.result_ttl_secs, 30 * 24 * 3600);
    assert_eq!(d.signed_url_ttl_secs, 24 * 3600);
    assert_eq!(d.access_token_ttl_secs, 3600);

    let c: StoreConfig = toml::from_str(
        r#"
        database_url = "postgres://app:app@127.0.0.1:5432/app"
        artefacts = "s3://bucket/prefix"
        artefact_ttl_secs = 600
        [s3]
        endpoint = "http://127.0.0.1:9000"
        secret_access_key = "very-secret"
        allow_http = true
        [master_key]
        file = "/etc/faceproof/master.key"
        "#,
    )
    .unwrap();
    assert_eq!(c.artefact_ttl_secs, 600);
    assert_eq!(c.result_ttl_secs, 30 * 24 * 3600);
    assert_eq!(c.master_key.env.as_deref(), Some("FACEPROOF_MASTER_KEY"));
    assert!(c.master_key.generate);
    assert!(!format!("{c:?}").contains("very-secret"));
    assert!(toml::from_str::<StoreConfig>("artefact_ttl = 5").is_err());
}
