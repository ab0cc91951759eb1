//! The console's filter columns of a session, from the verdict the adapter stores. The engine's
//! own [`Verdict::passed`] and `need_to_review` decide; nothing is re-judged here.

use faceproof_engine::check::{Severity, Verdict};
use faceproof_store::{IndexedCode, Outcome, SessionIndex};

/// `None`: the request was refused before a verdict (unreadable media, no usable face...).
pub fn index_of(verdict: Option<&Verdict>) -> SessionIndex {
    let Some(v) = verdict else {
        return SessionIndex {
            outcome: Outcome::Unusable,
            need_review: false,
            codes: Vec::new(),
        };
    };
    let outcome = if v.passed() {
        Outcome::Passed
    } else if v.liveness.is_none() {
        // No liveness judgement: the capture itself was unusable.
        Outcome::Unusable
    } else {
        Outcome::Refused
    };
    let codes = v
        .codes
        .iter()
        .filter_map(|r| {
            let code = serde_json::to_value(r.code).ok()?.as_str()?.to_owned();
            let severity = match r.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            Some(IndexedCode {
                code,
                severity: severity.to_owned(),
            })
        })
        .collect();
    SessionIndex {
        outcome,
        need_review: v.liveness.as_ref().is_some_and(|l| l.need_to_review),
        codes,
    }
}
