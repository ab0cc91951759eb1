//! This replica's copy of every tenant's gallery: loaded from the store at start, then kept fresh
//! by reading the rows changed since a cursor (`updated_at`, id) every `refresh_interval_ms`.
//! Writes made through this replica are applied at once; other replicas' within one interval.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use faceproof_gallery::{EntryId, Galleries, List, Search, Template};
use faceproof_store::{GalleryList, Store, StoreError, StoredTemplate};

use super::config::GalleryConfig;
use super::metrics::GalleryMetrics;

/// Rows read per page of a refresh.
const PAGE: u32 = 2000;

/// Tombstones live a day in the store; a replica that has not refreshed for most of that reloads.
const RELOAD_AFTER: Duration = Duration::from_secs(20 * 3600);

/// A store row id (UUID text) as the index's 128-bit id.
pub fn entry_id(id: &str) -> Option<EntryId> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    (hex.len() == 32)
        .then(|| u128::from_str_radix(&hex, 16).ok())
        .flatten()
}

/// The index id back in the store's UUID text form.
pub fn entry_text(id: EntryId) -> String {
    faceproof_store::uuid_text(id)
}

struct Cursor {
    at: (i64, String),
    last_ok: Option<Instant>,
}

/// The in-memory index and its refresh state. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct Replica {
    pub(crate) cfg: GalleryConfig,
    /// Name of the engine's embedder: rows of another embedder are not loaded.
    embedder: &'static str,
    index: Arc<RwLock<Option<Galleries>>>,
    cursor: Arc<Mutex<Cursor>>,
    pub(crate) metrics: Arc<GalleryMetrics>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("embedder", &self.embedder)
            .field("templates", &self.len())
            .finish_non_exhaustive()
    }
}

impl Replica {
    /// An empty index for templates of `embedder` (nothing loaded yet: see [`Replica::refresh`]).
    pub fn new(cfg: GalleryConfig, embedder: &'static str) -> Replica {
        Replica {
            cfg,
            embedder,
            index: Arc::new(RwLock::new(None)),
            cursor: Arc::new(Mutex::new(Cursor {
                at: (0, String::new()),
                last_ok: None,
            })),
            metrics: Arc::new(GalleryMetrics::default()),
        }
    }

    pub fn embedder(&self) -> &'static str {
        self.embedder
    }

    /// Templates held (every tenant, both lists).
    pub fn len(&self) -> usize {
        self.read(|g| g.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes of the index.
    pub fn bytes(&self) -> usize {
        self.read(|g| g.bytes())
    }

    fn read<T: Default>(&self, f: impl FnOnce(&Galleries) -> T) -> T {
        let guard = self.index.read().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(f).unwrap_or_default()
    }

    /// Whether the index holds an entry of a tenant (tests, the console).
    pub fn contains(&self, tenant: &str, id: &str) -> bool {
        entry_id(id).is_some_and(|e| self.read(|g| g.contains(tenant, e)))
    }

    /// Searches one tenant's lists (brute force; run it off the async workers for big galleries).
    pub fn search(&self, tenant: &str, probe: &Template, own_ref: Option<&str>) -> Search {
        self.read(|g| g.search(tenant, probe, own_ref))
    }

    /// Applies one stored row: files it in its list, or removes it (deleted, a probe, or made by
    /// another embedder).
    pub fn apply(&self, row: &StoredTemplate) {
        let mut guard = self.index.write().unwrap_or_else(|p| p.into_inner());
        apply_to(&mut guard, self.embedder, row);
    }

    /// Removes entries by id (this replica's own deletions, before the cursor sees them).
    pub fn remove(&self, tenant: &str, ids: &[String]) {
        let mut guard = self.index.write().unwrap_or_else(|p| p.into_inner());
        if let Some(g) = guard.as_mut() {
            for id in ids.iter().filter_map(|i| entry_id(i)) {
                g.remove(tenant, id);
            }
        }
    }

    /// Reads every row changed since the cursor (minus the overlap) and applies it. The first
    /// call loads everything; a replica whose last refresh is older than the tombstones' life
    /// starts over. Returns the rows read.
    pub async fn refresh(&self, store: &Store) -> Result<usize, StoreError> {
        let started = Instant::now();
        let (mut since, full) = {
            let mut c = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
            let stale = c.last_ok.is_some_and(|t| t.elapsed() > RELOAD_AFTER);
            if stale {
                c.at = (0, String::new());
            }
            let overlap = i64::try_from(self.cfg.refresh_overlap_ms).unwrap_or(i64::MAX);
            let from = if c.at.0 == 0 {
                (0, String::new())
            } else {
                (c.at.0.saturating_sub(overlap), String::new())
            };
            (from, stale || c.last_ok.is_none())
        };
        // A full load builds a new index and swaps it in whole: searches meanwhile use the old
        // one (this replica's own writes during the load come back with the next refresh).
        let mut fresh: Option<Galleries> = None;
        let mut read = 0;
        loop {
            let page = store.gallery_changes((since.0, &since.1), PAGE).await?;
            for row in &page.rows {
                if full {
                    apply_to(&mut fresh, self.embedder, row);
                } else {
                    self.apply(row);
                }
            }
            read += page.rows.len();
            since = page.cursor;
            if page.rows.len() < PAGE as usize {
                break;
            }
        }
        if full {
            *self.index.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        }
        let mut c = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
        if since.0 > c.at.0 || (since.0 == c.at.0 && since.1 > c.at.1) {
            c.at = since;
        }
        c.last_ok = Some(Instant::now());
        drop(c);
        self.metrics.refreshed(read, self.len(), started.elapsed());
        if full {
            tracing::info!(
                templates = self.len(),
                bytes = self.bytes(),
                ms = started.elapsed().as_millis() as u64,
                "gallery index loaded"
            );
        }
        Ok(read)
    }

    /// Refreshes every `refresh_interval_ms` until the runtime stops (errors are logged and
    /// counted; the next tick retries).
    pub fn spawn_refresh(&self, store: Store) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(me.cfg.refresh_interval());
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = me.refresh(&store).await {
                    me.metrics.refresh_failed();
                    tracing::warn!(error = %e, "gallery refresh failed; retrying next tick");
                }
            }
        })
    }
}

/// Files one stored row in `index`, or removes it (deleted, a probe, another embedder's).
fn apply_to(index: &mut Option<Galleries>, embedder: &str, row: &StoredTemplate) {
    let Some(id) = entry_id(&row.id) else {
        tracing::warn!(template = %row.id, "gallery row id is not a UUID; skipped");
        return;
    };
    let list = match row.list {
        GalleryList::Enrolled => Some(List::Enrolled),
        GalleryList::Blocked => Some(List::Blocked),
        GalleryList::Probe => None,
    };
    let template = match (&row.embedding, list) {
        (Some(e), Some(_)) if row.embedder == embedder => Template::quantise(e).ok(),
        _ => None,
    };
    match (template, list) {
        (Some(t), Some(list)) => {
            let g = index.get_or_insert_with(|| Galleries::new(t.dim()));
            if let Err(e) = g.upsert(&row.tenant_id, list, id, row.external_ref.as_deref(), &t) {
                tracing::warn!(template = %row.id, error = %e, "gallery template skipped");
            }
        }
        _ => {
            if let Some(g) = index.as_mut() {
                g.remove(&row.tenant_id, id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let id = "0f1e2d3c-4b5a-4697-8877-665544332211";
        assert_eq!(entry_text(entry_id(id).unwrap()), id);
        assert!(entry_id("not-a-uuid").is_none());
    }
}
