//! `faceproof operator add|list|totp` and `faceproof audit verify`: the console's accounts and
//! its audit chain, straight on the store (docs/console.md).

use std::process::ExitCode;

use faceproof_store::{AuditEvent, Role, Store};
use serde_json::json;

use super::tenant::{StoreArgs, sections, store_error_code};
use crate::output::Output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an operator for a tenant; prints a one-time password, which must be replaced at
    /// the first login.
    Add {
        /// Tenant id or name.
        tenant: String,
        email: String,
        #[arg(long, value_parser = ["reviewer", "admin"], default_value = "reviewer")]
        role: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List a tenant's operators.
    List {
        tenant: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an operator at once (its logins end); final.
    Disable {
        tenant: String,
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Turn on TOTP for an operator (replacing any previous key); prints the key and an
    /// `otpauth://` URI once.
    Totp {
        tenant: String,
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check a tenant's audit chain; names the first broken entry (exit status 1 when broken).
    Verify {
        /// Tenant id or name.
        tenant: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `work` on the store of `args`' config file (see [`super::with_store`]).
fn with_store(
    args: &StoreArgs,
    out: &Output,
    work: impl AsyncFnOnce(&Store) -> ExitCode,
) -> ExitCode {
    match sections(args) {
        Ok(s) => super::with_store(s.store, out, work),
        Err(e) => out.error("invalid_config", &e),
    }
}

pub fn run(command: Command, out: &Output) -> ExitCode {
    let args = match &command {
        Command::Add { store, .. }
        | Command::List { store, .. }
        | Command::Totp { store, .. }
        | Command::Disable { store, .. } => store,
    };
    with_store(args, out, async |store| {
        let result = match &command {
            Command::Add {
                tenant,
                email,
                role,
                ..
            } => add(store, tenant, email, role).await,
            Command::List { tenant, .. } => store.list_operators(tenant).await.map(|o| json!(o)),
            Command::Disable { tenant, email, .. } => disable(store, tenant, email).await,
            Command::Totp { tenant, email, .. } => store
                .set_operator_totp(tenant, email)
                .await
                .map(|t| json!({"email": email, "secret": &*t.secret, "otpauth_uri": &*t.uri})),
        };
        match result {
            Ok(v) => out.json(&v),
            Err(e) => out.error(store_error_code(&e), &e.to_string()),
        }
    })
}

async fn add(
    store: &Store,
    tenant: &str,
    email: &str,
    role: &str,
) -> faceproof_store::Result<serde_json::Value> {
    let issued = store
        .add_operator(tenant, email, Role::parse(role)?)
        .await?;
    let op = &issued.operator;
    store
        .tenant_scope(&op.tenant_id)
        .await?
        .audit(AuditEvent {
            actor: "cli",
            action: "operator.added",
            subject: &op.email,
            detail: json!({"operator_id": op.id, "role": op.role}),
        })
        .await?;
    Ok(json!({
        "operator": op,
        "one_time_password": &*issued.one_time_password,
        "note": "shown once; the operator must replace it at the first login",
    }))
}

async fn disable(
    store: &Store,
    tenant: &str,
    email: &str,
) -> faceproof_store::Result<serde_json::Value> {
    let op = store.disable_operator(tenant, email).await?;
    store
        .tenant_scope(&op.tenant_id)
        .await?
        .audit(AuditEvent {
            actor: "cli",
            action: "operator.disabled",
            subject: &op.email,
            detail: json!({"operator_id": op.id}),
        })
        .await?;
    Ok(json!({"disabled": op}))
}

pub fn run_audit(command: AuditCommand, out: &Output) -> ExitCode {
    let AuditCommand::Verify {
        tenant,
        store: args,
    } = command;
    with_store(&args, out, async |store| {
        match store.verify_audit(&tenant).await {
            Ok(r) if r.ok => out.json(&r),
            Ok(r) => {
                out.json(&r);
                ExitCode::FAILURE
            }
            Err(e) => out.error(store_error_code(&e), &e.to_string()),
        }
    })
}
