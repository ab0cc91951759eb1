//! Hostile connections and the small holes of issue 11: slow headers, stalled bodies and the
//! connection cap over real sockets (`faceproof_server::serve`), the signed-URL host allow-list,
//! the `/metrics` token, the ADVANCE capture body limit, and every route refusing a missing or
//! wrong credential before it reads an oversized body.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, engine_with_limits, multipart, shared};
use faceproof_server::ServerConfig;
use faceproof_server::advance::{CaptureInputs, persist_capture};
use faceproof_server::fixtures;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A harness whose router is also served on a loopback port; dropping the sender stops it.
async fn serve(cfg: ServerConfig) -> (Harness, SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let h = Harness::with(cfg).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(faceproof_server::serve(h.state.clone(), listener, async {
        let _ = rx.await;
    }));
    (h, addr, tx)
}

/// Reads until the end of a response head or EOF, at most `wait`. `None`: nothing came in time.
async fn read_head(s: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut buf = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&buf).into_owned()),
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    return Some(String::from_utf8_lossy(&buf).into_owned());
                }
            }
        }
    }
}

fn status_of(head: &str) -> Option<u16> {
    head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn quick(secs: u64) -> ServerConfig {
    ServerConfig {
        header_read_timeout_secs: secs,
        idle_timeout_secs: secs,
        ..ServerConfig::default()
    }
}

/// Three connections trickling a header line every 300 ms are closed at the 1 s header timeout
/// (before: `axum::serve` had no header timer, such connections stayed open for minutes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_at_the_header_timeout() {
    let (_h, addr, _stop) = serve(quick(1)).await;
    let mut tasks = Vec::new();
    for _ in 0..3 {
        tasks.push(tokio::spawn(async move {
            let start = Instant::now();
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .await
                .unwrap();
            for i in 0..40 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if s.write_all(format!("X-Slow-{i}: x\r\n").as_bytes())
                    .await
                    .is_err()
                {
                    break;
                }
                let mut b = [0u8; 512];
                match tokio::time::timeout(Duration::from_millis(1), s.read(&mut b)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => break,
                    Ok(Ok(_)) => {
                        // hyper may answer 408 before closing: still cut.
                        let head = String::from_utf8_lossy(&b).into_owned();
                        assert!(!head.contains(" 200 "), "{head}");
                    }
                    Err(_) => {}
                }
            }
            start.elapsed()
        }));
    }
    for t in tasks {
        let held = t.await.unwrap();
        assert!(
            held < Duration::from_millis(2500),
            "a slow-header connection was held {held:?} with a 1 s header timeout"
        );
    }
    // The service still answers a normal client.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut s, Duration::from_secs(5)).await.unwrap();
    assert_eq!(status_of(&head), Some(200), "{head}");
}

/// A body that stops arriving is cut at the idle timeout, not at the 180 s request timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_cut_at_the_idle_timeout() {
    let (_h, addr, _stop) = serve(quick(1)).await;
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"POST /v1/silent/video-compare HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          content-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"video\": \"AAAA",
    )
    .await
    .unwrap();
    let head = read_head(&mut s, Duration::from_secs(6)).await;
    let held = start.elapsed();
    assert!(head.is_some(), "no answer and no close after {held:?}");
    assert!(
        held < Duration::from_millis(3500),
        "a stalled body held its connection {held:?} with a 1 s idle timeout"
    );
}

/// With `max_connections` = 2, a third connection waits unanswered while two idle ones are open
/// and is answered as soon as one of them closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let cfg = ServerConfig {
        max_connections: 2,
        header_read_timeout_secs: 30,
        ..ServerConfig::default()
    };
    let (_h, addr, _stop) = serve(cfg).await;
    let a = TcpStream::connect(addr).await.unwrap();
    let _b = TcpStream::connect(addr).await.unwrap();
    // Let the server accept both.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        read_head(&mut c, Duration::from_millis(1000)).await,
        None,
        "a connection beyond the cap was served"
    );
    drop(a);
    let head = read_head(&mut c, Duration::from_secs(3))
        .await
        .expect("served once a slot was free");
    assert_eq!(status_of(&head), Some(200), "{head}");
}

fn json_post(path: &str, token: Option<&str>, host: Option<&str>, body: &Value) -> Request<Body> {
    let mut b = Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("X-ACCESS-TOKEN", t);
    }
    if let Some(host) = host {
        b = b.header("host", host);
    }
    b.body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

