//! `faceproof.toml`: the one configuration file every subcommand reads (`serve`, `tenant`, `check`,
//! `eval`, `calibrate`, `bench check`, `probe`), with one section per owning crate:
//!
//! | section    | type                                   | owner  |
//! |------------|----------------------------------------|--------|
//! | `[server]` | `faceproof_server::ServerConfig`       | server |
//! | `[store]`  | `faceproof_store::StoreConfig`         | store  |
//! | `[engine]` | `faceproof_engine::EngineConfig`       | engine (every decision threshold) |
//! | `[vision]` | `faceproof_vision::VisionConfig`       | vision (models, threads, pre-processing) |
//! | `[limits]` | `faceproof_media::Limits`              | media  |
//! | `[gallery]`| `faceproof_server::gallery::GalleryConfig` | server (1:N threshold, refresh) |
//! | `[webhooks]` | `faceproof_server::webhooks::WebhookConfig` | server (delivery worker) |
//!
//! Every section and field is optional (its default applies); an unknown section or key is refused
//! with its name, so a typo never silently falls back to a default. `faceproof.example.toml` at
//! the repository root lists every key with its default (a test keeps it equal to the defaults).

use faceproof_engine::check::EngineConfig;
use faceproof_media::Limits;
use faceproof_server::ServerConfig;
use faceproof_server::gallery::GalleryConfig;
use faceproof_server::webhooks::WebhookConfig;
use faceproof_store::StoreConfig;
use faceproof_vision::VisionConfig;
use serde::Deserialize;
use std::path::Path;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub engine: EngineConfig,
    pub vision: VisionConfig,
    pub limits: Limits,
    pub gallery: GalleryConfig,
    pub webhooks: WebhookConfig,
}

impl FileConfig {
    /// Parses a file's text.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Reads `path`, or the defaults when no file is given. Errors name the file and the key.
    pub fn load(path: Option<&Path>) -> Result<FileConfig, String> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        FileConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example lists every key at its default: parsing it gives the defaults.
    #[test]
    fn the_example_file_is_the_defaults() {
        let text = include_str!("../../../faceproof.example.toml");
        let parsed = FileConfig::parse(text).unwrap();
        // Not every section implements PartialEq (the store's secrets); Debug shows every field.
        assert_eq!(parsed.engine, EngineConfig::default());
        assert_eq!(parsed.vision, VisionConfig::default());
        assert_eq!(parsed.limits, Limits::default());
        assert_eq!(parsed.gallery, GalleryConfig::default());
        assert_eq!(
            format!("{:?}", parsed.server),
            format!("{:?}", ServerConfig::default())
        );
        assert_eq!(
            format!("{:?}", parsed.store),
            format!("{:?}", StoreConfig::default())
        );
        assert_eq!(
            format!("{:?}", parsed.webhooks),
            format!("{:?}", WebhookConfig::default())
        );
    }

    /// Every key of the sections that serialise (engine, vision, limits) is listed in the example,
    /// set or commented out: a new config field without its line in the example fails here.
    #[test]
    fn the_example_file_lists_every_key() {
        let text = include_str!("../../../faceproof.example.toml");
        let mut listed = std::collections::BTreeSet::new();
        let mut section = String::new();
        for line in text.lines() {
            if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = h.to_owned();
            } else if let Some((key, _)) = line.trim_start_matches("# ").split_once(" = ") {
                listed.insert(format!("{section}.{key}"));
            }
        }
        fn leaves(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        match v {
                            serde_json::Value::Object(_) => {
                                leaves(&format!("{prefix}.{k}"), v, out)
                            }
                            _ => out.push(format!("{prefix}.{k}")),
                        }
                    }
                }
                _ => out.push(prefix.to_owned()),
            }
        }
        let mut keys = Vec::new();
        let engine = serde_json::to_value(EngineConfig::default()).unwrap();
        let vision = serde_json::to_value(VisionConfig::default()).unwrap();
        let limits = serde_json::to_value(Limits::default()).unwrap();
        leaves("engine", &engine, &mut keys);
        leaves("vision", &vision, &mut keys);
        leaves("limits", &limits, &mut keys);
        let missing: Vec<_> = keys.iter().filter(|k| !listed.contains(*k)).collect();
        assert!(
            missing.is_empty(),
            "not in faceproof.example.toml: {missing:?}"
        );
        assert!(keys.len() > 100, "{}", keys.len());
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        for (text, key) in [
            ("[engine.liveness]\nthreshhold = 0.4\n", "threshhold"),
            ("[engine.signals.pulse]\nbogus = 1\n", "bogus"),
            ("[vision]\nmodel_dir = \"x\"\n", "model_dir"),
            ("[limits]\nmax_video = 1\n", "max_video"),
            ("[servre]\n", "servre"),
        ] {
            let e = FileConfig::parse(text).unwrap_err();
            assert!(e.contains(key), "{text}: {e}");
        }
        let c = FileConfig::parse("[engine.liveness]\nthreshold = 0.4\n").unwrap();
        assert_eq!(c.engine.liveness.threshold, 0.4);
    }

    /// The byte limits have one owner, `[limits]`; the server's form reader takes them from it
    /// (through the engine, which is built with these limits).
    #[test]
    fn byte_limits_are_the_media_limits() {
        let e = FileConfig::parse("[server]\nmax_video_bytes = 1\n").unwrap_err();
        assert!(e.contains("max_video_bytes"), "{e}");
        let c =
            FileConfig::parse("[limits]\nmax_video_bytes = 1234\nmax_image_bytes = 567\n").unwrap();
        let uploads = faceproof_server::config::UploadLimits::new(&c.limits, &c.server);
        assert_eq!((uploads.video, uploads.image), (1234, 567));
        assert_eq!(
            (c.limits.max_video_bytes, c.limits.max_image_bytes),
            (1234, 567)
        );
    }
}
