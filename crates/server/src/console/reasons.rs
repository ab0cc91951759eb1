//! The fixed reasons an operator picks from when deciding (free text goes in the note). Codes are
//! stored; the console shows them in the operator's language.

use faceproof_store::Decision;

/// Reasons for approving a session the engine refused or flagged.
pub const APPROVE: &[&str] = &[
    "genuine_user",
    "quality_acceptable",
    "match_confirmed_manually",
    "other",
];

/// Reasons for rejecting a session.
pub const REJECT: &[&str] = &[
    "spoof_confirmed",
    "identity_mismatch",
    "poor_quality",
    "suspicious_behaviour",
    "other",
];

pub fn allowed(decision: Decision, reason: &str) -> bool {
    match decision {
        Decision::Approved => APPROVE.contains(&reason),
        Decision::Rejected => REJECT.contains(&reason),
    }
}
