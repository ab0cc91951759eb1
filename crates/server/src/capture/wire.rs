//! The JSON shapes of faceproof's own capture endpoints: the challenge object, times, and the error
//! body (`{"code", "message"}`, like the 404 and 408 answers).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use faceproof_engine::challenge::{ChallengeSpec, ChallengeStep};
use faceproof_store::Challenge;
use serde_json::{Value, json};

use crate::metrics::Outcome;

/// Metrics label of these endpoints.
pub const API: &str = "capture";

/// An answer of the capture endpoints with its metrics label.
pub fn reply(status: StatusCode, body: Value) -> Response {
    let code = body
        .get("code")
        .and_then(Value::as_str)
        .map_or_else(|| status.as_u16().to_string(), str::to_owned);
    let mut resp = (status, Json(body)).into_response();
    resp.extensions_mut().insert(Outcome::new(API, code));
    resp
}

/// Why a capture endpoint refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No credential, or one not accepted here (401 `UNAUTHORIZED`).
    Unauthorized,
    /// The body or a field is wrong (400 `INVALID_ARGUMENT`), with what was wrong.
    Invalid(String),
    /// Our fault (500 `INTERNAL`).
    Internal,
    /// Too much work in flight (503 `BUSY`): retry later.
    Busy,
}

impl Refusal {
    pub fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Refusal::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "a tenant API key (api-key, x-api-key, Authorization: Bearer) or an X-ACCESS-TOKEN is required"
                    .to_owned(),
            ),
            Refusal::Invalid(m) => (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", m),
            Refusal::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error".to_owned(),
            ),
            Refusal::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "BUSY",
                "the service is busy, retry later".to_owned(),
            ),
        };
        reply(status, json!({"code": code, "message": message}))
    }
}

/// `#rrggbb`.
pub fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// One step as the SDK reads it: the engine's step, plus `hex` for a colour.
pub fn step_json(step: &ChallengeStep) -> Value {
    let mut v = serde_json::to_value(step).unwrap_or(Value::Null);
    if let (ChallengeStep::Colour { rgb, .. }, Some(o)) = (step, v.as_object_mut()) {
        o.insert("hex".into(), Value::String(hex(*rgb)));
    }
    v
}

/// The stored spec read back as the engine's type (a spec that does not parse is corrupt data).
pub fn spec_of(c: &Challenge) -> Result<ChallengeSpec, serde_json::Error> {
    serde_json::from_value(c.spec.clone())
}

/// The challenge object of `POST /v1/challenges`, the capture context and the ADVANCE
/// signature-id extension: `challenge_id`, `expires_at`, `expires_at_ms`, `kind`, `steps`.
pub fn challenge_json(c: &Challenge, spec: &ChallengeSpec) -> Value {
    json!({
        "challenge_id": c.id,
        "expires_at": iso8601(c.expires_at_ms),
        "expires_at_ms": c.expires_at_ms,
        "kind": spec.kind,
        "steps": spec.steps.iter().map(step_json).collect::<Vec<_>>(),
    })
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
pub fn iso8601(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
    let (min, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The tenant a minting request (`POST /v1/challenges`, `POST /v1/capture-tokens`) comes from,
/// by its API key or ADVANCE access token, and its JSON body; a refusal already shaped.
pub(super) async fn tenant_and_json<T: serde::de::DeserializeOwned>(
    state: &crate::state::Shared,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<(faceproof_store::TenantStore, T), axum::response::Response> {
    use crate::auth::{AuthFailure, tenant_by_key_or_access_token};
    let tenant = match tenant_by_key_or_access_token(&state.store, headers).await {
        Ok(t) => t,
        Err(AuthFailure::Refused) => return Err(Refusal::Unauthorized.into_response()),
        Err(AuthFailure::Backend(e)) => {
            tracing::error!(error = %e, "tenant lookup failed");
            return Err(Refusal::Internal.into_response());
        }
    };
    match serde_json::from_slice(body) {
        Ok(r) => Ok((tenant, r)),
        Err(e) => Err(Refusal::Invalid(format!("JSON: {e}")).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_800_000_000_123), "2027-01-15T08:00:00.123Z");
        assert_eq!(iso8601(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn colour_steps_carry_hex() {
        let v = step_json(&ChallengeStep::Colour {
            rgb: [255, 0, 128],
            duration_ms: 400,
        });
        assert_eq!(
            v,
            json!({"type": "colour", "rgb": [255, 0, 128], "hex": "#ff0080", "duration_ms": 400})
        );
    }
}
