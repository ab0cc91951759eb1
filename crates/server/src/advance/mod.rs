//! ADVANCE.AI Liveness v3: token, capture session, detection result, signed image URLs.
//!
//! Flow: `generate-token` (access key + signed timestamp) -> `X-ACCESS-TOKEN`; the capture SDK
//! asks for a `signatureId` (a pending, single-use session), uploads far / near stills (and an
//! optional clip) against it and gets the `livenessId`; the customer's backend reads the result
//! with `detection-result`, whose image URLs are served, signed, by faceproof itself.

mod capture;
mod files;
mod persist;
mod refusal;
mod reply;
mod result;
mod signature;
pub mod summary;
mod token;
pub mod zip;

pub use crate::analysis::CaptureInputs;
pub use capture::capture;
pub(crate) use capture::upload_uploader;
pub use persist::persist_capture;
pub use signature::signature_id;

/// Session kind in the store of an ADVANCE capture.
pub const CAPTURE_KIND: &str = "capture";
pub use files::file;
pub use refusal::AdvanceRefusal;
pub use reply::{AdvanceCode, AdvanceReply};
pub(crate) use result::ResultRequest;
pub use result::detection_result;
pub(crate) use signature::SignatureRequest;
pub(crate) use token::TokenRequest;
pub(crate) use token::authenticate;
pub use token::generate_token;

/// Route prefix of signed artefact URLs.
pub const FILES_PREFIX: &str = "/v1/files/";
