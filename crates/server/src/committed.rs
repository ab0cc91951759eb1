//! What every judged session carries into its commit, whichever API it came from: the console's
//! filter columns and the webhook events, both written in the commit's transaction.

use faceproof_engine::check::Verdict;
use faceproof_store::{Api, Upload};

/// Sets the console's index of `verdict` on `upload` and queues its webhook events.
pub fn annotate(upload: &mut Upload, api: Api, verdict: &Verdict) {
    crate::events::session_completed(upload, api, Some(verdict));
    upload.set_index(crate::console::index_of(Some(verdict)));
}
