//! Test backends: SQLite + a local directory by default; PostgreSQL and/or an S3 server when
//! `FACEPROOF_TEST_DATABASE_URL` / `FACEPROOF_TEST_S3_ENDPOINT` are set (see
//! `scripts/test-services.sh`). Each test gets its own database and its own key prefix.

use std::path::Path;
use std::sync::Arc;

use faceproof_store::{
    ArtefactLocation, Clock, IssuedCredentials, MasterKeyConfig, S3Config, Store, StoreConfig,
    TenantSettings, TenantStore,
};
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use sqlx::migrate::MigrateDatabase;

/// A fixed, realistic start time so that expiry arithmetic is exact.
pub const T0: i64 = 1_780_000_000_000;

pub struct Harness {
    pub store: Store,
    pub clock: Clock,
    pub cfg: StoreConfig,
    pub dir: tempfile::TempDir,
}

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The backends this run must use, from `FACEPROOF_TEST_REQUIRE` (`postgres`, `s3`, comma
/// separated; the PostgreSQL + S3 stage of `make test` sets it). A required backend whose
/// variable is missing fails the test instead of silently falling back to SQLite / local files.
fn require_backends() {
    let required = std::env::var("FACEPROOF_TEST_REQUIRE").unwrap_or_default();
    for (name, var) in [
        ("postgres", "FACEPROOF_TEST_DATABASE_URL"),
        ("s3", "FACEPROOF_TEST_S3_ENDPOINT"),
    ] {
        let wanted = required.split(',').any(|r| r.trim() == name);
        let set = std::env::var(var).is_ok_and(|v| !v.is_empty());
        assert!(
            !wanted || set,
            "FACEPROOF_TEST_REQUIRE names {name} but {var} is not set: \
             run through scripts/test-services.sh"
        );
    }
}

/// A fresh configuration: its own database and artefact location under the chosen backends.
pub async fn fresh_config(dir: &Path) -> StoreConfig {
    require_backends();
    let mut cfg = StoreConfig {
        master_key: MasterKeyConfig {
            env: None,
            file: dir.join("master.key"),
            generate: true,
        },
        ..StoreConfig::default()
    };
    cfg.database_url = match std::env::var("FACEPROOF_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let (base, _) = admin
                .split('?')
                .next()
                .unwrap()
                .rsplit_once('/')
                .expect("postgres URL with a database");
            let url = format!("{base}/fp_test_{}", random_suffix());
            sqlx::any::install_default_drivers();
            sqlx::any::Any::create_database(&url)
                .await
                .expect("create per-test database (the role needs CREATEDB)");
            url
        }
        _ => format!("sqlite://{}", dir.join("faceproof.db").display()),
    };
    match std::env::var("FACEPROOF_TEST_S3_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => {
            let bucket = std::env::var("FACEPROOF_TEST_S3_BUCKET")
                .unwrap_or_else(|_| "faceproof-test".into());
            cfg.artefacts = format!("s3://{bucket}/run-{}", random_suffix());
            cfg.s3 = S3Config {
                endpoint: Some(endpoint),
                region: Some("us-east-1".into()),
                access_key_id: Some(
                    std::env::var("FACEPROOF_TEST_S3_ACCESS_KEY").unwrap_or_else(|_| "test".into()),
                ),
                secret_access_key: Some(
                    std::env::var("FACEPROOF_TEST_S3_SECRET_KEY").unwrap_or_else(|_| "test".into()),
                ),
                allow_http: true,
                virtual_hosted_style: false,
            };
        }
        _ => cfg.artefacts = dir.join("artefacts").display().to_string(),
    }
    cfg
}

pub async fn harness() -> Harness {
    harness_with(|_| {}).await
}

pub async fn harness_with(tweak: impl FnOnce(&mut StoreConfig)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fresh_config(dir.path()).await;
    tweak(&mut cfg);
    let clock = Clock::manual(T0);
    let store = Store::open_with_clock(cfg.clone(), clock.clone())
        .await
        .expect("open store");
    Harness {
        store,
        clock,
        cfg,
        dir,
    }
}

impl Harness {
    pub async fn tenant(&self, name: &str) -> (IssuedCredentials, TenantStore) {
        let issued = self
            .store
            .create_tenant(name, TenantSettings::default())
            .await
            .unwrap();
        let scope = self
            .store
            .authenticate_api_key(&issued.fpt_api_key)
            .await
            .unwrap();
        (issued, scope)
    }

    /// Every object key under the store's artefact location, read with an independent client.
    pub async fn object_keys(&self) -> Vec<String> {
        object_keys(&self.cfg).await
    }

    /// A separate raw connection to the same database, to read rows as stored.
    pub async fn raw_db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = if self.cfg.database_url.starts_with("sqlite") {
            format!("{}?mode=ro", self.cfg.database_url)
        } else {
            self.cfg.database_url.clone()
        };
        sqlx::AnyPool::connect(&url).await.unwrap()
    }
}

pub async fn object_keys(cfg: &StoreConfig) -> Vec<String> {
    let store = raw_objects(cfg);
    let mut out = Vec::new();
    let mut todo: Vec<Option<ObjectPath>> = vec![None];
    while let Some(prefix) = todo.pop() {
        let listing = store.list_with_delimiter(prefix.as_ref()).await.unwrap();
        out.extend(listing.objects.into_iter().map(|m| m.location.to_string()));
        todo.extend(listing.common_prefixes.into_iter().map(Some));
    }
    out.sort();
    out
}

/// An independent client on the store's artefact location (local directory or S3 bucket).
pub fn raw_objects(cfg: &StoreConfig) -> Arc<dyn ObjectStore> {
    match ArtefactLocation::parse(&cfg.artefacts).unwrap() {
        ArtefactLocation::Local(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir).unwrap())
        }
        ArtefactLocation::S3 { bucket, prefix } => {
            let s3 = object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_endpoint(cfg.s3.endpoint.clone().unwrap())
                .with_region("us-east-1")
                .with_access_key_id(cfg.s3.access_key_id.clone().unwrap())
                .with_secret_access_key(cfg.s3.secret_access_key.clone().unwrap())
                .with_allow_http(true)
                .build()
                .unwrap();
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
        }
    }
}

/// Synthetic "image" bytes: deterministic per seed, distinct across seeds.
pub fn blob(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}
