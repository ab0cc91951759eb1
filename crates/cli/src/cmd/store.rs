//! `faceproof store rewrap`: the operator side of artefact key rotation (docs/storage.md).
//!
//! Rotation is configuration first (add the new key, set `current_id`, restart the replicas), then
//! this command once: it re-seals the data key of every artefact and every 1:N face template still
//! under an older key id with the current one, leaving payload bytes as they are. It is safe to
//! repeat and to interrupt.

use std::process::ExitCode;

use serde_json::json;

use crate::cmd::tenant::StoreArgs;
use crate::output::Output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Re-seal every artefact's and gallery template's data key under `[store.artefact_keys]
    /// current_id` (key rotation); prints how many objects (and, under `gallery_templates`,
    /// templates) were examined, rewrapped and found vanished.
    Rewrap {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(command: Command, out: &Output) -> ExitCode {
    let Command::Rewrap { store: args } = command;
    let cfg = match crate::config::FileConfig::load(args.config.as_deref()) {
        Ok(c) => c.store,
        Err(e) => return out.error("invalid_config", &e),
    };
    let current_id = cfg.artefact_keys.current_id;
    super::with_store(cfg, out, async |store| {
        let report = match store.rewrap_artefacts().await {
            Ok(objects) => store.rewrap_templates().await.map(|t| (objects, t)),
            Err(e) => Err(e),
        };
        match report {
            Ok((r, t)) => out.json(&json!({
                "current_key_id": current_id,
                "examined": r.examined,
                "rewrapped": r.rewrapped,
                "vanished": r.vanished,
                "gallery_templates": {
                    "examined": t.examined,
                    "rewrapped": t.rewrapped,
                    "vanished": t.vanished,
                },
            })),
            Err(e) => out.error("store_unavailable", &e.to_string()),
        }
    })
}
