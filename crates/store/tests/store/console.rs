//! The operator console's store: accounts, login (lockout, TOTP), tenant isolation, the session
//! index with keyset paging and filters, reviews, the dashboard, and the audit chain (tampered
//! rows are named by `verify_audit`).

use std::time::Duration;

use faceproof_store::{
    Api, AuditEvent, Cursor, Decision, IndexedCode, LoginOutcome, LoginPolicy, NewSession, Outcome,
    Role, SessionFilter, SessionIndex, SessionStatus, StoreError, TenantStore, totp_code_at,
};
use serde_json::json;

use crate::common::{Harness, harness};

const POLICY: LoginPolicy = LoginPolicy {
    max_failures: 3,
    lockout_secs: 600,
    session_ttl_secs: 3600,
};

async fn login(
    h: &Harness,
    tenant: &str,
    email: &str,
    pw: &str,
    code: Option<&str>,
) -> LoginOutcome {
    h.store
        .operator_login(tenant, email, pw, code, &POLICY)
        .await
        .unwrap()
}

async fn session(t: &TenantStore, api: Api, index: SessionIndex, alias: Option<&str>) -> String {
    let mut spec = NewSession::new(api, "liveness");
    if let Some(a) = alias {
        spec = spec.with_alias(a);
    }
    let mut up = t.begin_session(spec).await.unwrap();
    up.set_index(index);
    up.commit(
        SessionStatus::Complete,
        Some(&json!({"verdict": {"codes": []}})),
    )
    .await
    .unwrap()
    .id
}

fn index(outcome: Outcome, review: bool, codes: &[&str]) -> SessionIndex {
    SessionIndex {
        outcome,
        need_review: review,
        codes: codes
            .iter()
            .map(|c| IndexedCode {
                code: (*c).into(),
                severity: "error".into(),
            })
            .collect(),
    }
}

#[tokio::test]
async fn one_time_password_login_and_change() {
    let h = harness().await;
    h.tenant("bank").await;
    let issued = h
        .store
        .add_operator("bank", "Ana@Bank.vn", Role::Reviewer)
        .await
        .unwrap();
    assert!(issued.operator.must_change);
    assert_eq!(issued.operator.email, "ana@bank.vn");
    let dup = h
        .store
        .add_operator("bank", "ana@bank.vn", Role::Admin)
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");

    let LoginOutcome::Granted(g) =
        login(&h, "bank", "ANA@bank.vn", &issued.one_time_password, None).await
    else {
        panic!("one-time password refused")
    };
    assert!(g.operator.must_change);
    let s = h.store.console_session(&g.token).await.unwrap();
    assert_eq!(s.csrf, g.csrf);
    assert_eq!(s.tenant.tenant_id(), issued.operator.tenant_id);

    // Too short, same as before, wrong current password: refused.
    let id = &g.operator.id;
    assert!(
        h.store
            .change_operator_password(id, &issued.one_time_password, "short", &g.token)
            .await
            .is_err()
    );
    assert!(
        h.store
            .change_operator_password(id, "wrong password!", "a much better one", &g.token)
            .await
            .is_err()
    );
    h.store
        .change_operator_password(id, &issued.one_time_password, "a much better one", &g.token)
        .await
        .unwrap();
    let s = h.store.console_session(&g.token).await.unwrap();
    assert!(!s.operator.must_change);
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", &issued.one_time_password, None).await,
        LoginOutcome::Refused
    ));
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", "a much better one", None).await,
        LoginOutcome::Granted(_)
    ));

    // Disabling ends the operator's logins and refuses new ones.
    let LoginOutcome::Granted(g3) =
        login(&h, "bank", "ana@bank.vn", "a much better one", None).await
    else {
        panic!()
    };
    let bob = h
        .store
        .add_operator("bank", "bob@bank.vn", Role::Reviewer)
        .await
        .unwrap();
    let LoginOutcome::Granted(gb) =
        login(&h, "bank", "bob@bank.vn", &bob.one_time_password, None).await
    else {
        panic!()
    };
    h.store
        .disable_operator("bank", "BOB@bank.vn")
        .await
        .unwrap();
    assert!(matches!(
        h.store.console_session(&gb.token).await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        login(&h, "bank", "bob@bank.vn", &bob.one_time_password, None).await,
        LoginOutcome::Refused
    ));
    assert!(
        h.store.console_session(&g3.token).await.is_ok(),
        "other operators keep their logins"
    );
    assert_eq!(h.store.list_operators("bank").await.unwrap().len(), 1);

    // Logout ends the session; an expired session is refused.
    h.store.end_console_session(&g.token).await.unwrap();
    assert!(matches!(
        h.store.console_session(&g.token).await,
        Err(StoreError::Forbidden { .. })
    ));
    let LoginOutcome::Granted(g2) =
        login(&h, "bank", "ana@bank.vn", "a much better one", None).await
    else {
        panic!()
    };
    h.clock.advance(Duration::from_secs(3601));
    assert!(matches!(
        h.store.console_session(&g2.token).await,
        Err(StoreError::Forbidden { .. })
    ));
}

