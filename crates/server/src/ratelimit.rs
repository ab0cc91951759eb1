//! Anti-hammering: request rate limits per tenant and per client, and a cool-down for a client
//! that keeps failing (`[server.rate_limit]`, applied by the body gate on every API route).
//!
//! - Token buckets: each tenant and each client address has `*_burst` tokens refilled at
//!   `*_per_second`; a request takes one or is answered 429 with `Retry-After` (the time until a
//!   token is back), in its API's own error shape, its body unread.
//! - Strikes: a failed authentication (any 401 of a gated route), and, when
//!   `count_failed_checks` is on, a judged check that did not pass, is a strike against the client.
//!   `lockout_after_failures` strikes within `lockout_window_secs` lock the client out for
//!   `lockout_secs`: its requests are answered 429 at once, before any credential is looked at.
//! - The client is the connection's peer address, or, when that peer is one of
//!   `trusted_proxies`, the right-most address of `X-Forwarded-For` that is not itself a trusted
//!   proxy. IPv6 clients are counted per /64 (one host gets a whole /64).
//! - A request may also name its device (`X-Faceproof-Device`, which the capture SDK sends: a
//!   random id kept in the browser). With `count_failed_checks_per_device` (on by default) a
//!   judged check that did not pass is a strike against that device, wherever it connects from,
//!   and a locked-out device is refused like a locked-out address. Users behind one address (a
//!   carrier's NAT, an office) thus do not lock each other out, which is why counting failed
//!   checks per address stays off by default. Buckets stay per address: a device id is chosen by
//!   the client, so a limit on it is one an attacker leaves by changing it.
//!
//! Buckets are in memory, per replica, each holding its share of the rates: with `shared_rates`
//! (on by default), a replica counts the replicas serving through the store's heartbeats
//! (`crate::replicas`) and takes 1/N of each rate and burst, so N replicas behind a balancer that
//! spreads requests evenly let a client through at about the configured rate (no write per
//! request). Strikes and lockouts are shared through the store (`shared_lockouts`, on by
//! default): each strike is recorded there, the strikes of all replicas count together, and a
//! lockout any replica records is read by every other within `lockout_sync_ms`
//! (`crate::lockouts`). The local count stays too, so a replica locks out on its own strikes
//! even when the store is slow or down.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use serde::Deserialize;

