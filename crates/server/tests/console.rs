//! The operator console over HTTP: login (one-time password, lockout), cookie flags, CSRF,
//! tenant isolation, the session list and detail (audited), artefacts never cached, reviews
//! (stored, counted, audited) and the blocklist stub. Sessions come from the ADVANCE store path
//! with real photos and one real FPT request through the engine.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Harness, capture_inputs, multipart, shared};
use faceproof_server::ServerConfig;
use faceproof_server::advance::persist_capture;
use faceproof_server::console::ConsoleConfig;
use faceproof_server::fixtures;
use faceproof_store::Role;
use serde_json::{Value, json};

struct Login {
    cookie: String,
    csrf: String,
}

fn req(method: &str, path: &str, login: Option<&Login>, body: Option<&Value>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(l) = login {
        b = b
            .header(header::COOKIE, &l.cookie)
            .header("x-csrf-token", &l.csrf);
    }
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

async fn login(
    h: &Harness,
    tenant: &str,
    email: &str,
    pw: &str,
) -> (StatusCode, Value, Option<Login>) {
    let body = json!({"tenant": tenant, "email": email, "password": pw});
    let (s, resp, j) = h
        .send(req("POST", "/console/api/login", None, Some(&body)))
        .await;
    let cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    let login = cookie.map(|c| Login {
        cookie: c.split(';').next().unwrap().to_owned(),
        csrf: j["csrf"].as_str().unwrap_or_default().to_owned(),
    });
    (s, j, login)
}

/// An operator with a chosen password, logged in.
async fn ready_operator(h: &Harness, tenant: &str, email: &str, role: Role) -> Login {
    let issued = h.store.add_operator(tenant, email, role).await.unwrap();
    let (s, j, l) = login(h, tenant, email, &issued.one_time_password).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let l = l.unwrap();
    let body = json!({"current": &*issued.one_time_password, "new": "console password 123"});
    let (s, _, j) = h
        .send(req("POST", "/console/api/password", Some(&l), Some(&body)))
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    l
}

/// `field` of every object of the JSON list `list`, as text.
fn field_of_each<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_cookie_flags_one_time_password_and_lockout() {
    let cfg = ServerConfig {
        console: ConsoleConfig {
            secure_cookie: true,
            max_failed_logins: 3,
            ..ConsoleConfig::default()
        },
        ..ServerConfig::default()
    };
    let h = Harness::with(cfg).await;
    h.tenant("bank").await;
    let issued = h
        .store
        .add_operator("bank", "ana@bank.vn", Role::Reviewer)
        .await
        .unwrap();

    let (s, j, l) = login(&h, "bank", "ana@bank.vn", &issued.one_time_password).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["operator"]["must_change"], true);
    let l = l.unwrap();
    let (_, resp, _) = h
        .send(req(
            "POST",
            "/console/api/login",
            None,
            Some(&json!({"tenant": "bank", "email": "ana@bank.vn", "password": &*issued.one_time_password})),
        ))
        .await;
    let set = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/console"] {
        assert!(set.contains(flag), "{flag} missing from {set}");
    }
    assert!(!set.contains(&*issued.one_time_password));

    // The one-time password only allows /me and the password change.
    let (s, _, j) = h
        .send(req("GET", "/console/api/sessions", Some(&l), None))
        .await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("PASSWORD_CHANGE_REQUIRED"))
    );
    let (s, _, _) = h.send(req("GET", "/console/api/me", Some(&l), None)).await;
    assert_eq!(s, StatusCode::OK);

    // Without a cookie: 401.
    let (s, _, _) = h.send(req("GET", "/console/api/me", None, None)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Three wrong passwords lock the account; the right one is then refused with 429.
    for _ in 0..2 {
        let (s, _, _) = login(&h, "bank", "ana@bank.vn", "wrong").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, j, _) = login(&h, "bank", "ana@bank.vn", "wrong").await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("LOCKED"))
    );
    let (s, j, _) = login(&h, "bank", "ana@bank.vn", &issued.one_time_password).await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("LOCKED"))
    );
    h.clock.advance(std::time::Duration::from_secs(15 * 60 + 1));
    let (s, _, _) = login(&h, "bank", "ana@bank.vn", &issued.one_time_password).await;
    assert_eq!(s, StatusCode::OK);

    let (_, text, _) = h
        .send_raw(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("faceproof_review_logins_total{result=\"locked\"} 2"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_isolation_detail_review_and_audit() {
    let h = Harness::new().await;
    let a = h.tenant("bank-a").await;
    let b = h.tenant("bank-b").await;
    let sa = h.store.tenant_scope(&a.tenant_id).await.unwrap();
    let sb = h.store.tenant_scope(&b.tenant_id).await.unwrap();
    let spoof = persist_capture(&sa, None, capture_inputs(), &fixtures::spoof())
        .await
        .unwrap();
    // The manual clock stands still: one second later, so the list is ordered by time.
    h.clock.advance(std::time::Duration::from_secs(1));
    let live = persist_capture(&sa, None, capture_inputs(), &fixtures::live())
        .await
        .unwrap();
    let other = persist_capture(&sb, None, capture_inputs(), &fixtures::live())
        .await
        .unwrap();
    let ana = ready_operator(&h, "bank-a", "ana@a.vn", Role::Admin).await;

    // The list holds this tenant's two sessions, filters by outcome.
    let (s, _, j) = h
        .send(req("GET", "/console/api/sessions", Some(&ana), None))
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let ids: Vec<&str> = field_of_each(&j["sessions"], "id");
    assert_eq!(ids, [live.id.as_str(), spoof.id.as_str()]);
    let (_, _, j) = h
        .send(req(
            "GET",
            "/console/api/sessions?outcome=refused",
            Some(&ana),
            None,
        ))
        .await;
    assert_eq!(j["sessions"].as_array().unwrap().len(), 1, "{j}");
    assert_eq!(j["sessions"][0]["id"], spoof.id.as_str());
    assert!(
        j["sessions"][0]["codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "spoof"),
        "{j}"
    );
    let (_, _, j) = h
        .send(req(
            "GET",
            "/console/api/sessions?code=spoof&api=advance",
            Some(&ana),
            None,
        ))
        .await;
    assert_eq!(j["sessions"].as_array().unwrap().len(), 1, "{j}");
    let (s, _, _) = h
        .send(req(
            "GET",
            "/console/api/sessions?api=nope",
            Some(&ana),
            None,
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Another tenant's session: not found, in the detail, the images and a review.
    for (m, p) in [
        ("GET", format!("/console/api/sessions/{}", other.id)),
        (
            "GET",
            format!("/console/api/sessions/{}/artefacts/near", other.id),
        ),
    ] {
        let (s, _, _) = h.send(req(m, &p, Some(&ana), None)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{p}");
    }
    let body = json!({"decision": "rejected", "reason": "spoof_confirmed"});
    let (s, _, _) = h
        .send(req(
            "POST",
            &format!("/console/api/sessions/{}/review", other.id),
            Some(&ana),
            Some(&body),
        ))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Detail: verdict, signals, vendor response, artefacts; audited.
    let (s, _, j) = h
        .send(req(
            "GET",
            &format!("/console/api/sessions/{}", spoof.id),
            Some(&ana),
            None,
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["vendor_response"]["kind"], "summary");
    assert!(j["verdict"]["liveness"]["spoof_prob"].is_number(), "{j}");
    let names: Vec<&str> = field_of_each(&j["artefacts"], "name");
    assert!(
        names.contains(&"near") && names.contains(&"detection"),
        "{names:?}"
    );

    // The image: decrypted bytes equal to the stored photo's pixels (metadata stripped), no-store.
    let mut r = req(
        "GET",
        &format!("/console/api/sessions/{}/artefacts/far", spoof.id),
        None,
        None,
    );
    r.headers_mut()
        .insert(header::COOKIE, ana.cookie.parse().unwrap());
    let (s, bytes, headers) = h.send_raw(r).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
    assert!(bytes.starts_with(&[0xff, 0xd8]) && bytes.len() > 1000);

    // CSRF: a review without the token, or with another, is refused; with it, stored.
    let path = format!("/console/api/sessions/{}/review", spoof.id);
    let body =
        json!({"decision": "rejected", "reason": "spoof_confirmed", "note": "printed photo"});
    let no_csrf = Login {
        cookie: ana.cookie.clone(),
        csrf: String::new(),
    };
    let wrong = Login {
        cookie: ana.cookie.clone(),
        csrf: "0".repeat(64),
    };
    for l in [&no_csrf, &wrong] {
        let (s, _, j) = h.send(req("POST", &path, Some(l), Some(&body))).await;
        assert_eq!(
            (s, j["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("CSRF"))
        );
    }
    let bad = json!({"decision": "rejected", "reason": "genuine_user"});
    let (s, _, _) = h.send(req("POST", &path, Some(&ana), Some(&bad))).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "an approve reason on a rejection"
    );
    let (s, _, j) = h.send(req("POST", &path, Some(&ana), Some(&body))).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["review"]["decision"], "rejected");
    let (_, _, j) = h
        .send(req(
            "GET",
            &format!("/console/api/sessions/{}", spoof.id),
            Some(&ana),
            None,
        ))
        .await;
    assert_eq!(j["reviews"][0]["note"], "printed photo");
    assert_eq!(j["reviews"][0]["operator_email"], "ana@a.vn");

    // Blocklist, after the CSRF check: this tenant has 1:N off, so the session kept no template.
    let (s, _, j) = h
        .send(req(
            "POST",
            &format!("/console/api/sessions/{}/blocklist", spoof.id),
            Some(&ana),
            Some(&json!({})),
        ))
        .await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::CONFLICT, Some("NO_TEMPLATE"))
    );

    // Metrics count the decision.
    let (_, text, _) = h
        .send_raw(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains(
            "faceproof_review_decisions_total{decision=\"rejected\",reason=\"spoof_confirmed\"} 1"
        ),
        "{text}"
    );

    // The audit log (admin): login, password change, 2 views, 1 image view, the decision; it verifies.
    let (s, _, j) = h
        .send(req("GET", "/console/api/audit", Some(&ana), None))
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let actions: Vec<&str> = field_of_each(&j["entries"], "action");
    assert_eq!(
        actions.iter().filter(|a| **a == "session.viewed").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "review.decided").count(),
        1,
        "{actions:?}"
    );
    assert!(
        actions.contains(&"artefact.viewed") && actions.contains(&"login"),
        "{actions:?}"
    );
    assert!(
        j["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor_email"] == "ana@a.vn"),
        "every entry so far is ana's: {j}"
    );
    let (_, _, j) = h
        .send(req("GET", "/console/api/audit/verify", Some(&ana), None))
        .await;
    assert_eq!(j["ok"], true, "{j}");

    // A reviewer cannot read the audit log; the dashboard counts this tenant only.
    let rev = ready_operator(&h, "bank-a", "rev@a.vn", Role::Reviewer).await;
    let (s, _, _) = h
        .send(req("GET", "/console/api/audit", Some(&rev), None))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, j) = h
        .send(req(
            "GET",
            "/console/api/dashboard?days=7",
            Some(&rev),
            None,
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let total: i64 = j["dashboard"]["volume"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["total"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 2);
    assert_eq!(j["dashboard"]["reviews"], json!([0, 1]));

    // Logout ends the login.
    let (s, _, _) = h
        .send(req(
            "POST",
            "/console/api/logout",
            Some(&rev),
            Some(&json!({})),
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = h
        .send(req("GET", "/console/api/me", Some(&rev), None))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// One real FPT request through the engine: the index columns come from its verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_verdict_is_indexed_at_commit() {
    let h = Harness::new().await;
    let t = h.tenant("bank").await;
    let video = shared("videos/live_talking_720x1280.mp4");
    let photo = shared("faces/obama/1.jpg");
    let (ct, body) = multipart(&[("video", "v.mp4", &video), ("cmnd", "id.jpg", &photo)]);
    let r = Request::post("/vision/ekyc/liveness")
        .header("api-key", t.fpt_api_key.as_str())
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .unwrap();
    let (s, _, j) = h.send(r).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["code"], "303", "live, but another person's photo: {j}");
    let ana = ready_operator(&h, "bank", "ana@bank.vn", Role::Reviewer).await;
    let (_, _, j) = h
        .send(req(
            "GET",
            "/console/api/sessions?code=face_mismatch",
            Some(&ana),
            None,
        ))
        .await;
    let rows = j["sessions"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{j}");
    assert_eq!(rows[0]["outcome"], "refused");
    assert_eq!(rows[0]["api"], "fpt");
    let id = rows[0]["id"].as_str().unwrap();
    let (_, _, d) = h
        .send(req(
            "GET",
            &format!("/console/api/sessions/{id}"),
            Some(&ana),
            None,
        ))
        .await;
    assert_eq!(d["vendor_response"]["kind"], "as_sent");
    assert_eq!(d["vendor_response"]["body"]["code"], "303");
    assert!(d["verdict"]["match"]["far"]["far"].is_number(), "{d}");
    let signals = d["verdict"]["liveness"]["signals"].as_array().unwrap();
    assert!(
        signals
            .iter()
            .any(|s| s["contribution"].as_f64().is_some_and(|c| c != 0.0)),
        "{d}"
    );
}