#[tokio::test]
async fn lockout_after_repeated_failures() {
    let h = harness().await;
    h.tenant("bank").await;
    let issued = h
        .store
        .add_operator("bank", "ana@bank.vn", Role::Reviewer)
        .await
        .unwrap();
    let pw = issued.one_time_password.to_string();
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", "nope", None).await,
        LoginOutcome::Refused
    ));
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", "nope", None).await,
        LoginOutcome::Refused
    ));
    let third = login(&h, "bank", "ana@bank.vn", "nope", None).await;
    let LoginOutcome::Locked { until_ms } = third else {
        panic!("not locked after 3 failures: {third:?}")
    };
    assert_eq!(until_ms, h.clock.now_ms() + 600_000);
    // While locked, the right password is refused too.
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", &pw, None).await,
        LoginOutcome::Locked { .. }
    ));
    h.clock.advance(Duration::from_secs(601));
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", &pw, None).await,
        LoginOutcome::Granted(_)
    ));
    // Unknown emails and tenants are plain refusals.
    assert!(matches!(
        login(&h, "bank", "bob@bank.vn", &pw, None).await,
        LoginOutcome::Refused
    ));
    assert!(matches!(
        login(&h, "nobank", "ana@bank.vn", &pw, None).await,
        LoginOutcome::Refused
    ));
}

#[tokio::test]
async fn totp_is_required_and_single_use() {
    let h = harness().await;
    h.tenant("bank").await;
    let issued = h
        .store
        .add_operator("bank", "ana@bank.vn", Role::Admin)
        .await
        .unwrap();
    let pw = issued.one_time_password.to_string();
    let totp = h
        .store
        .set_operator_totp("bank", "ana@bank.vn")
        .await
        .unwrap();
    assert!(
        totp.uri
            .starts_with("otpauth://totp/faceproof:ana@bank.vn?secret=")
    );
    let now_s = h.clock.now_ms() / 1000;
    let code = totp_code_at(&totp.secret, now_s).unwrap();
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", &pw, None).await,
        LoginOutcome::Refused
    ));
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", &pw, Some(&wrong)).await,
        LoginOutcome::Refused
    ));
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", &pw, Some(&code)).await,
        LoginOutcome::Granted(_)
    ));
    // The same code again (a replay) is refused; the next step's code is accepted.
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", &pw, Some(&code)).await,
        LoginOutcome::Refused
    ));
    h.clock.advance(Duration::from_secs(30));
    let next = totp_code_at(&totp.secret, h.clock.now_ms() / 1000).unwrap();
    assert!(matches!(
        login(&h, "bank", "ana@bank.vn", &pw, Some(&next)).await,
        LoginOutcome::Granted(_)
    ));
}

