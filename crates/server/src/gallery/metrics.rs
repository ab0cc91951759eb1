//! `faceproof_gallery_*` counters (labels: list names only, never references or ids).

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
struct Counts {
    searches: u64,
    search_seconds_sum: f64,
    hits_duplicate: u64,
    hits_blocklist: u64,
    enrolled: u64,
    probes: u64,
    blocked: u64,
    deleted: u64,
    refresh_failures: u64,
    refresh_rows: u64,
    templates: usize,
    last_refresh_seconds: f64,
}

/// The gallery's counters.
#[derive(Default)]
pub struct GalleryMetrics {
    inner: Mutex<Counts>,
}

impl GalleryMetrics {
    fn with(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub(crate) fn searched(&self, took: Duration, duplicate: bool, blocklist: bool) {
        self.with(|c| {
            c.searches += 1;
            c.search_seconds_sum += took.as_secs_f64();
            c.hits_duplicate += u64::from(duplicate);
            c.hits_blocklist += u64::from(blocklist);
        });
    }

    pub(crate) fn stored(&self, enrolled: bool) {
        self.with(|c| {
            if enrolled {
                c.enrolled += 1
            } else {
                c.probes += 1
            }
        });
    }

    pub(crate) fn blocked(&self) {
        self.with(|c| c.blocked += 1);
    }

    pub(crate) fn deleted(&self, n: usize) {
        self.with(|c| c.deleted += n as u64);
    }

    pub(crate) fn refreshed(&self, rows: usize, templates: usize, took: Duration) {
        self.with(|c| {
            c.refresh_rows += rows as u64;
            c.templates = templates;
            c.last_refresh_seconds = took.as_secs_f64();
        });
    }

    pub(crate) fn refresh_failed(&self) {
        self.with(|c| c.refresh_failures += 1);
    }

    /// Prometheus text, appended to `/metrics`.
    pub fn render(&self) -> String {
        let c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: &[(&str, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in lines {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        metric(
            "faceproof_gallery_searches_total",
            "counter",
            "1:N searches run (tenants with the gallery enabled).",
            &[("", c.searches.to_string())],
        );
        metric(
            "faceproof_gallery_search_seconds_sum",
            "counter",
            "Time spent in 1:N searches.",
            &[("", c.search_seconds_sum.to_string())],
        );
        metric(
            "faceproof_gallery_hits_total",
            "counter",
            "Searches that matched, by list.",
            &[
                ("{list=\"enrolled\"}", c.hits_duplicate.to_string()),
                ("{list=\"blocklist\"}", c.hits_blocklist.to_string()),
            ],
        );
        metric(
            "faceproof_gallery_stored_total",
            "counter",
            "Templates stored, by list (probe: kept for review or blocklisting only).",
            &[
                ("{list=\"enrolled\"}", c.enrolled.to_string()),
                ("{list=\"probe\"}", c.probes.to_string()),
                ("{list=\"blocklist\"}", c.blocked.to_string()),
            ],
        );
        metric(
            "faceproof_gallery_deleted_total",
            "counter",
            "Templates deleted on request through this replica.",
            &[("", c.deleted.to_string())],
        );
        metric(
            "faceproof_gallery_templates",
            "gauge",
            "Templates in this replica's index (every tenant, both lists).",
            &[("", c.templates.to_string())],
        );
        metric(
            "faceproof_gallery_refresh_rows_total",
            "counter",
            "Rows read by index refreshes.",
            &[("", c.refresh_rows.to_string())],
        );
        metric(
            "faceproof_gallery_refresh_failures_total",
            "counter",
            "Index refreshes that failed (retried next interval).",
            &[("", c.refresh_failures.to_string())],
        );
        metric(
            "faceproof_gallery_last_refresh_seconds",
            "gauge",
            "Duration of the latest index refresh.",
            &[("", c.last_refresh_seconds.to_string())],
        );
        out
    }
}
