//! Operations: health, readiness, request ids, unknown routes, metrics, the concurrency limit.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, multipart, shared};
use faceproof_server::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_ids_and_404() {
    let h = Harness::new().await;
    let (s, resp, j) = h
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(j["status"], "ok");
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    let (s, _, j) = h
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    // A caller's own plain id is echoed; a hostile one is replaced.
    let req = Request::get("/healthz")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let (_, resp, _) = h.send(req).await;
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    let req = Request::get("/healthz")
        .header("x-request-id", "a b\"c")
        .body(Body::empty())
        .unwrap();
    let (_, resp, _) = h.send(req).await;
    assert_ne!(resp.headers()["x-request-id"], "a b\"c");
    let (s, resp, j) = h
        .send(Request::get("/nope").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(j["code"], "NOT_FOUND");
    assert!(resp.headers().contains_key("x-request-id"));
    // Draining: readiness fails first.
    h.state.begin_shutdown();
    let (s, _, _) = h
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_by_api_and_code() {
    let h = Harness::new().await;
    let (ct, body) = multipart(&[("video", "v.mp4", b"x")]);
    for _ in 0..2 {
        let req = Request::post("/vision/ekyc/liveness")
            .header("content-type", &ct)
            .body(Body::from(body.clone()))
            .unwrap();
        h.send(req).await;
    }
    let (s, text, headers) = h
        .send_raw(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("faceproof_requests_total{api=\"fpt\",code=\"401\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("faceproof_request_duration_seconds_count{api=\"fpt\"} 2"),
        "{text}"
    );
    assert!(text.contains("faceproof_checks_queued 0"));
}

/// One check slot and no queue: of two concurrent real requests one is judged and the other is
/// refused with 429 at once; nothing crashes and the judged one is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_limit_is_429() {
    let cfg = ServerConfig {
        max_concurrent_checks: 1,
        max_queued_checks: 0,
        ..ServerConfig::default()
    };
    let h = Harness::with(cfg).await;
    let t = h.tenant("a").await;
    let video = shared("videos/live_blink_640x360.mp4");
    let (ct, body) = multipart(&[("video", "v.mp4", &video)]);
    let req = || {
        Request::post("/vision/ekyc/liveness")
            .header("content-type", &ct)
            .header("api-key", &*t.fpt_api_key)
            .body(Body::from(body.clone()))
            .unwrap()
    };
    let (a, b) = tokio::join!(h.send(req()), h.send(req()));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::TOO_MANY_REQUESTS],
        "{:#} {:#}",
        a.2,
        b.2
    );
    let refused = if a.0 == StatusCode::OK { &b.2 } else { &a.2 };
    assert_eq!(refused["code"], "429");
    assert_eq!(h.count("sessions").await, 1);
}

/// Every path and method of the OpenAPI document is routed (none falls through to the 404
/// fallback), and the document lists every route the router has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_matches_the_router() {
    let h = Harness::new().await;
    let (s, _, doc) = h
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut listed: Vec<String> = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            listed.push(format!("{} {path}", method.to_uppercase()));
            let concrete = path.replace("{region}", "intl").replace("{key}", "t/x/y");
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&concrete)
                .body(Body::empty())
                .unwrap();
            let (_, _, j) = h.send(req).await;
            assert_ne!(j["code"], "NOT_FOUND", "{method} {path} is not routed");
        }
    }
    listed.sort();
    let mut routed = [
        "POST /vision/ekyc/liveness",
        "POST /v1/silent/video-compare",
        "GET /v1/silent/public-key",
        "GET /v1/silent/thresholds",
        "POST /openapi/auth/ticket/v1/generate-token",
        "POST /openapi/liveness/v3/signature-id",
        "POST /openapi/liveness/v3/capture",
        "POST /openapi/liveness/v3/detection-result",
        "POST /{region}/openapi/face-identity/v1/liveness-detection",
        "GET /v1/files/{key}",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /openapi.json",
        "GET /docs",
        "GET /docs/{path}",
        "POST /v1/capture-tokens",
        "POST /v1/challenges",
        "GET /v1/capture/context",
        "POST /v1/gallery/blocklist",
        "DELETE /v1/gallery/blocklist/{entry_id}",
        "DELETE /v1/gallery/{external_ref}",
        "GET /sdk/{path}",
        "GET /demo",
        "GET /demo/",
        "GET /demo/{path}",
    ];
    routed.sort();
    assert_eq!(listed, routed);
    let (s, html, _) = h
        .send_raw(Request::get("/docs").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8(html).unwrap().contains("/openapi.json"));
}

/// A client that sends headers and then trickles nothing is answered 408 after
/// `request_timeout_secs`, instead of holding the connection and its buffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_is_cut_with_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cfg = ServerConfig {
        request_timeout_secs: 1,
        ..ServerConfig::default()
    };
    let h = Harness::with(cfg).await;
    let t = h.tenant("a").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(faceproof_server::serve(h.state.clone(), listener, async {
        let _ = stop_rx.await;
    }));
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /vision/ekyc/liveness HTTP/1.1\r\nhost: x\r\napi-key: {}\r\n\
         content-type: multipart/form-data; boundary=b\r\ncontent-length: 100000\r\n\r\n--b\r\n",
        &*t.fpt_api_key
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let start = std::time::Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), conn.read(&mut buf))
        .await
        .expect("answered before the test's own timeout")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(start.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(h.count("sessions").await, 0);
    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}
