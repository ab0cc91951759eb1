//! Browser capture over HTTP: capture tokens (mint, context, single use, expiry, other flow, other
//! tenant, never a reading or minting credential), challenges (issued, refused before analysis
//! when unknown / used / expired / another tenant's, verified by the engine on a real upload), the
//! ADVANCE extensions, and the SDK's static files (types, caching, no path traversal).

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Harness, multipart, shared};
use faceproof_server::ServerConfig;
use faceproof_store::{IssuedCredentials, TenantSettings};
use serde_json::{Value, json};

const FPT: &str = "/vision/ekyc/liveness";
const SILENT: &str = "/v1/silent/video-compare";
const CAPTURE: &str = "/openapi/liveness/v3/capture";

fn post_json(path: &str, auth: &[(&str, &str)], body: &Value) -> Request<Body> {
    let bytes = serde_json::to_vec(body).unwrap();
    let mut b = Request::post(path)
        .header("content-type", "application/json")
        .header("content-length", bytes.len());
    for (k, v) in auth {
        b = b.header(*k, *v);
    }
    b.body(Body::from(bytes)).unwrap()
}

fn post_form(path: &str, auth: &[(&str, &str)], parts: &[(&str, &str, &[u8])]) -> Request<Body> {
    let (ct, body) = multipart(parts);
    let mut b = Request::post(path).header("content-type", ct);
    for (k, v) in auth {
        b = b.header(*k, *v);
    }
    b.body(Body::from(body)).unwrap()
}

fn get(path: &str, auth: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::get(path);
    for (k, v) in auth {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).unwrap()
}

async fn mint(h: &Harness, t: &IssuedCredentials, body: Value) -> Value {
    let (s, _, j) = h
        .send(post_json(
            "/v1/capture-tokens",
            &[("api-key", &t.fpt_api_key)],
            &body,
        ))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j:#}");
    j
}

async fn challenge(h: &Harness, t: &IssuedCredentials, kind: &str) -> Value {
    let (s, _, j) = h
        .send(post_json(
            "/v1/challenges",
            &[("x-api-key", &t.fpt_api_key)],
            &json!({"kind": kind}),
        ))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j:#}");
    j
}

fn token_of(j: &Value) -> String {
    j["capture_token"].as_str().unwrap().to_owned()
}

