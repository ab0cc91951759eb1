//! `ServerConfig`: the `[server]` section. Every limit the HTTP layer applies lives here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use faceproof_media::Limits;
use serde::Deserialize;

use crate::ratelimit::RateLimitConfig;

/// How the HTTP service listens, what it accepts and how much work it takes on at once.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Loopback by default: exposing the service is a deliberate choice
    /// (`faceproof serve --bind 0.0.0.0:8080`).
    pub bind: SocketAddr,
    /// Bytes a request body may carry beyond its media (multipart headers, JSON keys, HPKE
    /// encapsulated keys and tags). The media's own limits are the engine's (`[limits]`, see
    /// [`UploadLimits`]).
    pub body_overhead_bytes: u64,
    /// Engine checks running at once. Each decodes a video and runs the models on its own
    /// threads, so more than the number of cores only adds memory.
    pub max_concurrent_checks: usize,
    /// Requests allowed to wait for a free check slot. Beyond it the service answers 429 at once
    /// instead of queueing without bound (and running out of memory on buffered bodies).
    pub max_queued_checks: usize,
    /// Request body bytes held at once across all requests. Each body-taking request reserves
    /// its `Content-Length` (its route's limit when unknown) after its credential is checked and
    /// before its body is read; beyond this budget it is answered busy (429/503 with
    /// `Retry-After`) without being read.
    pub max_inflight_body_bytes: u64,
    /// Longest expected wait for a check slot a request is admitted with: checks ahead of it x
    /// median of recent check times / `max_concurrent_checks`. Beyond it the request is answered
    /// 429 with `Retry-After` at once. 0 turns the bound off.
    pub max_queue_wait_secs: u64,
    /// Longest a request waits for a check slot before it is answered 503.
    pub queue_timeout_secs: u64,
    /// Lifetime of an ADVANCE access token, seconds.
    pub token_ttl_secs: u64,
    /// Largest clock difference accepted between an ADVANCE token request's `timestamp` and ours,
    /// seconds (a captured request cannot be replayed later than this).
    pub token_timestamp_skew_secs: u64,
    /// How far a silent envelope pair's sealing time may be from our clock, either way, seconds;
    /// a pair is refused as a replay when sent again within it (docs/api-silent.md).
    pub silent_envelope_window_secs: u64,
    /// Lifetime of the signed image and audit URLs returned by the ADVANCE API, seconds.
    pub signed_url_ttl_secs: u64,
    /// Window for filling an ADVANCE capture session after its signatureId was issued, seconds.
    pub capture_session_ttl_secs: u64,
    /// Base URL put in front of signed artefact paths (`https://kyc.example.com`). Unset: taken from
    /// the request's `Host` header, `http://` scheme.
    pub public_base_url: Option<String>,
    /// Seconds given to in-flight requests after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// Seconds between a shutdown signal and closing the listener: `/readyz` already answers
    /// 503 and new requests are still served, so a load balancer polling `/readyz` takes the
    /// replica out of rotation before its connections start being refused. Set it above the
    /// balancer's detection time (checks x interval); 0 closes the listener at once.
    pub drain_delay_secs: u64,
    /// Longest a whole request may take, body upload included, before it is answered 408 and
    /// dropped: a client trickling its body cannot hold a connection and a buffer forever. A 15 MB
    /// upload at 1 Mbit/s takes 120 s; the queue and a check add under a minute.
    pub request_timeout_secs: u64,
    /// Longest a client may take to send a request's line and headers, seconds, counted from
    /// when the server starts waiting for it (a new connection, or the previous answer on a
    /// kept-alive one): a client trickling header lines cannot hold a connection. It therefore
    /// also closes kept-alive connections idle for this long.
    pub header_read_timeout_secs: u64,
    /// Longest a request body may stall (no byte received) once its headers are in, seconds. A
    /// stalled upload is cut and its connection closed, well before `request_timeout_secs`.
    pub idle_timeout_secs: u64,
    /// Connections served at once. The next ones wait, unread, in the kernel's accept queue
    /// until one closes (a load balancer sees them as slow, never as refused while the queue
    /// has room), so a flood of idle connections cannot exhaust memory or file descriptors.
    pub max_connections: usize,
    /// Hosts the signed URLs may name when `public_base_url` is unset, as `host` or `host:port`
    /// (case-insensitive). A request whose `Host` is not listed gets no signed URL (400), so a
    /// forged `Host` cannot point a client at someone else's server. Empty: loopback names
    /// (`localhost`, `127.0.0.1`, `[::1]`, any port) and the `bind` address only.
    pub allowed_hosts: Vec<String>,
    /// When set, `GET /metrics` requires `Authorization: Bearer <token>` (compared in constant
    /// time); otherwise it is open (keep it on a private network).
    pub metrics_token: Option<String>,
    /// Default lifetime of a server-issued challenge, seconds (`POST /v1/challenges` may ask for
    /// less or more, up to [`MAX_GRANT_TTL_SECS`]). Short: a challenge known long before the
    /// capture gives a forger time to render an answer.
    pub challenge_ttl_secs: u64,
    /// Default lifetime of a browser capture token, seconds (at most [`MAX_GRANT_TTL_SECS`]).
    pub capture_token_ttl_secs: u64,
    /// The web SDK's folder: `/sdk/` serves `<sdk_dir>/dist/`, `/demo/` serves
    /// `<sdk_dir>/dist/demo/`. Relative to the working directory. A missing folder answers 404.
    pub sdk_dir: PathBuf,
    /// The interactive API reference's folder: `/docs` serves `<apidocs_dir>/dist/index.html`
    /// (Swagger UI over `/openapi.json`, built by `scripts/apidocs.sh`) and `/docs/` its files.
    /// Relative to the working directory. Not built: `/docs` is the small page inside the binary.
    pub apidocs_dir: PathBuf,
    /// Per-tenant and per-client request rates and the failure lockout (`[server.rate_limit]`,
    /// see `ratelimit.rs`).
    pub rate_limit: RateLimitConfig,
    /// The operator console (`[server.console]`, docs/console.md).
    pub console: crate::console::config::ConsoleConfig,
}

