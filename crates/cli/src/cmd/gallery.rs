//! `faceproof gallery`: operator actions on the 1:N gallery from the command line.

use std::process::ExitCode;

use serde_json::json;

use super::tenant::{StoreArgs, store_error_code};
use crate::output::Output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Delete every template filed under an external reference (enrolment, probes, blocklist
    /// entries): a data-subject request. Running replicas drop them at their next refresh.
    Delete {
        /// Tenant id or name.
        tenant: String,
        /// The tenant's external reference of the person.
        external_ref: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(command: Command, out: &Output) -> ExitCode {
    let Command::Delete {
        tenant,
        external_ref,
        store,
    } = command;
    let cfg = match crate::config::FileConfig::load(store.config.as_deref()) {
        Ok(c) => c.store,
        Err(e) => return out.error("invalid_config", &e),
    };
    super::with_store(cfg, out, async |store| {
        let deleted = async {
            let info = store.tenant(&tenant).await?;
            let scope = store.tenant_scope(&info.id).await?;
            scope.delete_templates_by_ref(&external_ref).await
        }
        .await;
        match deleted {
            Ok(ids) => out.json(&json!({
                "tenant": tenant,
                "external_ref": external_ref,
                "deleted": ids.len(),
                "entry_ids": ids,
            })),
            Err(e) => out.error(store_error_code(&e), &e.to_string()),
        }
    })
}
