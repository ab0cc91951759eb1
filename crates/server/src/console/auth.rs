//! Console logins: the session cookie, the CSRF check and the login / logout / password routes.
//!
//! - The cookie (`fp_console`) is `HttpOnly` (scripts never see it), `SameSite=Strict` (no other
//!   site's page can make the browser send it), `Path=/console`, and `Secure` when
//!   `[server.console] secure_cookie` says the service is reached over HTTPS.
//! - CSRF: besides SameSite, every state-changing request must carry `x-csrf-token` equal to the
//!   login's synchronizer token (returned by login and `/me`, compared in constant time), and
//!   bodies must be `application/json` (a cross-site form cannot send that without a preflight).
//! - Until the one-time password is replaced, only `/me`, `/password` and `/logout` answer.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use faceproof_store::{AuditEvent, ConsoleSession, LoginOutcome, Role, StoreError};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ok};
use crate::state::Shared;

/// Name of the session cookie.
pub const COOKIE: &str = "fp_console";
/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session cookie's value, from any `Cookie` header.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn same(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

fn set_cookie(state: &Shared, value: &str, max_age: u64) -> String {
    let secure = if state.cfg.console.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// A logged-in operator (cookie valid; CSRF checked on state-changing methods).
pub struct Authed {
    pub session: ConsoleSession,
    pub token: String,
}

impl Authed {
    /// Refuses while the one-time password is still in use.
    pub fn ready(&self) -> Result<(), ApiError> {
        if self.session.operator.must_change {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "PASSWORD_CHANGE_REQUIRED",
                "replace the one-time password first",
            ));
        }
        Ok(())
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        self.ready()?;
        if self.session.operator.role != Role::Admin {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "ADMIN_ONLY",
                "admins only",
            ));
        }
        Ok(())
    }

    pub fn operator_id(&self) -> &str {
        &self.session.operator.id
    }
}

impl FromRequestParts<Shared> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let token = cookie_token(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let session = match state.store.console_session(&token).await {
            Ok(s) => s,
            Err(StoreError::Forbidden { .. }) => return Err(ApiError::unauthorized()),
            Err(e) => return Err(e.into()),
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD);
        if !safe {
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same(given, &session.csrf) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "CSRF",
                    "missing or wrong x-csrf-token",
                ));
            }
        }
        Ok(Authed { session, token })
    }
}

#[derive(Deserialize)]
pub struct LoginBody {
    tenant: String,
    email: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

/// `POST /console/api/login`.
pub async fn login(State(state): State<Shared>, Json(b): Json<LoginBody>) -> Response {
    let policy = state.cfg.console.login_policy();
    let totp = b.totp.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let outcome = state
        .store
        .operator_login(&b.tenant, &b.email, &b.password, totp, &policy)
        .await;
    match outcome {
        Ok(LoginOutcome::Granted(g)) => {
            state.metrics.record_console_login("granted");
            if let Ok(scope) = state.store.tenant_scope(&g.operator.tenant_id).await {
                let ev = AuditEvent {
                    actor: &g.operator.id,
                    action: "login",
                    subject: &g.operator.email,
                    detail: json!({}),
                };
                if let Err(e) = scope.audit(ev).await {
                    tracing::error!(error = %e, "console login not audited");
                    return ApiError::from(e).into_response();
                }
            }
            let mut resp = ok(
                json!({"operator": g.operator, "csrf": g.csrf, "expires_at_ms": g.expires_at_ms}),
            );
            if let Ok(v) = set_cookie(&state, &g.token, policy.session_ttl_secs).parse() {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Ok(LoginOutcome::Refused) => {
            state.metrics.record_console_login("refused");
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "LOGIN_REFUSED",
                "wrong tenant, email, password or code",
            )
            .into_response()
        }
        Ok(LoginOutcome::Locked { until_ms }) => {
            state.metrics.record_console_login("locked");
            let mut resp = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "LOCKED",
                format!("too many failed logins; locked until {until_ms} (Unix ms)"),
            )
            .into_response();
            let now = state.store.clock().now_ms();
            let secs = ((until_ms - now).max(0) as u64).div_ceil(1000);
            if let Ok(v) = secs.to_string().parse() {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /console/api/logout`.
pub async fn logout(State(state): State<Shared>, auth: Authed) -> Response {
    if let Err(e) = state.store.end_console_session(&auth.token).await {
        return ApiError::from(e).into_response();
    }
    let mut resp = ok(json!({"ok": true}));
    if let Ok(v) = set_cookie(&state, "", 0).parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /console/api/me`: who is logged in, and the CSRF token (after a page reload).
pub async fn me(auth: Authed) -> Response {
    ok(json!({
        "operator": auth.session.operator,
        "csrf": auth.session.csrf,
        "expires_at_ms": auth.session.expires_at_ms,
    }))
}

#[derive(Deserialize)]
pub struct PasswordBody {
    current: String,
    new: String,
}

/// `POST /console/api/password`: replaces the password (the one-time one included); other
/// logins of the operator end.
pub async fn password(
    State(state): State<Shared>,
    auth: Authed,
    Json(b): Json<PasswordBody>,
) -> Response {
    let done = state
        .store
        .change_operator_password(auth.operator_id(), &b.current, &b.new, &auth.token)
        .await;
    match done {
        Ok(()) => {
            let ev = AuditEvent {
                actor: auth.operator_id(),
                action: "password.changed",
                subject: &auth.session.operator.email,
                detail: json!({}),
            };
            if let Err(e) = auth.session.tenant.audit(ev).await {
                return ApiError::from(e).into_response();
            }
            ok(json!({"ok": true}))
        }
        Err(StoreError::Forbidden { reason }) => {
            ApiError::new(StatusCode::FORBIDDEN, "WRONG_PASSWORD", reason).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; fp_console=fpc_abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_token(&h).as_deref(), Some("fpc_abc"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "fp_console_x=1".parse().unwrap());
        assert_eq!(cookie_token(&h), None);
        assert!(same("abc", "abc") && !same("abc", "abd"));
    }
}
