//! The webhook delivery worker against a real local receiver (axum on loopback): a signed event
//! arrives and its signature verifies with an independent HMAC; a receiver down then up gets the
//! event after a retry; a worker killed mid-delivery leaves the event to be delivered again
//! (at least once, same event id); a receiver that always fails dead-letters after the cap; two
//! workers deliver each of many events exactly once; private targets are refused unless allowed;
//! redirects are not followed. No engine is needed: events are queued through the store.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use faceproof_server::webhooks::{
    EVENT_ID_HEADER, SIGNATURE_HEADER, WebhookConfig, WebhookCounters, Worker,
};
use faceproof_store::{Store, TenantSettings};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// How the receiver answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Ok,
    Fail,
    /// Holds the first request for a long time (a worker dies meanwhile), then answers 200.
    HangFirst,
    Redirect,
}

struct Seen {
    headers: HeaderMap,
    body: Vec<u8>,
    path: String,
}

struct Receiver {
    mode: Mode,
    seen: Mutex<Vec<Seen>>,
    hits: AtomicUsize,
}

async fn receive(
    State(r): State<Arc<Receiver>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let n = r.hits.fetch_add(1, Ordering::SeqCst);
    r.seen.lock().unwrap().push(Seen {
        headers,
        body: body.to_vec(),
        path: uri.path().to_owned(),
    });
    match r.mode {
        Mode::Ok => StatusCode::NO_CONTENT.into_response(),
        Mode::Fail => (StatusCode::INTERNAL_SERVER_ERROR, "down for maintenance").into_response(),
        Mode::HangFirst if n == 0 => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::OK.into_response()
        }
        Mode::HangFirst => StatusCode::OK.into_response(),
        Mode::Redirect if uri.path() == "/hook" => {
            (StatusCode::FOUND, [("location", "/elsewhere")], "").into_response()
        }
        Mode::Redirect => StatusCode::OK.into_response(),
    }
}

/// Starts a receiver on `addr` (port 0: any).
async fn receiver_on(addr: SocketAddr, mode: Mode) -> (SocketAddr, Arc<Receiver>) {
    let r = Arc::new(Receiver {
        mode,
        seen: Mutex::new(Vec::new()),
        hits: AtomicUsize::new(0),
    });
    let app = Router::new()
        .fallback(axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, r)
}

async fn receiver(mode: Mode) -> (SocketAddr, Arc<Receiver>) {
    receiver_on("127.0.0.1:0".parse().unwrap(), mode).await
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    tenant_id: String,
    secret: String,
}

/// A store with one tenant whose endpoint is `url`.
async fn setup(url: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(common::store_config(dir.path()).await)
        .await
        .unwrap();
    let t = store
        .create_tenant("hooked", TenantSettings::default())
        .await
        .unwrap();
    let w = store.add_webhook_endpoint("hooked", url).await.unwrap();
    Setup {
        _dir: dir,
        store,
        tenant_id: t.tenant_id,
        secret: w.secret.to_string(),
    }
}

/// Fast settings for tests: loopback allowed, short polls and backoffs.
fn fast() -> WebhookConfig {
    WebhookConfig {
        allow_private_targets: true,
        poll_interval_secs: 0.05,
        timeout_secs: 2.0,
        connect_timeout_secs: 1.0,
        initial_backoff_secs: 0.2,
        max_backoff_secs: 0.4,
        max_attempts: 10,
        ..WebhookConfig::default()
    }
}

fn worker(s: &Setup, cfg: WebhookConfig) -> (Arc<WebhookCounters>, tokio::task::JoinHandle<()>) {
    let counters = Arc::new(WebhookCounters::default());
    let w = Worker::new(s.store.clone(), cfg, counters.clone()).unwrap();
    (counters, w.spawn())
}