async fn advance_token(h: &Harness, c: &faceproof_store::IssuedCredentials) -> String {
    let ts = h.clock.now_ms();
    let sig: String = Sha256::digest(
        format!("{}{}{ts}", c.advance_access_key, &*c.advance_secret_key).as_bytes(),
    )
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    let body = json!({"accessKey": c.advance_access_key, "timestamp": ts, "signature": sig});
    let (s, _, j) = h
        .send(json_post(
            "/openapi/auth/ticket/v1/generate-token",
            None,
            None,
            &body,
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    j["data"]["token"].as_str().unwrap().to_owned()
}

/// Signed URLs used to take any `Host` (`evil.example` -> `http://evil.example/v1/files/...`).
/// Now only loopback names by default, or `allowed_hosts`, or `public_base_url`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_urls_name_only_allowed_hosts() {
    for (allowed, good, bad) in [
        (vec![], "127.0.0.1:8080", "evil.example"),
        (
            vec!["kyc.example.com".to_owned()],
            "kyc.example.com",
            "127.0.0.1:8080",
        ),
    ] {
        let h = Harness::with(ServerConfig {
            allowed_hosts: allowed,
            ..ServerConfig::default()
        })
        .await;
        let c = h.tenant("a").await;
        let t = advance_token(&h, &c).await;
        let scope = h.store.tenant_scope(&c.tenant_id).await.unwrap();
        let inputs = CaptureInputs {
            far: shared("faces/obama/1.jpg"),
            near: shared("faces/obama/2.jpg"),
            far_time_ms: None,
            near_time_ms: None,
            clip: None,
        };
        let s = persist_capture(&scope, None, inputs, &fixtures::live())
            .await
            .unwrap();
        let path = "/openapi/liveness/v3/detection-result";
        let body = json!({"livenessId": s.id});
        let (status, _, j) = h.send(json_post(path, Some(&t), Some(bad), &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {j:#}");
        assert_eq!(j["code"], "PARAMETER_ERROR", "{j:#}");
        assert!(!j.to_string().contains(bad), "{j:#}");
        let (status, _, j) = h.send(json_post(path, Some(&t), Some(good), &body)).await;
        assert_eq!(status, StatusCode::OK, "{good}: {j:#}");
        let far = j["data"]["imageFarUrl"].as_str().unwrap();
        assert!(
            far.starts_with(&format!("http://{good}/v1/files/")),
            "{far}"
        );
    }
}

/// `/metrics` behind `server.metrics_token` (before: always open).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_require_a_bearer_token() {
    let h = Harness::with(ServerConfig {
        metrics_token: Some("s3cret-metrics-token".into()),
        ..ServerConfig::default()
    })
    .await;
    for auth in [None, Some("Bearer wrong"), Some("s3cret-metrics-token")] {
        let mut b = Request::get("/metrics");
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        let (s, body, _) = h.send_raw(b.body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(!String::from_utf8_lossy(&body).contains("faceproof_"));
    }
    let req = Request::get("/metrics")
        .header("authorization", "Bearer s3cret-metrics-token")
        .body(Body::empty())
        .unwrap();
    let (s, body, _) = h.send_raw(req).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("faceproof_checks_queued"));
}

/// An ADVANCE capture over its body limit: 413 `PARAMETER_ERROR`, nothing stored, the reserved
/// signatureId still usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advance_capture_over_its_limit_is_413() {
    let h = Harness::with_engine(
        ServerConfig {
            body_overhead_bytes: 4 * 1024,
            ..ServerConfig::default()
        },
        engine_with_limits(64 * 1024, 64 * 1024),
    )
    .await;
    let c = h.tenant("a").await;
    let t = advance_token(&h, &c).await;
    let (_, _, j) = h
        .send(json_post(
            "/openapi/liveness/v3/signature-id",
            Some(&t),
            None,
            &json!({}),
        ))
        .await;
    let sig = j["data"]["signatureId"].as_str().unwrap().to_owned();
    let big = vec![0xffu8; 65 * 1024];
    let small = shared("faces/obama/1.jpg");
    for parts in [
        // One field over its own limit.
        vec![
            ("far", "f.jpg", big.clone()),
            ("near", "n.jpg", small[..1000].to_vec()),
        ],
        // The clip over the video limit, with the reserved signatureId.
        vec![
            ("far", "f.jpg", small[..1000].to_vec()),
            ("near", "n.jpg", small[..1000].to_vec()),
            ("clip", "c.mp4", big.clone()),
            ("signatureId", "", sig.clone().into_bytes()),
        ],
    ] {
        let borrowed: Vec<(&str, &str, &[u8])> = parts
            .iter()
            .map(|(a, b, c)| (*a, *b, c.as_slice()))
            .collect();
        let (ct, body) = multipart(&borrowed);
        let req = Request::post("/openapi/liveness/v3/capture")
            .header("content-type", ct)
            .header("X-ACCESS-TOKEN", &t)
            .body(Body::from(body))
            .unwrap();
        let (s, _, j) = h.send(req).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{j:#}");
        assert_eq!(j["code"], "PARAMETER_ERROR", "{j:#}");
    }
    // Only the reserved session exists: no artefact row, no upload intent, no object.
    assert_eq!(h.count("sessions").await, 1);
    assert_eq!(h.count("artefacts").await, 0);
    assert_eq!(h.count("uploads").await, 0);
    assert_eq!(h.artefact_files().await, 0);
    let scope = h.store.tenant_scope(&c.tenant_id).await.unwrap();
    assert!(
        scope
            .session_by_alias(&sig)
            .await
            .unwrap()
            .consumed_at_ms
            .is_none()
    );
}

/// Every authenticated route, over a real socket, with a declared oversized body that is never
/// sent and a missing or wrong credential: the answer must be the route's auth refusal (401),
/// sent from the headers alone. A route that reads the body before checking the key cannot
/// answer 401 here (it waits for the body, then cuts it at the idle timeout or answers 413).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_a_bad_key_before_reading_an_oversized_body() {
    refuse_from_headers(&[
        (
            "POST",
            "/vision/ekyc/liveness",
            "multipart/form-data; boundary=x",
        ),
        ("GET", "/v1/silent/public-key", ""),
        (
            "POST",
            "/openapi/liveness/v3/capture",
            "multipart/form-data; boundary=x",
        ),
        ("GET", "/v1/capture/context", ""),
    ])
    .await;
}

/// Issue 11 item 1: these JSON routes once read (and buffered) the whole body before they checked
/// the credential, answering only when the idle timeout cut the unsent body; the body gate
/// (`gate.rs`) now refuses them from the headers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_reading_the_body_before_the_key() {
    refuse_from_headers(&[
        ("POST", "/v1/silent/video-compare", "application/json"),
        (
            "POST",
            "/openapi/liveness/v3/signature-id",
            "application/json",
        ),
        ("POST", "/v1/capture-tokens", "application/json"),
        ("POST", "/v1/challenges", "application/json"),
        (
            "POST",
            "/openapi/liveness/v3/detection-result",
            "application/json",
        ),
        (
            "POST",
            "/intl/openapi/face-identity/v1/liveness-detection",
            "application/json",
        ),
    ])
    .await;
}

async fn refuse_from_headers(routes: &[(&str, &str, &str)]) {
    let cfg = ServerConfig {
        idle_timeout_secs: 2,
        // Many refused credentials from one address: the failure lockout (tests/ratelimit.rs)
        // would answer 429 from the 6th before the gate looks at them, so it is off here.
        rate_limit: faceproof_server::ratelimit::RateLimitConfig {
            lockout_after_failures: 0,
            ..Default::default()
        },
        ..ServerConfig::default()
    };
    let (h, addr, _stop) = serve(cfg).await;
    let uploads = h.state.uploads();
    let over = uploads
        .fpt_body()
        .max(uploads.silent_body())
        .max(uploads.capture_body())
        + 1;
    let creds = [
        "",
        "api-key: fpk_wrongwrongwrongwrongwrongwrong\r\n",
        "X-ACCESS-TOKEN: fpat1.nope.nope.1.nope\r\n",
    ];
    let mut failures = Vec::new();
    for (method, path, ct) in routes {
        for cred in creds {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let body_headers = if *method == "POST" {
                format!("content-type: {ct}\r\ncontent-length: {over}\r\n")
            } else {
                String::new()
            };
            let head =
                format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cred}{body_headers}\r\n");
            s.write_all(head.as_bytes()).await.unwrap();
            let start = Instant::now();
            let answer = read_head(&mut s, Duration::from_secs(4)).await;
            let status = answer.as_deref().and_then(status_of);
            if status != Some(401) || start.elapsed() > Duration::from_millis(1500) {
                failures.push(format!(
                    "{method} {path} [{}]: {status:?} after {:?}",
                    cred.trim(),
                    start.elapsed()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "routes that did not refuse a bad key from the headers alone (issue 11 item 1):\n{}",
        failures.join("\n")
    );
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The silent envelope's suite against the published RFC 9180 known answer (Appendix A.2,
/// DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305, base mode, sequence 0), so
/// the envelope is checked against the standard, not only as a round trip through one crate.
#[test]
fn hpke_suite_matches_rfc9180_appendix_a2() {
    use faceproof_server::silent::envelope::SUITE;
    use hpke::aead::ChaCha20Poly1305;
    use hpke::kdf::HkdfSha256;
    use hpke::kem::X25519HkdfSha256;
    use hpke::{Deserializable, Kem as _, OpModeR, Serializable};
    // The suite the API publishes is the one of the vectors.
    assert_eq!(SUITE, (0x0020, 0x0001, 0x0003));
    let sk_r = unhex("8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb");
    let pk_r = unhex("4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a");
    let enc = unhex("1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a");
    let info = unhex("4f6465206f6e2061204772656369616e2055726e");
    let aad = unhex("436f756e742d30");
    let pt = unhex("4265617574792069732074727574682c20747275746820626561757479");
    let ct = unhex(concat!(
        "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db",
        "21993c62ce81883d2dd1b51a28"
    ));
    let sk = <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(&sk_r).unwrap();
    assert_eq!(
        X25519HkdfSha256::sk_to_pk(&sk).to_bytes().to_vec(),
        pk_r,
        "pkRm"
    );
    let enc_key = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(&enc).unwrap();
    let open = |ct: &[u8], aad: &[u8]| {
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            &sk,
            &enc_key,
            &info,
            ct,
            aad,
        )
    };
    assert_eq!(open(&ct, &aad).unwrap(), pt);
    assert_eq!(pt, b"Beauty is truth, truth beauty");
    // One flipped bit of the ciphertext, or another AAD, does not open.
    let mut bad = ct.clone();
    bad[3] ^= 1;
    assert!(open(&bad, &aad).is_err());
    assert!(open(&ct, b"Count-1").is_err());
}
