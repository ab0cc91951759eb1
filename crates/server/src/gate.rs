//! The body gate: every route that takes a body authenticates from the headers and reserves its
//! share of a global in-flight byte budget *before* a single body byte is read.
//!
//! Why: a handler that reads then checks lets anyone without a key make the service buffer a full
//! body per connection (30 unauthenticated 20 MB uploads took a replica from 253 to 644 MB). Here:
//! - a refused credential is answered at once with the API's own 401 and `Connection: close`; the body is
//!   discarded (never buffered) for at most [`DRAIN_MAX_BYTES`] / [`DRAIN_MAX_TIME`], so a client
//!   still streaming it reads the 401 instead of a reset connection. A client that sent
//!   `Expect: 100-continue` is answered without reading anything: it never sends the body.
//! - an accepted request reserves `min(Content-Length, route limit)` bytes (the route limit when
//!   the length is unknown) from `[server] max_inflight_body_bytes`, held until its handler
//!   returns; when the budget is spent it is answered at once with the API's busy shape (429/503,
//!   `Retry-After`), body unread.
//!
//! Before the credential is looked at, the client's lockout and request bucket are checked, and
//! once it is known the tenant's bucket (`ratelimit.rs`, `[server.rate_limit]`): a refused request
//! is answered 429 with `Retry-After` in the API's shape, its body unread; so is a request naming a
//! locked-out device (`X-Faceproof-Device`). A 401 (here or from the handler) is a strike against
//! the client; a judged check that did not pass, one against the device the request named.
//!
//! Handlers still look the credential up themselves (they need the tenant and the capture grant);
//! the gate only guarantees that no unauthenticated body reaches them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use faceproof_store::Api;

use crate::advance::AdvanceRefusal;
use crate::auth::{AuthFailure, tenant_by_key_or_access_token, uploader_by_api_key};
use crate::capture::wire::Refusal as WireRefusal;
use crate::fpt::FptRefusal;
use crate::ratelimit::{ClientKey, Limited, client_of, watch_checks};
use crate::refused::Refused;
use crate::request_id::RequestId;
use crate::silent::SilentRefusal;
use crate::state::Shared;

/// Most bytes of a refused request's body read (and thrown away) before the 401 is sent.
pub const DRAIN_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// Longest a refused request's body is read before the 401 is sent.
pub const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);
/// Body limit of the small JSON routes (ADVANCE token, signature-id, detection-result).
pub const SMALL_JSON_LIMIT: usize = 2 * 1024 * 1024;
/// Body limit of faceproof's own capture-token and challenge routes.
pub const CAPTURE_JSON_LIMIT: usize = 64 * 1024;

/// Which credential a route takes and whose error shapes it answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// `POST /vision/ekyc/liveness`: API key or an fpt capture token.
    Fpt,
    /// `POST /v1/silent/video-compare`: API key or a silent capture token.
    Silent,
    /// `POST /openapi/liveness/v3/capture`: `X-ACCESS-TOKEN` or an advance capture token.
    AdvanceUpload,
    /// ADVANCE JSON routes (signature-id, detection-result): `X-ACCESS-TOKEN`.
    AdvanceToken,
    /// ADVANCE `generate-token`: the credential is in the (small) body; budget only.
    AdvanceOpen,
    /// `POST /v1/capture-tokens`, `POST /v1/challenges`: API key or `X-ACCESS-TOKEN`.
    Tenant,
}

impl Gate {
    fn limit(self, state: &Shared) -> usize {
        let uploads = state.uploads();
        match self {
            Gate::Fpt => uploads.fpt_body(),
            Gate::Silent => uploads.silent_body(),
            Gate::AdvanceUpload => uploads.capture_body(),
            Gate::AdvanceToken | Gate::AdvanceOpen => SMALL_JSON_LIMIT,
            Gate::Tenant => CAPTURE_JSON_LIMIT,
        }
    }