/// `[server.rate_limit]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Apply the limits below. Off: no bucket, no strike, no lockout.
    pub enabled: bool,
    /// Sustained requests per second of one tenant (all its credentials and capture tokens).
    pub tenant_per_second: f64,
    /// Requests one tenant may send at once after being idle.
    pub tenant_burst: f64,
    /// Sustained requests per second from one client address.
    pub client_per_second: f64,
    /// Requests one client address may send at once after being idle.
    pub client_burst: f64,
    /// Strikes (failed authentications, and failed checks when counted) that lock a client out.
    /// 0 turns lockouts off.
    pub lockout_after_failures: u32,
    /// Window in which those strikes must fall, seconds.
    pub lockout_window_secs: u64,
    /// How long a locked-out client is answered 429 without being looked at, seconds.
    pub lockout_secs: u64,
    /// Also count a judged liveness check that did not pass as a strike (anti-hammering of spoof
    /// attempts). Off by default: it needs real client addresses (set `trusted_proxies` behind a
    /// balancer), or genuine users behind one address would lock each other out.
    pub count_failed_checks: bool,
    /// Count a judged liveness check that did not pass as a strike against the device the request
    /// names (`X-Faceproof-Device`), whatever its address. Requests without the header are not
    /// counted by this (see `count_failed_checks`).
    pub count_failed_checks_per_device: bool,
    /// Peers whose `X-Forwarded-For` is believed: the load balancer's addresses or networks
    /// (`"10.0.0.7"`, `"10.0.0.0/8"`, `"fd00::/8"`). Empty: the peer address is the client.
    pub trusted_proxies: Vec<Network>,
    /// Most tenants or clients tracked at once per table; beyond it idle entries are dropped,
    /// and if none is idle the table starts over (an address flood cannot exhaust memory).
    pub max_tracked: usize,
    /// Count strikes and hold lockouts across replicas through the store: every strike is also
    /// recorded there, and a client whose strikes on all replicas reach `lockout_after_failures`
    /// is locked out on every replica (within `lockout_sync_ms`). Off: per replica only.
    pub shared_lockouts: bool,
    /// How often a replica reads the lockouts other replicas recorded, milliseconds.
    pub lockout_sync_ms: u64,
    /// Split the tenant and client rates and bursts evenly over the replicas serving (counted
    /// through the store's heartbeats), so N replicas behind a balancer that spreads requests
    /// evenly let a client through at the configured rate, not N times it. Off: each replica
    /// applies the full rates (the right choice behind a balancer that pins a client to one
    /// replica).
    pub shared_rates: bool,
    /// How often a replica says it is alive and counts the others, milliseconds; a replica
    /// silent for three of these is no longer counted.
    pub replica_heartbeat_ms: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            tenant_per_second: 20.0,
            tenant_burst: 100.0,
            client_per_second: 10.0,
            client_burst: 50.0,
            lockout_after_failures: 5,
            lockout_window_secs: 180,
            lockout_secs: 180,
            count_failed_checks: false,
            count_failed_checks_per_device: true,
            trusted_proxies: Vec::new(),
            max_tracked: 100_000,
            shared_lockouts: true,
            lockout_sync_ms: 1000,
            shared_rates: true,
            replica_heartbeat_ms: 2000,
        }
    }
}

/// An address or a network in CIDR form, as written in the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|e| format!("{s:?}: {e} (an IP address, or address/prefix)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0-{max}"))?,
        };
        Ok(Network { addr, prefix })
    }
}

impl<'de> Deserialize<'de> for Network {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a request was refused, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// The client is cooling down after repeated failures.
    Lockout { retry_after: Duration },
    /// The client address sent too many requests.
    Client { retry_after: Duration },
    /// The tenant sent too many requests.
    Tenant { retry_after: Duration },
}

impl Limited {
    pub fn retry_after(self) -> Duration {
        match self {
            Limited::Lockout { retry_after }
            | Limited::Client { retry_after }
            | Limited::Tenant { retry_after } => retry_after,
        }
    }

    /// Whole seconds for `Retry-After`, at least 1.
    pub fn retry_after_secs(self) -> u64 {
        self.retry_after().as_secs_f64().ceil().max(1.0) as u64
    }

    pub fn message(self) -> &'static str {
        match self {
            Limited::Lockout { .. } => "too many failed attempts from this client, retry later",
            Limited::Client { .. } => "too many requests from this client, retry later",
            Limited::Tenant { .. } => "too many requests for this tenant, retry later",
        }
    }
}

/// Who a client is for the limits: an IPv4 address, an IPv6 /64, or a device the request named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Addr(IpAddr),
    /// The first 16 bytes of the SHA-256 of the device id: a fixed size whatever the client sent,
    /// and no id of the client's in logs or in the store.
    Device([u8; 16]),
}

/// The header a request names its device in.
pub const DEVICE_HEADER: &str = "x-faceproof-device";

/// Shortest and longest device id accepted (the SDK sends 32 hex digits).
const DEVICE_ID_LEN: std::ops::RangeInclusive<usize> = 16..=128;

