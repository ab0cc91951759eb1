//! Artefacts at rest: sealed in the directory or bucket (read back with an independent client),
//! bound to their key and tenant, readable across a key rotation and after a rewrap.

use faceproof_store::{
    ARTEFACT_ENCRYPTION_OVERHEAD, Api, ArtefactKeySource, BackendError, NewSession, SessionStatus,
    Store, StoreConfig, StoreError, TenantStore,
};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::common::{blob, harness, raw_objects};

const KNOWN: &[u8] = b"KNOWN-PLAINTEXT-Canon EOS 5D-a face of Alice";

/// A JPEG-looking and an MP4-looking payload, each carrying a known plaintext.
fn jpeg_like() -> Vec<u8> {
    // SOI, a JFIF header, a start of scan whose entropy-coded data holds the known text, EOI:
    // kept whole by the metadata stripping, so the plaintext is exactly this.
    let mut v = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10];
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    v.extend_from_slice(&[0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0]);
    v.extend_from_slice(KNOWN);
    v.extend_from_slice(&blob(1, 4000));
    v.extend_from_slice(&[0xff, 0xd9]);
    v
}

fn mp4_like() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x20];
    v.extend_from_slice(b"ftypisom");
    v.extend_from_slice(KNOWN);
    v.extend_from_slice(&blob(2, 9000));
    v
}

