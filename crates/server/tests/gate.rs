//! The body gate (`src/gate.rs`) over real TCP: every body-taking route refuses a missing or
//! wrong credential with its own 401 before reading an oversized body, and the service-wide body
//! budget answers busy instead of buffering beyond it.

mod common;

use std::time::Duration;

use common::Harness;
use faceproof_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(h: &Harness) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(faceproof_server::serve(h.state.clone(), listener, async {
        let _ = rx.await;
    }));
    Server { addr, stop, task }
}

/// Sends the head, then streams `len` body bytes while reading; returns the response head.
async fn post(
    addr: std::net::SocketAddr,
    path: &str,
    auth: &str,
    ctype: &str,
    len: usize,
) -> String {
    let conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = conn.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\n{auth}content-type: {ctype}\r\ncontent-length: {len}\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        let chunk = vec![b'A'; 64 * 1024];
        let mut sent = 0;
        while sent < len {
            let n = chunk.len().min(len - sent);
            wr.write_all(&chunk[..n]).await?;
            sent += n;
        }
        // Keep the write half open: a half-closed connection is taken as a client gone.
        Ok::<_, std::io::Error>((sent, wr))
    });
    let mut buf = Vec::new();
    let mut tmp = vec![0u8; 8192];
    let read = async {
        loop {
            let n = match rd.read(&mut tmp).await {
                Ok(n) => n,
                Err(e) => {
                    buf.extend_from_slice(format!("read error: {e}").as_bytes());
                    0
                }
            };
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&tmp[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("answered, not hung");
    let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_without_a_valid_credential_are_401() {
    // 35 refused credentials from one address: the failure lockout (tests/ratelimit.rs) would
    // answer the 6th with 429 before the gate looks at it, so it is off for this test.
    let h = Harness::with(ServerConfig {
        rate_limit: faceproof_server::ratelimit::RateLimitConfig {
            lockout_after_failures: 0,
            ..Default::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let t = h.tenant("a").await;
    let srv = start(&h).await;
    let uploads = h.state.uploads();
    let mp = "multipart/form-data; boundary=b";
    let json = "application/json";
    let routes: [(&str, &str, usize); 7] = [
        ("/vision/ekyc/liveness", mp, uploads.fpt_body()),
        ("/v1/silent/video-compare", json, uploads.silent_body()),
        ("/openapi/liveness/v3/capture", mp, uploads.capture_body()),
        (
            "/openapi/liveness/v3/detection-result",
            json,
            faceproof_server::gate::SMALL_JSON_LIMIT,
        ),
        (
            "/openapi/liveness/v3/signature-id",
            json,
            faceproof_server::gate::SMALL_JSON_LIMIT,
        ),
        (
            "/v1/capture-tokens",
            json,
            faceproof_server::gate::CAPTURE_JSON_LIMIT,
        ),
        (
            "/v1/challenges",
            json,
            faceproof_server::gate::CAPTURE_JSON_LIMIT,
        ),
    ];
    let wrong = [
        String::new(),
        "api-key: fpk_wrong\r\n".to_owned(),
        "x-access-token: wrong\r\n".to_owned(),
        "x-capture-token: fct_wrong\r\n".to_owned(),
        // A real key of another API is not a credential here unless the route takes it.
        format!("x-capture-token: fct_{}\r\n", "0".repeat(20)),
    ];
    for (path, ctype, limit) in routes {
        for auth in &wrong {
            let head = post(srv.addr, path, auth, ctype, limit + 1024 * 1024).await;
            assert!(
                head.starts_with("HTTP/1.1 401"),
                "{path} with {auth:?}: {head}"
            );
            assert!(
                head.to_ascii_lowercase().contains("connection: close"),
                "{path}: {head}"
            );
        }
    }
    // The tenant's FPT key is accepted where it is the credential: the 413 is the body's.
    let auth = format!("api-key: {}\r\n", &*t.fpt_api_key);
    let head = post(
        srv.addr,
        "/vision/ekyc/liveness",
        &auth,
        mp,
        uploads.fpt_body() + 1024 * 1024,
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert_eq!(h.count("sessions").await, 0);
    let _ = srv.stop.send(());
    srv.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_body_budget_answers_busy_instead_of_buffering() {
    let cfg = ServerConfig {
        max_inflight_body_bytes: 1024 * 1024,
        ..ServerConfig::default()
    };
    let h = Harness::with(cfg).await;
    let t = h.tenant("a").await;
    let srv = start(&h).await;
    // A valid upload declaring 900 KB that stalls after its head holds the budget...
    let mut held = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let head = format!(
        "POST /v1/silent/video-compare HTTP/1.1\r\nhost: x\r\napi-key: {}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{{",
        &*t.fpt_api_key,
        900 * 1024
    );
    held.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...so a second one declaring 200 KB is refused at once, in each API's busy shape.
    let key = format!("api-key: {}\r\n", &*t.fpt_api_key);
    let head = post(
        srv.addr,
        "/v1/silent/video-compare",
        &key,
        "application/json",
        200 * 1024,
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    let head = post(
        srv.addr,
        "/vision/ekyc/liveness",
        &key,
        "multipart/form-data; boundary=b",
        200 * 1024,
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    // A small one still fits.
    let head = post(srv.addr, "/v1/challenges", &key, "application/json", 10).await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    // Once the held upload is gone its reservation is released.
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let head = post(
        srv.addr,
        "/v1/silent/video-compare",
        &key,
        "application/json",
        200 * 1024,
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let _ = srv.stop.send(());
    srv.task.await.unwrap().unwrap();
}
