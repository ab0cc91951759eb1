//! What the three upload handlers ask before analysis: which challenge applies (the form's, the
//! capture token's, or the one attached to the ADVANCE session), the client's telemetry, and the
//! single-use spend of the capture token and the challenge once the check is admitted.
//!
//! Order, the same in every flow: authenticate (a capture token is verified, not spent) -> read the
//! form -> [`prepare`] (an unknown, used, expired or foreign challenge, malformed telemetry or a
//! missing required challenge is a request error, nothing spent) -> a check slot is taken ->
//! [`Spend::spend`] (token and challenge in one transaction) -> the engine.

use faceproof_engine::challenge::{ChallengeEvidence, ChallengeSpec, ClientTelemetry};
use faceproof_store::{CaptureGrant, Challenge, StoreError, TenantStore};

use super::wire::spec_of;
use crate::auth::Uploader;

/// Longest `client_telemetry` accepted, bytes of JSON (a real one is 1-3 KB).
pub const MAX_TELEMETRY_BYTES: u64 = 32 * 1024;

/// The challenge and telemetry an upload is judged with, and what it spends when admitted.
#[derive(Debug, Default)]
pub struct Evidence {
    pub challenge: Option<ChallengeSpec>,
    pub telemetry: Option<ClientTelemetry>,
    pub spend: Option<Spend>,
    /// Who the upload is about, for the 1:N gallery step after the engine.
    pub identity: Option<crate::gallery::Probe>,
}

impl Evidence {
    /// The engine's view: the spec and the SDK's log of when each step was shown.
    pub fn challenge_evidence(&self) -> Option<ChallengeEvidence<'_>> {
        self.challenge.as_ref().map(|spec| ChallengeEvidence {
            spec,
            shown: self
                .telemetry
                .as_ref()
                .map_or(&[][..], |t| t.challenge_log.as_slice()),
        })
    }
}

/// The single-use grants an upload spends when a check slot is taken for it.
#[derive(Debug)]
pub struct Spend {
    tenant: TenantStore,
    token: Option<CaptureGrant>,
    challenge_id: Option<String>,
}

/// Why the spend failed: the token went meanwhile (the flow's auth error), the challenge went
/// meanwhile (a request error), or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum SpendError {
    #[error("the capture token can no longer be used: {0}")]
    Token(StoreError),
    #[error("the challenge can no longer be used: {0}")]
    Challenge(StoreError),
    #[error(transparent)]
    Backend(StoreError),
}

impl Spend {
    /// Uses the capture token and the challenge, both or neither.
    pub async fn spend(&self) -> Result<(), SpendError> {
        match self
            .tenant
            .use_grants(self.token.as_ref(), self.challenge_id.as_deref())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_backend() => Err(SpendError::Backend(e)),
            Err(
                e @ (StoreError::NotFound {
                    what: "challenge", ..
                }
                | StoreError::Consumed {
                    what: "challenge", ..
                }
                | StoreError::Expired {
                    what: "challenge", ..
                }
                | StoreError::Conflict {
                    what: "challenge", ..
                }),
            ) => Err(SpendError::Challenge(e)),
            Err(e) => Err(SpendError::Token(e)),
        }
    }
}

/// Why an upload is refused before analysis.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// A request error in the flow's own shape, with what was wrong.
    #[error("{0}")]
    Invalid(String),
    /// The store failed, or holds a spec that does not parse.
    #[error("{0}")]
    Backend(String),
}

/// `client_telemetry` sent as a JSON string (FPT and ADVANCE multipart fields).
pub fn telemetry_from_text(text: &str) -> Result<ClientTelemetry, PrepareError> {
    serde_json::from_str(text)
        .map_err(|e| PrepareError::Invalid(format!("client telemetry is not valid: {e}")))
}

/// `client_telemetry` sent as a JSON object (silent API).
pub fn telemetry_from_value(v: serde_json::Value) -> Result<ClientTelemetry, PrepareError> {
    serde_json::from_value(v)
        .map_err(|e| PrepareError::Invalid(format!("client telemetry is not valid: {e}")))
}

/// What the upload named.
#[derive(Debug, Default)]
pub struct UploadChallenge<'a> {
    /// The form's `challenge_id` / `challengeId`.
    pub field: Option<&'a str>,
    /// ADVANCE: the capture session being filled (its `signatureId`) and the challenge attached to
    /// it, if any.
    pub signature_id: Option<&'a str>,
    pub attached: Option<Challenge>,
}

/// Resolves the challenge an upload is judged against and checks it can be used (without using
/// it): this tenant's, unused, unexpired, the capture token's when the token is bound to one, and
/// the session's when it is attached to an ADVANCE session. A tenant with `require_challenge`
/// refuses an upload without one.
pub async fn prepare(
    uploader: &Uploader,
    named: UploadChallenge<'_>,
    telemetry: Option<ClientTelemetry>,
) -> Result<Evidence, PrepareError> {
    let tenant = &uploader.tenant;
    let backend = |e: StoreError| PrepareError::Backend(e.to_string());
    let bound = uploader
        .grant
        .as_ref()
        .and_then(|g| g.challenge_id.as_deref());
    let id: Option<String> = match (named.field, bound) {
        (Some(f), Some(b)) if f != b => {
            return Err(PrepareError::Invalid(
                "the challenge id is not the one the capture token was issued with".into(),
            ));
        }
        (Some(f), _) => Some(f.to_owned()),
        (None, Some(b)) => Some(b.to_owned()),
        (None, None) => named.attached.as_ref().map(|c| c.id.clone()),
    };
    let Some(id) = id else {
        let settings = tenant.settings().await.map_err(backend)?;
        if settings.require_challenge {
            return Err(PrepareError::Invalid(
                "this tenant requires a challenge: issue one (POST /v1/challenges) and send its id"
                    .into(),
            ));
        }
        return Ok(Evidence {
            challenge: None,
            telemetry,
            spend: uploader.grant.clone().map(|g| Spend {
                tenant: tenant.clone(),
                token: Some(g),
                challenge_id: None,
            }),
            identity: Some(probe(uploader)),
        });
    };
    let challenge = match tenant.usable_challenge(&id).await {
        Ok(c) => c,
        Err(e) if e.is_backend() => return Err(backend(e)),
        // Unknown and another tenant's read the same.
        Err(e) => return Err(PrepareError::Invalid(e.to_string())),
    };
    if let Some(sig) = &challenge.signature_id
        && named.signature_id != Some(sig.as_str())
    {
        return Err(PrepareError::Invalid(format!(
            "challenge {id:?} is attached to another capture session"
        )));
    }
    let spec = spec_of(&challenge)
        .map_err(|e| PrepareError::Backend(format!("stored challenge spec: {e}")))?;
    Ok(Evidence {
        challenge: Some(spec),
        telemetry,
        spend: Some(Spend {
            tenant: tenant.clone(),
            token: uploader.grant.clone(),
            challenge_id: Some(id),
        }),
        identity: Some(probe(uploader)),
    })
}

fn probe(uploader: &Uploader) -> crate::gallery::Probe {
    crate::gallery::Probe {
        tenant: uploader.tenant.clone(),
        external_ref: uploader.external_ref.clone(),
    }
}