/// Longest lifetime a challenge or a capture token may be given, seconds.
pub const MAX_GRANT_TTL_SECS: u64 = 3600;

impl Default for ServerConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_overhead_bytes: 64 * 1024,
            max_concurrent_checks: cores.clamp(1, 8),
            max_queued_checks: 16,
            max_inflight_body_bytes: 256 * 1024 * 1024,
            max_queue_wait_secs: 10,
            queue_timeout_secs: 30,
            token_ttl_secs: 3600,
            token_timestamp_skew_secs: 300,
            silent_envelope_window_secs: 300,
            signed_url_ttl_secs: 24 * 3600,
            capture_session_ttl_secs: 15 * 60,
            public_base_url: None,
            shutdown_grace_secs: 30,
            drain_delay_secs: 0,
            request_timeout_secs: 180,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 30,
            max_connections: 1024,
            allowed_hosts: Vec::new(),
            metrics_token: None,
            challenge_ttl_secs: 180,
            capture_token_ttl_secs: 600,
            sdk_dir: PathBuf::from("sdk/web"),
            apidocs_dir: PathBuf::from("apidocs"),
            rate_limit: RateLimitConfig::default(),
            console: crate::console::config::ConsoleConfig::default(),
        }
    }
}

/// What an upload may carry. The media limits are the engine's own (`[limits] max_video_bytes` /
/// `max_image_bytes`, one owner), so a form field is refused with 413 at exactly the size the
/// media layer would refuse; the body limits add each API's framing (`body_overhead_bytes`).
#[derive(Clone, Copy, Debug)]
pub struct UploadLimits {
    /// Largest selfie video or clip, bytes (FPT: 10 MB).
    pub video: u64,
    /// Largest ID photo or capture still, bytes (FPT: 5 MB).
    pub image: u64,
    overhead: u64,
}

impl UploadLimits {
    pub fn new(media: &Limits, cfg: &ServerConfig) -> UploadLimits {
        UploadLimits {
            video: media.max_video_bytes,
            image: media.max_image_bytes,
            overhead: cfg.body_overhead_bytes,
        }
    }

