//! Prometheus text exposition, by hand: request counts by API and vendor code, request latency,
//! per-stage engine latency, verdict counts, check queue depth. Labels are API names, vendor codes
//! and stage names only: never ids, keys or anything about a face.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use faceproof_engine::check::StageTimes;

use crate::webhooks::worker::WebhookCounters;

/// Upper bounds of the latency buckets, seconds (a check takes 1-10 s on 2 cores).
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Which vendor API answered and with which vendor code (a response extension set by handlers).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub api: &'static str,
    pub code: String,
}

impl Outcome {
    pub fn new(api: &'static str, code: impl Into<String>) -> Self {
        Outcome {
            api,
            code: code.into(),
        }
    }
}

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, String), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    stages: BTreeMap<&'static str, Histogram>,
    verdicts: BTreeMap<(&'static str, &'static str), u64>,
    /// Console review decisions, by decision and reason (`faceproof_review_decisions_total`).
    reviews: BTreeMap<(String, String), u64>,
    /// Console login attempts, by result (`faceproof_review_logins_total`).
    logins: BTreeMap<&'static str, u64>,
}

/// The service's counters.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// The webhook worker's counters (`faceproof_webhook_*`), shared with the worker task.
    pub webhooks: Arc<WebhookCounters>,
    /// Requests refused by the rate limits (`faceproof_rate_limited_*`).
    pub rate_limited: RateLimitCounters,
}

/// Requests answered 429 by `[server.rate_limit]`, by what limited them.
#[derive(Debug, Default)]
pub struct RateLimitCounters {
    /// The tenant's bucket was empty.
    pub credential: AtomicU64,
    /// The client address's bucket was empty.
    pub client: AtomicU64,
    /// The client address was cooling down after repeated failed authentications.
    pub lockout: AtomicU64,
    /// Strikes (failed authentications, failed checks when counted) toward a cool-down.
    pub strikes: AtomicU64,
    /// Replicas the rates are split over (`shared_rates`; 1 when off or not yet counted).
    pub replicas: AtomicU64,
}

impl RateLimitCounters {
    /// Counts one refusal under its scope.
    pub fn count(&self, why: crate::ratelimit::Limited) {
        use crate::ratelimit::Limited;
        let c = match why {
            Limited::Lockout { .. } => &self.lockout,
            Limited::Client { .. } => &self.client,
            Limited::Tenant { .. } => &self.credential,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// The replica count the rates were last split over.
    pub fn set_replicas(&self, n: u32) {
        self.rate_limited
            .replicas
            .store(u64::from(n), Ordering::Relaxed);
    }

    pub fn record_request(&self, api: &'static str, code: &str, secs: f64) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m.requests.entry((api, code.to_owned())).or_default() += 1;
        m.latency.entry(api).or_default().observe(secs);
    }

    /// Engine stage times of one judged request.
    pub fn record_stages(&self, t: &StageTimes) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for (stage, ms) in [
            ("decode", t.decode_ms),
            ("detect", t.detect_ms),
            ("landmarks", t.landmarks_ms),
            ("pad", t.pad_ms),
            ("embed", t.embed_ms),
            ("signals", t.signals_ms),
            ("total", t.total_ms),
        ] {
            m.stages.entry(stage).or_default().observe(ms / 1000.0);
        }
    }

    /// One verdict: `passed`, or the kind of failure.
    pub fn record_verdict(&self, api: &'static str, outcome: &'static str) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m.verdicts.entry((api, outcome)).or_default() += 1;
    }

