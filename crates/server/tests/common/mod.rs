//! The router in-process over a temporary store and the real engine. SQLite + a local directory
//! by default; PostgreSQL and/or an S3 server when `FACEPROOF_TEST_DATABASE_URL` /
//! `FACEPROOF_TEST_S3_ENDPOINT` are set (`scripts/test-services.sh run -- cargo test ...`), each
//! test with its own database and key prefix.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use faceproof_engine::check::{Engine, EngineConfig};
use faceproof_media::Limits;
use faceproof_server::{AppState, ServerConfig, Shared};
use faceproof_store::{
    Clock, IssuedCredentials, MasterKeyConfig, S3Config, Store, StoreConfig, TenantSettings,
};
use faceproof_vision::VisionConfig;
use serde_json::Value;
use tower::ServiceExt;

/// One engine for the whole test binary: loading the models is the slow part.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            Arc::new(
                Engine::load(
                    EngineConfig::default(),
                    &VisionConfig::default(),
                    Limits::default(),
                )
                .expect("models installed under $FACEPROOF_HOME/models"),
            )
        })
        .clone()
}

/// The shared engine under smaller media limits: the server's upload and body limits follow.
pub fn engine_with_limits(max_video_bytes: u64, max_image_bytes: u64) -> Arc<Engine> {
    Arc::new(engine().with_limits(Limits {
        max_video_bytes,
        max_image_bytes,
        ..Limits::default()
    }))
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub state: Shared,
    pub clock: Clock,
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

pub async fn store_config(dir: &std::path::Path) -> StoreConfig {
    require_backends();
    let mut cfg = StoreConfig {
        database_url: format!("sqlite://{}", dir.join("test.db").display()),
        artefacts: dir.join("artefacts").display().to_string(),
        master_key: MasterKeyConfig {
            env: None,
            file: dir.join("master.key"),
            generate: true,
        },
        ..StoreConfig::default()
    };
    if let Ok(admin) = std::env::var("FACEPROOF_TEST_DATABASE_URL")
        && !admin.is_empty()
    {
        let (base, _) = admin
            .split('?')
            .next()
            .unwrap()
            .rsplit_once('/')
            .expect("postgres URL with a database");
        let url = format!("{base}/fp_test_{}", random_suffix());
        sqlx::any::install_default_drivers();
        <sqlx::Any as sqlx::migrate::MigrateDatabase>::create_database(&url)
            .await
            .expect("create per-test database (the role needs CREATEDB)");
        cfg.database_url = url;
    }
    if let Ok(endpoint) = std::env::var("FACEPROOF_TEST_S3_ENDPOINT")
        && !endpoint.is_empty()
    {
        let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        cfg.artefacts = format!(
            "s3://{}/server-{}",
            var("FACEPROOF_TEST_S3_BUCKET", "faceproof-test"),
            random_suffix()
        );
        cfg.s3 = S3Config {
            endpoint: Some(endpoint),
            region: Some("us-east-1".into()),
            access_key_id: Some(var("FACEPROOF_TEST_S3_ACCESS_KEY", "test")),
            secret_access_key: Some(var("FACEPROOF_TEST_S3_SECRET_KEY", "test")),
            allow_http: true,
            virtual_hosted_style: false,
        };
    }
    cfg
}

impl Harness {
    pub async fn new() -> Harness {
        Harness::with(ServerConfig::default()).await
    }

    pub async fn with(cfg: ServerConfig) -> Harness {
        Harness::with_engine(cfg, engine()).await
    }

    /// The same over an engine of the caller's (e.g. another `EngineConfig`).
    pub async fn with_engine(cfg: ServerConfig, engine: Arc<Engine>) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::manual(1_800_000_000_000);
        let store = Store::open_with_clock(store_config(dir.path()).await, clock.clone())
            .await
            .unwrap();
        let state = AppState::new(engine, store.clone(), cfg);
        Harness {
            dir,
            store,
            state,
            clock,
        }
    }

    pub fn router(&self) -> Router {
        faceproof_server::router(self.state.clone())
    }

    pub async fn tenant(&self, name: &str) -> IssuedCredentials {
        self.store
            .create_tenant(name, TenantSettings::default())
            .await
            .unwrap()
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Response<Body>, Value) {
        let resp = self.router().oneshot(req).await.unwrap();
        let status = resp.status();
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let resp = Response::from_parts(parts, Body::from(bytes));
        (status, resp, json)
    }

    pub async fn send_raw(
        &self,
        req: Request<Body>,
    ) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
        let resp = self.router().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec(), headers)
    }

    /// Rows in a table of the store's database (to prove nothing was stored).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.store.config().database_url)
            .await
            .unwrap();
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        n
    }

    /// Objects in the store's artefact location, listed by a client of its own (a local
    /// directory walk, or an S3 listing of the test's key prefix), not through the store.
    pub async fn artefact_files(&self) -> usize {
        object_keys(self.store.config()).await.len()
    }

    /// No session, artefact, upload intent or object was left by the requests so far.
    pub async fn assert_nothing_stored(&self) {
        for table in ["sessions", "artefacts", "uploads"] {
            assert_eq!(self.count(table).await, 0, "rows in {table}");
        }
        assert_eq!(self.artefact_files().await, 0, "artefact objects");
    }
}

/// A multipart body: (field name, file name, bytes).
pub fn multipart(parts: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "faceproof-test-boundary-7c1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        if file.is_empty() {
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            );
        } else {
            body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// An ADVANCE far / near capture of one shared face, its stills 1 s apart, no clip.
pub fn capture_inputs() -> faceproof_server::analysis::CaptureInputs {
    faceproof_server::analysis::CaptureInputs {
        far: shared("faces/obama/1.jpg"),
        near: shared("faces/obama/2.jpg"),
        far_time_ms: Some(1_713_247_589_908),
        near_time_ms: Some(1_713_247_590_908),
        clip: None,
    }
}

pub fn shared(relative: &str) -> Vec<u8> {
    std::fs::read(faceproof_testkit::shared_file(relative)).unwrap()
}

/// Every object key under `cfg.artefacts`, listed independently of the store: `object_store`'s
/// own local-file or S3 client, built here from the configuration.
pub async fn object_keys(cfg: &StoreConfig) -> Vec<String> {
    use faceproof_store::ArtefactLocation;
    use object_store::ObjectStore;
    use object_store::path::Path as ObjectPath;
    let store: Arc<dyn ObjectStore> = match ArtefactLocation::parse(&cfg.artefacts).unwrap() {
        ArtefactLocation::Local(dir) => {
            if !dir.exists() {
                return Vec::new();
            }
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
    };
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