fn is_corrupt<T>(r: &Result<T, StoreError>) -> bool {
    matches!(
        r,
        Err(StoreError::Backend {
            source: BackendError::Corrupt(_),
            ..
        })
    )
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn raw(cfg: &StoreConfig, key: &str) -> Vec<u8> {
    raw_objects(cfg)
        .get(&ObjectPath::parse(key).unwrap())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

async fn write(t: &TenantStore, far: Vec<u8>, clip: Vec<u8>) -> String {
    let mut up = t
        .begin_session(NewSession::new(Api::Advance, "capture"))
        .await
        .unwrap();
    up.put("far.jpg", "image/jpeg", far).await.unwrap();
    up.put("clip", "application/octet-stream", clip)
        .await
        .unwrap();
    up.commit(SessionStatus::Complete, None).await.unwrap().id
}

#[tokio::test]
async fn stored_bytes_are_sealed_and_read_back_transparently() {
    let h = harness().await;
    let (_, t) = h.tenant("atrest").await;
    let sid = write(&t, jpeg_like(), mp4_like()).await;
    let keys = h.object_keys().await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in &keys {
        let bytes = raw(&h.cfg, key).await;
        assert!(
            !bytes.starts_with(&[0xff, 0xd8, 0xff]),
            "{key}: JPEG magic on disk"
        );
        assert!(!contains(&bytes, b"ftyp"), "{key}: MP4 box type on disk");
        assert!(!contains(&bytes, b"JFIF"), "{key}: JFIF marker on disk");
        assert!(!contains(&bytes, KNOWN), "{key}: known plaintext on disk");
        assert!(
            bytes.starts_with(b"FPAE\x01\0\0\0\x01"),
            "{key}: header, key id 1"
        );
    }
    let (meta, far) = t.read_artefact(&sid, "far.jpg").await.unwrap();
    assert_eq!(far.as_ref(), jpeg_like().as_slice());
    assert_eq!(
        meta.size as usize,
        jpeg_like().len(),
        "size is the plaintext's"
    );
    let (_, clip) = t.read_artefact(&sid, "clip").await.unwrap();
    assert_eq!(clip.as_ref(), mp4_like().as_slice());
    let stored = raw(&h.cfg, &meta.object_key).await;
    assert_eq!(stored.len(), far.len() + ARTEFACT_ENCRYPTION_OVERHEAD);
    // Signed URLs still serve the plaintext.
    let url = t.sign_artefact(&sid, "far.jpg", None).await.unwrap();
    let (_, via_url) = h.store.open_signed_url(&url).await.unwrap();
    assert_eq!(via_url.as_ref(), jpeg_like().as_slice());
}

#[tokio::test]
async fn an_object_swapped_for_another_does_not_open() {
    let h = harness().await;
    let (_, a) = h.tenant("swap-a").await;
    let (_, b) = h.tenant("swap-b").await;
    let sa = write(&a, jpeg_like(), mp4_like()).await;
    let sb = write(&b, blob(7, 5000), blob(8, 5000)).await;
    let fa = a.artefact(&sa, "far.jpg").await.unwrap().object_key;
    let ca = a.artefact(&sa, "clip").await.unwrap().object_key;
    let fb = b.artefact(&sb, "far.jpg").await.unwrap().object_key;
    let store = raw_objects(&h.cfg);
    // Same tenant, another name: A's clip copied over A's far image.
    let clip_bytes = raw(&h.cfg, &ca).await;
    store
        .put(
            &ObjectPath::parse(&fa).unwrap(),
            PutPayload::from(clip_bytes),
        )
        .await
        .unwrap();
    let r = a.read_artefact(&sa, "far.jpg").await;
    assert!(is_corrupt(&r), "{:?}", r.err());
    // Another tenant: A's clip copied over B's far image.
    store
        .put(
            &ObjectPath::parse(&fb).unwrap(),
            PutPayload::from(raw(&h.cfg, &ca).await),
        )
        .await
        .unwrap();
    let r = b.read_artefact(&sb, "far.jpg").await;
    assert!(is_corrupt(&r), "{:?}", r.err());
    // The untouched objects still open.
    a.read_artefact(&sa, "clip").await.unwrap();
    b.read_artefact(&sb, "clip").await.unwrap();
}

#[tokio::test]
async fn rotate_read_both_rewrap_drop_old_key() {
    let h = harness().await;
    let (issued, t) = h.tenant("rotate").await;
    let s1 = write(&t, jpeg_like(), mp4_like()).await;
    h.store.close().await;

    // Key 2 from a file; new writes use it, key 1 (the master key) still reads.
    let k2 = h.dir.path().join("artefact-2.key");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&k2)
            .unwrap();
        writeln!(f, "{}", "5a".repeat(32)).unwrap();
    }
    let mut cfg2 = h.cfg.clone();
    cfg2.artefact_keys.current_id = 2;
    cfg2.artefact_keys.keys = vec![ArtefactKeySource {
        id: 2,
        env: None,
        file: Some(k2.clone()),
    }];
    let store2 = Store::open_with_clock(cfg2.clone(), h.clock.clone())
        .await
        .unwrap();
    let t2 = store2
        .authenticate_api_key(&issued.fpt_api_key)
        .await
        .unwrap();
    let s2 = write(&t2, blob(21, 3000), blob(22, 3000)).await;
    let key_of = |sid: &str, name: &'static str| {
        let t2 = t2.clone();
        let sid = sid.to_owned();
        async move { t2.artefact(&sid, name).await.unwrap().object_key }
    };
    let old = key_of(&s1, "far.jpg").await;
    let new = key_of(&s2, "far.jpg").await;
    assert_eq!(&raw(&cfg2, &old).await[5..9], &1u32.to_be_bytes());
    assert_eq!(&raw(&cfg2, &new).await[5..9], &2u32.to_be_bytes());
    assert_eq!(
        t2.read_artefact(&s1, "far.jpg").await.unwrap().1.as_ref(),
        jpeg_like().as_slice()
    );
    assert_eq!(
        t2.read_artefact(&s2, "far.jpg").await.unwrap().1.as_ref(),
        blob(21, 3000).as_slice()
    );

    // Rewrap: only the two key-1 objects change, and only in their header.
    let before = raw(&cfg2, &old).await;
    let report = store2.rewrap_artefacts().await.unwrap();
    assert_eq!((report.examined, report.rewrapped), (4, 2), "{report:?}");
    let after = raw(&cfg2, &old).await;
    assert_eq!(&after[5..9], &2u32.to_be_bytes());
    assert_eq!(after.len(), before.len());
    assert_eq!(&after[81..], &before[81..], "payload not re-encrypted");
    assert_eq!(store2.rewrap_artefacts().await.unwrap().rewrapped, 0);
    store2.close().await;

    // Key 1 dropped from the keyring: everything still opens.
    let mut cfg3 = cfg2.clone();
    cfg3.artefact_keys.use_master_key = false;
    let store3 = Store::open_with_clock(cfg3, h.clock.clone()).await.unwrap();
    let t3 = store3
        .authenticate_api_key(&issued.fpt_api_key)
        .await
        .unwrap();
    for (sid, far, clip) in [
        (&s1, jpeg_like(), mp4_like()),
        (&s2, blob(21, 3000), blob(22, 3000)),
    ] {
        assert_eq!(
            t3.read_artefact(sid, "far.jpg").await.unwrap().1.as_ref(),
            far.as_slice()
        );
        assert_eq!(
            t3.read_artefact(sid, "clip").await.unwrap().1.as_ref(),
            clip.as_slice()
        );
    }
    store3.close().await;

    // And the old key alone no longer opens the rewrapped objects.
    let store1 = Store::open_with_clock(h.cfg.clone(), h.clock.clone())
        .await
        .unwrap();
    let t1 = store1
        .authenticate_api_key(&issued.fpt_api_key)
        .await
        .unwrap();
    let r = t1.read_artefact(&s1, "far.jpg").await;
    assert!(is_corrupt(&r), "{:?}", r.err());
}

