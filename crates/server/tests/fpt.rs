//! FPT Liveness v3 over HTTP: auth, refused bodies (nothing stored), a real video, the seed's curl.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, engine_with_limits, multipart, shared};
use faceproof_server::ServerConfig;
use serde_json::Value;

const PATH: &str = "/vision/ekyc/liveness";

fn post(
    key: Option<(&str, &str)>,
    content_type: &str,
    body: Vec<u8>,
    query: &str,
) -> Request<Body> {
    let mut b = Request::post(format!("{PATH}{query}")).header("content-type", content_type);
    if let Some((h, k)) = key {
        b = b.header(h, k);
    }
    b.body(Body::from(body)).unwrap()
}

fn assert_failure_shape(body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body:#}");
    assert_eq!(body["liveness"]["code"], code);
    assert_eq!(body["face_match"]["code"], code);
    assert_eq!(body["liveness"]["is_live"], "N/A");
    assert_eq!(body["face_match"]["isMatch"], "N/A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_is_required_and_checked() {
    let h = Harness::new().await;
    let t = h.tenant("a").await;
    let (ct, body) = multipart(&[("video", "v.mp4", b"not a video")]);
    let (status, resp, json) = h.send(post(None, &ct, body.clone(), "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_failure_shape(&json, "401");
    assert!(resp.headers().contains_key("x-request-id"));
    let (status, _, json) = h
        .send(post(Some(("api-key", "fpk_wrong")), &ct, body.clone(), ""))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_failure_shape(&json, "401");
    // Both header spellings of the seed are accepted.
    for header in ["api-key", "api_key"] {
        let (status, _, json) = h
            .send(post(Some((header, &t.fpt_api_key)), &ct, body.clone(), ""))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{header}");
        assert_failure_shape(&json, "409");
    }
    // A revoked tenant is refused at once.
    h.store.revoke_tenant("a").await.unwrap();
    let (status, _, _) = h
        .send(post(Some(("api-key", &t.fpt_api_key)), &ct, body, ""))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.count("sessions").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_bodies_store_nothing() {
    let cfg = ServerConfig {
        body_overhead_bytes: 2000,
        ..ServerConfig::default()
    };
    let h = Harness::with_engine(cfg, engine_with_limits(4000, 2000)).await;
    let t = h.tenant("a").await;
    let key = Some(("api-key", t.fpt_api_key.as_str()));
    let jpeg = shared("faces/obama/1.jpg");

    let cases: Vec<(&str, String, Vec<u8>, StatusCode, &str)> = {
        let mut v = Vec::new();
        let (ct, b) = multipart(&[("cmnd", "id.jpg", b"x")]);
        v.push((
            "no video field",
            ct,
            b,
            StatusCode::BAD_REQUEST,
            "No video uploaded",
        ));
        let (ct, b) = multipart(&[("video", "v.mp4", b"")]);
        v.push((
            "empty video",
            ct,
            b,
            StatusCode::BAD_REQUEST,
            "Invalid upload video",
        ));
        let (ct, b) = multipart(&[("video", "v.mp4", b"\x00\x00\x00\x18ftypmp42garbage")]);
        v.push((
            "corrupt video",
            ct,
            b,
            StatusCode::BAD_REQUEST,
            "Invalid upload video",
        ));
        let (ct, b) = multipart(&[("video", "v.mp4", &jpeg[..3000])]);
        v.push((
            "image as video",
            ct,
            b,
            StatusCode::BAD_REQUEST,
            "Invalid upload video",
        ));
        let (ct, b) = multipart(&[("video", "v.mp4", &[7u8; 4001])]);
        v.push((
            "video over its limit",
            ct,
            b,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Invalid upload video",
        ));
        let (ct, b) = multipart(&[("video", "v.mp4", b"x"), ("cmnd", "id.jpg", &[7u8; 2001])]);
        v.push((
            "photo over its limit",
            ct,
            b,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Invalid upload image",
        ));
        let (ct, b) = multipart(&[
            ("video", "v.mp4", &[7u8; 3000]),
            ("other", "o", &[7u8; 6000]),
        ]);
        v.push((
            "body over the route limit",
            ct,
            b,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Invalid upload video",
        ));
        v.push((
            "not multipart",
            "application/json".into(),
            b"{}".to_vec(),
            StatusCode::BAD_REQUEST,
            "No video uploaded",
        ));
        let (ct, mut b) = multipart(&[("video", "v.mp4", b"abc")]);
        b.truncate(b.len() - 10);
        v.push((
            "truncated multipart",
            ct,
            b,
            StatusCode::BAD_REQUEST,
            "Invalid upload video",
        ));
        let (ct, b) = multipart(&[("video", "v.mp4", b"a"), ("video", "w.mp4", b"b")]);
        v.push((
            "two videos",
            ct,
            b,
            StatusCode::BAD_REQUEST,
            "Invalid upload video",
        ));
        v
    };
    for (what, ct, body, status, message) in cases {
        let (got, _, json) = h.send(post(key, &ct, body, "")).await;
        assert_eq!(got, status, "{what}: {json:#}");
        assert_failure_shape(&json, "409");
        assert_eq!(json["message"], message, "{what}");
    }
    h.assert_nothing_stored().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_format_is_flat_for_failures_too() {
    let h = Harness::new().await;
    let t = h.tenant("a").await;
    let (ct, body) = multipart(&[("video", "v.mp4", b"garbage")]);
    let (status, _, json) = h
        .send(post(
            Some(("api-key", &t.fpt_api_key)),
            &ct,
            body,
            "?v2_format=1",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["code"], "409");
    assert!(json.get("liveness").is_none());
    assert_eq!(json["is_live"], "N/A");
    assert_eq!(json["isMatch"], "N/A");
}

/// One real request: a live selfie video (720x1280) and someone else's ID photo through the real
/// engine: live, not a match, the seed's 303 sample (liveness 200, top-level and face_match 303).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_video_with_another_persons_photo_is_303() {
    let h = Harness::new().await;
    let t = h.tenant("a").await;
    let video = shared("videos/live_talking_720x1280.mp4");
    let photo = shared("faces/obama/1.jpg");
    let (ct, body) = multipart(&[("video", "v.mp4", &video), ("cmnd", "id.jpg", &photo)]);
    let (status, _, json) = h
        .send(post(Some(("api-key", &t.fpt_api_key)), &ct, body, ""))
        .await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    assert_eq!(json["code"], "303", "{json:#}");
    assert_eq!(json["message"], "face is not matching with document");
    assert_eq!(json["liveness"]["code"], "200");
    assert_eq!(json["liveness"]["is_live"], "true");
    assert_eq!(json["face_match"]["code"], "303");
    assert_eq!(json["face_match"]["isMatch"], "false");
    for part in ["liveness", "face_match"] {
        let o = json[part].as_object().unwrap();
        assert!(o.values().all(Value::is_string), "{part}: {json:#}");
    }
    let spoof: f64 = json["liveness"]["spoof_prob"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(spoof < 0.5, "{json:#}");
    let similarity: f64 = json["face_match"]["similarity"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.0..=100.0).contains(&similarity));
    // Stored: one session with the same answer; the media itself is not kept for this API.
    assert_eq!(h.count("sessions").await, 1);
    assert_eq!(h.count("artefacts").await, 0);
    assert_eq!(h.artefact_files().await, 0);
}

/// The seed's sample request, run with curl as written (our host and a key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_curl_sample_works() {
    let h = Harness::new().await;
    let t = h.tenant("a").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(faceproof_server::serve(h.state.clone(), listener, async {
        let _ = stop_rx.await;
    }));
    let video = faceproof_testkit::shared_file("videos/live_blink_640x360.mp4");
    let photo = faceproof_testkit::shared_file("faces/obama/2.jpg");
    let url = format!("http://{addr}{PATH}");
    let key = t.fpt_api_key.to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args([
                "--silent",
                "--location",
                "--request",
                "POST",
                &url,
                "--header",
                &format!("api-key: {key}"),
                "--form",
                &format!("video=@\"{}\"", video.display()),
                "--form",
                &format!("cmnd=@\"{}\"", photo.display()),
            ])
            .output()
            .expect("curl runs")
    })
    .await
    .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    // The 360p clip of a woman against Obama's photo: judged (HTTP 200 body), never a match, and
    // below HD: the seed's resolution warning.
    assert!(json["code"].is_string(), "{json:#}");
    assert!(json["liveness"]["is_live"].is_string());
    assert_ne!(json["face_match"]["isMatch"], "true", "{json:#}");
    assert!(
        json["liveness"]["warning"]
            .as_str()
            .unwrap()
            .contains("Resolution of video is too low"),
        "{json:#}"
    );
    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}
