//! Silent video + photo compare: `POST /v1/silent/video-compare` with HPKE envelopes,
//! `GET /v1/silent/public-key`, `GET /v1/silent/thresholds`.

pub mod codes;
pub mod envelope;
mod handler;
pub mod media;
pub mod refusal;
mod reply;
pub mod response;
mod thresholds;

pub(crate) use handler::CompareRequest;
pub use handler::{public_key, video_compare};
pub use refusal::SilentRefusal;
pub(crate) use reply::SilentError;
pub use thresholds::thresholds;

#[cfg(test)]
mod tests;