#[tokio::test]
async fn operators_see_only_their_tenant() {
    let h = harness().await;
    let (_, a) = h.tenant("bank-a").await;
    let (_, b) = h.tenant("bank-b").await;
    let sa = session(&a, Api::Fpt, index(Outcome::Passed, false, &[]), None).await;
    let sb = session(
        &b,
        Api::Fpt,
        index(Outcome::Refused, true, &["spoof"]),
        None,
    )
    .await;
    let op = h
        .store
        .add_operator("bank-a", "ana@a.vn", Role::Reviewer)
        .await
        .unwrap();
    let LoginOutcome::Granted(g) =
        login(&h, "bank-a", "ana@a.vn", &op.one_time_password, None).await
    else {
        panic!()
    };
    // The same email under the other tenant is another account; this password does not open it.
    h.store
        .add_operator("bank-b", "ana@a.vn", Role::Reviewer)
        .await
        .unwrap();
    assert!(matches!(
        login(&h, "bank-b", "ana@a.vn", &op.one_time_password, None).await,
        LoginOutcome::Refused
    ));
    let scope = h.store.console_session(&g.token).await.unwrap().tenant;
    let page = scope
        .list_sessions(&SessionFilter::default(), None, 50)
        .await
        .unwrap();
    assert_eq!(
        page.sessions
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        [sa.as_str()]
    );
    assert!(matches!(
        scope.session(&sb).await,
        Err(StoreError::NotFound { .. })
    ));
    let r = scope
        .decide(&sb, &g.operator.id, Decision::Approved, "genuine_user", "")
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    assert!(scope.reviews(&sb).await.unwrap().is_empty());
    let d = scope.dashboard(0, i64::MAX).await.unwrap();
    assert_eq!(d.volume.iter().map(|v| v.total).sum::<i64>(), 1);
    assert_eq!(d.backlog.open, 0, "the other tenant's backlog is not ours");
}