    /// The tenant when the headers carry a credential this route accepts (not spent: the
    /// handler spends a capture token once the upload is admitted; `None` for the one route whose
    /// credential is in the body), else the API's own refusal.
    async fn authenticate(
        self,
        state: &Shared,
        headers: &HeaderMap,
        rid: &str,
        v2: bool,
    ) -> Result<Option<String>, Response> {
        let refused = |e: AuthFailure| -> Response { self.refuse(Refused::from(e), rid, v2) };
        let tenant = |t: &faceproof_store::TenantStore| Some(t.tenant_id().to_owned());
        match self {
            Gate::Fpt => uploader_by_api_key(&state.store, headers, Api::Fpt)
                .await
                .map(|u| tenant(&u.tenant))
                .map_err(refused),
            Gate::Silent => uploader_by_api_key(&state.store, headers, Api::Silent)
                .await
                .map(|u| tenant(&u.tenant))
                .map_err(refused),
            Gate::AdvanceUpload => crate::advance::upload_uploader(state, headers)
                .await
                .map(|u| tenant(&u.tenant))
                .map_err(|r| self.refuse(r, rid, v2)),
            Gate::AdvanceToken => crate::advance::authenticate(state, headers)
                .await
                .map(|t| tenant(&t))
                .map_err(|r| self.refuse(r, rid, v2)),
            Gate::AdvanceOpen => Ok(None),
            Gate::Tenant => tenant_by_key_or_access_token(&state.store, headers)
                .await
                .map(|t| tenant(&t))
                .map_err(refused),
        }
    }

    /// The API's answer to a request refused by the rate limits: 429, `Retry-After`.
    fn limited(self, rid: &str, v2: bool, why: Limited) -> Response {
        let mut resp = self.refuse(Refused::RateLimited(why.message()), rid, v2);
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(why.retry_after_secs()),
        );
        resp
    }

    /// The route's own answer to a refusal.
    fn refuse(self, refused: Refused, rid: &str, v2: bool) -> Response {
        match self {
            Gate::Fpt => FptRefusal { refused, v2 }.into_response(),
            Gate::Silent => SilentRefusal {
                refused,
                request_id: rid.to_owned(),
            }
            .into_response(),
            Gate::AdvanceUpload | Gate::AdvanceToken | Gate::AdvanceOpen => {
                AdvanceRefusal::new(refused, rid).into_response()
            }
            Gate::Tenant => match refused {
                Refused::Unauthorized { .. } => WireRefusal::Unauthorized.into_response(),
                Refused::UploadsInFlight => WireRefusal::Busy.into_response(),
                Refused::RateLimited(message) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    axum::Json(
                        serde_json::json!({"code": "TOO_MANY_REQUESTS", "message": message}),
                    ),
                )
                    .into_response(),
                _ => WireRefusal::Internal.into_response(),
            },
        }
    }

    /// The API's answer when the body budget is spent.
    fn busy(self, rid: &str, v2: bool) -> Response {
        let mut resp = self.refuse(Refused::UploadsInFlight, rid, v2);
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        resp
    }
}

fn fpt_v2(req: &Request) -> bool {
    req.uri().query().is_some_and(|q| {
        q.split('&').any(|kv| matches!(kv.split_once('='), Some(("v2_format", v)) if v == "1" || v.eq_ignore_ascii_case("true")))
    })
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reads and discards up to [`DRAIN_MAX_BYTES`] of a refused body, for at most
/// [`DRAIN_MAX_TIME`]; returns the bytes read.
async fn drain(body: Body) -> u64 {
    let mut body = body;
    let mut read = 0u64;
    let work = async {
        while read < DRAIN_MAX_BYTES {
            let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx));
            match next.await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        read += data.len() as u64;
                    }
                }
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_MAX_TIME, work).await;
    read
}

