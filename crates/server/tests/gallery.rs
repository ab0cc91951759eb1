//! 1:N search on real faces (`../shared/data/faces`): the gallery step between the engine's
//! verdict and the adapters, the tenant's gallery routes, and two replicas on one store.
//!
//! Templates come from the real embedder on the photos (largest face, EXIF honoured); the verdict
//! they ride on is a hand-built passing verdict (`fixtures::live`), because the photos are not
//! videos: what is tested here is the search, the store and the index, not liveness. The
//! people are held out of nothing the gallery fits (the gallery fits nothing: its threshold comes
//! from the engine's FAR model, calibrated on LFW, not on `faces/`).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, engine, shared};
use faceproof_engine::check::{FaceTemplate, ReasonCode, Severity, Verdict};
use faceproof_server::gallery::{Probe, Replica, block_session, enrol_session, screen};
use faceproof_server::{AppState, ServerConfig};
use faceproof_store::{
    Api, GallerySettings, NewSession, SessionStatus, TenantSettings, TenantStore,
};
use faceproof_vision::{AnalyzeOptions, largest};
use serde_json::json;

/// The embedder's template of the largest face of a photo under `faces/`.
fn template(photo: &str) -> FaceTemplate {
    let bytes = shared(&format!("faces/{photo}"));
    let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
    let engine = engine();
    let vision = engine.vision();
    let opts = AnalyzeOptions::ALIGN_ONLY;
    let faces = vision.analyze(&img, &opts).unwrap();
    let face = largest(&faces).unwrap_or_else(|| panic!("no face in {photo}"));
    FaceTemplate {
        embedder: vision.embedder().kind().name(),
        embedding: vision.embed(&img, face).unwrap(),
    }
}

/// A passing verdict carrying the photo's template.
fn verdict_of(photo: &str) -> Verdict {
    Verdict {
        template: Some(template(photo)),
        ..faceproof_server::fixtures::live()
    }
}

async fn tenant(h: &Harness, name: &str, duplicate_is_error: bool) -> TenantStore {
    let settings = TenantSettings {
        gallery: GallerySettings {
            enabled: true,
            duplicate_is_error,
        },
        ..TenantSettings::default()
    };
    let c = h.store.create_tenant(name, settings).await.unwrap();
    h.store.tenant_scope(&c.tenant_id).await.unwrap()
}

fn probe(t: &TenantStore, r: Option<&str>) -> Probe {
    Probe {
        tenant: t.clone(),
        external_ref: r.map(str::to_owned),
    }
}

/// Screens a photo under a reference and commits a session with the verdict (as a handler does).
async fn check(h: &Harness, t: &TenantStore, photo: &str, r: Option<&str>) -> (Verdict, String) {
    let mut v = verdict_of(photo);
    screen(&h.state, &probe(t, r), &mut v).await.unwrap();
    let result = json!({"verdict": &v});
    let session = t
        .begin_session(NewSession::new(Api::Fpt, "liveness"))
        .await
        .unwrap()
        .commit(SessionStatus::Complete, Some(&result))
        .await
        .unwrap();
    // The stored verdict has the search and no embedding.
    let stored = session.result.unwrap();
    assert!(stored["verdict"].get("template").is_none());
    assert!(!stored.to_string().contains("embedding"));
    (v, session.id)
}

