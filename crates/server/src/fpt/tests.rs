//! The FPT adapter on hand-built verdicts, against the seed's sample responses.

use faceproof_engine::check::{ReasonCode, Severity};
use serde_json::Value;

use super::codes::{FptCode, INVALID_IMAGE, fpt_code};
use super::response::FptResponse;
use super::v2::FptV2Response;
use crate::testutil::{live, reason, same_keys, seed_samples, spoof, still, unusable, with_match};

fn json(r: &FptResponse) -> Value {
    serde_json::to_value(r).unwrap()
}

/// The seed's sample with this top-level code (the first one when several).
fn sample(code: &str) -> Value {
    seed_samples("fpt-liveness-v3.txt")
        .into_iter()
        .find(|v| v["code"] == code)
        .unwrap_or_else(|| panic!("no seed sample with code {code}"))
}

fn all_strings(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.values().all(all_strings),
        Value::String(_) => true,
        _ => false,
    }
}

/// Keys, value types and codes as in the sample; "N/A" exactly where the sample has it for the
/// listed fields.
fn assert_like_sample(ours: &FptResponse, code: &str, na_fields: &[(&str, &str)]) {
    let ours = json(ours);
    let seed = sample(code);
    assert!(same_keys(&ours, &seed), "keys differ:\n{ours:#}\n{seed:#}");
    assert!(all_strings(&ours), "every value is a string: {ours:#}");
    assert_eq!(ours["code"], seed["code"]);
    for part in ["liveness", "face_match"] {
        assert_eq!(ours[part]["code"], seed[part]["code"], "{part} code");
    }
    for (part, field) in na_fields {
        assert_eq!(
            ours[part][field] == "N/A",
            seed[part][field] == "N/A",
            "{part}.{field}: ours {} seed {}",
            ours[part][field],
            seed[part][field]
        );
    }
}

#[test]
fn seed_has_the_samples() {
    let samples = seed_samples("fpt-liveness-v3.txt");
    assert!(samples.len() >= 6, "{} samples", samples.len());
}

#[test]
fn live_and_matching() {
    let r = FptResponse::from_verdict(&with_match(live(), 0.9997, 0.35), true);
    assert_like_sample(
        &r,
        "200",
        &[("face_match", "isMatch"), ("face_match", "similarity")],
    );
    assert_eq!(r.message, "request successful");
    assert_eq!(r.liveness.is_live, "true");
    assert_eq!(r.liveness.spoof_prob, "0.0015");
    assert_eq!(r.liveness.need_to_review, "false");
    assert_eq!(r.liveness.is_deepfake, "false");
    assert_eq!(r.liveness.warning, "");
    assert_eq!(r.face_match.is_match, "true");
    assert_eq!(r.face_match.similarity, "99.97");
    assert_eq!(r.face_match.warning, "N/A");
}

#[test]
fn live_without_document() {
    let r = FptResponse::from_verdict(&live(), false);
    assert_eq!(r.code, "200");
    assert_eq!(r.face_match.code, "N/A");
    assert_eq!(r.face_match.is_match, "N/A");
    assert_eq!(r.face_match.similarity, "N/A");
}

#[test]
fn mismatch_is_303_with_live_liveness() {
    let r = FptResponse::from_verdict(&with_match(live(), 0.007, 0.35), true);
    assert_like_sample(
        &r,
        "303",
        &[("face_match", "isMatch"), ("face_match", "similarity")],
    );
    assert_eq!(r.message, "face is not matching with document");
    assert_eq!(r.liveness.code, "200");
    assert_eq!(r.liveness.is_live, "true");
    assert_eq!(r.face_match.is_match, "false");
    assert_eq!(r.face_match.similarity, "0.70");
}

#[test]
fn no_face_in_document_is_407() {
    let mut v = live();
    v.codes
        .push(reason(ReasonCode::NoFaceInDocument, Severity::Error));
    let r = FptResponse::from_verdict(&v, true);
    assert_like_sample(
        &r,
        "407",
        &[
            ("face_match", "isMatch"),
            ("face_match", "similarity"),
            ("face_match", "warning"),
            ("liveness", "spoof_prob"),
        ],
    );
    assert_eq!(r.message, "No faces detected in document");
    assert_eq!(r.liveness.code, "200");
}

#[test]
fn still_image_is_413() {
    let r = FptResponse::from_verdict(&still(), false);
    assert_like_sample(
        &r,
        "413",
        &[
            ("liveness", "spoof_prob"),
            ("liveness", "is_live"),
            ("liveness", "need_to_review"),
            ("face_match", "isMatch"),
            ("face_match", "similarity"),
            ("face_match", "message"),
        ],
    );
    assert_eq!(r.liveness.is_live, "false");
    assert_eq!(r.message, "Video may seem like image");
}

#[test]
fn spoof_is_301_with_its_probability() {
    let r = FptResponse::from_verdict(&with_match(spoof(), 0.9, 0.35), true);
    assert_eq!(r.code, "301");
    assert_eq!(r.liveness.code, "301");
    assert_eq!(r.liveness.is_live, "false");
    assert_eq!(r.liveness.spoof_prob, "0.9100");
    // The match still ran and is reported, but the top-level code is the liveness failure.
    assert_eq!(r.face_match.code, "200");
    assert!(same_keys(&json(&r), &sample("200")));
}

