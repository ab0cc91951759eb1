//! `faceproof tenant add|list|revoke|rotate`: tenants and their credentials in the store.

use std::path::PathBuf;
use std::process::ExitCode;

use faceproof_store::{IssuedCredentials, Store, StoreConfig, TenantSettings};
use serde_json::json;

use crate::output::Output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a tenant with an FPT API key, an ADVANCE access key + secret and an HPKE key pair;
    /// prints the secrets once.
    Add {
        /// 1-64 of [A-Za-z0-9._-].
        name: String,
        /// Accept plain base64 `video` / `image` on the silent API besides HPKE envelopes.
        #[arg(long)]
        silent_accept_plain: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tenants and the public part of their credentials.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a tenant (by id or name): its keys, tokens and signed URLs stop working at once.
    Revoke {
        tenant: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Replace every credential of a tenant; prints the new secrets once.
    Rotate {
        tenant: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(clap::Args)]
pub struct StoreArgs {
    /// `faceproof.toml`; its `[store]` says where the store is (default: under $FACEPROOF_HOME).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// The `[store]` of `faceproof.toml` (the whole file is checked: an unknown key anywhere is refused).
fn store_config(args: &StoreArgs) -> Result<StoreConfig, String> {
    crate::config::FileConfig::load(args.config.as_deref()).map(|c| c.store)
}

/// The secrets of a new tenant as printed by `add`, `rotate` and `serve`'s demo tenant.
pub fn credentials_json(c: &IssuedCredentials) -> serde_json::Value {
    json!({
        "tenant_id": c.tenant_id,
        "name": c.tenant_name,
        "fpt_api_key": &*c.fpt_api_key,
        "advance_access_key": c.advance_access_key,
        "advance_secret_key": &*c.advance_secret_key,
        "hpke_key_id": c.hpke_key_id,
        "hpke_public_key": c.hpke_public_key,
    })
}

pub fn run(command: Command, out: &Output) -> ExitCode {
    let store_args = match &command {
        Command::Add { store, .. }
        | Command::List { store }
        | Command::Revoke { store, .. }
        | Command::Rotate { store, .. } => store,
    };
    let cfg = match store_config(store_args) {
        Ok(c) => c,
        Err(e) => return out.error("invalid_config", &e),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return out.error("internal", &format!("cannot start the runtime: {e}")),
    };
    rt.block_on(async {
        let store = match Store::open(cfg).await {
            Ok(s) => s,
            Err(e) => return out.error("store_unavailable", &e.to_string()),
        };
        let result = match command {
            Command::Add {
                name,
                silent_accept_plain,
                ..
            } => store
                .create_tenant(
                    &name,
                    TenantSettings {
                        silent_accept_plain,
                    },
                )
                .await
                .map(|c| credentials_json(&c)),
            Command::List { .. } => store.list_tenants().await.map(|t| json!(t)),
            Command::Revoke { tenant, .. } => store.revoke_tenant(&tenant).await.map(|t| json!(t)),
            Command::Rotate { tenant, .. } => store
                .rotate_credentials(&tenant)
                .await
                .map(|c| credentials_json(&c)),
        };
        store.close().await;
        match result {
            Ok(v) => out.json(&v),
            Err(e) => out.error(store_error_code(&e), &e.to_string()),
        }
    })
}

fn store_error_code(e: &faceproof_store::StoreError) -> &'static str {
    use faceproof_store::StoreError::*;
    match e {
        NotFound { .. } => "not_found",
        Conflict { .. } => "conflict",
        Invalid { .. } => "invalid",
        Forbidden { .. } => "forbidden",
        Expired { .. } => "expired",
        Consumed { .. } => "consumed",
        Config { .. } => "invalid_config",
        Backend { .. } => "store_unavailable",
    }
}
