pub mod analyze;
pub mod bench;
pub mod bench_check;
pub mod bench_gallery;
pub mod bench_media;
pub mod bench_models;
pub mod calibrate;
pub mod check;
pub mod compare;
pub mod eval;
pub mod gallery;
pub mod models;
pub mod operator;
pub mod probe;
pub mod serve;
pub mod store;
pub mod tenant;

use crate::output::Output;
use std::process::ExitCode;

/// The single-threaded runtime the store-only subcommands (`tenant`, `operator`, `gallery`,
/// `store`) run on, or the `internal` error already printed.
pub(crate) fn runtime(out: &Output) -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| out.error("internal", &format!("cannot start the runtime: {e}")))
}

/// The store of a `[store]` section, or the `store_unavailable` error already printed.
pub(crate) async fn open_store(
    cfg: faceproof_store::StoreConfig,
    out: &Output,
) -> Result<faceproof_store::Store, ExitCode> {
    faceproof_store::Store::open(cfg)
        .await
        .map_err(|e| out.error("store_unavailable", &e.to_string()))
}

/// What every store-only subcommand does around its work: a runtime, the store of `cfg`, `work`
/// on it, the store closed (its pool drained) before the exit code is returned. A runtime or
/// store that cannot start is the error already printed.
pub(crate) fn with_store(
    cfg: faceproof_store::StoreConfig,
    out: &Output,
    work: impl AsyncFnOnce(&faceproof_store::Store) -> ExitCode,
) -> ExitCode {
    let rt = match runtime(out) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let store = match open_store(cfg, out).await {
            Ok(s) => s,
            Err(code) => return code,
        };
        let code = work(&store).await;
        store.close().await;
        code
    })
}