async fn wait_for(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// HMAC-SHA256 written out from its definition (RFC 2104) on top of SHA-256, independent of the
/// sender's HMAC code.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// What a receiver must do: parse `t=..,v1=..`, check the time window, compare the MAC.
fn verify(secret: &str, header: &str, body: &[u8], window_secs: i64) -> Result<(), String> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = Some(x.to_owned()),
            _ => {}
        }
    }
    let (t, v1) = (t.ok_or("no t")?, v1.ok_or("no v1")?);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    if (now - t).abs() > window_secs {
        return Err(format!("timestamp {t} outside the window (now {now})"));
    }
    let mut msg = t.to_string().into_bytes();
    msg.push(b'.');
    msg.extend_from_slice(body);
    let want: String = hmac_sha256(secret.as_bytes(), &msg)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if want == v1 {
        Ok(())
    } else {
        Err("signature mismatch".into())
    }
}

#[tokio::test]
async fn a_signed_event_reaches_the_receiver() {
    let (addr, r) = receiver(Mode::Ok).await;
    let s = setup(&format!("http://{addr}/hook")).await;
    let n = s
        .store
        .enqueue_event(
            &s.tenant_id,
            "session.completed",
            json!({"session_id": "s-1", "api": "fpt", "outcome": "passed", "codes": []}),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let (counters, task) = worker(&s, fast());
    wait_for("delivery", Duration::from_secs(10), async || {
        counters.delivered.load(Ordering::SeqCst) == 1
    })
    .await;
    task.abort();
    {
        let seen = r.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let got = &seen[0];
        let sig = got.headers[SIGNATURE_HEADER].to_str().unwrap();
        verify(&s.secret, sig, &got.body, 300).unwrap();
        // A tampered body or another secret does not verify.
        assert!(verify(&s.secret, sig, b"{}", 300).is_err());
        assert!(verify("whsec_other", sig, &got.body, 300).is_err());
        let body: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(body["type"], "session.completed");
        assert_eq!(body["data"]["session_id"], "s-1");
        assert_eq!(got.headers[EVENT_ID_HEADER].to_str().unwrap(), body["id"]);
        assert_eq!(got.headers["content-type"], "application/json");
    }
    let log = s.store.webhook_log("hooked", 5).await.unwrap();
    assert!(log[0].delivered_at_ms.is_some());
    assert_eq!((log[0].attempts, log[0].last_status), (1, Some(204)));
}

#[tokio::test]
async fn a_receiver_down_then_up_gets_the_event_after_a_retry() {
    // A port with nobody listening (connection refused).
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let s = setup(&format!("http://{addr}/hook")).await;
    s.store
        .enqueue_event(
            &s.tenant_id,
            "review.decided",
            json!({"decision": "approve"}),
        )
        .await
        .unwrap();
    let (counters, task) = worker(&s, fast());
    wait_for("a failed attempt", Duration::from_secs(10), async || {
        counters.retried.load(Ordering::SeqCst) >= 1
    })
    .await;
    let log = s.store.webhook_log("hooked", 5).await.unwrap();
    assert!(log[0].delivered_at_ms.is_none() && log[0].last_error.is_some());
    let (_, r) = receiver_on(addr, Mode::Ok).await;
    wait_for(
        "delivery after recovery",
        Duration::from_secs(10),
        async || counters.delivered.load(Ordering::SeqCst) == 1,
    )
    .await;
    task.abort();
    assert_eq!(r.hits.load(Ordering::SeqCst), 1);
    let log = s.store.webhook_log("hooked", 5).await.unwrap();
    assert!(log[0].attempts >= 2, "{log:?}");
    assert!(log[0].delivered_at_ms.is_some());
}

#[tokio::test]
async fn a_worker_killed_mid_delivery_leaves_the_event_to_another() {
    let (addr, r) = receiver(Mode::HangFirst).await;
    let s = setup(&format!("http://{addr}/hook")).await;
    s.store
        .enqueue_event(
            &s.tenant_id,
            "session.completed",
            json!({"session_id": "s-2"}),
        )
        .await
        .unwrap();
    // Lease = timeout + 5 s = 6 s.
    let cfg = WebhookConfig {
        timeout_secs: 1.0,
        lease_secs: 0.0,
        ..fast()
    };
    let (_, first) = worker(&s, cfg.clone());
    wait_for("the first attempt", Duration::from_secs(10), async || {
        r.hits.load(Ordering::SeqCst) == 1
    })
    .await;
    // Killed before the answer (and before its own timeout): nothing is recorded.
    first.abort();
    let claimed_at = Instant::now();
    let (counters, second) = worker(&s, cfg.clone());
    wait_for("redelivery", Duration::from_secs(20), async || {
        counters.delivered.load(Ordering::SeqCst) == 1
    })
    .await;
    second.abort();
    // Not before the dead worker's lease ran out.
    assert!(claimed_at.elapsed() >= cfg.lease() - Duration::from_secs(1));
    let seen = r.seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "delivered at least once: twice here");
    let ids: Vec<_> = seen
        .iter()
        .map(|x| x.headers[EVENT_ID_HEADER].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids[0], ids[1],
        "the same event id on both, for the receiver to dedupe"
    );
    assert_eq!(seen[1].headers["faceproof-delivery-attempt"], "2");
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_dead_letters_after_the_cap() {
    let (addr, r) = receiver(Mode::Fail).await;
    let s = setup(&format!("http://{addr}/hook")).await;
    s.store
        .enqueue_event(
            &s.tenant_id,
            "session.completed",
            json!({"session_id": "s-3"}),
        )
        .await
        .unwrap();
    let cfg = WebhookConfig {
        max_attempts: 3,
        initial_backoff_secs: 0.05,
        max_backoff_secs: 0.1,
        ..fast()
    };
    let (counters, task) = worker(&s, cfg);
    wait_for("the dead letter", Duration::from_secs(10), async || {
        counters.dead.load(Ordering::SeqCst) == 1
    })
    .await;
    // Given up: no further attempt.
    tokio::time::sleep(Duration::from_millis(500)).await;
    task.abort();
    assert_eq!(r.hits.load(Ordering::SeqCst), 3);
    assert_eq!(counters.retried.load(Ordering::SeqCst), 2);
    let log = s.store.webhook_log("hooked", 5).await.unwrap();
    assert!(log[0].dead_at_ms.is_some() && log[0].delivered_at_ms.is_none());
    assert_eq!((log[0].attempts, log[0].last_status), (3, Some(500)));
    assert!(
        log[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("down for maintenance")
    );
    assert_eq!(s.store.webhooks_pending().await.unwrap(), 0);
}

#[tokio::test]
async fn two_workers_deliver_each_event_once() {
    let (addr, r) = receiver(Mode::Ok).await;
    let s = setup(&format!("http://{addr}/hook")).await;
    const N: usize = 60;
    for i in 0..N {
        s.store
            .enqueue_event(&s.tenant_id, "session.completed", json!({"i": i}))
            .await
            .unwrap();
    }
    let cfg = WebhookConfig { batch: 4, ..fast() };
    let (a, ta) = worker(&s, cfg.clone());
    let (b, tb) = worker(&s, cfg);
    wait_for("every event", Duration::from_secs(30), async || {
        a.delivered.load(Ordering::SeqCst) + b.delivered.load(Ordering::SeqCst) >= N as u64
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ta.abort();
    tb.abort();
    let (da, db) = (
        a.delivered.load(Ordering::SeqCst),
        b.delivered.load(Ordering::SeqCst),
    );
    let mut per_event = BTreeMap::new();
    for x in r.seen.lock().unwrap().iter() {
        let id = x.headers[EVENT_ID_HEADER].to_str().unwrap().to_owned();
        *per_event.entry(id).or_insert(0) += 1;
    }
    assert_eq!(per_event.len(), N);
    assert!(per_event.values().all(|n| *n == 1), "{per_event:?}");
    assert_eq!(da + db, N as u64);
    eprintln!("worker a delivered {da}, worker b {db}");
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let (addr, r) = receiver(Mode::Ok).await;
    let s = setup(&format!("http://{addr}/hook")).await;
    s.store
        .add_webhook_endpoint("hooked", &format!("http://localhost:{}/hook", addr.port()))
        .await
        .unwrap();
    s.store
        .enqueue_event(&s.tenant_id, "session.completed", json!({}))
        .await
        .unwrap();
    let cfg = WebhookConfig {
        allow_private_targets: false,
        max_attempts: 1,
        ..fast()
    };
    let (counters, task) = worker(&s, cfg);
    wait_for("both refusals", Duration::from_secs(10), async || {
        counters.dead.load(Ordering::SeqCst) == 2
    })
    .await;
    task.abort();
    assert_eq!(r.hits.load(Ordering::SeqCst), 0, "nothing was sent");
    assert_eq!(counters.refused_target.load(Ordering::SeqCst), 2);
    for row in s.store.webhook_log("hooked", 5).await.unwrap() {
        let e = row.last_error.unwrap_or_default();
        assert!(e.contains("not a public address"), "{e}");
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (addr, r) = receiver(Mode::Redirect).await;
    let s = setup(&format!("http://{addr}/hook")).await;
    s.store
        .enqueue_event(&s.tenant_id, "session.completed", json!({}))
        .await
        .unwrap();
    let cfg = WebhookConfig {
        max_attempts: 1,
        ..fast()
    };
    let (counters, task) = worker(&s, cfg);
    wait_for("the refusal", Duration::from_secs(10), async || {
        counters.dead.load(Ordering::SeqCst) == 1
    })
    .await;
    task.abort();
    let paths: Vec<_> = r
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|x| x.path.clone())
        .collect();
    assert_eq!(paths, ["/hook"]);
    let log = s.store.webhook_log("hooked", 5).await.unwrap();
    assert_eq!(log[0].last_status, Some(302));
    assert!(
        log[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("redirect not followed")
    );
}

/// End to end: a real FPT request (a live video against another person's photo) commits its
/// session with a `session.completed` event, delivered with the verdict's outcome and codes and
/// nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_fpt_check_emits_session_completed() {
    use axum::body::Body;
    use axum::http::Request;
    let (addr, r) = receiver(Mode::Ok).await;
    let h = common::Harness::new().await;
    let t = h.tenant("fpt-hooks").await;
    let w = h
        .store
        .add_webhook_endpoint("fpt-hooks", &format!("http://{addr}/hook"))
        .await
        .unwrap();
    let video = common::shared("videos/live_talking_720x1280.mp4");
    let photo = common::shared("faces/obama/1.jpg");
    let (ct, body) = common::multipart(&[("video", "v.mp4", &video), ("cmnd", "id.jpg", &photo)]);
    let req = Request::post("/vision/ekyc/liveness")
        .header("content-type", ct)
        .header("api-key", &*t.fpt_api_key)
        .body(Body::from(body))
        .unwrap();
    let (status, _, json) = h.send(req).await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    assert_eq!(json["code"], "303", "{json:#}");
    let log = h.store.webhook_log("fpt-hooks", 5).await.unwrap();
    // One session.completed; beside it a session.needs_review when the verdict sat in the review
    // band (same payload, same commit).
    let completed = log.iter().filter(|d| d.event_type == "session.completed");
    assert_eq!(completed.count(), 1, "{log:?}");
    assert!(
        log.iter()
            .all(|d| d.event_type == "session.completed" || d.event_type == "session.needs_review"),
        "{log:?}"
    );
    assert!(log.len() <= 2, "{log:?}");
    let events = log.len() as u64;

    let counters = Arc::new(WebhookCounters::default());
    let task = Worker::new(h.store.clone(), fast(), counters.clone())
        .unwrap()
        .spawn();
    wait_for("delivery", Duration::from_secs(10), async || {
        counters.delivered.load(Ordering::SeqCst) == events
    })
    .await;
    task.abort();
    let (sig, raw) = {
        let seen = r.seen.lock().unwrap();
        let x = &seen[0];
        (
            x.headers[SIGNATURE_HEADER].to_str().unwrap().to_owned(),
            x.body.clone(),
        )
    };
    verify(&w.secret, &sig, &raw, 300).unwrap();
    let event: Value = serde_json::from_slice(&raw).unwrap();
    let data = &event["data"];
    assert_eq!(data["api"], "fpt");
    assert_eq!(data["outcome"], "failed", "{event:#}");
    let codes = data["codes"].as_array().unwrap();
    assert!(
        codes.iter().any(|c| c["severity"] == "error"),
        "a mismatch is an error code: {event:#}"
    );
    assert_eq!(
        data.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["api", "codes", "outcome", "session_id"],
        "the summary only"
    );
    let session = h
        .store
        .tenant_scope(&t.tenant_id)
        .await
        .unwrap()
        .session(data["session_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(session.api, faceproof_store::Api::Fpt);
}
