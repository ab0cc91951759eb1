//! 1:N face search (opt-in per tenant): the server's gallery step, between the engine's verdict
//! and the vendor adapter that translates it.
//!
//! - [`screen`]: searches the tenant's enrolled identities and blocklist with the verdict's
//!   template, records the outcome on the verdict through the engine's API
//!   ([`faceproof_engine::check::Verdict::record_identity`]), and stores the template (enrolled
//!   under the request's external reference when the check passed, else as a probe kept only
//!   for a review's enrolment or a block).
//! - [`block_session`], [`enrol_session`]: what the console (and the tenant API) call later.
//! - [`routes`]: `DELETE /v1/gallery/{external_ref}`, `POST /v1/gallery/blocklist`,
//!   `DELETE /v1/gallery/blocklist/{entry_id}`.
//! - [`Replica`]: this replica's in-memory index, refreshed from the store.
//!
//! The external reference comes from the `x-external-ref` header, honoured only on a request
//! authenticated with the tenant's own credential (API key, ADVANCE access token): a browser's
//! capture token cannot name whose identity it is. See `docs/gallery.md`.

mod config;
mod metrics;
mod replica;
pub mod routes;
mod screen;

pub use config::GalleryConfig;
pub use metrics::GalleryMetrics;
pub use replica::{Replica, entry_id, entry_text};
pub use screen::{
    GalleryError, Probe, active, block_session, enrol_session, screen, screen_active, threshold_on,
    thresholds,
};

/// Header carrying the tenant's reference for the person being checked.
pub const EXTERNAL_REF_HEADER: &str = "x-external-ref";

/// The `x-external-ref` header when present and acceptable (1-128 printable characters); an
/// unacceptable value is ignored with a log line (the session is then screened, not enrolled).
pub fn external_ref(headers: &axum::http::HeaderMap) -> Option<String> {
    let v = headers.get(EXTERNAL_REF_HEADER)?;
    match v.to_str().map(str::trim) {
        Ok(s)
            if !s.is_empty()
                && s.chars().count() <= faceproof_store::MAX_EXTERNAL_REF
                && !s.chars().any(char::is_control) =>
        {
            Some(s.to_owned())
        }
        _ => {
            tracing::warn!("x-external-ref ignored: not 1-128 printable characters");
            None
        }
    }
}
