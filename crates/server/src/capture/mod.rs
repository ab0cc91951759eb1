//! Browser capture, faceproof's own endpoints beside the vendor APIs:
//!
//! - `POST /v1/capture-tokens`: a short-lived, single-use upload credential for one flow (and an
//!   ADVANCE `signatureId`, a challenge), minted by the integrator's backend, so no tenant secret
//!   reaches a browser;
//! - `POST /v1/challenges`: a fresh random challenge (screen colours or head turns) the video must
//!   answer;
//! - `GET /v1/capture/context`: what the browser needs, read with its capture token;
//! - [`upload`]: what the three upload handlers ask before analysis (the challenge that applies,
//!   the client's telemetry) and spend once a check slot is taken.

mod challenges;
mod context;
mod tokens;
pub mod upload;
pub mod wire;

pub(crate) use challenges::ChallengeRequest;
pub use challenges::{create_challenge, issue_challenge, ttl};
pub use context::context;
pub use tokens::{MintRequest, create_capture_token, mint, parse_flow, upload_url};
pub use upload::{Evidence, PrepareError, Spend, SpendError, UploadChallenge, prepare};
