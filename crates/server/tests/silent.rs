//! Silent compare over HTTP: envelopes, auth, refused bodies (nothing stored), a real pair.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Harness, engine_with_limits, shared};
use faceproof_server::ServerConfig;
use faceproof_server::silent::envelope;
use faceproof_store::TenantSettings;
use serde_json::{Value, json};

const PATH: &str = "/v1/silent/video-compare";

fn post(key: &str, body: &Value) -> Request<Body> {
    let bytes = serde_json::to_vec(body).unwrap();
    Request::post(PATH)
        .header("api-key", key)
        .header("content-type", "application/json")
        .header("content-length", bytes.len())
        .body(Body::from(bytes))
        .unwrap()
}

async fn public_key(h: &Harness, key: &str) -> [u8; 32] {
    let req = Request::get("/v1/silent/public-key")
        .header("api-key", key)
        .body(Body::empty())
        .unwrap();
    let (status, _, json) = h.send(req).await;
    assert_eq!(status, StatusCode::OK, "{json:#}");
    assert_eq!(json["kem_id"], 0x20);
    assert_eq!(json["aead"], "ChaCha20-Poly1305");
    STANDARD
        .decode(json["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

/// A client's envelope pair for `pk`, sealed at `at_ms`: (`encrypted_video`, `encrypted_image`).
fn pair_at(pk: &[u8; 32], at_ms: i64, video: &[u8], image: &[u8]) -> (String, String) {
    let (v, i) = envelope::seal_pair(pk, at_ms, video, image);
    (STANDARD.encode(v), STANDARD.encode(i))
}

/// The same, sealed now by the harness's clock.
fn pair(h: &Harness, pk: &[u8; 32], video: &[u8], image: &[u8]) -> (String, String) {
    pair_at(pk, h.clock.now_ms(), video, image)
}

fn assert_error(status: StatusCode, json: &Value, want_status: StatusCode, code: u64) {
    assert_eq!(status, want_status, "{json:#}");
    assert_eq!(json["code"], code, "{json:#}");
    assert!(json["message"].is_string());
    assert!(json["request_id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_have_the_seed_codes_and_store_nothing() {
    let cfg = ServerConfig {
        body_overhead_bytes: 1000,
        ..ServerConfig::default()
    };
    let h = Harness::with_engine(cfg, engine_with_limits(20_000, 10_000)).await;
    let a = h.tenant("a").await;
    let b = h.tenant("b").await;
    let key = a.fpt_api_key.as_str();
    let pk = public_key(&h, key).await;
    let pk_b = public_key(&h, &b.fpt_api_key).await;
    assert_ne!(pk, pk_b);
    let jpeg = shared("faces/obama/1.jpg");
    let small_jpeg = &jpeg[..9000];
    let img = pair(&h, &pk, b"v", small_jpeg).1;
    let sealed = |pk: &[u8; 32], video: &[u8]| pair(&h, pk, video, small_jpeg);

    // Unknown key.
    let (s, _, j) = h.send(post("fpk_nope", &json!({}))).await;
    assert_error(s, &j, StatusCode::UNAUTHORIZED, 1401);

    let cases: Vec<(&str, Value, StatusCode, u64)> = vec![
        (
            "missing image",
            json!({"encrypted_video": sealed(&pk, b"v").0}),
            StatusCode::BAD_REQUEST,
            1200,
        ),
        (
            "missing video",
            json!({"encrypted_image": img}),
            StatusCode::BAD_REQUEST,
            1200,
        ),
        (
            "wrong type",
            json!({"encrypted_video": 5, "encrypted_image": img}),
            StatusCode::BAD_REQUEST,
            1200,
        ),
        (
            "bool as string",
            {
                let (v, i) = sealed(&pk, b"v");
                json!({"encrypted_video": v, "encrypted_image": i, "return_image": "yes"})
            },
            StatusCode::BAD_REQUEST,
            1200,
        ),
        (
            "not base64",
            json!({"encrypted_video": "%%%", "encrypted_image": img}),
            StatusCode::BAD_REQUEST,
            1200,
        ),
        (
            "another tenant's key",
            {
                let (v, i) = sealed(&pk_b, b"video");
                json!({"encrypted_video": v, "encrypted_image": i})
            },
            StatusCode::BAD_REQUEST,
            1200,
        ),
        (
            "image envelope as video",
            {
                let (v, i) = sealed(&pk, b"video");
                json!({"encrypted_video": i, "encrypted_image": v})
            },
            StatusCode::BAD_REQUEST,
            1200,
        ),
        (
            "plain not enabled",
            json!({"video": STANDARD.encode(b"v"), "encrypted_image": img}),
            StatusCode::BAD_REQUEST,
            1200,
        ),
        (
            "video over its limit",
            {
                let (v, i) = sealed(&pk, &[1u8; 20_001]);
                json!({"encrypted_video": v, "encrypted_image": i})
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            2004,
        ),
        (
            "empty video",
            {
                let (v, i) = sealed(&pk, b"");
                json!({"encrypted_video": v, "encrypted_image": i})
            },
            StatusCode::BAD_REQUEST,
            2004,
        ),
        (
            "corrupt video",
            {
                let (v, i) = sealed(&pk, b"\x00\x00\x00\x18ftypmp42xxxxxxxx");
                json!({"encrypted_video": v, "encrypted_image": i})
            },
            StatusCode::BAD_REQUEST,
            2005,
        ),
        (
            "image as video",
            {
                let (v, i) = sealed(&pk, small_jpeg);
                json!({"encrypted_video": v, "encrypted_image": i})
            },
            StatusCode::BAD_REQUEST,
            2005,
        ),
    ];
    for (what, body, status, code) in cases {
        let (s, resp, j) = h.send(post(key, &body)).await;
        assert_error(s, &j, status, code);
        assert_eq!(
            resp.headers()["x-request-id"].to_str().unwrap(),
            j["request_id"].as_str().unwrap(),
            "{what}"
        );
    }
    // Not JSON at all.
    let req = Request::post(PATH)
        .header("api-key", key)
        .header("content-length", 3)
        .body(Body::from("{x}"))
        .unwrap();
    let (s, _, j) = h.send(req).await;
    assert_error(s, &j, StatusCode::BAD_REQUEST, 1200);
    // No Content-Length: the seed's 411.
    let req = Request::post(PATH)
        .header("api-key", key)
        .body(Body::from("{}"))
        .unwrap();
    let (s, _, j) = h.send(req).await;
    assert_error(s, &j, StatusCode::LENGTH_REQUIRED, 2004);
    // A body over the route's limit.
    let huge = json!({"encrypted_video": "A".repeat(60_000), "encrypted_image": img});
    let (s, _, j) = h.send(post(key, &huge)).await;
    assert_error(s, &j, StatusCode::PAYLOAD_TOO_LARGE, 2004);

    h.assert_nothing_stored().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_media_when_the_tenant_allows_it() {
    let h = Harness::new().await;
    let t = h
        .store
        .create_tenant(
            "plain",
            TenantSettings {
                silent_accept_plain: true,
                ..TenantSettings::default()
            },
        )
        .await
        .unwrap();
    let jpeg = shared("faces/obama/1.jpg");
    let body = json!({"video": STANDARD.encode(b"garbage"), "image": STANDARD.encode(&jpeg)});
    let (s, _, j) = h.send(post(&t.fpt_api_key, &body)).await;
    // Decoded and judged by the media layer: refused as not a video (2005), not as plain (1200).
    assert_error(s, &j, StatusCode::BAD_REQUEST, 2005);
    let both = json!({"video": STANDARD.encode(b"x"), "encrypted_video": "AAAA", "image": STANDARD.encode(&jpeg)});
    let (s, _, j) = h.send(post(&t.fpt_api_key, &both)).await;
    assert_error(s, &j, StatusCode::BAD_REQUEST, 1200);
}

/// One real pair through the real engine, encrypted as a client would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_pair_answers_with_the_seed_fields() {
    let h = Harness::new().await;
    let t = h.tenant("a").await;
    let pk = public_key(&h, &t.fpt_api_key).await;
    let video = shared("videos/live_talking_720x1280.mp4");
    let photo = shared("faces/obama/1.jpg");
    let (v, i) = pair(&h, &pk, &video, &photo);
    let body = json!({
        "encrypted_video": v,
        "encrypted_image": i,
        "return_status": true,
        "return_image": true,
        "return_face_image": true,
    });
    let (s, resp, j) = h.send(post(&t.fpt_api_key, &body)).await;
    assert_eq!(
        resp.headers()["x-request-id"].to_str().unwrap(),
        j["request_id"].as_str().unwrap()
    );
    // A live clip: passed, with every optional field the switches asked for.
    assert_eq!(s, StatusCode::OK, "{j:#}");
    assert_eq!(j["code"], 1000, "{j:#}");
    assert_eq!(j["passed"], true, "{j:#}");
    assert_eq!(j["liveness_status"], "ok");
    assert!(j["liveness_score"].as_f64().unwrap() > 0.5);
    // Someone else's photo: a score below the seed's recommended 0.7.
    let score = j["verification_score"].as_f64().unwrap();
    assert!((0.0..0.7).contains(&score), "{score}");
    let ts = j["image_timestamp"].as_f64().unwrap();
    assert!((0.0..12.0).contains(&ts), "{ts}");
    for k in ["base64_image", "base64_face_image"] {
        let jpeg = STANDARD.decode(j[k].as_str().unwrap()).unwrap();
        assert!(jpeg.starts_with(&[0xff, 0xd8]), "{k} is a JPEG");
    }
    assert_eq!(h.count("sessions").await, 1);
    assert_eq!(h.artefact_files().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_are_published() {
    let h = Harness::new().await;
    let req = Request::get("/v1/silent/thresholds")
        .body(Body::empty())
        .unwrap();
    let (s, _, j) = h.send(req).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(j["recommended_threshold"], 0.7);
    let rows = j["table"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[3]["threshold"], 0.7);
    assert_eq!(rows[3]["published_far"], 1e-4);
    // Higher thresholds need a higher cosine and measure a FAR no higher.
    for w in rows.windows(2) {
        let c = |r: &Value| r["cosine_similarity"].as_f64().unwrap();
        let far = |r: &Value| r["measured"]["far"].as_f64().unwrap();
        assert!(c(&w[1]) > c(&w[0]), "{w:?}");
        assert!(far(&w[1]) <= far(&w[0]), "{w:?}");
        assert!(w[0]["measured"]["method"].is_string());
    }
}

/// Issue 11 item 4: the two envelopes of a request are bound to each other and to their sealing
/// time, and a pair is judged once. Every refusal is the seed's 1200 (invalid argument), answered
/// before the engine runs; the first use of a pair is recorded in the store before analysis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_pairs_are_bound_timed_and_single_use() {
    let h = Harness::new().await;
    let t = h.tenant("a").await;
    let key = t.fpt_api_key.as_str();
    let pk = public_key(&h, key).await;
    let jpeg = shared("faces/obama/1.jpg");
    let message = |j: &Value| j["message"].as_str().unwrap().to_owned();

    // A first use reaches the media layer (a corrupt video: 2005) ...
    let (v, i) = pair(&h, &pk, b"\x00\x00\x00\x18ftypmp42xxxxxxxx", &jpeg);
    let body = json!({"encrypted_video": v, "encrypted_image": i});
    let (s, _, j) = h.send(post(key, &body)).await;
    assert_error(s, &j, StatusCode::BAD_REQUEST, 2005);
    // ... the same pair again is refused as a replay, whatever the media.
    let (s, _, j) = h.send(post(key, &body)).await;
    assert_error(s, &j, StatusCode::BAD_REQUEST, 1200);
    assert!(message(&j).contains("already submitted"), "{j:#}");

    // The video envelope of one request with the image envelope of another does not open.
    let (v1, _) = pair(&h, &pk, b"video of one", &jpeg);
    let (_, i2) = pair(&h, &pk, b"video of two", &jpeg);
    let mixed = json!({"encrypted_video": v1, "encrypted_image": i2});
    let (s, _, j) = h.send(post(key, &mixed)).await;
    assert_error(s, &j, StatusCode::BAD_REQUEST, 1200);
    assert!(message(&j).contains("encrypted_image"), "{j:#}");

    // A pair sealed outside the window (either way) is refused.
    let window_ms =
        faceproof_server::ServerConfig::default().silent_envelope_window_secs as i64 * 1000;
    for at in [
        h.clock.now_ms() - window_ms - 1000,
        h.clock.now_ms() + window_ms + 1000,
    ] {
        let (v, i) = pair_at(&pk, at, b"video", &jpeg);
        let (s, _, j) = h
            .send(post(
                key,
                &json!({"encrypted_video": v, "encrypted_image": i}),
            ))
            .await;
        assert_error(s, &j, StatusCode::BAD_REQUEST, 1200);
        assert!(message(&j).contains("window"), "{j:#}");
    }

    // Once the window has passed, the replayed pair is stale, not judged again.
    h.clock
        .advance(std::time::Duration::from_millis(window_ms as u64 + 1000));
    let (s, _, j) = h.send(post(key, &body)).await;
    assert_error(s, &j, StatusCode::BAD_REQUEST, 1200);
    assert!(message(&j).contains("window"), "{j:#}");
    // Only the first use produced a session (the failed media check is not stored either).
    assert_eq!(h.count("sessions").await, 0);
}
