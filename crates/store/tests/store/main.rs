//! Store integration tests. The same suite runs on SQLite + local files and, when
//! `scripts/test-services.sh run -- ...` provides them, on PostgreSQL + an S3 server.

mod atomic;
mod atrest;
mod common;
mod console;
mod grants;
mod replay;
mod replicas;
mod retention;
mod sessions;
mod signed;
mod tenants;
mod webhooks;
