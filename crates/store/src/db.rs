//! Database connection and migrations. One pool type (`sqlx::Any`) serves SQLite and PostgreSQL;
//! all queries use `$N` placeholders, which both accept. The only dialect-specific statements of the
//! crate live in [`prepare`].

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, SqlSafeStr};

use crate::error::{BackendOp, Result, StoreError};

/// The database family behind a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn of(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" => Ok(Dialect::Postgres),
            _ => Err(StoreError::Config {
                reason: format!(
                    "database URL scheme {scheme:?} is not supported (sqlite:// or postgres://)"
                ),
            }),
        }
    }
}

/// Every migration, in order. Appending one is the only way to change the schema.
fn migrations() -> Vec<Migration> {
    let m = |version: i64, description: &'static str, sql: &'static str| {
        Migration::new(
            version,
            Cow::Borrowed(description),
            MigrationType::Simple,
            sql.into_sql_str(),
            false,
        )
    };
    vec![
        m(1, "init", include_str!("../migrations/0001_init.sql")),
        m(2, "capture", include_str!("../migrations/0002_capture.sql")),
        m(3, "gallery", include_str!("../migrations/0003_gallery.sql")),
        m(4, "console", include_str!("../migrations/0004_console.sql")),
        m(5, "ops", include_str!("../migrations/0005_ops.sql")),
        m(6, "replay", include_str!("../migrations/0006_replay.sql")),
        m(
            7,
            "lockouts",
            include_str!("../migrations/0007_lockouts.sql"),
        ),
        m(
            8,
            "replicas",
            include_str!("../migrations/0008_replicas.sql"),
        ),
    ]
}

/// Number of migrations this build knows.
pub fn migration_count() -> usize {
    migrations().len()
}

/// Applies pending migrations; a no-op when the schema is current. Concurrent starts are
/// serialised by the migrator's lock (an advisory lock on PostgreSQL).
pub(crate) async fn migrate(pool: &AnyPool) -> Result<()> {
    Migrator::with_migrations(migrations())
        .run(pool)
        .await
        .op("migrate")
}

/// Opens a pool for `url` (creating a SQLite file and its directory when needed).
pub(crate) async fn connect(url: &str, max_connections: u32) -> Result<(AnyPool, Dialect)> {
    sqlx::any::install_default_drivers();
    let dialect = Dialect::of(url)?;
    let url = match dialect {
        Dialect::Sqlite => sqlite_url(url)?,
        Dialect::Postgres => url.to_owned(),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(30))
        .connect(&url)
        .await
        .op("connect database")?;
    prepare(&pool, dialect).await?;
    if dialect == Dialect::Sqlite {
        // The journal files exist now (WAL); SQLite gives them the database file's mode, but
        // files left by an older build may be wider: make all three owner-only.
        let db = sqlite_path(&url);
        for suffix in ["", "-wal", "-shm"] {
            let p = format!("{db}{suffix}");
            if Path::new(&p).exists() {
                crate::objects::set_mode(Path::new(&p), 0o600)?;
            }
        }
    }
    Ok((pool, dialect))
}

/// The file path of a `sqlite://PATH?...` URL.
fn sqlite_path(url: &str) -> &str {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or(rest)
}

/// Creates the database file owner-only before SQLite opens it (SQLite would create it with the
/// umask's default, and its journal files copy the database file's mode).
fn create_private(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => crate::objects::set_mode(path, 0o600),
        // Read-only deployments open an existing file they cannot write: leave it as it is.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(()),
        Err(e) => Err(StoreError::backend("create database file", e)),
    }
}

/// The dialect-specific corner: SQLite gets write-ahead logging so readers never block the one
/// writer (the setting is stored in the file). PostgreSQL needs nothing.
async fn prepare(pool: &AnyPool, dialect: Dialect) -> Result<()> {
    if dialect == Dialect::Sqlite {
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(pool)
            .await
            .op("enable WAL")?;
    }
    Ok(())
}

/// Adds `mode=rwc` (create when missing) unless a mode is given, and creates the parent directory.
fn sqlite_url(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, params) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Config {
            reason: "an in-memory SQLite database cannot hold sessions across connections; give a file path".into(),
        });
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).op("create database directory")?;
    }
    create_private(Path::new(path))?;
    let has_mode = params.is_some_and(|q| q.split('&').any(|kv| kv.starts_with("mode=")));
    Ok(match (params, has_mode) {
        (Some(_), true) => url.to_owned(),
        (Some(q), false) => format!("sqlite://{path}?{q}&mode=rwc"),
        (None, _) => format!("sqlite://{path}?mode=rwc"),
    })
}

impl FromStr for Dialect {
    type Err = StoreError;
    fn from_str(url: &str) -> Result<Self> {
        Dialect::of(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_from_url() {
        assert_eq!(
            "sqlite:///tmp/x.db".parse::<Dialect>().unwrap(),
            Dialect::Sqlite
        );
        assert_eq!(
            "postgres://a:b@127.0.0.1/c".parse::<Dialect>().unwrap(),
            Dialect::Postgres
        );
        assert!(matches!(
            "mysql://x".parse::<Dialect>(),
            Err(StoreError::Config { .. })
        ));
    }

    #[test]
    fn sqlite_url_gets_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub/x.db");
        let url = format!("sqlite://{}", db.display());
        assert_eq!(sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(db.parent().unwrap().is_dir());
        let ro = format!("{url}?mode=ro");
        assert_eq!(sqlite_url(&ro).unwrap(), ro);
        assert!(sqlite_url("sqlite::memory:").is_err());
    }
}