/// Answers `resp` at once to a request whose body will not be used, with `Connection: close`,
/// while a task discards the body (bounded by [`drain`]): the connection keeps reading what the
/// client still sends until it is done, so closing does not reset the connection under a client
/// still sending (the kernel drops an unread response on reset), and a client that waits for the
/// answer before sending its body gets it without sending anything.
async fn refuse_unread(req: Request, mut resp: Response) -> Response {
    let expects_continue = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if !expects_continue {
        let status = resp.status();
        let body = req.into_body();
        tokio::spawn(async move {
            let drained = drain(body).await;
            tracing::debug!(drained, status = %status, "body discarded after refusing");
        });
    }
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// A strike against the client (counted only when lockouts are on).
fn strike(state: &Shared, client: Option<ClientKey>) {
    let cfg = state.limiter.config();
    if let Some(c) = client
        && cfg.enabled
        && cfg.lockout_after_failures > 0
    {
        state
            .metrics
            .rate_limited
            .strikes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        state.limiter.strike(c, Instant::now());
        // Counted with the other replicas' strikes too (off the request's path).
        let shared = state.clone();
        tokio::spawn(async move { crate::lockouts::share_strike(&shared, c).await });
    }
}

/// The middleware: `from_fn_with_state((state, gate), guard)` on a body-taking route.
pub async fn guard(
    State((state, gate)): State<(Shared, Gate)>,
    req: Request,
    next: Next,
) -> Response {
    let rid = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let v2 = gate == Gate::Fpt && fpt_v2(&req);
    // Rate limits and lockouts first: a locked-out client is answered without a lookup.
    let limiter = &state.limiter;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let client = client_of(peer, req.headers(), limiter.config());
    let device = ClientKey::device_of(req.headers())
        .filter(|_| limiter.config().count_failed_checks_per_device);
    let admitted = client
        .map_or(Ok(()), |c| limiter.admit_client(c, Instant::now()))
        .and_then(|()| device.map_or(Ok(()), |d| limiter.check_lockout(d, Instant::now())));
    if let Err(why) = admitted {
        state.metrics.rate_limited.count(why);
        return refuse_unread(req, gate.limited(&rid, v2, why)).await;
    }
    let tenant = match gate.authenticate(&state, req.headers(), &rid, v2).await {
        Ok(t) => t,
        Err(refusal) => {
            if refusal.status() == StatusCode::UNAUTHORIZED {
                strike(&state, client);
            }
            return refuse_unread(req, refusal).await;
        }
    };
    if let Some(t) = &tenant
        && let Err(why) = limiter.admit_tenant(t, Instant::now())
    {
        state.metrics.rate_limited.count(why);
        return refuse_unread(req, gate.limited(&rid, v2, why)).await;
    }
    let limit = gate.limit(&state) as u64;
    let wanted = declared_length(req.headers()).map_or(limit, |n| n.min(limit));
    let Some(permit) = state.bodies.try_reserve(wanted) else {
        tracing::warn!(
            wanted,
            reserved = state.bodies.reserved_bytes(),
            "body budget spent"
        );
        return refuse_unread(req, gate.busy(&rid, v2)).await;
    };
    let (mut resp, check_failed) = watch_checks(next.run(req)).await;
    drop(permit);
    // A credential refused by the handler itself (ADVANCE generate-token's signature), or a
    // judged check that did not pass when those count, is a strike against the client; a failed
    // check is one against the device the request named too.
    if resp.status() == StatusCode::UNAUTHORIZED
        || (check_failed && limiter.config().count_failed_checks)
    {
        strike(&state, client);
    }
    if check_failed {
        strike(&state, device);
    }
    // A check refused for load (429/503) says when to come back: the queue's expected wait.
    let status = resp.status();
    if (status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE)
        && !resp.headers().contains_key(header::RETRY_AFTER)
    {
        let secs = state.checks.expected_wait().as_secs_f64().ceil().max(1.0) as u64;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}