impl ClientKey {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => ClientKey::Addr(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::Addr(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    ClientKey::Addr(IpAddr::V6(std::net::Ipv6Addr::new(
                        s[0], s[1], s[2], s[3], 0, 0, 0, 0,
                    )))
                }
            },
        }
    }

    /// The device a request names, if its header holds 16-128 characters of `A-Z a-z 0-9 - _`;
    /// anything else names no device (and is not an error: the header is advisory).
    pub fn device_of(headers: &HeaderMap) -> Option<ClientKey> {
        let id = headers.get(DEVICE_HEADER)?.as_bytes();
        let valid = DEVICE_ID_LEN.contains(&id.len())
            && id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_');
        if !valid {
            return None;
        }
        let digest = <sha2::Sha256 as sha2::Digest>::digest(id);
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        Some(ClientKey::Device(key))
    }

    /// Reads back what [`client_text`] wrote.
    pub fn parse(text: &str) -> Option<ClientKey> {
        match text.strip_prefix("device:") {
            Some(text) => {
                let mut key = [0u8; 16];
                hex::decode_to_slice(text, &mut key).ok()?;
                Some(ClientKey::Device(key))
            }
            None => text.parse::<IpAddr>().ok().map(ClientKey::of),
        }
    }
}

/// The client of a request: see the module documentation. `None` when the peer is unknown (a
/// request that did not come through the listener, as in unit tests).
pub fn client_of(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    cfg: &RateLimitConfig,
) -> Option<ClientKey> {
    let peer = peer?.ip();
    let trusted = |ip: &IpAddr| cfg.trusted_proxies.iter().any(|n| n.contains(*ip));
    if !trusted(&peer) {
        return Some(ClientKey::of(peer));
    }
    // Right to left: the last hop not added by one of our own proxies.
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(text) = value.to_str() else { break };
        for part in text.rsplit(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !trusted(&ip) {
                        return Some(ClientKey::of(ip));
                    }
                }
                // A malformed hop: stop at the last address we could trust.
                Err(_) => return Some(ClientKey::of(client)),
            }
        }
    }
    Some(ClientKey::of(client))
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by `K`.
struct Buckets<K> {
    map: HashMap<K, Bucket>,
    /// The configured rate and burst, for the whole service.
    configured: (f64, f64),
    /// This replica's share of them: the configured values over the replicas serving.
    rate: f64,
    burst: f64,
    max: usize,
}

impl<K: Eq + Hash + Clone> Buckets<K> {
    fn new(rate: f64, burst: f64, max: usize) -> Self {
        let mut b = Buckets {
            map: HashMap::new(),
            configured: (rate, burst),
            rate: 0.0,
            burst: 0.0,
            max: max.max(1),
        };
        b.share(1);
        b
    }

    /// Takes `1 / replicas` of the configured rate and burst (at least one request of burst, so
    /// a client is never refused outright). Buckets fuller than the new burst are clamped on
    /// their next use.
    fn share(&mut self, replicas: u32) {
        let n = f64::from(replicas.max(1));
        self.rate = (self.configured.0 / n).max(1e-6);
        self.burst = (self.configured.1 / n).max(1.0);
    }

    /// Takes a token for `key`, or says how long until one is back.
    fn take(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        if !self.map.contains_key(key) && self.map.len() >= self.max {
            self.evict(now);
        }
        let (rate, burst) = (self.rate, self.burst);
        let b = self.map.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }

    /// Drops buckets that are full again (nothing to remember); if none is, starts over.
    fn evict(&mut self, now: Instant) {
        let (rate, burst) = (self.rate, self.burst);
        self.map.retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
        });
        if self.map.len() >= self.max {
            tracing::warn!(
                tracked = self.map.len(),
                "rate-limit table full of active entries: starting over"
            );
            self.map.clear();
        }
    }
}

