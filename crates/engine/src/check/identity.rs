//! How a 1:N search's outcome enters the verdict (its types, [`FaceTemplate`] and
//! [`IdentitySearch`], are parts of the verdict, in `verdict.rs`).
//!
//! The engine embeds the best frame's face ([`FaceTemplate`], never serialised). The server's
//! gallery step (it needs the store) searches the tenant's gallery and blocklist and records what
//! it found with [`Verdict::record_identity`], which adds the reasons here, in the engine, so the
//! vendor adapters only translate codes they are given.

use super::Engine;
use super::rules::{order, reason};
use super::verdict::{FaceTemplate, IdentityList, IdentitySearch, ReasonCode, Severity, Verdict};
use faceproof_vision::Embedding;

impl FaceTemplate {
    pub(super) fn new(engine: &Engine, embedding: Embedding) -> FaceTemplate {
        FaceTemplate {
            embedder: engine.vision().embedder().kind().name(),
            embedding,
        }
    }
}

impl Verdict {
    /// Records a 1:N search: a hit in the enrolled list adds `duplicate_identity` with
    /// `duplicate_severity` (the tenant's choice), a blocklist hit adds `blocklisted` (an error).
    /// Each reason carries the cosine and the threshold; the search's detail (references, FAR
    /// at gallery size) goes into [`Verdict::identity`].
    pub fn record_identity(&mut self, search: IdentitySearch, duplicate_severity: Severity) {
        for hit in &search.hits {
            let (code, severity, measure) = match hit.list {
                IdentityList::Enrolled => (
                    ReasonCode::DuplicateIdentity,
                    duplicate_severity,
                    "gallery_cosine",
                ),
                IdentityList::Blocklist => {
                    (ReasonCode::Blocklisted, Severity::Error, "blocklist_cosine")
                }
            };
            if !self.has(code) {
                self.codes.push(reason(
                    code,
                    severity,
                    measure,
                    hit.cosine,
                    hit.threshold,
                    None,
                ));
            }
        }
        order(&mut self.codes);
        self.identity = Some(search);
    }

    /// Sets the stored template's id and enrolment state after the search was recorded.
    pub fn set_identity_storage(&mut self, template_id: Option<String>, enrolled: bool) {
        if let Some(s) = self.identity.as_mut() {
            s.template_id = template_id;
            s.enrolled = enrolled;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::verdict::IdentityHit;

    fn hit(list: IdentityList) -> IdentityHit {
        IdentityHit {
            list,
            external_ref: Some("cust-1".into()),
            entry_id: "e".into(),
            cosine: 0.8,
            similarity: 80.0,
            far_per_comparison: 1e-9,
            far_at_gallery: 1e-6,
            gallery_size: 1000,
            threshold: 0.5,
        }
    }

    #[test]
    fn hits_become_reasons_and_the_template_is_not_serialised() {
        let mut v = Verdict {
            template: Some(FaceTemplate {
                embedder: "sface",
                embedding: Embedding(vec![0.25; 128]),
            }),
            ..Verdict::default()
        };
        v.record_identity(
            IdentitySearch {
                target_far: 1e-3,
                enrolled_searched: 1000,
                blocklist_searched: 3,
                hits: vec![hit(IdentityList::Enrolled), hit(IdentityList::Blocklist)],
                template_id: None,
                enrolled: false,
            },
            Severity::Warning,
        );
        // Errors first: the blocklist hit, then the duplicate warning.
        assert_eq!(v.codes[0].code, ReasonCode::Blocklisted);
        assert_eq!(v.codes[0].severity, Severity::Error);
        assert_eq!(v.codes[1].code, ReasonCode::DuplicateIdentity);
        assert_eq!(v.codes[1].severity, Severity::Warning);
        assert_eq!(v.codes[1].value, 0.8);
        v.set_identity_storage(Some("t1".into()), false);
        let json = serde_json::to_value(&v).unwrap();
        assert!(json.get("template").is_none());
        assert_eq!(json["identity"]["template_id"], "t1");
        assert_eq!(json["identity"]["hits"][0]["external_ref"], "cust-1");
        assert!(!format!("{v:?}").contains("0.25"));
        // No search: no identity key at all (verdicts of tenants without 1:N are unchanged).
        let plain = serde_json::to_value(Verdict::default()).unwrap();
        assert!(plain.get("identity").is_none());
    }
}
