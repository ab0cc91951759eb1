//! Silent video + photo compare: `POST /v1/silent/video-compare` with HPKE envelopes,
//! `GET /v1/silent/public-key`, `GET /v1/silent/thresholds`.

pub mod codes;
pub mod envelope;
mod handler;
pub mod response;
mod thresholds;

pub(crate) use handler::error;
pub use handler::{public_key, video_compare};
pub use thresholds::thresholds;

#[cfg(test)]
mod tests;