#[derive(Default)]
struct Strikes {
    recent: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

/// The limiter of one replica.
pub struct Limiter {
    cfg: RateLimitConfig,
    tenants: Mutex<Buckets<String>>,
    clients: Mutex<Buckets<ClientKey>>,
    strikes: Mutex<HashMap<ClientKey, Strikes>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Limiter {
    pub fn new(cfg: RateLimitConfig) -> Self {
        Limiter {
            tenants: Mutex::new(Buckets::new(
                cfg.tenant_per_second,
                cfg.tenant_burst,
                cfg.max_tracked,
            )),
            clients: Mutex::new(Buckets::new(
                cfg.client_per_second,
                cfg.client_burst,
                cfg.max_tracked,
            )),
            strikes: Mutex::new(HashMap::new()),
            cfg,
        }
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.cfg
    }

    /// Splits the tenant and client rates and bursts over `replicas` replicas serving behind one
    /// balancer (`shared_rates`, kept by `crate::replicas`): with the balancer spreading a
    /// client's requests over them, all replicas together let it through at the configured rate.
    pub fn share_among(&self, replicas: u32) {
        lock(&self.tenants).share(replicas);
        lock(&self.clients).share(replicas);
    }

    /// Before anything else: is the client locked out, is its bucket empty?
    pub fn admit_client(&self, client: ClientKey, now: Instant) -> Result<(), Limited> {
        if !self.cfg.enabled {
            return Ok(());
        }
        self.check_lockout(client, now)?;
        lock(&self.clients)
            .take(&client, now)
            .map_err(|retry_after| Limited::Client { retry_after })
    }

    /// Is this client locked out? The whole admission of a device a request names (devices have
    /// no bucket), and the first half of an address's.
    pub fn check_lockout(&self, client: ClientKey, now: Instant) -> Result<(), Limited> {
        if !self.cfg.enabled {
            return Ok(());
        }
        match lock(&self.strikes)
            .get(&client)
            .and_then(|s| s.locked_until)
        {
            Some(until) if until > now => Err(Limited::Lockout {
                retry_after: until - now,
            }),
            _ => Ok(()),
        }
    }

    /// Once the credential is known: is the tenant's bucket empty?
    pub fn admit_tenant(&self, tenant_id: &str, now: Instant) -> Result<(), Limited> {
        if !self.cfg.enabled {
            return Ok(());
        }
        lock(&self.tenants)
            .take(&tenant_id.to_owned(), now)
            .map_err(|retry_after| Limited::Tenant { retry_after })
    }

    /// Locks `client` out until `until` (a lockout another replica recorded); a later end wins.
    pub fn lock_until(&self, client: ClientKey, until: Instant) {
        if !self.cfg.enabled {
            return;
        }
        let mut all = lock(&self.strikes);
        let s = all.entry(client).or_default();
        if s.locked_until.is_none_or(|u| u < until) {
            s.locked_until = Some(until);
        }
    }

    /// Records a strike; true when it starts a lockout.
    pub fn strike(&self, client: ClientKey, now: Instant) -> bool {
        let n = self.cfg.lockout_after_failures;
        if !self.cfg.enabled || n == 0 {
            return false;
        }
        let window = Duration::from_secs(self.cfg.lockout_window_secs);
        let mut all = lock(&self.strikes);
        if !all.contains_key(&client) && all.len() >= self.cfg.max_tracked.max(1) {
            all.retain(|_, s| {
                s.locked_until.is_some_and(|u| u > now)
                    || s.recent
                        .back()
                        .is_some_and(|t| now.duration_since(*t) < window)
            });
            if all.len() >= self.cfg.max_tracked.max(1) {
                all.clear();
            }
        }
        let s = all.entry(client).or_default();
        while s
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            s.recent.pop_front();
        }
        s.recent.push_back(now);
        if s.recent.len() >= n as usize {
            s.recent.clear();
            s.locked_until = Some(now + Duration::from_secs(self.cfg.lockout_secs));
            tracing::warn!(client = %client_text(client), lockout_secs = self.cfg.lockout_secs,
                "client locked out after repeated failures");
            return true;
        }
        false
    }
}

/// The text a client key is stored and logged under: an IPv4 address, the IPv6 /64's address, or
/// `device:` and the device key in hex.
pub fn client_text(client: ClientKey) -> String {
    match client {
        ClientKey::Addr(ip) => ip.to_string(),
        ClientKey::Device(key) => format!("device:{}", hex::encode(key)),
    }
}

tokio::task_local! {
    /// Set by [`note_verdict`] when the request's check did not pass (read by the gate).
    static CHECK_FAILED: Cell<bool>;
}

/// Called where a verdict is produced: a judged check that did not pass is a strike against the
/// client when `count_failed_checks` is on. A no-op outside a gated request.
pub fn note_verdict(passed: bool) {
    let _ = CHECK_FAILED.try_with(|c| {
        if !passed {
            c.set(true);
        }
    });
}

/// Runs `fut` with a fresh failed-check flag; returns its output and whether a check failed.
pub async fn watch_checks<F: std::future::Future>(fut: F) -> (F::Output, bool) {
    CHECK_FAILED
        .scope(Cell::new(false), async move {
            let out = fut.await;
            (out, CHECK_FAILED.with(Cell::get))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn bucket_allows_burst_then_rate() {
        let mut b = Buckets::new(2.0, 3.0, 10);
        let t0 = Instant::now();
        for _ in 0..3 {
            b.take(&"k", t0).unwrap();
        }
        let wait = b.take(&"k", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        b.take(&"k", t0 + Duration::from_millis(500)).unwrap();
        assert!(b.take(&"k", t0 + Duration::from_millis(500)).is_err());
        // Another key has its own bucket.
        b.take(&"other", t0).unwrap();
    }

    #[test]
    fn full_table_drops_idle_entries_first() {
        let mut b = Buckets::new(1.0, 1.0, 2);
        let t0 = Instant::now();
        b.take(&1, t0).unwrap();
        b.take(&2, t0 + Duration::from_secs(5)).unwrap();
        // Key 1 is full again by now (idle), key 2 is not: 1 goes.
        b.take(&3, t0 + Duration::from_millis(5500)).unwrap();
        assert!(b.map.contains_key(&2) && b.map.contains_key(&3) && !b.map.contains_key(&1));
    }

    #[test]
    fn lockout_after_strikes_in_window() {
        let l = Limiter::new(RateLimitConfig::default());
        let c = ClientKey::of(ip("203.0.113.7"));
        let t0 = Instant::now();
        // Four strikes spread beyond the window do not lock.
        for i in 0..4 {
            assert!(!l.strike(c, t0 + Duration::from_secs(100 * i)));
        }
        assert!(l.admit_client(c, t0 + Duration::from_secs(301)).is_ok());
        let t1 = t0 + Duration::from_secs(1000);
        for i in 0..4 {
            assert!(!l.strike(c, t1 + Duration::from_secs(i)));
        }
        assert!(l.strike(c, t1 + Duration::from_secs(10)));
        let locked = l.admit_client(c, t1 + Duration::from_secs(11)).unwrap_err();
        assert_eq!(
            locked,
            Limited::Lockout {
                retry_after: Duration::from_secs(179)
            }
        );
        // Another client is not affected; the cool-down ends.
        assert!(l.admit_client(ClientKey::of(ip("203.0.113.8")), t1).is_ok());
        assert!(l.admit_client(c, t1 + Duration::from_secs(191)).is_ok());
    }

    #[test]
    fn device_ids_are_keyed_by_hash_and_round_trip_through_the_store_text() {
        let named = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(DEVICE_HEADER, v.parse().unwrap());
            ClientKey::device_of(&h)
        };
        let a = named("0123456789abcdef0123456789abcdef").unwrap();
        let b = named("0123456789abcdef0123456789abcdee").unwrap();
        assert_ne!(a, b);
        assert_eq!(named("0123456789abcdef0123456789abcdef"), Some(a));
        // Too short, too long, or characters outside the id alphabet: no device.
        for bad in [
            "short",
            &"a".repeat(129),
            "0123456789abcdef 0123",
            "0123456789abcdef/x",
        ] {
            assert_eq!(named(bad), None, "{bad}");
        }
        assert_eq!(ClientKey::device_of(&HeaderMap::new()), None);
        // The store's text reads back as the same key, and holds no part of the id itself.
        let text = client_text(a);
        assert!(text.starts_with("device:") && !text.contains("0123456789abcdef"));
        assert_eq!(ClientKey::parse(&text), Some(a));
        for addr in ["203.0.113.7", "2001:db8:1:2::"] {
            let k = ClientKey::of(ip(addr));
            assert_eq!(ClientKey::parse(&client_text(k)), Some(k));
        }
        assert_eq!(ClientKey::parse("device:12"), None);
        assert_eq!(
            ClientKey::parse("device:zz23456789abcdef0123456789abcdef"),
            None
        );
    }

    #[test]
    fn a_locked_out_device_is_refused_without_touching_any_bucket() {
        let l = Limiter::new(RateLimitConfig {
            lockout_after_failures: 2,
            ..RateLimitConfig::default()
        });
        let mut h = HeaderMap::new();
        h.insert(DEVICE_HEADER, "device-one-0123456789".parse().unwrap());
        let d = ClientKey::device_of(&h).unwrap();
        let t0 = Instant::now();
        assert!(l.check_lockout(d, t0).is_ok());
        assert!(!l.strike(d, t0));
        assert!(l.strike(d, t0 + Duration::from_secs(1)));
        assert!(matches!(
            l.check_lockout(d, t0 + Duration::from_secs(2)),
            Err(Limited::Lockout { .. })
        ));
        // The address it came from is not locked by the device's strikes.
        assert!(l.admit_client(ClientKey::of(ip("203.0.113.9")), t0).is_ok());
    }

    #[test]
    fn networks() {
        let n: Network = "10.1.0.0/16".parse().unwrap();
        assert!(n.contains(ip("10.1.200.3")) && !n.contains(ip("10.2.0.1")));
        assert!(n.contains(ip("::ffff:10.1.0.9")));
        let one: Network = "192.0.2.5".parse().unwrap();
        assert!(one.contains(ip("192.0.2.5")) && !one.contains(ip("192.0.2.6")));
        let v6: Network = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.1")));
        for bad in ["10.0.0.0/33", "x", "10.0.0.0/", "::/129"] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }

    #[test]
    fn client_address_behind_trusted_proxies() {
        let mut cfg = RateLimitConfig::default();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "198.51.100.9, 10.0.0.2".parse().unwrap());
        let peer = Some(SocketAddr::new(ip("10.0.0.1"), 5000));
        // Untrusted peer: the header is ignored.
        assert_eq!(
            client_of(peer, &h, &cfg),
            Some(ClientKey::of(ip("10.0.0.1")))
        );
        cfg.trusted_proxies = vec!["10.0.0.1".parse().unwrap(), "10.0.0.2/32".parse().unwrap()];
        assert_eq!(
            client_of(peer, &h, &cfg),
            Some(ClientKey::of(ip("198.51.100.9")))
        );
        // A forged left-most entry does not win over the first untrusted hop.
        h.insert(
            "x-forwarded-for",
            "1.2.3.4, 198.51.100.9, 10.0.0.2".parse().unwrap(),
        );
        assert_eq!(
            client_of(peer, &h, &cfg),
            Some(ClientKey::of(ip("198.51.100.9")))
        );
        // A whole network of proxies.
        cfg.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_of(peer, &h, &cfg),
            Some(ClientKey::of(ip("198.51.100.9")))
        );
        // IPv6 per /64, mapped IPv4 as IPv4.
        assert_eq!(
            ClientKey::of(ip("2001:db8:1:2:aaaa::1")),
            ClientKey::of(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_eq!(
            ClientKey::of(ip("::ffff:192.0.2.1")),
            ClientKey::of(ip("192.0.2.1"))
        );
        assert_eq!(client_of(None, &h, &cfg), None);
    }
}
