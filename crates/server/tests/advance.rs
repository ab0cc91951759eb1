//! ADVANCE over HTTP: token (signature, skew, expiry, revocation), signatureId single use,
//! capture refusals, detection result (codes, URLs, base64), signed URL expiry, tenant isolation.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Harness, capture_inputs, multipart, shared};
use faceproof_server::advance::persist_capture;
use faceproof_server::fixtures;
use faceproof_store::IssuedCredentials;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn json_post(path: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut b = Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("X-ACCESS-TOKEN", t);
    }
    b.body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

fn sign(access: &str, secret: &str, ts: i64) -> String {
    let d = Sha256::digest(format!("{access}{secret}{ts}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

async fn token(h: &Harness, c: &IssuedCredentials) -> String {
    let ts = h.clock.now_ms();
    let body = json!({"accessKey": c.advance_access_key, "timestamp": ts,
        "signature": sign(&c.advance_access_key, &c.advance_secret_key, ts)});
    let (s, _, j) = h
        .send(json_post(
            "/openapi/auth/ticket/v1/generate-token",
            None,
            &body,
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    assert_eq!(j["code"], "SUCCESS");
    j["data"]["token"].as_str().unwrap().to_owned()
}

fn assert_envelope(j: &Value, code: &str) {
    assert_eq!(j["code"], code, "{j:#}");
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "code",
        "message",
        "data",
        "extra",
        "transactionId",
        "pricingStrategy",
    ] {
        assert!(keys.contains(&k), "{k} missing: {j:#}");
    }
    assert_eq!(keys.len(), 6);
    let pricing = if code == "SUCCESS" { "PAY" } else { "FREE" };
    if j["data"].get("token").is_none() && j["data"].get("signatureId").is_none() {
        assert_eq!(j["pricingStrategy"], pricing, "{j:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_signature_skew_expiry_revocation() {
    let h = Harness::new().await;
    let c = h.tenant("a").await;
    let path = "/openapi/auth/ticket/v1/generate-token";
    let ts = h.clock.now_ms();
    // Wrong secret, unknown key, stale timestamp, malformed.
    let bad = [
        json!({"accessKey": c.advance_access_key, "timestamp": ts, "signature": sign(&c.advance_access_key, "wrong", ts)}),
        json!({"accessKey": "fpa_unknown", "timestamp": ts, "signature": sign("fpa_unknown", &c.advance_secret_key, ts)}),
        json!({"accessKey": c.advance_access_key, "timestamp": ts - 301_000, "signature": sign(&c.advance_access_key, &c.advance_secret_key, ts - 301_000)}),
    ];
    for body in &bad {
        let (s, _, j) = h.send(json_post(path, None, body)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{j:#}");
        assert_envelope(&j, "IAM_FAILED");
    }
    let (s, _, j) = h
        .send(json_post(path, None, &json!({"accessKey": 1})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&j, "PARAMETER_ERROR");
    // The string form of the timestamp works too; the token lives token_ttl_secs.
    let body = json!({"accessKey": c.advance_access_key, "timestamp": ts.to_string(),
        "signature": sign(&c.advance_access_key, &c.advance_secret_key, ts)});
    let (_, _, j) = h.send(json_post(path, None, &body)).await;
    assert_envelope(&j, "SUCCESS");
    assert_eq!(j["data"]["expiredTime"], ts + 3_600_000);
    let t = j["data"]["token"].as_str().unwrap().to_owned();
    // periodSecond shortens the lifetime (never lengthens it).
    for (period, life) in [(60, 60_000), (999_999, 3_600_000)] {
        let body = json!({"accessKey": c.advance_access_key, "timestamp": ts, "periodSecond": period,
            "signature": sign(&c.advance_access_key, &c.advance_secret_key, ts)});
        let (_, _, j) = h.send(json_post(path, None, &body)).await;
        assert_eq!(j["data"]["expiredTime"], ts + life, "{period}");
    }

    let sig = "/openapi/liveness/v3/signature-id";
    let (s, _, j) = h.send(json_post(sig, Some(&t), &json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    let (s, _, j) = h.send(json_post(sig, None, &json!({}))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_envelope(&j, "IAM_FAILED");
    let forged = format!("{}x", &t[..t.len() - 1]);
    let (s, _, _) = h.send(json_post(sig, Some(&forged), &json!({}))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Expiry, at the exact millisecond.
    h.clock.advance(Duration::from_millis(3_600_000 - 1));
    let (s, _, _) = h.send(json_post(sig, Some(&t), &json!({}))).await;
    assert_eq!(s, StatusCode::OK);
    h.clock.advance(Duration::from_millis(1));
    let (s, _, j) = h.send(json_post(sig, Some(&t), &json!({}))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(j["extra"].as_str().unwrap().contains("expired"), "{j:#}");
    // Revocation takes effect on a live token.
    let t2 = token(&h, &c).await;
    h.store.revoke_tenant("a").await.unwrap();
    let (s, _, _) = h.send(json_post(sig, Some(&t2), &json!({}))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_refusals_keep_the_session_pending() {
    let h = Harness::new().await;
    let c = h.tenant("a").await;
    let t = token(&h, &c).await;
    let (_, _, j) = h
        .send(json_post(
            "/openapi/liveness/v3/signature-id",
            Some(&t),
            &json!({}),
        ))
        .await;
    let sig = j["data"]["signatureId"].as_str().unwrap().to_owned();
    let jpeg = shared("faces/obama/1.jpg");
    let path = "/openapi/liveness/v3/capture";
    let send = |parts: Vec<(&'static str, &'static str, Vec<u8>)>| {
        let borrowed: Vec<(&str, &str, &[u8])> = parts
            .iter()
            .map(|(a, b, c)| (*a, *b, c.as_slice()))
            .collect();
        let (ct, body) = multipart(&borrowed);
        Request::post(path)
            .header("content-type", ct)
            .header("X-ACCESS-TOKEN", &t)
            .body(Body::from(body))
            .unwrap()
    };
    let sig_b = sig.clone().into_bytes();
    let cases = vec![
        vec![("far", "f.jpg", jpeg.clone())],
        vec![
            ("far", "f.jpg", b"nope".to_vec()),
            ("near", "n.jpg", jpeg.clone()),
            ("signatureId", "", sig_b.clone()),
        ],
        vec![
            ("far", "f.jpg", jpeg.clone()),
            ("near", "n.jpg", jpeg.clone()),
            ("farImageTime", "", b"soon".to_vec()),
        ],
        vec![
            ("far", "f.jpg", jpeg.clone()),
            ("near", "n.jpg", jpeg.clone()),
            ("signatureId", "", b"unknown".to_vec()),
        ],
    ];
    for parts in cases {
        let (s, _, j) = h.send(send(parts)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
        assert_envelope(&j, "PARAMETER_ERROR");
    }
    let (s, _, j) = h
        .send(
            Request::post(path)
                .header("X-ACCESS-TOKEN", &t)
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_envelope(&j, "PARAMETER_ERROR");
    // Nothing was stored, and the reserved session can still be used.
    assert_eq!(h.count("artefacts").await, 0);
    let scope = h.store.tenant_scope(&c.tenant_id).await.unwrap();
    let s = scope.session_by_alias(&sig).await.unwrap();
    assert!(s.consumed_at_ms.is_none());
    // Its result is not there yet.
    let (_, _, j) = h
        .send(json_post(
            "/openapi/liveness/v3/detection-result",
            Some(&t),
            &json!({"signatureId": sig}),
        ))
        .await;
    assert_envelope(&j, "RESULT_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detection_result_codes_urls_and_isolation() {
    let h = Harness::new().await;
    let a = h.tenant("a").await;
    let b = h.tenant("b").await;
    let ta = token(&h, &a).await;
    let tb = token(&h, &b).await;
    let scope = h.store.tenant_scope(&a.tenant_id).await.unwrap();
    // A reserved session filled with a hand-built live verdict (the engine's output shape).
    let (_, _, j) = h
        .send(json_post(
            "/openapi/liveness/v3/signature-id",
            Some(&ta),
            &json!({}),
        ))
        .await;
    let sig = j["data"]["signatureId"].as_str().unwrap().to_owned();
    let pending = scope.session_by_alias(&sig).await.unwrap();
    let live = persist_capture(&scope, Some(&pending), capture_inputs(), &fixtures::live())
        .await
        .unwrap();
    // Single use: the same signatureId cannot be filled twice.
    assert!(
        persist_capture(&scope, Some(&pending), capture_inputs(), &fixtures::live())
            .await
            .is_err()
    );
    let attack = persist_capture(&scope, None, capture_inputs(), &fixtures::spoof())
        .await
        .unwrap();

    let path = "/openapi/liveness/v3/detection-result";
    let (s, _, j) = h
        .send(json_post(path, Some(&ta), &json!({"signatureId": sig})))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_envelope(&j, "SUCCESS");
    let d = &j["data"];
    let mut keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attackSubType",
            "attackType",
            "auditImageUrl",
            "detectionResult",
            "farImageTime",
            "imageFarUrl",
            "imageNearUrl",
            "livenessScore",
            "nearImageTime"
        ]
    );
    assert_eq!(d["livenessScore"], 99.85);
    assert_eq!(d["attackType"], Value::Null);
    assert_eq!(d["farImageTime"], 1_713_247_589_908i64);
    assert_eq!(d["nearImageTime"], 1_713_247_590_908i64);
    // The same by livenessId, and on a regional path.
    let (_, _, j2) = h
        .send(json_post(
            "/intl/openapi/face-identity/v1/liveness-detection",
            Some(&ta),
            &json!({"livenessId": live.id}),
        ))
        .await;
    assert_envelope(&j2, "SUCCESS");
    assert_eq!(j2["data"]["livenessScore"], 99.85);

    // The URLs are ours, signed, and serve the stored bytes.
    let far_url = d["imageFarUrl"].as_str().unwrap();
    let path_q = &far_url[far_url.find("/v1/files/").unwrap()..];
    let (s, bytes, headers) = h
        .send_raw(Request::get(path_q).body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    let far = capture_inputs().far;
    let scan = |b: &[u8]| b.windows(2).position(|w| w == [0xff, 0xda]).unwrap();
    // Served as stored: the EXIF block removed, the image data byte for byte (the upload's own
    // first scan marker may be in its EXIF thumbnail: compare the tails).
    assert!(
        far.ends_with(&bytes[scan(&bytes)..]),
        "image data as uploaded"
    );
    assert!(
        bytes.len() + 1000 < far.len(),
        "the EXIF block is not served"
    );
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let audit = d["auditImageUrl"].as_str().unwrap();
    let (s, zip, zip_headers) = h
        .send_raw(
            Request::get(&audit[audit.find("/v1/files/").unwrap()..])
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(zip.starts_with(b"PK\x03\x04"));
    assert_eq!(zip_headers["content-type"], "application/zip");
    assert_eq!(zip_headers["x-content-type-options"], "nosniff");
    // Forged: 403.
    let forged = path_q.replace("signature=", "signature=AAAA");
    let (s, _, forged_headers) = h
        .send_raw(Request::get(&forged).body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(forged_headers["x-content-type-options"], "nosniff");
    let (s, _, _) = h
        .send_raw(
            Request::get(path_q.split('?').next().unwrap())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // IMAGE_BASE64: the detection image inline.
    let (_, _, j) = h
        .send(json_post(
            path,
            Some(&ta),
            &json!({"livenessId": live.id, "resultType": "IMAGE_BASE64"}),
        ))
        .await;
    let det = STANDARD
        .decode(j["data"]["detectionResult"].as_str().unwrap())
        .unwrap();
    assert_eq!(det, fixtures::live().best_frame.unwrap().jpeg);

    // An attack: score below 50 and its attack type.
    let (_, _, j) = h
        .send(json_post(
            path,
            Some(&ta),
            &json!({"livenessId": attack.id}),
        ))
        .await;
    assert_envelope(&j, "SUCCESS");
    assert_eq!(j["data"]["livenessScore"], 9.0);
    assert_eq!(j["data"]["attackType"], 1);
    assert!(j["extra"].is_string());

    // Parameter errors and unknown ids.
    for (body, code) in [
        (json!({}), "PARAMETER_ERROR"),
        (
            json!({"livenessId": live.id, "resultType": "JPEG"}),
            "PARAMETER_ERROR",
        ),
        (
            json!({"livenessId": "no-such-id"}),
            "LIVENESS_ID_NOT_EXISTED",
        ),
        (
            json!({"signatureId": sig, "livenessId": attack.id}),
            "LIVENESS_ID_NOT_EXISTED",
        ),
    ] {
        let (_, _, j) = h.send(json_post(path, Some(&ta), &body)).await;
        assert_envelope(&j, code);
    }
    // A session of another API is not a liveness id.
    let fpt = scope
        .begin_session(faceproof_store::NewSession::new(
            faceproof_store::Api::Fpt,
            "liveness",
        ))
        .await
        .unwrap()
        .commit(
            faceproof_store::SessionStatus::Complete,
            Some(&json!({"code": "200"})),
        )
        .await
        .unwrap();
    let (_, _, j) = h
        .send(json_post(path, Some(&ta), &json!({"livenessId": fpt.id})))
        .await;
    assert_envelope(&j, "LIVENESS_ID_NOT_EXISTED");
    // Tenant B reads none of A's sessions, by either id.
    for body in [
        json!({"livenessId": live.id}),
        json!({"signatureId": sig}),
        json!({"livenessId": attack.id}),
    ] {
        let (_, _, j) = h.send(json_post(path, Some(&tb), &body)).await;
        assert_envelope(&j, "LIVENESS_ID_NOT_EXISTED");
    }

    // Signed URL expiry: 24 h by default, then 410; after the artefact's retention the result
    // says RESULT_NOT_FOUND.
    h.clock.advance(Duration::from_secs(24 * 3600));
    let (s, _, _) = h
        .send_raw(Request::get(path_q).body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::GONE);
    let tb2 = token(&h, &a).await;
    let (_, _, j) = h
        .send(json_post(path, Some(&tb2), &json!({"livenessId": live.id})))
        .await;
    assert_envelope(&j, "RESULT_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_capture_is_scored_stored_and_served() {
    let h = Harness::new().await;
    let c = h.tenant("a").await;
    let t = token(&h, &c).await;
    let far = shared("faces/obama/1.jpg");
    let near = shared("faces/obama/2.jpg");
    let (ct, body) = multipart(&[
        ("far", "far.jpg", &far),
        ("near", "near.jpg", &near),
        ("farImageTime", "", b"1713247589908"),
        ("nearImageTime", "", b"1713247590908"),
    ]);
    let req = Request::post("/openapi/liveness/v3/capture")
        .header("content-type", ct)
        .header("X-ACCESS-TOKEN", &t)
        .body(Body::from(body))
        .unwrap();
    let (s, _, j) = h.send(req).await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    assert_envelope(&j, "SUCCESS");
    assert_eq!(j["pricingStrategy"], "FREE");
    let id = j["data"]["livenessId"].as_str().unwrap();
    let (_, _, r) = h
        .send(json_post(
            "/openapi/liveness/v3/detection-result",
            Some(&t),
            &json!({"livenessId": id}),
        ))
        .await;
    assert_envelope(&r, "SUCCESS");
    let d = &r["data"];
    let score = d["livenessScore"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&score));
    // The seed: an attack type exactly when the score is below 50.
    assert_eq!(d["attackType"].is_null(), score >= 50.0, "{r:#}");
    assert_eq!(d["farImageTime"], 1_713_247_589_908i64);
    let url = d["imageNearUrl"].as_str().unwrap();
    let (s, bytes, headers) = h
        .send_raw(
            Request::get(&url[url.find("/v1/files/").unwrap()..])
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // Served as stored: the upload's metadata segments removed, its image data byte for byte.
    let scan = |b: &[u8]| b.windows(2).position(|w| w == [0xff, 0xda]).unwrap();
    assert!(bytes.starts_with(&[0xff, 0xd8]));
    // (The upload's own first scan marker may be in its EXIF thumbnail: compare the tails.)
    assert!(
        near.ends_with(&bytes[scan(&bytes)..]),
        "image data as uploaded"
    );
    assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"), "EXIF served");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(h.count("sessions").await, 1);
}

/// Issue 11 item 5: a `signatureId` whose session was already filled is refused with the seed's
/// `PARAMETER_ERROR` before the engine runs (no stage time recorded), not a 500 after analysis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_signature_id_is_refused_before_analysis() {
    let h = Harness::new().await;
    let c = h.tenant("a").await;
    let t = token(&h, &c).await;
    let (_, _, j) = h
        .send(json_post(
            "/openapi/liveness/v3/signature-id",
            Some(&t),
            &json!({}),
        ))
        .await;
    let sig = j["data"]["signatureId"].as_str().unwrap().to_owned();
    let scope = h.store.tenant_scope(&c.tenant_id).await.unwrap();
    let pending = scope.session_by_alias(&sig).await.unwrap();
    persist_capture(&scope, Some(&pending), capture_inputs(), &fixtures::live())
        .await
        .unwrap();
    let artefacts = h.count("artefacts").await;
    let jpeg = shared("faces/obama/1.jpg");
    let (ct, body) = multipart(&[
        ("far", "f.jpg", &jpeg),
        ("near", "n.jpg", &jpeg),
        ("signatureId", "", sig.as_bytes()),
    ]);
    let (s, _, j) = h
        .send(
            Request::post("/openapi/liveness/v3/capture")
                .header("content-type", ct)
                .header("X-ACCESS-TOKEN", &t)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
    assert_envelope(&j, "PARAMETER_ERROR");
    assert!(
        j["extra"].as_str().unwrap().contains("already used"),
        "{j:#}"
    );
    // The engine never ran: no stage time was recorded, nothing more was stored.
    let (_, metrics, _) = h
        .send_raw(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(metrics.contains("faceproof_requests_total"), "{metrics}");
    assert!(!metrics.contains("stage=\"total\""), "{metrics}");
    assert_eq!(h.count("artefacts").await, artefacts);
}