    /// The exposition text.
    /// One operator decision in the console.
    pub fn record_review(&self, decision: &str, reason: &str) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m.reviews
            .entry((decision.to_owned(), reason.to_owned()))
            .or_default() += 1;
    }

    /// One console login attempt: `granted`, `refused` or `locked`.
    pub fn record_console_login(&self, result: &'static str) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m.logins.entry(result).or_default() += 1;
    }

    pub fn render(&self, running: usize, queued: usize) -> String {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP faceproof_requests_total Requests answered, by API and vendor code.\n",
        );
        out.push_str("# TYPE faceproof_requests_total counter\n");
        for ((api, code), n) in &m.requests {
            let _ = writeln!(
                out,
                "faceproof_requests_total{{api=\"{api}\",code=\"{}\"}} {n}",
                escape(code)
            );
        }
        out.push_str("# HELP faceproof_request_duration_seconds Request latency, by API.\n");
        out.push_str("# TYPE faceproof_request_duration_seconds histogram\n");
        for (api, h) in &m.latency {
            h.write(
                &mut out,
                "faceproof_request_duration_seconds",
                &format!("api=\"{api}\""),
            );
        }
        out.push_str("# HELP faceproof_stage_duration_seconds Engine time per stage.\n");
        out.push_str("# TYPE faceproof_stage_duration_seconds histogram\n");
        for (stage, h) in &m.stages {
            h.write(
                &mut out,
                "faceproof_stage_duration_seconds",
                &format!("stage=\"{stage}\""),
            );
        }
        out.push_str("# HELP faceproof_verdicts_total Verdicts, by API and outcome.\n");
        out.push_str("# TYPE faceproof_verdicts_total counter\n");
        for ((api, outcome), n) in &m.verdicts {
            let _ = writeln!(
                out,
                "faceproof_verdicts_total{{api=\"{api}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP faceproof_review_decisions_total Console review decisions, by decision and reason.\n",
        );
        out.push_str("# TYPE faceproof_review_decisions_total counter\n");
        for ((decision, reason), n) in &m.reviews {
            let _ = writeln!(
                out,
                "faceproof_review_decisions_total{{decision=\"{}\",reason=\"{}\"}} {n}",
                escape(decision),
                escape(reason)
            );
        }
        out.push_str("# HELP faceproof_review_logins_total Console login attempts, by result.\n");
        out.push_str("# TYPE faceproof_review_logins_total counter\n");
        for (result, n) in &m.logins {
            let _ = writeln!(
                out,
                "faceproof_review_logins_total{{result=\"{result}\"}} {n}"
            );
        }
        out.push_str("# HELP faceproof_checks_running Engine checks running now.\n");
        out.push_str("# TYPE faceproof_checks_running gauge\n");
        let _ = writeln!(out, "faceproof_checks_running {running}");
        out.push_str("# HELP faceproof_checks_queued Requests waiting for a check slot.\n");
        out.push_str("# TYPE faceproof_checks_queued gauge\n");
        let _ = writeln!(out, "faceproof_checks_queued {queued}");
        self.render_ops(&mut out);
        out
    }

    /// Webhook delivery and rate-limit counters.
    fn render_ops(&self, out: &mut String) {
        let w = &self.webhooks;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str(
            "# HELP faceproof_webhook_deliveries_total Webhook attempts by this replica, by outcome \
             (delivered; retry: failed, will retry; dead: failed, given up; refused_target: not sent, \
             the address is not public).\n",
        );
        out.push_str("# TYPE faceproof_webhook_deliveries_total counter\n");
        for (outcome, n) in [
            ("delivered", get(&w.delivered)),
            ("retry", get(&w.retried)),
            ("dead", get(&w.dead)),
            ("refused_target", get(&w.refused_target)),
        ] {
            let _ = writeln!(
                out,
                "faceproof_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP faceproof_webhook_pending Outbox rows neither delivered nor dead-lettered \
             (all replicas), as of this replica's last idle poll.\n",
        );
        out.push_str("# TYPE faceproof_webhook_pending gauge\n");
        let _ = writeln!(
            out,
            "faceproof_webhook_pending {}",
            w.pending.load(Ordering::Relaxed)
        );
        let r = &self.rate_limited;
        out.push_str(
            "# HELP faceproof_rate_limited_total Requests answered 429 by the rate limits, by \
             scope (tenant, client, lockout).\n",
        );
        out.push_str("# TYPE faceproof_rate_limited_total counter\n");
        for (scope, n) in [
            ("tenant", get(&r.credential)),
            ("client", get(&r.client)),
            ("lockout", get(&r.lockout)),
        ] {
            let _ = writeln!(out, "faceproof_rate_limited_total{{scope=\"{scope}\"}} {n}");
        }
        out.push_str(
            "# HELP faceproof_rate_limited_strikes_total Failed authentications (and failed \
             checks when counted) toward a client's cool-down.\n",
        );
        out.push_str("# TYPE faceproof_rate_limited_strikes_total counter\n");
        let _ = writeln!(
            out,
            "faceproof_rate_limited_strikes_total {}",
            get(&r.strikes)
        );
        out.push_str(
            "# HELP faceproof_rate_limit_replicas Replicas this one splits the request rates over \
             (shared_rates; 1 when off).\n",
        );
        out.push_str("# TYPE faceproof_rate_limit_replicas gauge\n");
        let _ = writeln!(
            out,
            "faceproof_rate_limit_replicas {}",
            get(&r.replicas).max(1)
        );
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.record_request("fpt", "200", 0.3);
        m.record_request("fpt", "200", 3.0);
        m.record_request("silent", "1200", 0.001);
        m.record_verdict("fpt", "passed");
        let text = m.render(1, 2);
        assert!(text.contains("faceproof_requests_total{api=\"fpt\",code=\"200\"} 2"));
        assert!(text.contains("faceproof_requests_total{api=\"silent\",code=\"1200\"} 1"));
        assert!(
            text.contains("faceproof_request_duration_seconds_bucket{api=\"fpt\",le=\"0.5\"} 1")
        );
        assert!(text.contains("faceproof_request_duration_seconds_bucket{api=\"fpt\",le=\"5\"} 2"));
        assert!(text.contains("faceproof_request_duration_seconds_count{api=\"fpt\"} 2"));
        assert!(text.contains("faceproof_verdicts_total{api=\"fpt\",outcome=\"passed\"} 1"));
        assert!(text.contains("faceproof_checks_running 1"));
        assert!(text.contains("faceproof_checks_queued 2"));
        assert!(text.contains("faceproof_webhook_deliveries_total{outcome=\"dead\"} 0"));
        assert!(text.contains("faceproof_rate_limited_total{scope=\"lockout\"} 0"));
    }
}
