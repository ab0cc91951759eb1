//! `[gallery]`: the 1:N search's threshold and how replicas keep their index fresh. Whether a
//! tenant uses 1:N at all is the tenant's setting (`faceproof tenant gallery`), not this file's.

use std::time::Duration;

use serde::Deserialize;

/// Service-wide 1:N settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GalleryConfig {
    /// Target false-accept rate of one whole search (the chance that a probe of a new person
    /// falsely matches anyone in a list), at the list's current size N. Each comparison is held
    /// at `1 - (1 - target_far)^(1/N)` through the engine's FAR model of the active embedder, and
    /// the threshold never goes below the engine's 1:1 match threshold. The one owner of the
    /// gallery's threshold.
    pub target_far: f64,
    /// How often each replica reads the templates changed since its cursor, milliseconds. A
    /// template enrolled (or deleted) on one replica is seen by the others within about this.
    pub refresh_interval_ms: u64,
    /// How far before its cursor a replica re-reads, milliseconds: rows committed late with an
    /// earlier timestamp (a slow transaction, clock skew between replicas) are still picked up.
    pub refresh_overlap_ms: u64,
}

impl Default for GalleryConfig {
    fn default() -> Self {
        GalleryConfig {
            target_far: 0.01,
            refresh_interval_ms: 1000,
            refresh_overlap_ms: 10_000,
        }
    }
}

impl GalleryConfig {
    /// Refuses values that cannot work.
    pub fn check(&self) -> Result<(), String> {
        if !(self.target_far > 0.0 && self.target_far < 1.0) {
            return Err(format!(
                "gallery.target_far {} must be in (0, 1)",
                self.target_far
            ));
        }
        if self.refresh_interval_ms == 0 {
            return Err("gallery.refresh_interval_ms must be at least 1".into());
        }
        Ok(())
    }

    pub fn refresh_interval(&self) -> Duration {
        Duration::from_millis(self.refresh_interval_ms)
    }
}