fn hit_ref(v: &Verdict) -> Option<String> {
    v.identity
        .as_ref()?
        .hits
        .first()
        .and_then(|h| h.external_ref.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_person_under_two_references_is_found_and_others_are_not() {
    let h = Harness::new().await;
    let t = tenant(&h, "bank", false).await;
    // Enrol six people, each under their own reference.
    for (photo, r) in [
        ("obama/1.jpg", "cust-obama"),
        ("biden/1.jpg", "cust-biden"),
        ("kit_harington/1.jpg", "cust-kit"),
        ("rose_leslie/1.jpg", "cust-rose"),
        ("cai_xukun/1.jpg", "cust-cai"),
        ("robert_downey_jr/1.jpg", "cust-rdj"),
    ] {
        let (v, _) = check(&h, &t, photo, Some(r)).await;
        assert!(
            !v.has(ReasonCode::DuplicateIdentity),
            "{photo}: {:?}",
            v.identity
        );
        let id = v.identity.as_ref().unwrap();
        assert!(id.enrolled, "{photo} passed with a reference: enrolled");
    }
    assert_eq!(h.state.gallery.len(), 6);

    // Another photo of Obama under a new reference: a duplicate of cust-obama (a warning here).
    let (v, _) = check(&h, &t, "obama/2.jpg", Some("cust-new-1")).await;
    let r = v
        .codes
        .iter()
        .find(|r| r.code == ReasonCode::DuplicateIdentity);
    let r = r.unwrap_or_else(|| panic!("duplicate not found: {:?}", v.identity));
    assert_eq!(r.severity, Severity::Warning);
    assert_eq!(hit_ref(&v).as_deref(), Some("cust-obama"));
    let hit = &v.identity.as_ref().unwrap().hits[0];
    assert!(hit.cosine >= hit.threshold && hit.threshold >= engine().match_threshold());
    assert!(hit.far_at_gallery >= hit.far_per_comparison);
    assert_eq!(hit.gallery_size, 6);
    assert!(
        !v.identity.as_ref().unwrap().enrolled,
        "a flagged face waits for a review"
    );

    // Under its own reference it is not a duplicate of itself.
    let (v, _) = check(&h, &t, "obama/3.jpg", Some("cust-obama")).await;
    assert!(!v.has(ReasonCode::DuplicateIdentity), "{:?}", v.identity);

    // People never enrolled match nobody.
    for photo in [
        "single/paul_rudd.jpg",
        "single/kate_siegel.jpg",
        "alex_lacamoire/1.jpg",
        "rob_lowe/1.jpg",
    ] {
        let (v, _) = check(&h, &t, photo, Some(&format!("walk-in-{photo}"))).await;
        assert!(
            !v.has(ReasonCode::DuplicateIdentity),
            "{photo} matched {:?}",
            v.identity
        );
    }
    // Biden's second photo matches Biden, not Obama.
    let (v, _) = check(&h, &t, "biden/2.jpg", Some("cust-new-2")).await;
    assert_eq!(
        hit_ref(&v).as_deref(),
        Some("cust-biden"),
        "{:?}",
        v.identity
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_as_error_fails_and_is_not_enrolled_and_tenants_are_isolated() {
    let h = Harness::new().await;
    let strict = tenant(&h, "strict", true).await;
    let other = tenant(&h, "other", false).await;
    let off = h
        .store
        .create_tenant("off", TenantSettings::default())
        .await
        .unwrap();
    let off = h.store.tenant_scope(&off.tenant_id).await.unwrap();
    check(&h, &strict, "kit_harington/1.jpg", Some("k1")).await;

    let (v, _) = check(&h, &strict, "kit_harington/2.jpg", Some("k2")).await;
    assert!(v.has(ReasonCode::DuplicateIdentity));
    assert!(!v.passed(), "duplicate set to error fails the verdict");
    assert!(
        !v.identity.as_ref().unwrap().enrolled,
        "a failed check is kept as a probe only"
    );

    // The same face at another tenant: nothing found there (and it enrols there).
    let (v, _) = check(&h, &other, "kit_harington/2.jpg", Some("k1")).await;
    assert!(!v.has(ReasonCode::DuplicateIdentity), "{:?}", v.identity);
    assert_eq!(v.identity.as_ref().unwrap().enrolled_searched, 0);
    // A tenant without the gallery: no search, nothing stored.
    let before = h.count("gallery_templates").await;
    let (v, _) = check(&h, &off, "kit_harington/3.jpg", Some("k1")).await;
    assert!(v.identity.is_none());
    assert_eq!(h.count("gallery_templates").await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocklist_hit_and_deletion_by_reference_really_removes() {
    let h = Harness::new().await;
    let t = tenant(&h, "bank", false).await;
    // A fraudster's session (no reference: not enrolled), blocklisted by an operator.
    let (v, fraud_session) = check(&h, &t, "robert_downey_jr/1.jpg", None).await;
    assert!(!v.identity.as_ref().unwrap().enrolled);
    let entry = block_session(&h.state, &t, &fraud_session, Some("op@bank"), "fraud ring")
        .await
        .unwrap();
    assert!(h.state.gallery.contains(t.tenant_id(), &entry.id));
    // The same face again, under any reference: blocklisted (an error).
    let (v, _) = check(&h, &t, "robert_downey_jr/2.jpg", Some("cust-x")).await;
    let r = v
        .codes
        .iter()
        .find(|r| r.code == ReasonCode::Blocklisted)
        .unwrap();
    assert_eq!(r.severity, Severity::Error);
    assert!(!v.passed());
    // Someone else is not.
    let (v, _) = check(&h, &t, "rose_leslie/1.jpg", Some("cust-rose")).await;
    assert!(!v.has(ReasonCode::Blocklisted));
    assert!(v.identity.as_ref().unwrap().enrolled);

    // An approved review enrols a session that did not pass.
    let (_, s) = check(&h, &t, "cai_xukun/1.jpg", None).await;
    let e = enrol_session(&h.state, &t, &s, Some("cust-cai"))
        .await
        .unwrap();
    let (v, _) = check(&h, &t, "cai_xukun/2.jpg", Some("cust-cai-2")).await;
    assert_eq!(hit_ref(&v).as_deref(), Some("cust-cai"), "{:?}", v.identity);
    assert!(h.state.gallery.contains(t.tenant_id(), &e.id));

    // DELETE by reference (the tenant's API key): index and database lose every row of it.
    let key = h
        .store
        .rotate_credentials("bank")
        .await
        .unwrap()
        .fpt_api_key;
    let req = Request::delete("/v1/gallery/cust-rose")
        .header("api-key", &*key)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = h.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deleted"], 1);
    let (v, _) = check(&h, &t, "rose_leslie/2.jpg", Some("cust-rose-2")).await;
    assert!(
        !v.has(ReasonCode::DuplicateIdentity),
        "deleted identity still found"
    );
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&h.store.config().database_url)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM gallery_templates WHERE external_ref = 'cust-rose' AND sealed IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "sealed template left in the database");
    pool.close().await;
    // Without a credential: 401; another tenant's reference: nothing deleted.
    let req = Request::delete("/v1/gallery/cust-cai")
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(req).await.0, StatusCode::UNAUTHORIZED);

    // The blocklist route: add from a session, then remove the entry.
    let (_, s) = check(&h, &t, "alex_lacamoire/1.jpg", None).await;
    let req = Request::post("/v1/gallery/blocklist")
        .header("api-key", &*key)
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"session_id": s, "reason": "stolen id"}).to_string(),
        ))
        .unwrap();
    let (status, _, body) = h.send(req).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let entry = body["entry_id"].as_str().unwrap().to_owned();
    let (v, _) = check(&h, &t, "alex_lacamoire/2.jpg", None).await;
    assert!(v.has(ReasonCode::Blocklisted));
    let req = Request::delete(format!("/v1/gallery/blocklist/{entry}"))
        .header("api-key", &*key)
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(req).await.0, StatusCode::OK);
    assert!(!h.state.gallery.contains(t.tenant_id(), &entry));
    let (v, _) = check(&h, &t, "alex_lacamoire/3.png", None).await;
    assert!(!v.has(ReasonCode::Blocklisted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_replica_finds_enrolments_and_drops_deletions_after_a_refresh() {
    let h = Harness::new().await;
    let t = tenant(&h, "bank", false).await;
    let b = AppState::with_gallery(
        engine(),
        h.store.clone(),
        ServerConfig::default(),
        Default::default(),
    );
    b.gallery.refresh(&h.store).await.unwrap();
    check(&h, &t, "obama/1.jpg", Some("cust-obama")).await;
    // Replica B has not refreshed yet: nothing to find there. (B's probes carry no reference,
    // so B enrols nothing of its own.)
    let mut v = verdict_of("obama/2.jpg");
    screen(&b, &probe(&t, None), &mut v).await.unwrap();
    assert!(!v.has(ReasonCode::DuplicateIdentity));
    // After its refresh (what its timer does every refresh_interval_ms) it is found.
    b.gallery.refresh(&h.store).await.unwrap();
    let mut v = verdict_of("obama/2.jpg");
    screen(&b, &probe(&t, None), &mut v).await.unwrap();
    assert_eq!(hit_ref(&v).as_deref(), Some("cust-obama"));
    // Deleted on A (the CLI's path: the store), gone from B after its refresh.
    t.delete_templates_by_ref("cust-obama").await.unwrap();
    b.gallery.refresh(&h.store).await.unwrap();
    let mut v = verdict_of("obama/3.jpg");
    screen(&b, &probe(&t, None), &mut v).await.unwrap();
    assert!(!v.has(ReasonCode::DuplicateIdentity), "{:?}", v.identity);
    // A fresh replica loads the whole gallery at start, tombstones and all.
    let c = Replica::new(Default::default(), b.gallery.embedder());
    c.refresh(&h.store).await.unwrap();
    assert_eq!(c.len(), b.gallery.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_templates_with_the_sessions() {
    let h = Harness::new().await;
    let t = tenant(&h, "bank", false).await;
    check(&h, &t, "biden/1.jpg", Some("cust-biden")).await;
    let (_, s) = check(&h, &t, "rob_lowe/1.jpg", None).await;
    block_session(&h.state, &t, &s, None, "fraud")
        .await
        .unwrap();
    h.clock.advance(std::time::Duration::from_secs(
        h.store.config().result_ttl_secs + 1,
    ));
    h.store.purge().await.unwrap();
    h.state.gallery.refresh(&h.store).await.unwrap();
    // The enrolment went with its session's retention; the blocklist entry stays.
    let mut v = verdict_of("biden/2.jpg");
    screen(&h.state, &probe(&t, Some("z")), &mut v)
        .await
        .unwrap();
    assert!(!v.has(ReasonCode::DuplicateIdentity));
    let mut v = verdict_of("rob_lowe/2.jpg");
    screen(&h.state, &probe(&t, Some("z")), &mut v)
        .await
        .unwrap();
    assert!(v.has(ReasonCode::Blocklisted));
}

/// The whole path over HTTP: an FPT upload with `x-external-ref` is judged by the real engine,
/// screened and enrolled by the one call site in `judge.rs`; the same face under another
/// reference is flagged in the stored verdict, and the FPT answer stays the vendor's shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fpt_upload_enrols_and_the_same_face_under_another_reference_is_flagged() {
    let h = Harness::new().await;
    let settings = TenantSettings {
        gallery: GallerySettings {
            enabled: true,
            duplicate_is_error: false,
        },
        ..TenantSettings::default()
    };
    let c = h.store.create_tenant("bank", settings).await.unwrap();
    let t = h.store.tenant_scope(&c.tenant_id).await.unwrap();
    let video = shared("videos/live_talking_720x1280.mp4");
    let upload = |r: &str| {
        let (ct, body) = common::multipart(&[("video", "v.mp4", &video)]);
        Request::post("/vision/ekyc/liveness")
            .header("content-type", ct)
            .header("api-key", &*c.fpt_api_key)
            .header("x-external-ref", r)
            .body(Body::from(body))
            .unwrap()
    };
    let (status, _, first) = h.send(upload("cust-1")).await;
    assert_eq!(status, StatusCode::OK, "{first:#}");
    assert_eq!(first["liveness"]["is_live"], "true", "{first:#}");
    assert_eq!(
        h.state.gallery.len(),
        1,
        "a passed check with a reference is enrolled"
    );

    let (status, _, second) = h.send(upload("cust-2")).await;
    assert_eq!(status, StatusCode::OK);
    // A duplicate set to warn does not change FPT's answer; the stored verdict has it.
    assert_eq!(second["code"], first["code"]);
    assert!(second.get("identity").is_none() && !second.to_string().contains("cust-1"));
    let sessions: Vec<String> = {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&h.store.config().database_url)
            .await
            .unwrap();
        let rows = sqlx::query_scalar("SELECT id FROM sessions ORDER BY created_at, id")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows
    };
    let mut flagged = 0;
    for id in &sessions {
        let v = t.session(id).await.unwrap().result.unwrap()["verdict"].clone();
        assert!(v.get("template").is_none());
        let hits = v["identity"]["hits"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(hit) = hits.first() {
            flagged += 1;
            assert_eq!(hit["external_ref"], "cust-1", "{v:#}");
            assert!(
                hit["cosine"].as_f64().unwrap() > 0.99,
                "the same video: {hit}"
            );
            let codes = v["codes"].as_array().unwrap();
            assert!(
                codes
                    .iter()
                    .any(|r| r["code"] == "duplicate_identity" && r["severity"] == "warning")
            );
        }
    }
    assert_eq!(flagged, 1, "only the second session is a duplicate");
    assert_eq!(
        h.state.gallery.len(),
        1,
        "the flagged face waits for a review"
    );
}

/// A 1:N measurement on LFW (`../shared/data/lfw`, View 2 folds 1-5): the first image of each of
/// the 2,086 people is enrolled under their name; every person with a second image probes with it.
/// Rank-1 and the true-positive identification rate at the default gallery threshold; the false
/// positive identification rate is each probe's best score among the *other* people (the
/// `duplicate_identity` question) against the same threshold. NOT held out: the engine's FAR model
/// was fitted on impostor pairs of these same folds. A measurement, not a check:
/// `cargo test --release -p faceproof-server --test gallery lfw -- --ignored --nocapture`.
#[test]
#[ignore = "measurement (minutes): docs/gallery.md"]
fn lfw_one_to_n() {
    use faceproof_gallery::{Index, Template};
    let dir = faceproof_testkit::shared_dir().join("data/lfw");
    let engine = engine();
    let vision = engine.vision();
    let opts = AnalyzeOptions::ALIGN_ONLY;
    let mut people: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.path())
        .collect();
    people.sort();
    let embed = |p: &std::path::Path| -> Option<Template> {
        let img = image::open(p).ok()?.to_rgb8();
        let faces = vision.analyze(&img, &opts).ok()?;
        // The labelled person is the centred face: the one nearest the image centre.
        let (cx, cy) = (img.width() as f32 / 2.0, img.height() as f32 / 2.0);
        let face = faces.iter().min_by(|a, b| {
            let d = |f: &faceproof_vision::Face| {
                let r = f.detection.rect;
                (r.x + r.w / 2.0 - cx).powi(2) + (r.y + r.h / 2.0 - cy).powi(2)
            };
            d(a).total_cmp(&d(b))
        })?;
        Template::quantise(&vision.embed(&img, face).ok()?.0).ok()
    };
    let mut index = Index::new(128);
    let mut probes = Vec::new();
    for (i, person) in people.iter().enumerate() {
        let name = person.file_name().unwrap().to_string_lossy().into_owned();
        let mut images: Vec<_> = std::fs::read_dir(person)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        images.sort();
        if let Some(t) = images.first().and_then(|p| embed(p)) {
            index.upsert(i as u128, Some(&name), &t).unwrap();
            if let Some(p) = images.get(1).and_then(|p| embed(p)) {
                probes.push((name, p));
            }
        }
    }
    let n = index.len();
    let target = faceproof_server::gallery::GalleryConfig::default().target_far;
    let threshold = faceproof_server::gallery::thresholds(&engine, target, n);
    let (mut rank1, mut tpir, mut fpir) = (0, 0, 0);
    let mut impostor_best = Vec::new();
    for (name, p) in &probes {
        let best = index.best(p, None).unwrap();
        if best.external_ref.as_deref() == Some(name.as_str()) {
            rank1 += 1;
            if f64::from(best.cosine) >= threshold {
                tpir += 1;
            }
        }
        let other = index.best(p, Some(name)).unwrap();
        impostor_best.push(f64::from(other.cosine));
        if f64::from(other.cosine) >= threshold {
            fpir += 1;
        }
    }
    impostor_best.sort_by(f64::total_cmp);
    let m = probes.len() as f64;
    println!(
        "LFW 1:N: gallery {n}, probes {}, threshold {threshold:.3} (target_far {target}), \
         rank-1 {:.4}, TPIR {:.4}, FPIR {:.4} ({fpir}), best impostor median {:.3} max {:.3}",
        probes.len(),
        rank1 as f64 / m,
        tpir as f64 / m,
        fpir as f64 / m,
        impostor_best[impostor_best.len() / 2],
        impostor_best[impostor_best.len() - 1],
    );
    assert!(n > 1000 && !probes.is_empty());
}
