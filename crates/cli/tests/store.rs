//! `faceproof store rewrap` on a temporary store: after a key rotation it re-seals every artefact
//! and every 1:N face template under the new key id (the old key alone no longer opens them, the
//! new one alone does, bytes unchanged), and a second run has nothing left to do.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use faceproof_store::{
    Api, GalleryList, NewSession, NewTemplate, SessionStatus, Store, StoreConfig,
};

mod common;

use common::faceproof;

fn store_config(text: &str) -> StoreConfig {
    #[derive(serde::Deserialize)]
    struct File {
        store: StoreConfig,
    }
    toml::from_str::<File>(text).unwrap().store
}

/// Pseudo-random bytes that no compression or stripping changes.
fn blob(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn rewrap_moves_every_artefact_to_the_current_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::store_toml(dir.path());
    let key2 = dir.path().join("artefact-2.key");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key2)
        .unwrap();
    writeln!(f, "{}", "3c".repeat(32)).unwrap();
    let rotated = format!(
        "{base}\n[store.artefact_keys]\ncurrent_id = 2\n\n[[store.artefact_keys.keys]]\nid = 2\nfile = \"{}\"\n",
        key2.display()
    );
    let only_new = rotated.replace(
        "current_id = 2\n",
        "current_id = 2\nuse_master_key = false\n",
    );
    let (old_cfg, new_cfg) = (dir.path().join("old.toml"), dir.path().join("new.toml"));
    std::fs::write(&old_cfg, &base).unwrap();
    std::fs::write(&new_cfg, &rotated).unwrap();

    let (ok, added) = faceproof(&old_cfg, &["tenant", "add", "acme"]);
    assert!(ok, "{added:#}");
    let api_key = added["fpt_api_key"].as_str().unwrap().to_owned();
    let (far, clip) = (blob(1, 5000), blob(2, 9000));
    let template: Vec<f32> = blob(3, 128).iter().map(|b| f32::from(*b) / 255.0).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let session = rt.block_on(async {
        let store = Store::open(store_config(&base)).await.unwrap();
        let t = store.authenticate_api_key(&api_key).await.unwrap();
        let mut up = t
            .begin_session(NewSession::new(Api::Fpt, "liveness"))
            .await
            .unwrap();
        up.put("far", "application/octet-stream", far.clone())
            .await
            .unwrap();
        up.put("clip", "application/octet-stream", clip.clone())
            .await
            .unwrap();
        let id = up.commit(SessionStatus::Complete, None).await.unwrap().id;
        t.store_template(NewTemplate {
            list: GalleryList::Enrolled,
            external_ref: Some("customer-7".into()),
            session_id: Some(id.clone()),
            embedder: "sface".into(),
            embedding: template.clone(),
        })
        .await
        .unwrap();
        store.close().await;
        id
    });

    let (ok, report) = faceproof(&new_cfg, &["store", "rewrap"]);
    assert!(ok, "{report:#}");
    assert_eq!(report["current_key_id"], 2);
    assert_eq!(report["examined"], 2, "{report}");
    assert_eq!(report["rewrapped"], 2, "{report}");
    assert_eq!(report["gallery_templates"]["examined"], 1, "{report}");
    assert_eq!(report["gallery_templates"]["rewrapped"], 1, "{report}");
    let (ok, again) = faceproof(&new_cfg, &["store", "rewrap"]);
    assert!(ok, "{again:#}");
    assert_eq!(
        (again["examined"].as_u64(), again["rewrapped"].as_u64()),
        (Some(2), Some(0))
    );
    let g = &again["gallery_templates"];
    assert_eq!(
        (g["examined"].as_u64(), g["rewrapped"].as_u64()),
        (Some(1), Some(0)),
        "{again}"
    );

    rt.block_on(async {
        // The new key alone opens both, bytes unchanged.
        let store = Store::open(store_config(&only_new)).await.unwrap();
        let t = store.authenticate_api_key(&api_key).await.unwrap();
        assert_eq!(
            t.read_artefact(&session, "far").await.unwrap().1.as_ref(),
            far.as_slice()
        );
        assert_eq!(
            t.read_artefact(&session, "clip").await.unwrap().1.as_ref(),
            clip.as_slice()
        );
        let rows = store.gallery_changes((0, ""), 10).await.unwrap().rows;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].embedding.as_deref(), Some(template.as_slice()));
        store.close().await;
        // The old key alone opens neither: the data keys really moved.
        let store = Store::open(store_config(&base)).await.unwrap();
        let t = store.authenticate_api_key(&api_key).await.unwrap();
        assert!(t.read_artefact(&session, "far").await.is_err());
        assert!(t.read_artefact(&session, "clip").await.is_err());
        assert!(store.gallery_changes((0, ""), 10).await.is_err());
        store.close().await;
    });

    // A broken configuration is refused with its own code, nothing touched.
    std::fs::write(&new_cfg, rotated.replace("id = 2\nfile", "id = 3\nfile")).unwrap();
    let (ok, err) = faceproof(&new_cfg, &["store", "rewrap"]);
    assert!(!ok);
    assert_eq!(err["error"]["code"], "store_unavailable", "{err}");
}