    /// Body limit of the FPT multipart request: a video, an ID photo and the form's framing.
    pub fn fpt_body(&self) -> usize {
        to_usize(self.video + self.image + self.overhead)
    }

    /// Body limit of the silent-compare JSON request: both media base64-encoded (4/3) plus
    /// envelope overhead.
    pub fn silent_body(&self) -> usize {
        to_usize((self.video + self.image).div_ceil(3) * 4 + self.overhead)
    }

    /// Body limit of an ADVANCE capture upload: two stills and an optional clip.
    pub fn capture_body(&self) -> usize {
        to_usize(2 * self.image + self.video + self.overhead)
    }
}

impl ServerConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn queue_timeout(&self) -> Duration {
        Duration::from_secs(self.queue_timeout_secs)
    }

    pub fn max_queue_wait(&self) -> Option<Duration> {
        (self.max_queue_wait_secs > 0).then(|| Duration::from_secs(self.max_queue_wait_secs))
    }

    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.token_ttl_secs)
    }

    pub fn signed_url_ttl(&self) -> Duration {
        Duration::from_secs(self.signed_url_ttl_secs)
    }

    pub fn capture_session_ttl(&self) -> Duration {
        Duration::from_secs(self.capture_session_ttl_secs)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs.max(1))
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs.max(1))
    }

    /// `scheme://host` put in front of signed artefact paths: `public_base_url` when set, else
    /// `http://` + the request's `Host` when that host is allowed (see `allowed_hosts`), else
    /// `None`. A request without `Host` (HTTP/1.0) gets the `bind` address.
    pub fn signed_url_base(&self, host: Option<&str>) -> Option<String> {
        if let Some(b) = &self.public_base_url {
            return Some(b.trim_end_matches('/').to_owned());
        }
        let Some(host) = host else {
            return Some(format!("http://{}", self.bind));
        };
        let well_formed = !host.is_empty()
            && host.len() <= 255
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        (well_formed && self.host_allowed(host)).then(|| format!("http://{host}"))
    }

    fn host_allowed(&self, host: &str) -> bool {
        if !self.allowed_hosts.is_empty() {
            return self
                .allowed_hosts
                .iter()
                .any(|a| a.eq_ignore_ascii_case(host));
        }
        if host.eq_ignore_ascii_case(&self.bind.to_string()) {
            return true;
        }
        // The name without its port (`[::1]:8080` -> `[::1]`, `localhost:80` -> `localhost`).
        let name = match host.rfind(':') {
            Some(i) if !host[i..].contains(']') => &host[..i],
            _ => host,
        };
        ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .any(|l| l.eq_ignore_ascii_case(name))
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_url_base_allows_only_listed_or_loopback_hosts() {
        let cfg = ServerConfig::default();
        assert_eq!(
            cfg.signed_url_base(Some("127.0.0.1:8080")).as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            cfg.signed_url_base(Some("localhost:9000")).as_deref(),
            Some("http://localhost:9000")
        );
        assert_eq!(
            cfg.signed_url_base(Some("[::1]:8080")).as_deref(),
            Some("http://[::1]:8080")
        );
        assert_eq!(
            cfg.signed_url_base(None).as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(cfg.signed_url_base(Some("evil.example")), None);
        assert_eq!(cfg.signed_url_base(Some("localhost.evil.example")), None);
        assert_eq!(cfg.signed_url_base(Some("127.0.0.1@evil.example")), None);
        let cfg = ServerConfig {
            allowed_hosts: vec!["kyc.example.com".into()],
            ..ServerConfig::default()
        };
        assert_eq!(
            cfg.signed_url_base(Some("KYC.example.com")).as_deref(),
            Some("http://KYC.example.com")
        );
        assert_eq!(cfg.signed_url_base(Some("127.0.0.1:8080")), None);
        let cfg = ServerConfig {
            public_base_url: Some("https://kyc.example.com/".into()),
            ..ServerConfig::default()
        };
        assert_eq!(
            cfg.signed_url_base(Some("evil.example")).as_deref(),
            Some("https://kyc.example.com")
        );
    }
}