#[test]
fn deepfake_is_302() {
    let mut v = live();
    let d = v.deepfake.as_mut().unwrap();
    d.prob = 0.8;
    d.is_deepfake = true;
    v.codes.push(reason(ReasonCode::Deepfake, Severity::Error));
    let r = FptResponse::from_verdict(&v, false);
    assert_eq!((r.code.as_str(), r.liveness.code.as_str()), ("302", "302"));
    assert_eq!(r.liveness.is_deepfake, "true");
    assert_eq!(r.liveness.deepfake_prob, "0.8000");
}

#[test]
fn capture_errors_map_to_their_codes() {
    let table = [
        (ReasonCode::NoFace, "410"),
        (ReasonCode::FaceLost, "410"),
        (ReasonCode::MultipleFaces, "408"),
        (ReasonCode::FaceTooSmall, "411"),
        (ReasonCode::FaceBlurry, "412"),
        (ReasonCode::NotFrontal, "422"),
        (ReasonCode::FaceOutOfFrame, "423"),
        (ReasonCode::FaceTooDark, "406"),
        (ReasonCode::FaceTooBright, "406"),
        (ReasonCode::Backlit, "406"),
        (ReasonCode::FaceOccluded, "406"),
        (ReasonCode::VideoTooShort, "409"),
    ];
    for (code, expected) in table {
        let r = FptResponse::from_verdict(&unusable(code), true);
        assert_eq!(r.code, expected, "{code:?}");
        assert_eq!(r.liveness.code, expected, "{code:?}");
        assert_eq!(r.liveness.is_live, "false", "{code:?}");
        assert_eq!(r.liveness.spoof_prob, "N/A", "{code:?}");
        // The video was unusable: nothing is said about the document.
        assert_eq!(r.face_match.code, "N/A", "{code:?}");
        assert!(same_keys(&json(&r), &sample("413")));
    }
}

#[test]
fn first_error_in_decision_order_wins() {
    let mut v = unusable(ReasonCode::MultipleFaces);
    v.codes
        .push(reason(ReasonCode::FaceBlurry, Severity::Error));
    assert_eq!(FptResponse::from_verdict(&v, false).code, "408");
}

#[test]
fn warnings_go_to_their_part() {
    let mut v = with_match(live(), 0.9, 0.35);
    v.codes
        .push(reason(ReasonCode::LowResolution, Severity::Warning));
    v.codes
        .push(reason(ReasonCode::DocumentLowResolution, Severity::Warning));
    let r = FptResponse::from_verdict(&v, true);
    assert_eq!(r.code, "200");
    assert_eq!(
        r.liveness.warning,
        "Resolution of video is too low. Please upload video with at least HD resolution to ensure accuracy"
    );
    assert!(r.face_match.warning.starts_with("Resolution of document"));
    let v2 = FptV2Response::from(&r);
    assert!(v2.warning.contains("video") && v2.warning.contains("document"));
}

#[test]
fn every_warning_code_is_a_warning_and_every_error_code_an_error() {
    use ReasonCode::*;
    for c in [
        LowResolution,
        LowFrameRate,
        DocumentFaceTooSmall,
        DocumentLowResolution,
        InjectionSuspected,
    ] {
        assert!(matches!(fpt_code(c), FptCode::Warning(_)), "{c:?}");
    }
    for c in [
        NoFace,
        Spoof,
        Deepfake,
        StillImage,
        FaceMismatch,
        NoFaceInDocument,
        ChallengeFailed,
    ] {
        assert!(matches!(fpt_code(c), FptCode::Error(..)), "{c:?}");
    }
}

#[test]
fn invalid_upload_is_409_all_na() {
    let r = FptResponse::failure(INVALID_IMAGE);
    assert_like_sample(
        &r,
        "409",
        &[
            ("liveness", "is_live"),
            ("liveness", "spoof_prob"),
            ("liveness", "need_to_review"),
            ("liveness", "warning"),
            ("face_match", "isMatch"),
            ("face_match", "similarity"),
        ],
    );
    assert_eq!(json(&r), sample("409"));
}

#[test]
fn v2_is_flat_and_agrees_with_v3() {
    let r = FptResponse::from_verdict(&with_match(live(), 0.5, 0.35), true);
    let v2 = serde_json::to_value(FptV2Response::from(&r)).unwrap();
    let o = v2.as_object().unwrap();
    assert!(o.values().all(Value::is_string), "{v2:#}");
    let keys: Vec<&str> = o.keys().map(String::as_str).collect();
    for k in [
        "code",
        "message",
        "is_live",
        "spoof_prob",
        "need_to_review",
        "is_deepfake",
        "deepfake_prob",
        "isMatch",
        "similarity",
        "warning",
    ] {
        assert!(keys.contains(&k), "{k} missing");
    }
    assert_eq!(o.len(), 10);
    assert_eq!(v2["is_live"], "true");
    assert_eq!(v2["isMatch"], "true");
    assert_eq!(v2["similarity"], "50.00");
    assert_eq!(v2["warning"], "");
    let fail =
        serde_json::to_value(FptV2Response::from(&FptResponse::failure(INVALID_IMAGE))).unwrap();
    assert_eq!(fail["code"], "409");
    assert_eq!(fail["warning"], "N/A");
}