#[tokio::test]
async fn a_current_id_outside_the_keyring_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = crate::common::fresh_config(dir.path()).await;
    cfg.artefact_keys.current_id = 3;
    let r = Store::open(cfg).await;
    assert!(matches!(r, Err(StoreError::Config { .. })), "{r:?}");
}

/// A JPEG segment: marker, length, body.
fn seg(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff, marker];
    v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

#[tokio::test]
async fn uploaded_exif_is_not_stored() {
    let h = harness().await;
    let (_, t) = h.tenant("exif").await;
    // A baseline JPEG's structure with an Exif block naming the camera and describing the photo,
    // an XMP packet and a comment, as phone uploads carry them.
    let jfif = seg(0xe0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let exif = seg(
        0xe1,
        b"Exif\0\0MM\0*Model\0Canon EOS 5D\0ImageDescription\0Alice at home",
    );
    let xmp = seg(
        0xe1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Alice</x:xmpmeta>",
    );
    let body = [
        seg(0xdb, &[1u8; 65]),
        seg(0xc0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]),
        vec![0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0],
        blob(3, 500),
        vec![0xff, 0xd9],
    ]
    .concat();
    let upload = [
        vec![0xff, 0xd8],
        jfif.clone(),
        exif,
        xmp,
        seg(0xfe, b"comment"),
        body.clone(),
    ]
    .concat();
    let expected = [vec![0xff, 0xd8], jfif, body].concat();
    let mut up = t
        .begin_session(NewSession::new(Api::Advance, "capture"))
        .await
        .unwrap();
    let a = up.put("far.jpg", "image/jpeg", upload).await.unwrap();
    let sid = up.commit(SessionStatus::Complete, None).await.unwrap().id;
    let (_, stored) = t.read_artefact(&sid, "far.jpg").await.unwrap();
    for needle in [&b"Canon"[..], b"Alice", b"Exif", b"xmpmeta", b"comment"] {
        assert!(
            !contains(&stored, needle),
            "{:?} stored",
            String::from_utf8_lossy(needle)
        );
    }
    assert_eq!(
        stored.as_ref(),
        expected.as_slice(),
        "only the metadata segments removed"
    );
    assert_eq!(a.size as usize, expected.len());
}

#[tokio::test]
async fn files_and_folders_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let h = harness().await;
    let (_, t) = h.tenant("modes").await;
    write(&t, jpeg_like(), mp4_like()).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    if let faceproof_store::ArtefactLocation::Local(root) =
        faceproof_store::ArtefactLocation::parse(&h.cfg.artefacts).unwrap()
    {
        assert_eq!(mode(&root), 0o700, "artefacts root");
        let keys = h.object_keys().await;
        assert_eq!(keys.len(), 2);
        for key in keys {
            let mut p = root.join(&key);
            assert_eq!(mode(&p), 0o600, "{key}");
            while p.pop() && p != root {
                assert_eq!(mode(&p), 0o700, "{}", p.display());
            }
        }
    }
    if let Some(db) = h.cfg.database_url.strip_prefix("sqlite://") {
        let mut seen = 0;
        for suffix in ["", "-wal", "-shm"] {
            let p = std::path::PathBuf::from(format!("{db}{suffix}"));
            if p.exists() {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
                seen += 1;
            }
        }
        assert!(seen >= 2, "database and its WAL");
    }
}