#[tokio::test]
async fn keyset_pages_and_filters() {
    let h = harness().await;
    let (_, t) = h.tenant("bank").await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let (outcome, codes): (Outcome, &[&str]) = match i % 3 {
            0 => (Outcome::Passed, &[]),
            1 => (Outcome::Refused, &["spoof", "face_blurry"]),
            _ => (Outcome::Unusable, &["no_face"]),
        };
        let api = if i % 2 == 0 { Api::Fpt } else { Api::Silent };
        let alias = format!("ref-{i}");
        ids.push(session(&t, api, index(outcome, i % 5 == 0, codes), Some(&alias)).await);
        // Several sessions share each millisecond: the id breaks the tie.
        if i % 4 == 3 {
            h.clock.advance(Duration::from_millis(1000));
        }
    }
    // Paging through everything 7 at a time returns each session once, newest first.
    let mut seen = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let p = t
            .list_sessions(&SessionFilter::default(), after.as_ref(), 7)
            .await
            .unwrap();
        assert!(p.sessions.len() <= 7);
        seen.extend(p.sessions.iter().map(|s| (s.created_at_ms, s.id.clone())));
        match p.next {
            Some(n) => after = Some(Cursor::decode(&n).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);

    let count = |f: SessionFilter| {
        let t = t.clone();
        async move { t.list_sessions(&f, None, 200).await.unwrap().sessions }
    };
    let spoof = count(SessionFilter {
        code: Some("spoof".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(spoof.len(), 8);
    assert!(spoof.iter().all(|s| s.codes.contains(&"spoof".to_owned())));
    let spoof_fpt = count(SessionFilter {
        code: Some("spoof".into()),
        api: Some(Api::Fpt),
        ..Default::default()
    })
    .await;
    assert_eq!(spoof_fpt.len(), 4);
    assert_eq!(
        count(SessionFilter {
            outcome: Some(Outcome::Passed),
            ..Default::default()
        })
        .await
        .len(),
        9
    );
    assert_eq!(
        count(SessionFilter {
            need_review: Some(true),
            ..Default::default()
        })
        .await
        .len(),
        5
    );
    let by_ref = count(SessionFilter {
        reference: Some("ref-7".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        by_ref.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        [ids[7].as_str()]
    );
    let t0 = crate::common::T0;
    let first_two_secs = count(SessionFilter {
        from_ms: Some(t0),
        to_ms: Some(t0 + 2000),
        ..Default::default()
    })
    .await;
    assert_eq!(first_two_secs.len(), 8);
    assert!(
        t.list_sessions(
            &SessionFilter {
                code: Some("x; DROP".into()),
                ..Default::default()
            },
            None,
            5
        )
        .await
        .is_err()
    );

    // Reviews take sessions out of the backlog and are counted.
    let op = h
        .store
        .add_operator("bank", "ana@bank.vn", Role::Reviewer)
        .await
        .unwrap();
    let backlog = count(SessionFilter {
        need_review: Some(true),
        unreviewed: true,
        ..Default::default()
    })
    .await;
    assert_eq!(backlog.len(), 5);
    let (r, entry) = t
        .decide(
            &backlog[0].id,
            &op.operator.id,
            Decision::Rejected,
            "spoof_confirmed",
            "printed photo",
        )
        .await
        .unwrap();
    assert_eq!(entry.action, "review.decided");
    assert_eq!(entry.subject, backlog[0].id);
    let reviews = t.reviews(&backlog[0].id).await.unwrap();
    assert_eq!(
        reviews,
        vec![faceproof_store::Review {
            operator_email: Some("ana@bank.vn".into()),
            ..r
        }]
    );
    let after_review = count(SessionFilter {
        need_review: Some(true),
        unreviewed: true,
        ..Default::default()
    })
    .await;
    assert_eq!(after_review.len(), 4);
    let d = t.dashboard(0, i64::MAX).await.unwrap();
    assert_eq!(d.backlog.open, 4);
    assert_eq!(d.reviews, [0, 1]);
    assert_eq!(d.volume.iter().map(|v| v.total).sum::<i64>(), 25);
    assert_eq!(d.volume.iter().map(|v| v.passed).sum::<i64>(), 9);
    // spoof and face_blurry come together (8 each, ties by name), then no_face (8).
    let spoof = d.top_codes.iter().find(|c| c.code == "spoof").unwrap();
    assert_eq!(spoof.count, 8);
    assert_eq!(d.top_codes.iter().map(|c| c.count).sum::<i64>(), 24);
}

#[tokio::test]
async fn audit_chain_names_the_first_tampered_entry() {
    let h = harness().await;
    let (issued, t) = h.tenant("bank").await;
    let (_, other) = h.tenant("other").await;
    for i in 0..6 {
        t.audit(AuditEvent {
            actor: "op-1",
            action: "session.viewed",
            subject: &format!("s-{i}"),
            detail: json!({"i": i}),
        })
        .await
        .unwrap();
    }
    other
        .audit(AuditEvent {
            actor: "x",
            action: "login",
            subject: "x",
            detail: json!({}),
        })
        .await
        .unwrap();
    let r = h.store.verify_audit("bank").await.unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.entries, 6);
    let newest = t.audit_entries(None, 10).await.unwrap();
    assert_eq!(newest[0].seq, 6);
    assert_eq!(r.head, newest[0].hash);
    assert_eq!(newest[0].prev_hash, newest[1].hash);

    // Edit entry 4's subject: entry 4 is named.
    let db = writable_db(&h).await;
    sqlx::query("UPDATE audit_log SET subject = 's-x' WHERE tenant_id = $1 AND seq = 4")
        .bind(&issued.tenant_id)
        .execute(&db)
        .await
        .unwrap();
    let r = h.store.verify_audit("bank").await.unwrap();
    assert!(!r.ok);
    let broken = r.first_broken.unwrap();
    assert_eq!(broken.seq, 4);
    assert!(
        broken.reason.contains("hash does not match"),
        "{}",
        broken.reason
    );
    assert!(
        h.store.verify_audit("other").await.unwrap().ok,
        "chains are per tenant"
    );

    // Restore it, then delete entry 2: entry 2 is named as missing.
    sqlx::query("UPDATE audit_log SET subject = 's-3' WHERE tenant_id = $1 AND seq = 4")
        .bind(&issued.tenant_id)
        .execute(&db)
        .await
        .unwrap();
    assert!(h.store.verify_audit("bank").await.unwrap().ok);
    sqlx::query("DELETE FROM audit_log WHERE tenant_id = $1 AND seq = 2")
        .bind(&issued.tenant_id)
        .execute(&db)
        .await
        .unwrap();
    let r = h.store.verify_audit("bank").await.unwrap();
    assert_eq!(r.first_broken.unwrap().seq, 2);
}

/// Concurrent appends never fork the chain: each gets its own seq.
#[tokio::test]
async fn concurrent_appends_keep_one_chain() {
    let h = harness().await;
    let (_, t) = h.tenant("bank").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.audit(AuditEvent {
                actor: "a",
                action: "session.viewed",
                subject: &i.to_string(),
                detail: json!({}),
            })
            .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let r = h.store.verify_audit("bank").await.unwrap();
    assert!(r.ok && r.entries == 8, "{r:?}");
}

async fn writable_db(h: &Harness) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&h.cfg.database_url).await.unwrap()
}
