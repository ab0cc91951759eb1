//! `faceproof tenant add|list|set|revoke|rotate|capture-token|webhook`: tenants, their credentials
//! and settings in the store, browser capture tokens, and webhook endpoints.

use std::path::PathBuf;
use std::process::ExitCode;

use faceproof_server::ServerConfig;
use faceproof_server::capture::{MintRequest, mint, wire::Refusal};
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
        /// Refuse uploads without a server-issued challenge.
        #[arg(long)]
        require_challenge: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a tenant's settings (by id or name); prints the tenant.
    Set {
        tenant: String,
        /// Accept plain base64 on the silent API.
        #[arg(long)]
        silent_accept_plain: Option<bool>,
        /// Refuse uploads without a server-issued challenge.
        #[arg(long)]
        require_challenge: Option<bool>,
        /// 1:N: search every new session against the tenant's gallery and blocklist.
        #[arg(long)]
        gallery: Option<bool>,
        /// 1:N: a duplicate identity fails the check instead of warning.
        #[arg(long)]
        gallery_duplicate_is_error: Option<bool>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Mint a short-lived, single-use capture token for a browser (JSON with `capture_token`).
    CaptureToken {
        /// Tenant id or name.
        tenant: String,
        /// The upload endpoint that accepts it.
        #[arg(long, value_parser = ["advance", "fpt", "silent"])]
        flow: String,
        /// Issue a challenge of this kind and bind it to the token.
        #[arg(long, value_parser = ["colour", "head-turn"])]
        challenge: Option<String>,
        /// ADVANCE: an existing pending capture session (default: a new one is reserved).
        #[arg(long)]
        signature_id: Option<String>,
        /// Lifetime in seconds (default `server.capture_token_ttl_secs`, 600; at most 3600).
        #[arg(long)]
        ttl_secs: Option<u64>,
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
    /// A tenant's webhook endpoints: add (prints the signing secret once), list, remove, log.
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

#[derive(clap::Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint (`https://...`) to a tenant; prints its id and signing secret once.
    #[command(alias = "set")]
    Add {
        tenant: String,
        url: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List a tenant's endpoints (never their secrets).
    List {
        tenant: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove an endpoint: nothing more is queued for it, pending deliveries are dead-lettered.
    Remove {
        tenant: String,
        endpoint_id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The delivery log of a tenant, newest first.
    Log {
        tenant: String,
        /// Most rows shown.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl WebhookCommand {
    fn store_args(&self) -> &StoreArgs {
        match self {
            WebhookCommand::Add { store, .. }
            | WebhookCommand::List { store, .. }
            | WebhookCommand::Remove { store, .. }
            | WebhookCommand::Log { store, .. } => store,
        }
    }
}

async fn webhook(
    store: &Store,
    command: WebhookCommand,
) -> faceproof_store::Result<serde_json::Value> {
    match command {
        WebhookCommand::Add { tenant, url, .. } => {
            let w = store.add_webhook_endpoint(&tenant, &url).await?;
            Ok(json!({
                "endpoint_id": w.endpoint_id,
                "tenant_id": w.tenant_id,
                "url": w.url,
                "secret": &*w.secret,
            }))
        }
        WebhookCommand::List { tenant, .. } => {
            store.webhook_endpoints(&tenant).await.map(|e| json!(e))
        }
        WebhookCommand::Remove {
            tenant,
            endpoint_id,
            ..
        } => {
            store.remove_webhook_endpoint(&tenant, &endpoint_id).await?;
            store.webhook_endpoints(&tenant).await.map(|e| json!(e))
        }
        WebhookCommand::Log { tenant, limit, .. } => {
            store.webhook_log(&tenant, limit).await.map(|l| json!(l))
        }
    }
}

#[derive(clap::Args)]
pub struct StoreArgs {
    /// `faceproof.toml`; its `[store]` says where the store is (default: under $FACEPROOF_HOME).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// The `[store]` and `[server]` sections of `faceproof.toml` (the whole file is checked: an unknown
/// key anywhere is refused).
pub(crate) fn sections(args: &StoreArgs) -> Result<Sections, String> {
    crate::config::FileConfig::load(args.config.as_deref()).map(|c| Sections {
        store: c.store,
        server: c.server,
    })
}

/// What the tenant commands read of the config file.
pub(crate) struct Sections {
    pub store: StoreConfig,
    pub server: ServerConfig,
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
        | Command::Set { store, .. }
        | Command::Revoke { store, .. }
        | Command::Rotate { store, .. }
        | Command::CaptureToken { store, .. } => store,
        Command::Webhook(w) => w.store_args(),
    };
    let Sections {
        store: cfg,
        server: server_cfg,
    } = match sections(store_args) {
        Ok(c) => c,
        Err(e) => return out.error("invalid_config", &e),
    };
    super::with_store(cfg, out, async |store| {
        let result = match command {
            Command::Add {
                name,
                silent_accept_plain,
                require_challenge,
                ..
            } => store
                .create_tenant(
                    &name,
                    TenantSettings {
                        silent_accept_plain,
                        require_challenge,
                        ..TenantSettings::default()
                    },
                )
                .await
                .map(|c| credentials_json(&c)),
            Command::Set {
                tenant,
                silent_accept_plain,
                require_challenge,
                gallery,
                gallery_duplicate_is_error,
                ..
            } => {
                let switches = Switches {
                    silent_accept_plain,
                    require_challenge,
                    gallery,
                    gallery_duplicate_is_error,
                };
                set_settings(store, &tenant, switches).await
            }
            Command::CaptureToken {
                tenant,
                flow,
                challenge,
                signature_id,
                ttl_secs,
                ..
            } => {
                let req = MintRequest {
                    flow,
                    signature_id,
                    challenge_kind: challenge.map(|c| match c.as_str() {
                        "head-turn" => faceproof_engine::challenge::ChallengeKind::HeadTurn,
                        _ => faceproof_engine::challenge::ChallengeKind::Colour,
                    }),
                    challenge_id: None,
                    ttl_secs,
                };
                return match capture_token(store, &tenant, req, &server_cfg).await {
                    Ok(v) => out.json(&v),
                    Err((code, message)) => out.error(code, &message),
                };
            }
            Command::List { .. } => store.list_tenants().await.map(|t| json!(t)),
            Command::Revoke { tenant, .. } => store.revoke_tenant(&tenant).await.map(|t| json!(t)),
            Command::Rotate { tenant, .. } => store
                .rotate_credentials(&tenant)
                .await
                .map(|c| credentials_json(&c)),
            Command::Webhook(w) => webhook(store, w).await,
        };
        match result {
            Ok(v) => out.json(&v),
            Err(e) => out.error(store_error_code(&e), &e.to_string()),
        }
    })
}

/// The switches `tenant set` may change (unset: kept).
struct Switches {
    silent_accept_plain: Option<bool>,
    require_challenge: Option<bool>,
    gallery: Option<bool>,
    gallery_duplicate_is_error: Option<bool>,
}

async fn set_settings(
    store: &Store,
    tenant: &str,
    s: Switches,
) -> faceproof_store::Result<serde_json::Value> {
    let mut settings = store.tenant(tenant).await?.settings;
    if let Some(v) = s.silent_accept_plain {
        settings.silent_accept_plain = v;
    }
    if let Some(v) = s.require_challenge {
        settings.require_challenge = v;
    }
    if let Some(v) = s.gallery {
        settings.gallery.enabled = v;
    }
    if let Some(v) = s.gallery_duplicate_is_error {
        settings.gallery.duplicate_is_error = v;
    }
    store.set_tenant_settings(tenant, &settings).await?;
    store.tenant(tenant).await.map(|t| json!(t))
}

/// Mints for an active tenant exactly as `POST /v1/capture-tokens` does.
async fn capture_token(
    store: &Store,
    tenant: &str,
    req: MintRequest,
    cfg: &ServerConfig,
) -> Result<serde_json::Value, (&'static str, String)> {
    let info = store
        .tenant(tenant)
        .await
        .map_err(|e| (store_error_code(&e), e.to_string()))?;
    let scope = store
        .tenant_scope(&info.id)
        .await
        .map_err(|e| (store_error_code(&e), e.to_string()))?;
    mint(&scope, req, cfg).await.map_err(|r| match r {
        Refusal::Unauthorized => ("forbidden", "the tenant is revoked".to_owned()),
        Refusal::Invalid(m) => ("invalid", m),
        Refusal::Internal | Refusal::Busy => ("store_unavailable", "the store failed".to_owned()),
    })
}

pub fn store_error_code(e: &faceproof_store::StoreError) -> &'static str {
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