async fn access_token(h: &Harness, c: &IssuedCredentials) -> String {
    use sha2::{Digest, Sha256};
    let ts = h.clock.now_ms();
    let d = Sha256::digest(
        format!("{}{}{ts}", c.advance_access_key, &*c.advance_secret_key).as_bytes(),
    );
    let sig: String = d.iter().map(|b| format!("{b:02x}")).collect();
    let body = json!({"accessKey": c.advance_access_key, "timestamp": ts, "signature": sig});
    let (s, _, j) = h
        .send(post_json(
            "/openapi/auth/ticket/v1/generate-token",
            &[],
            &body,
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    j["data"]["token"].as_str().unwrap().to_owned()
}

/// An FPT upload with a capture token and a body the engine refuses as "not a video": it is
/// admitted for analysis (so the token is spent) and costs no model time.
async fn fpt_upload(
    h: &Harness,
    token: &str,
    extra: &[(&str, &str, &[u8])],
) -> (StatusCode, Value) {
    let mut parts: Vec<(&str, &str, &[u8])> = vec![("video", "v.mp4", &b"not a video at all"[..])];
    parts.extend_from_slice(extra);
    let (s, _, j) = h
        .send(post_form(FPT, &[("x-capture-token", token)], &parts))
        .await;
    (s, j)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minting_needs_the_tenants_key_or_access_token_never_a_capture_token() {
    let h = Harness::new().await;
    let t = h.tenant("mint").await;
    let body = json!({"flow": "fpt"});

    let (s, _, j) = h.send(post_json("/v1/capture-tokens", &[], &body)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(j["code"], "UNAUTHORIZED");
    let minted = mint(&h, &t, body.clone()).await;
    let token = token_of(&minted);
    assert!(token.starts_with("fct_"), "{minted:#}");
    assert_eq!(minted["flow"], "fpt");
    assert_eq!(minted["expires_at_ms"], h.clock.now_ms() + 600_000);
    assert_eq!(minted["expires_at"], "2027-01-15T08:10:00.000Z");
    assert_eq!(minted["signature_id"], Value::Null);
    assert_eq!(minted["challenge_id"], Value::Null);

    // A capture token mints nothing and issues no challenge, in any header.
    for (hname, value) in [
        ("x-capture-token", token.clone()),
        ("authorization", format!("Bearer {token}")),
        ("api-key", token.clone()),
    ] {
        for path in ["/v1/capture-tokens", "/v1/challenges"] {
            let (s, _, j) = h
                .send(post_json(
                    path,
                    &[(hname, &value)],
                    &json!({"flow": "fpt", "kind": "colour"}),
                ))
                .await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{path} {hname}: {j:#}");
        }
    }
    // The ADVANCE access token and a Bearer key work.
    let access = access_token(&h, &t).await;
    let (s, _, j) = h
        .send(post_json(
            "/v1/capture-tokens",
            &[("X-ACCESS-TOKEN", &access)],
            &json!({"flow": "advance"}),
        ))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j:#}");
    assert!(
        j["signature_id"].is_string(),
        "a session was reserved: {j:#}"
    );
    let bearer = format!("Bearer {}", &*t.fpt_api_key);
    let (s, _, _) = h
        .send(post_json(
            "/v1/capture-tokens",
            &[("authorization", &bearer)],
            &json!({"flow": "silent"}),
        ))
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // Malformed requests: 400 with what was wrong.
    for bad in [
        json!({"flow": "video"}),
        json!({"flow": "fpt", "ttl_secs": 0}),
        json!({"flow": "fpt", "ttl_secs": 3601}),
        json!({"flow": "fpt", "signature_id": "x"}),
        json!({"flow": "fpt", "challenge_kind": "colour", "challenge_id": "chl_x"}),
        json!({"flow": "fpt", "challenge_kind": "strobe"}),
        json!({"flow": "fpt", "challenge_id": "chl_unknown"}),
        json!({"flow": "advance", "signature_id": "no-such-session"}),
        json!({"flow": "fpt", "extra": 1}),
    ] {
        let (s, _, j) = h
            .send(post_json(
                "/v1/capture-tokens",
                &[("api-key", &t.fpt_api_key)],
                &bad,
            ))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {j:#}");
        assert_eq!(j["code"], "INVALID_ARGUMENT", "{bad}");
    }
    // Only the three accepted requests stored a token.
    assert_eq!(h.count("capture_tokens").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_token_is_single_use_on_its_flows_upload_only() {
    let h = Harness::with(ServerConfig::default()).await;
    let t = h.tenant("flow").await;
    let token = token_of(&mint(&h, &t, json!({"flow": "fpt"})).await);

    // The context reads it without spending it.
    for _ in 0..2 {
        let (s, resp, j) = h
            .send(get("/v1/capture/context", &[("x-capture-token", &token)]))
            .await;
        assert_eq!(s, StatusCode::OK, "{j:#}");
        assert_eq!(j["flow"], "fpt");
        assert_eq!(j["upload_url"], FPT);
        assert_eq!(j["challenge"], Value::Null);
        assert_eq!(j["hpke_public_key"], Value::Null);
        assert_eq!(j["signature_id"], Value::Null);
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
    }

    // Other flows' endpoints refuse it with their own auth shape, and it stays usable.
    let (s, _, j) = h
        .send(post_json(
            SILENT,
            &[("x-capture-token", &token)],
            &json!({"video": "AA==", "image": "AA=="}),
        ))
        .await;
    assert_eq!(
        (s, j["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!(1401))
    );
    let (s, _, j) = h
        .send(post_form(CAPTURE, &[("x-capture-token", &token)], &[]))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(j["code"], "IAM_FAILED");
    // Never a reading credential.
    for (path, body) in [
        (
            "/openapi/liveness/v3/detection-result",
            json!({"livenessId": "x"}),
        ),
        ("/openapi/liveness/v3/signature-id", json!({})),
    ] {
        let (s, _, j) = h
            .send(post_json(path, &[("x-capture-token", &token)], &body))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(j["code"], "IAM_FAILED");
    }
    let (s, _, j) = h
        .send(get("/v1/silent/public-key", &[("x-capture-token", &token)]))
        .await;
    assert_eq!(
        (s, j["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!(1401))
    );

    // Refused before analysis (no video field): the token is not spent.
    let (s, _, j) = h
        .send(post_form(
            FPT,
            &[("x-capture-token", &token)],
            &[("cmnd", "id.jpg", b"x")],
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(j["message"], "No video uploaded");

    // Admitted for analysis: spent, whatever the engine then says.
    let (s, j) = fpt_upload(&h, &token, &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
    assert_eq!(j["message"], "Invalid upload video");
    let (s, j) = fpt_upload(&h, &token, &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a reused token: {j:#}");
    assert_eq!(j["code"], "401");
    assert_eq!(j["liveness"]["code"], "401");
    let (s, _, _) = h
        .send(get("/v1/capture/context", &[("x-capture-token", &token)]))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Unknown and absent tokens.
    let (s, j) = fpt_upload(&h, "fct_not-a-real-token", &[]).await;
    assert_eq!(
        (s, j["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("401"))
    );
    let (s, _, j) = h.send(get("/v1/capture/context", &[])).await;
    assert_eq!(
        (s, j["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("UNAUTHORIZED"))
    );

    // Expiry: usable until the last millisecond of its TTL.
    let short = token_of(&mint(&h, &t, json!({"flow": "fpt", "ttl_secs": 5})).await);
    h.clock.advance(Duration::from_millis(4_999));
    let (s, _, _) = h
        .send(get("/v1/capture/context", &[("x-capture-token", &short)]))
        .await;
    assert_eq!(s, StatusCode::OK);
    h.clock.advance(Duration::from_millis(1));
    let (s, j) = fpt_upload(&h, &short, &[]).await;
    assert_eq!(
        (s, j["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("401"))
    );

    // A revoked tenant's token is refused at once.
    let live = token_of(&mint(&h, &t, json!({"flow": "fpt"})).await);
    h.store.revoke_tenant("flow").await.unwrap();
    let (s, _) = fpt_upload(&h, &live, &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Nothing was judged, so nothing was stored.
    assert_eq!(h.count("sessions").await, 0);
}

/// Four uploads racing with one token: exactly one is admitted for analysis, the others are
/// refused as a reused token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_uploads_spend_a_token_once() {
    let h = Harness::new().await;
    let t = h.tenant("race").await;
    let token = token_of(&mint(&h, &t, json!({"flow": "fpt"})).await);
    let (a, b, c, d) = tokio::join!(
        fpt_upload(&h, &token, &[]),
        fpt_upload(&h, &token, &[]),
        fpt_upload(&h, &token, &[]),
        fpt_upload(&h, &token, &[])
    );
    let mut statuses: Vec<StatusCode> = [a, b, c, d].into_iter().map(|(s, _)| s).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            StatusCode::BAD_REQUEST,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED
        ],
        "one admitted (its bytes refused by the engine), three refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_advance_tokens_carry_their_context() {
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
    let u = h.tenant("other").await;

    let silent = token_of(&mint(&h, &t, json!({"flow": "silent"})).await);
    let (_, _, ctx) = h
        .send(get("/v1/capture/context", &[("x-capture-token", &silent)]))
        .await;
    assert_eq!(ctx["upload_url"], SILENT);
    assert_eq!(ctx["hpke_public_key"], t.hpke_public_key.as_str());
    // A silent upload with it is admitted and spends it (the engine refuses the bytes: 2005).
    let plain = json!({"video": STANDARD.encode(b"not a video"), "image": STANDARD.encode(b"x")});
    let (s, _, j) = h
        .send(post_json(SILENT, &[("x-capture-token", &silent)], &plain))
        .await;
    assert_eq!(
        (s, j["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(2005)),
        "{j:#}"
    );
    let (s, _, j) = h
        .send(post_json(SILENT, &[("x-capture-token", &silent)], &plain))
        .await;
    assert_eq!(
        (s, j["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!(1401))
    );

    // ADVANCE: a session is reserved, its signatureId and a head-turn challenge are in the context.
    let adv = mint(
        &h,
        &t,
        json!({"flow": "advance", "challenge_kind": "head_turn"}),
    )
    .await;
    let sig = adv["signature_id"].as_str().unwrap().to_owned();
    let (_, _, ctx) = h
        .send(get(
            "/v1/capture/context",
            &[("x-capture-token", &token_of(&adv))],
        ))
        .await;
    assert_eq!(ctx["upload_url"], CAPTURE);
    assert_eq!(ctx["signature_id"], sig.as_str());
    assert_eq!(ctx["challenge"]["challenge_id"], adv["challenge_id"]);
    assert_eq!(ctx["challenge"]["kind"], "head_turn");
    let steps = ctx["challenge"]["steps"].as_array().unwrap();
    assert!((2..=3).contains(&steps.len()), "{ctx:#}");
    for s in steps {
        assert_eq!(s["type"], "turn");
        assert!(["left", "right", "up"].contains(&s["direction"].as_str().unwrap()));
    }
    // The challenge expires with the shorter of the token's and the challenge's lifetime.
    assert_eq!(
        ctx["challenge"]["expires_at_ms"],
        h.clock.now_ms() + 180_000
    );

    // Another session's signatureId, or another tenant's, with this token: refused, nothing spent.
    let b_access = access_token(&h, &u).await;
    let (_, _, other) = h
        .send(post_json(
            "/openapi/liveness/v3/signature-id",
            &[("X-ACCESS-TOKEN", &b_access)],
            &json!({}),
        ))
        .await;
    let other_sig = other["data"]["signatureId"].as_str().unwrap().to_owned();
    let jpeg = shared("faces/obama/1.jpg");
    let (s, _, j) = h
        .send(post_form(
            CAPTURE,
            &[("x-capture-token", &token_of(&adv))],
            &[
                ("far", "far.jpg", &jpeg),
                ("near", "near.jpg", &jpeg),
                ("signatureId", "", other_sig.as_bytes()),
            ],
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
    assert_eq!(j["code"], "PARAMETER_ERROR");
    let (s, _, _) = h
        .send(get(
            "/v1/capture/context",
            &[("x-capture-token", &token_of(&adv))],
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "still usable");
    // A token of tenant A never fills a session of tenant B: minting one for it is refused.
    let (s, _, j) = h
        .send(post_json(
            "/v1/capture-tokens",
            &[("api-key", &t.fpt_api_key)],
            &json!({"flow": "advance", "signature_id": other_sig}),
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_are_issued_and_refused_before_analysis() {
    let h = Harness::new().await;
    let t = h.tenant("chal").await;
    let u = h.tenant("else").await;

    let c = challenge(&h, &t, "colour").await;
    let id = c["challenge_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("chl_"));
    assert_eq!(c["kind"], "colour");
    assert_eq!(c["expires_at_ms"], h.clock.now_ms() + 180_000);
    let steps = c["steps"].as_array().unwrap();
    assert!(steps.len() >= 5, "{c:#}");
    for s in steps {
        assert_eq!(s["type"], "colour");
        let rgb: Vec<u64> = s["rgb"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(
            s["hex"],
            format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
        );
        let ms = s["duration_ms"].as_u64().unwrap();
        assert!((300..=600).contains(&ms), "{s}");
    }
    for bad in [
        json!({}),
        json!({"kind": "strobe"}),
        json!({"kind": "colour", "ttl_secs": 0}),
    ] {
        let (s, _, j) = h
            .send(post_json(
                "/v1/challenges",
                &[("api-key", &t.fpt_api_key)],
                &bad,
            ))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {j:#}");
    }

    // Refusals happen before the video is looked at: the body is not a video, and the answer is
    // the challenge's, not "Invalid upload video".
    let key = [("api-key", t.fpt_api_key.as_str())];
    let foreign = challenge(&h, &u, "colour").await;
    let expiring = challenge(&h, &t, "head_turn").await;
    let used_id = {
        let c = challenge(&h, &t, "colour").await;
        let id = c["challenge_id"].as_str().unwrap().to_owned();
        h.store
            .tenant_scope(&t.tenant_id)
            .await
            .unwrap()
            .use_grants(None, Some(&id))
            .await
            .unwrap();
        id
    };
    h.clock.advance(Duration::from_secs(170));
    let fresh = challenge(&h, &t, "colour").await;
    h.clock.advance(Duration::from_secs(10)); // `expiring` is now 180 s old
    for (name, cid) in [
        ("unknown", "chl_00000000000000000000000000000000".to_owned()),
        ("used", used_id.clone()),
        (
            "expired",
            expiring["challenge_id"].as_str().unwrap().to_owned(),
        ),
        (
            "other tenant",
            foreign["challenge_id"].as_str().unwrap().to_owned(),
        ),
    ] {
        let (s, _, j) = h
            .send(post_form(
                FPT,
                &key,
                &[
                    ("video", "v.mp4", b"not a video"),
                    ("challenge_id", "", cid.as_bytes()),
                ],
            ))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{name}: {j:#}");
        assert_eq!(j["code"], "409", "{name}");
        assert!(
            j["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid challenge"),
            "{name}: {j:#}"
        );
    }
    // Malformed telemetry is a request error too.
    let (s, _, j) = h
        .send(post_form(
            FPT,
            &key,
            &[
                ("video", "v.mp4", b"not a video"),
                ("client_telemetry", "", b"{\"webdriver\": \"yes\""),
            ],
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
    assert_eq!(j["message"], "Invalid client telemetry");
    // Nothing was judged or stored, and the fresh challenge is still usable.
    assert_eq!(h.count("sessions").await, 0);
    let scope = h.store.tenant_scope(&t.tenant_id).await.unwrap();
    let f = scope
        .usable_challenge(fresh["challenge_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(f.used_at_ms, None);

    // A token bound to a challenge refuses an upload naming another one.
    let bound = mint(
        &h,
        &t,
        json!({"flow": "fpt", "challenge_id": fresh["challenge_id"]}),
    )
    .await;
    let other = challenge(&h, &t, "colour").await;
    let (s, j) = fpt_upload(
        &h,
        &token_of(&bound),
        &[(
            "challenge_id",
            "",
            other["challenge_id"].as_str().unwrap().as_bytes(),
        )],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid challenge")
    );
    // Bound and named alike: admitted, both spent together.
    let (s, j) = fpt_upload(&h, &token_of(&bound), &[]).await;
    assert_eq!(j["message"], "Invalid upload video", "{s} {j:#}");
    assert!(
        scope
            .challenge(fresh["challenge_id"].as_str().unwrap())
            .await
            .unwrap()
            .used_at_ms
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_advance_refuse_bad_challenges_in_their_own_shape() {
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
    let key = [("api-key", t.fpt_api_key.as_str())];
    let body = json!({"video": STANDARD.encode(b"not a video"), "image": STANDARD.encode(b"x"),
        "challenge_id": "chl_unknown"});
    let (s, _, j) = h.send(post_json(SILENT, &key, &body)).await;
    assert_eq!(
        (s, j["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(1200)),
        "{j:#}"
    );
    assert!(
        j["message"].as_str().unwrap().contains("challenge_id"),
        "{j:#}"
    );
    let body = json!({"video": STANDARD.encode(b"not a video"), "image": STANDARD.encode(b"x"),
        "client_telemetry": {"events": "many"}});
    let (s, _, j) = h.send(post_json(SILENT, &key, &body)).await;
    assert_eq!(
        (s, j["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(1200)),
        "{j:#}"
    );
    assert!(
        j["message"].as_str().unwrap().contains("telemetry"),
        "{j:#}"
    );

    let access = access_token(&h, &t).await;
    let jpeg = shared("faces/obama/1.jpg");
    let (s, _, j) = h
        .send(post_form(
            CAPTURE,
            &[("X-ACCESS-TOKEN", &access)],
            &[
                ("far", "far.jpg", &jpeg),
                ("near", "near.jpg", &jpeg),
                ("challengeId", "", b"chl_unknown"),
            ],
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
    assert_eq!(j["code"], "PARAMETER_ERROR");
    assert!(
        j["extra"].as_str().unwrap().starts_with("challengeId"),
        "{j:#}"
    );

    // signature-id with a challenge: attached to the session, in the answer.
    let (s, _, j) = h
        .send(post_json(
            "/openapi/liveness/v3/signature-id",
            &[("X-ACCESS-TOKEN", &access)],
            &json!({"challengeKind": "colour"}),
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    assert_eq!(j["data"]["challenge"]["kind"], "colour");
    assert!(j["data"]["challenge"]["steps"].as_array().unwrap().len() >= 5);
    // ... and not usable by the FPT or silent APIs, nor by another session.
    let cid = j["data"]["challenge"]["challenge_id"].as_str().unwrap();
    let (s, _, jf) = h
        .send(post_form(
            FPT,
            &key,
            &[
                ("video", "v.mp4", b"not a video"),
                ("challenge_id", "", cid.as_bytes()),
            ],
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        jf["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid challenge")
    );
    let (_, _, plain_sig) = h
        .send(post_json(
            "/openapi/liveness/v3/signature-id",
            &[("X-ACCESS-TOKEN", &access)],
            &json!({}),
        ))
        .await;
    assert!(
        plain_sig["data"].get("challenge").is_none(),
        "{plain_sig:#}"
    );
    let (s, _, j) = h
        .send(post_form(
            CAPTURE,
            &[("X-ACCESS-TOKEN", &access)],
            &[
                ("far", "far.jpg", &jpeg),
                ("near", "near.jpg", &jpeg),
                (
                    "signatureId",
                    "",
                    plain_sig["data"]["signatureId"]
                        .as_str()
                        .unwrap()
                        .as_bytes(),
                ),
                ("challengeId", "", cid.as_bytes()),
            ],
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
    let (s, _, j) = h
        .send(post_json(
            "/openapi/liveness/v3/signature-id",
            &[("X-ACCESS-TOKEN", &access)],
            &json!({"challengeKind": "strobe"}),
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
    assert_eq!(
        h.count("sessions").await,
        2,
        "the two reserved sessions only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_can_require_a_challenge() {
    let h = Harness::new().await;
    let t = h
        .store
        .create_tenant(
            "strict",
            TenantSettings {
                require_challenge: true,
                ..TenantSettings::default()
            },
        )
        .await
        .unwrap();
    let key = [("api-key", t.fpt_api_key.as_str())];
    let (s, _, j) = h
        .send(post_form(FPT, &key, &[("video", "v.mp4", b"not a video")]))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j:#}");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid challenge")
    );
    // A token minted without asking gets a colour challenge, so the browser can comply.
    let minted = mint(&h, &t, json!({"flow": "fpt"})).await;
    assert!(minted["challenge_id"].is_string(), "{minted:#}");
    let (_, _, ctx) = h
        .send(get(
            "/v1/capture/context",
            &[("x-capture-token", &token_of(&minted))],
        ))
        .await;
    assert_eq!(ctx["challenge"]["kind"], "colour");
    let access = access_token(&h, &t).await;
    let (_, _, j) = h
        .send(post_json(
            "/openapi/liveness/v3/signature-id",
            &[("X-ACCESS-TOKEN", &access)],
            &json!({}),
        ))
        .await;
    assert_eq!(j["data"]["challenge"]["kind"], "colour", "{j:#}");
}

/// A real upload through a capture token bound to a colour challenge: the engine verifies it and
/// the answer carries the verdict's `challenge`. The shared clip was not lit by any screen, so
/// the challenge fails, and that fails liveness with our code 304.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_fpt_upload_answers_the_challenge_result() {
    let h = Harness::new().await;
    let t = h.tenant("real").await;
    let minted = mint(&h, &t, json!({"flow": "fpt", "challenge_kind": "colour"})).await;
    let token = token_of(&minted);
    let (_, _, ctx) = h
        .send(get("/v1/capture/context", &[("x-capture-token", &token)]))
        .await;
    let steps = ctx["challenge"]["steps"].as_array().unwrap().len();
    // The SDK's log: each step shown back to back from 500 ms into the recording.
    let mut at = 500.0;
    let log: Vec<Value> = ctx["challenge"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let v = json!({"index": i, "shown_at_ms": at});
            at += s["duration_ms"].as_f64().unwrap();
            v
        })
        .collect();
    let telemetry = json!({"sdk_version": "0.1.0", "webdriver": false,
        "camera": {"label": "FaceTime HD Camera"}, "challenge_log": log})
    .to_string();
    let video = shared("videos/live_talking_720x1280.mp4");
    let (s, _, j) = h
        .send(post_form(
            FPT,
            &[("x-capture-token", &token)],
            &[
                ("video", "v.mp4", &video),
                ("client_telemetry", "", telemetry.as_bytes()),
            ],
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{j:#}");
    let c = &j["challenge"];
    assert_eq!(c["kind"], "colour", "{j:#}");
    assert_eq!(
        c["passed"], false,
        "an unlit clip cannot answer a colour challenge: {j:#}"
    );
    assert_eq!(c["per_step"].as_array().unwrap().len(), steps);
    assert!(c["score"].is_number() && c["lag_ms"].is_number());
    assert_eq!(j["liveness"]["code"], "304", "{j:#}");
    assert_eq!(j["liveness"]["is_live"], "false");
    assert_eq!(j["code"], "304");
    // The v3 values stay strings; the extension is the only object besides the two parts.
    for part in ["liveness", "face_match"] {
        assert!(j[part].as_object().unwrap().values().all(Value::is_string));
    }
    // Spent: the token and its challenge.
    let (s, _, _) = h
        .send(post_form(
            FPT,
            &[("x-capture-token", &token)],
            &[("video", "v.mp4", &video)],
        ))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(h.count("sessions").await, 1);
}

fn sdk_tree(dir: &std::path::Path) {
    let dist = dir.join("dist");
    std::fs::create_dir_all(dist.join("demo")).unwrap();
    std::fs::create_dir_all(dist.join("wasm")).unwrap();
    std::fs::write(dist.join("faceproof-capture.js"), "export const v = 1;\n").unwrap();
    std::fs::write(dist.join("wasm/ort.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dist.join("types.json"), "{}").unwrap();
    std::fs::write(dist.join(".env"), "SECRET=1").unwrap();
    std::fs::write(
        dist.join("demo/index.html"),
        "<!doctype html><title>demo</title>",
    )
    .unwrap();
    std::fs::write(dist.join("demo/shot.png"), b"\x89PNG\r\n\x1a\n").unwrap();
    std::fs::write(dir.join("secret.txt"), "outside the served folder").unwrap();
    std::os::unix::fs::symlink(dir.join("secret.txt"), dist.join("link.txt")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_and_demo_are_served_without_traversal() {
    let sdk = tempfile::tempdir().unwrap();
    sdk_tree(sdk.path());
    let h = Harness::with(ServerConfig {
        sdk_dir: sdk.path().to_path_buf(),
        ..ServerConfig::default()
    })
    .await;
    for (path, ctype, cache) in [
        (
            "/sdk/faceproof-capture.js",
            "text/javascript; charset=utf-8",
            "public, max-age=300",
        ),
        (
            "/sdk/wasm/ort.wasm",
            "application/wasm",
            "public, max-age=300",
        ),
        ("/sdk/types.json", "application/json", "public, max-age=300"),
        ("/demo/", "text/html; charset=utf-8", "no-cache"),
        ("/demo/index.html", "text/html; charset=utf-8", "no-cache"),
        ("/demo/shot.png", "image/png", "public, max-age=300"),
    ] {
        let (s, body, headers) = h.send_raw(get(path, &[])).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], ctype, "{path}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], cache, "{path}");
        assert!(!body.is_empty());
        // Revalidation with the ETag answers 304 without a body.
        let etag = headers[header::ETAG].to_str().unwrap().to_owned();
        let (s, body, _) = h
            .send_raw(get(path, &[("if-none-match", etag.as_str())]))
            .await;
        assert_eq!((s, body.len()), (StatusCode::NOT_MODIFIED, 0), "{path}");
    }
    let (s, _, headers) = h.send_raw(get("/demo", &[])).await;
    assert_eq!(s, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers[header::LOCATION], "/demo/");

    // Nothing outside dist/ (or hidden in it) is reachable, however the path is spelled.
    for path in [
        "/sdk/../secret.txt",
        "/sdk/%2e%2e/secret.txt",
        "/sdk/..%2fsecret.txt",
        "/sdk/%2e%2e%2fsecret.txt",
        "/sdk/wasm/..%2f..%2fsecret.txt",
        "/sdk/..%5csecret.txt",
        "/sdk/link.txt",
        "/sdk/.env",
        "/sdk/%2eenv",
        "/sdk//etc/passwd",
        "/sdk/%2fetc%2fpasswd",
        "/demo/..%2f..%2fsecret.txt",
        "/demo/../faceproof-capture.js",
        "/sdk/wasm",
        "/sdk/missing.js",
    ] {
        let (s, body, headers) = h.send_raw(get(path, &[])).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("outside the served folder") && !text.contains("SECRET"),
            "{path}"
        );
        if headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/json")
        {
            let j: Value = serde_json::from_slice(&body).unwrap();
            assert!(
                j["code"] == "FILE_NOT_FOUND" || j["code"] == "NOT_FOUND",
                "{path}"
            );
        }
    }

    // The detector model is the pack's own file, pinned by its sha256.
    let (s, body, headers) = h
        .send_raw(get("/sdk/models/blazeface_short.onnx", &[]))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    let model = h
        .state
        .engine
        .vision()
        .detector(faceproof_vision::Range::Short)
        .model();
    assert_eq!(body, std::fs::read(model.path()).unwrap());
    assert_eq!(headers[header::ETAG], format!("\"{}\"", model.sha256()));

    // Browsers on other origins may load the SDK and call the capture routes with a token only.
    let pre = Request::builder()
        .method("OPTIONS")
        .uri("/v1/capture/context")
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-capture-token")
        .body(Body::empty())
        .unwrap();
    let (s, _, headers) = h.send_raw(pre).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let allowed = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap();
    assert!(allowed.contains("x-capture-token") && !allowed.contains("api-key"));
    // The SDK's device id (failed checks are counted against it) may cross origins too.
    assert!(allowed.contains("x-faceproof-device"));
    let (_, _, headers) = h.send_raw(get("/sdk/faceproof-capture.js", &[])).await;
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    // A page on another origin reads how long a lockout's 429 lasts.
    let exposed = headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap();
    assert!(exposed.contains("retry-after"), "{exposed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_sdk_folder_is_a_404_not_a_crash() {
    let h = Harness::with(ServerConfig {
        sdk_dir: std::path::PathBuf::from("/nonexistent/faceproof-sdk"),
        ..ServerConfig::default()
    })
    .await;
    for path in ["/sdk/faceproof-capture.js", "/demo/", "/demo/app.js"] {
        let (s, _, j) = h.send(get(path, &[])).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(j["code"], "FILE_NOT_FOUND");
    }
    // The model does not depend on the SDK folder.
    let (s, _, _) = h
        .send_raw(get("/sdk/models/blazeface_short.onnx", &[]))
        .await;
    assert_eq!(s, StatusCode::OK);
}
