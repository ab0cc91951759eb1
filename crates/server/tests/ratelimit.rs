//! `[server.rate_limit]` over real TCP (the client is the connection's peer address; other
//! loopback addresses, 127.0.0.x, stand for other clients): five failed authentications lock a
//! client out for the cool-down, measured; a client's and a tenant's bucket answer 429 with
//! `Retry-After` in each API's own error shape; other clients and tenants are unaffected.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use common::Harness;
use faceproof_server::ServerConfig;
use faceproof_server::ratelimit::RateLimitConfig;
use serde_json::Value;

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn start(h: &Harness) -> Server {
    serve(h.state.clone()).await
}

/// One replica's state served on a loopback port until the `Server` is dropped.
async fn serve(state: faceproof_server::Shared) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(faceproof_server::serve(state, listener, async {
        let _ = rx.await;
    }));
    Server {
        addr,
        stop: Some(stop),
    }
}

/// A client whose connections come from `from` (any 127.0.0.x).
fn client(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(from.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

async fn post(c: &reqwest::Client, url: String, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut req = c
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        retry_after,
        body,
    }
}

fn with_limits(rl: RateLimitConfig) -> ServerConfig {
    ServerConfig {
        rate_limit: rl,
        ..ServerConfig::default()
    }
}

async fn metrics(addr: SocketAddr) -> String {
    client("127.0.0.1")
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn five_failed_authentications_lock_the_client_out_for_the_cool_down() {
    let h = Harness::with(with_limits(RateLimitConfig {
        lockout_secs: 2,
        ..RateLimitConfig::default()
    }))
    .await;
    let key = h.tenant("acme").await.fpt_api_key.to_string();
    let s = start(&h).await;
    let fpt = format!("http://{}/vision/ekyc/liveness", s.addr);
    let attacker = client("127.0.0.2");
    for i in 0..5 {
        let a = post(&attacker, fpt.clone(), &[("api-key", "fpk_wrong")], "{}").await;
        assert_eq!(a.status, 401, "attempt {i}: {}", a.body);
    }
    // The sixth, even with a valid key, is refused at once in FPT's shape.
    let t = Instant::now();
    let a = post(&attacker, fpt.clone(), &[("api-key", &key)], "{}").await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(a.body["code"], "429");
    assert!(matches!(a.retry_after, Some(1..=2)), "{:?}", a.retry_after);
    // Another client is not locked out: its valid key reaches the handler (no video: 4xx).
    let other = post(
        &client("127.0.0.3"),
        fpt.clone(),
        &[("api-key", &key)],
        "{}",
    )
    .await;
    assert!(
        other.status != 429 && other.status != 401,
        "{}",
        other.status
    );
    // Still locked until the cool-down ends, then let in again.
    let mut locked_for = Duration::ZERO;
    loop {
        let a = post(&attacker, fpt.clone(), &[("api-key", &key)], "{}").await;
        if a.status != 429 {
            assert_ne!(a.status, 401);
            break;
        }
        locked_for = t.elapsed();
        assert!(locked_for < Duration::from_secs(5), "lockout never ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "locked out for {:.2} s after the 5th failure",
        locked_for.as_secs_f64()
    );
    assert!(locked_for >= Duration::from_millis(1700), "{locked_for:?}");
    let m = metrics(s.addr).await;
    assert!(m.contains("faceproof_rate_limited_strikes_total 5"), "{m}");
    assert!(!m.contains("faceproof_rate_limited_total{scope=\"lockout\"} 0"));
}

#[tokio::test]
async fn client_buckets_answer_429_in_each_apis_shape() {
    let h = Harness::with(with_limits(RateLimitConfig {
        client_burst: 2.0,
        client_per_second: 0.5,
        ..RateLimitConfig::default()
    }))
    .await;
    let key = h.tenant("acme").await.fpt_api_key.to_string();
    let s = start(&h).await;
    let base = format!("http://{}", s.addr);
    let cases = [
        ("127.0.0.11", "/vision/ekyc/liveness", "code", "429"),
        ("127.0.0.12", "/v1/silent/video-compare", "code", "1429"),
        (
            "127.0.0.13",
            "/openapi/liveness/v3/signature-id",
            "code",
            "TOO_MANY_REQUESTS",
        ),
        (
            "127.0.0.14",
            "/v1/capture-tokens",
            "code",
            "TOO_MANY_REQUESTS",
        ),
    ];
    for (from, path, field, want) in cases {
        let c = client(from);
        for _ in 0..2 {
            let a = post(&c, format!("{base}{path}"), &[("api-key", &key)], "{}").await;
            assert_ne!(a.status, 429, "{path}: {}", a.body);
        }
        let a = post(&c, format!("{base}{path}"), &[("api-key", &key)], "{}").await;
        assert_eq!(a.status, 429, "{path}: {}", a.body);
        let code = match &a.body[field] {
            Value::Number(n) => n.to_string(),
            v => v.as_str().unwrap_or_default().to_owned(),
        };
        assert_eq!(code, want, "{path}: {}", a.body);
        // One token per 2 s: come back in 2 s.
        assert_eq!(a.retry_after, Some(2), "{path}");
    }
    // The bucket refills: 2 s later one more request is let through.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let a = post(
        &client("127.0.0.11"),
        format!("{base}/vision/ekyc/liveness"),
        &[("api-key", &key)],
        "{}",
    )
    .await;
    assert_ne!(a.status, 429);
    let m = metrics(s.addr).await;
    assert!(
        m.contains("faceproof_rate_limited_total{scope=\"client\"} 4"),
        "{m}"
    );
}

#[tokio::test]
async fn a_tenants_bucket_does_not_limit_another_tenant() {
    let h = Harness::with(with_limits(RateLimitConfig {
        tenant_burst: 3.0,
        tenant_per_second: 0.1,
        ..RateLimitConfig::default()
    }))
    .await;
    let busy = h.tenant("busy").await.fpt_api_key.to_string();
    let calm = h.tenant("calm").await.fpt_api_key.to_string();
    let s = start(&h).await;
    let url = format!("http://{}/vision/ekyc/liveness", s.addr);
    // From three addresses: the tenant's bucket is shared by all its clients.
    for from in ["127.0.0.21", "127.0.0.22", "127.0.0.23"] {
        let a = post(&client(from), url.clone(), &[("api-key", &busy)], "{}").await;
        assert_ne!(a.status, 429);
    }
    let a = post(
        &client("127.0.0.24"),
        url.clone(),
        &[("api-key", &busy)],
        "{}",
    )
    .await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(a.retry_after, Some(10));
    let a = post(
        &client("127.0.0.24"),
        url.clone(),
        &[("api-key", &calm)],
        "{}",
    )
    .await;
    assert_ne!(a.status, 429);
    let m = metrics(s.addr).await;
    assert!(
        m.contains("faceproof_rate_limited_total{scope=\"tenant\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn limits_off_let_everything_through() {
    let h = Harness::with(with_limits(RateLimitConfig {
        enabled: false,
        client_burst: 1.0,
        ..RateLimitConfig::default()
    }))
    .await;
    let s = start(&h).await;
    let url = format!("http://{}/vision/ekyc/liveness", s.addr);
    let c = client("127.0.0.31");
    for _ in 0..8 {
        let a = post(&c, url.clone(), &[("api-key", "fpk_wrong")], "{}").await;
        assert_eq!(a.status, 401);
    }
}

/// A service on one replica with these limits, the FPT liveness URL, its key, and a request body
/// that is judged and fails: a live video against another person's photo (303).
struct FailingCheck {
    h: Harness,
    server: Server,
    url: String,
    key: String,
    content_type: String,
    body: Vec<u8>,
}

impl FailingCheck {
    async fn start(limits: RateLimitConfig) -> FailingCheck {
        let h = Harness::with(with_limits(limits)).await;
        let key = h.tenant("acme").await.fpt_api_key.to_string();
        let server = start(&h).await;
        let url = format!("http://{}/vision/ekyc/liveness", server.addr);
        let video = common::shared("videos/live_talking_720x1280.mp4");
        let photo = common::shared("faces/obama/1.jpg");
        let (content_type, body) =
            common::multipart(&[("video", "v.mp4", &video), ("cmnd", "id.jpg", &photo)]);
        FailingCheck {
            h,
            server,
            url,
            key,
            content_type,
            body,
        }
    }

    /// Posts it from `from`, naming `device` when given: status, FPT code, whether a
    /// `Retry-After` came with it.
    async fn send(&self, from: &str, device: Option<&str>) -> (u16, Option<String>, bool) {
        let mut req = client(from)
            .post(self.url.clone())
            .header("api-key", self.key.clone())
            .header("content-type", self.content_type.clone());
        if let Some(d) = device {
            req = req.header("x-faceproof-device", d);
        }
        let r = req.body(self.body.clone()).send().await.unwrap();
        let status = r.status().as_u16();
        let retry = r.headers().get("retry-after").is_some();
        let j: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null);
        (status, j["code"].as_str().map(str::to_owned), retry)
    }
}

/// With `count_failed_checks`, a judged check that did not pass is a strike: here one is enough
/// (a live video against another person's photo: judged, 303, not passed), and the next request
/// of that client is refused at once while another client's is judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_checks_count_as_strikes_when_enabled() {
    let f = FailingCheck::start(RateLimitConfig {
        count_failed_checks: true,
        lockout_after_failures: 1,
        lockout_secs: 60,
        ..RateLimitConfig::default()
    })
    .await;
    let judged = (200, Some("303".to_owned()), false);
    assert_eq!(f.send("127.0.0.41", None).await, judged);
    assert_eq!(
        f.send("127.0.0.41", None).await,
        (429, Some("429".to_owned()), true)
    );
    assert_eq!(f.send("127.0.0.42", None).await, judged);
    let m = metrics(f.server.addr).await;
    assert!(m.contains("faceproof_rate_limited_strikes_total 2"), "{m}");
}

/// By default a failed check is a strike against the device the request names
/// (`X-Faceproof-Device`), not its address: two failed checks of one device lock that device out
/// even from another address, while another device and a request naming none, from the first
/// device's own address, are still judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_checks_lock_out_the_device_not_its_address() {
    let f = FailingCheck::start(RateLimitConfig {
        lockout_after_failures: 2,
        lockout_secs: 60,
        ..RateLimitConfig::default()
    })
    .await;
    let send = |from, device| f.send(from, device);
    const PHONE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    const OTHER: &str = "ffeeddccbbaa99887766554433221100";
    let judged = (200, Some("303".to_owned()), false);
    assert_eq!(send("127.0.0.51", Some(PHONE)).await, judged);
    assert_eq!(send("127.0.0.51", Some(PHONE)).await, judged);
    // Locked out: from its address and from another one.
    let locked = (429, Some("429".to_owned()), true);
    assert_eq!(send("127.0.0.52", Some(PHONE)).await, locked);
    assert_eq!(send("127.0.0.51", Some(PHONE)).await, locked);
    // The address itself is not: another device, and a request naming none, are judged.
    assert_eq!(send("127.0.0.51", Some(OTHER)).await, judged);
    assert_eq!(send("127.0.0.51", None).await, judged);
    let m = metrics(f.server.addr).await;
    assert!(m.contains("faceproof_rate_limited_strikes_total 3"), "{m}");
}

/// Two replicas on one store: a device locked out by its failed checks on one is refused by the
/// other, which never saw it (the lockout travels through the store as `device:<hash>`), while
/// the address it came from is still served there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_locked_out_on_one_replica_is_refused_by_the_other() {
    let limits = RateLimitConfig {
        lockout_after_failures: 2,
        lockout_secs: 30,
        lockout_sync_ms: 100,
        ..RateLimitConfig::default()
    };
    let f = FailingCheck::start(limits.clone()).await;
    let second = faceproof_server::AppState::new(
        f.h.state.engine.clone(),
        f.h.store.clone(),
        with_limits(limits),
    );
    let sync = faceproof_server::lockouts::spawn_lockout_sync(second.clone()).unwrap();
    let b = serve(second).await;
    let b_url = format!("http://{}/vision/ekyc/liveness", b.addr);
    const PHONE: &str = "device-on-two-replicas-0001";
    for _ in 0..2 {
        assert_eq!(
            f.send("127.0.0.61", Some(PHONE)).await,
            (200, Some("303".to_owned()), false)
        );
    }
    let c = client("127.0.0.62");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = post(
            &c,
            b_url.clone(),
            &[("api-key", &f.key), ("x-faceproof-device", PHONE)],
            "{}",
        )
        .await;
        if r.status == 429 {
            assert!(matches!(r.retry_after, Some(1..=30)), "{:?}", r.retry_after);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "device not locked out on the other replica"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let same_address = post(&c, b_url, &[("api-key", &f.key)], "{}").await;
    assert_ne!(same_address.status, 429, "{}", same_address.body);
    sync.abort();
}

/// Two replicas on one store: a client spreading its failed authentications over both (3 on one,
/// 2 on the other, 5 in all) is locked out on both, though neither saw 5. The replica that saw
/// the 5th locks out at once; the other within its sync interval.
#[tokio::test]
async fn strikes_on_two_replicas_count_together_and_the_lockout_holds_on_both() {
    let limits = RateLimitConfig {
        lockout_secs: 30,
        lockout_sync_ms: 100,
        ..RateLimitConfig::default()
    };
    let h = Harness::with(with_limits(limits.clone())).await;
    let key = h.tenant("acme").await.fpt_api_key.to_string();
    let second = faceproof_server::AppState::new(
        h.state.engine.clone(),
        h.store.clone(),
        with_limits(limits),
    );
    let sync = [
        faceproof_server::lockouts::spawn_lockout_sync(h.state.clone()).unwrap(),
        faceproof_server::lockouts::spawn_lockout_sync(second.clone()).unwrap(),
    ];
    let a = start(&h).await;
    let b = serve(second.clone()).await;
    let url = |s: &Server| format!("http://{}/vision/ekyc/liveness", s.addr);
    let attacker = client("127.0.0.4");
    for (i, s) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let r = post(&attacker, url(s), &[("api-key", "fpk_wrong")], "{}").await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    // Both replicas refuse the client, even with a valid key (the strikes are shared off the
    // request's path, the lockout read every 100 ms: allow a few seconds).
    let deadline = Instant::now() + Duration::from_secs(5);
    for s in [&a, &b] {
        loop {
            let r = post(&attacker, url(s), &[("api-key", &key)], "{}").await;
            if r.status == 429 {
                assert!(matches!(r.retry_after, Some(1..=30)), "{:?}", r.retry_after);
                break;
            }
            assert_ne!(r.status, 401, "{}", r.body);
            assert!(Instant::now() < deadline, "not locked out on {}", s.addr);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Another client is not.
    let other = post(&client("127.0.0.5"), url(&b), &[("api-key", &key)], "{}").await;
    assert!(
        other.status != 429 && other.status != 401,
        "{}",
        other.status
    );
    for s in sync {
        s.abort();
    }
}

/// Two replicas on one store with `shared_rates`: each counts the other through its heartbeats
/// and takes half of the client's burst, so a client alternating between them gets the
/// configured burst in all, not twice it. When one stops, the other takes the whole rate again.
#[tokio::test]
async fn two_replicas_split_a_clients_burst_and_one_takes_it_back_when_the_other_stops() {
    let limits = RateLimitConfig {
        client_burst: 4.0,
        client_per_second: 0.01,
        // Strikes would lock the client out first: this test is about the buckets.
        lockout_after_failures: 0,
        replica_heartbeat_ms: 100,
        ..RateLimitConfig::default()
    };
    let h = Harness::with(with_limits(limits.clone())).await;
    let second = faceproof_server::AppState::new(
        h.state.engine.clone(),
        h.store.clone(),
        with_limits(limits),
    );
    let share_a = faceproof_server::replicas::spawn_rate_share(h.state.clone())
        .await
        .unwrap();
    let share_b = faceproof_server::replicas::spawn_rate_share(second.clone())
        .await
        .unwrap();
    let a = start(&h).await;
    let b = serve(second.clone()).await;
    // Both replicas count two within a few heartbeats.
    let deadline = Instant::now() + Duration::from_secs(5);
    for s in [&a, &b] {
        while !metrics(s.addr)
            .await
            .contains("faceproof_rate_limit_replicas 2")
        {
            assert!(Instant::now() < deadline, "{} never counted 2", s.addr);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let url = |s: &Server| format!("http://{}/vision/ekyc/liveness", s.addr);
    let c = client("127.0.0.6");
    // Half the burst each: two requests on each replica reach the gate's credential check (401),
    // the fifth in all is refused by the client's bucket (429), on either replica.
    for (i, s) in [&a, &b, &a, &b].into_iter().enumerate() {
        let r = post(&c, url(s), &[("api-key", "fpk_wrong")], "{}").await;
        assert_eq!(r.status, 401, "request {i}: {}", r.body);
    }
    for s in [&a, &b] {
        let r = post(&c, url(s), &[("api-key", "fpk_wrong")], "{}").await;
        assert_eq!(r.status, 429, "{}", r.body);
        assert!(r.retry_after.is_some());
    }
    // Replica b leaves: a counts one again and a new client gets the whole burst there.
    share_b.stop().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !metrics(a.addr)
        .await
        .contains("faceproof_rate_limit_replicas 1")
    {
        assert!(Instant::now() < deadline, "a never went back to 1");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fresh = client("127.0.0.7");
    for i in 0..4 {
        let r = post(&fresh, url(&a), &[("api-key", "fpk_wrong")], "{}").await;
        assert_eq!(r.status, 401, "request {i}: {}", r.body);
    }
    let r = post(&fresh, url(&a), &[("api-key", "fpk_wrong")], "{}").await;
    assert_eq!(r.status, 429, "{}", r.body);
    share_a.stop().await;
}
